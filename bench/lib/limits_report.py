#!/usr/bin/env python3
"""Summarise a BENCH_SCENARIO=limits run: in-process vs Redis-backed limits, JSON, by concurrency.

usage: limits_report.py RAW_DIR OUT_MD
Reads RAW_DIR/runs.tsv (one row per measured wrk run, both arms interleaved over several rounds)
and RAW_DIR/meta.tsv; writes OUT_MD and prints it. Each arm's figure is its median over the
rounds; the ratio is Redis / in-process of the medians, and of each round's pair.
"""
import csv
import os
import statistics
import sys

ARMS = [("gateway-limits", "in-process counters"), ("gateway-redis", "Redis counters (leases)")]


def main(raw, out):
    with open(os.path.join(raw, "runs.tsv")) as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    meta = {}
    with open(os.path.join(raw, "meta.tsv")) as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("\t")
            meta[key] = value
    rps = {}
    cpu = {}
    p50 = {}
    errors = {}
    for r in rows:
        key = (r["target"], int(r["conc"]))
        seconds = float(r["duration_us"]) / 1e6
        rps.setdefault(key, []).append(float(r["requests"]) / seconds if seconds else 0.0)
        p50.setdefault(key, []).append(float(r["p50_us"]) / 1000)
        # gateway CPU per request (µs): less sensitive to the neighbours than req/s
        ticks_us = 1e6 / float(meta.get("clk_tck", 100))
        cpu.setdefault(key, []).append(float(r["cpu_ticks"]) * ticks_us / max(float(r["requests"]), 1))
        errors[key] = errors.get(key, 0) + sum(
            int(float(r[k] or 0)) for k in ("err_connect", "err_read", "err_write", "err_status", "err_timeout")
        )
    lines = [
        "# Limits: in-process vs Redis counters, one run",
        "",
        f"`{meta.get('command', '?')}` at {meta.get('date', '?')}, repo {meta.get('repo_head', '?')}, "
        f"background CPU at start {meta.get('background_pct_start', '?')}% of one core.",
        "",
        "| arm | conc | req/s per round | median req/s | median p50 ms | median gateway CPU µs/req | errors |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    concs = sorted({c for (_, c) in rps})
    for conc in concs:
        for target, label in ARMS:
            figures = rps.get((target, conc), [])
            if not figures:
                continue
            lines.append(
                f"| {label} | {conc} | {', '.join(f'{x:,.0f}' for x in figures)} | "
                f"{statistics.median(figures):,.0f} | {statistics.median(p50[(target, conc)]):.3f} | "
                f"{statistics.median(cpu[(target, conc)]):.0f} | {errors[(target, conc)]} |"
            )
    lines += [
        "",
        "| conc | Redis / in-process, req/s (medians) | median of the per-round ratios | per round | CPU/req ratio (medians) |",
        "|---:|---:|---:|---|---:|",
    ]
    for conc in concs:
        local, shared = rps.get(("gateway-limits", conc)), rps.get(("gateway-redis", conc))
        if not local or not shared:
            continue
        ratio = statistics.median(shared) / statistics.median(local)
        pairs = [s / l for l, s in zip(local, shared) if l]
        rounds = ", ".join(f"{x:.2f}×" for x in pairs)
        cpu_ratio = statistics.median(cpu[("gateway-redis", conc)]) / statistics.median(cpu[("gateway-limits", conc)])
        lines.append(
            f"| {conc} | {ratio:.2f}× | {statistics.median(pairs):.2f}× | {rounds} | {cpu_ratio:.2f}× |"
        )
    stderr = {k: v for k, v in meta.items() if k.startswith("stderr_lines.")}
    if stderr:
        lines += ["", "Gateway stderr lines: " + ", ".join(f"{k[13:]} {v}" for k, v in stderr.items()) + "."]
    text = "\n".join(lines) + "\n"
    with open(out, "w") as f:
        f.write(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
