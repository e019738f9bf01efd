#!/usr/bin/env python3
"""Summarise a BENCH_SCENARIO=cpu run: CPU per request of each proxy, gateway next to nginx.

usage: cpu_report.py RAW_DIR OUT_MD
Reads RAW_DIR/runs.tsv (one row per measured wrk run, every target once per round) and
RAW_DIR/meta.tsv; writes OUT_MD and prints it. A target's CPU per request is utime+stime of
its processes across the measured run divided by the requests wrk completed; each figure is
the median over the rounds. The ratios set each gateway against the nginx of the same shape:
one proxy thread against one worker, default threads against `worker_processes auto`.
"""
import csv
import os
import statistics
import sys

PAIRS = [("gateway-1t", "nginx-1w"), ("gateway-default", "nginx-auto")]
TARGETS = ["direct", "nginx-1w", "gateway-1t", "nginx-auto", "gateway-default"]
ERRORS = ("err_connect", "err_read", "err_write", "err_status", "err_timeout")


def main(raw, out):
    with open(os.path.join(raw, "runs.tsv")) as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    meta = {}
    with open(os.path.join(raw, "meta.tsv")) as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("\t")
            meta[key] = value
    tick_us = 1e6 / float(meta.get("clk_tck", 100))
    cpu, rps, errors, load = {}, {}, {}, []
    for r in rows:
        key = (r["mode"], int(r["conc"]), r["target"])
        requests = max(float(r["requests"] or 0), 1)
        seconds = float(r["duration_us"] or 0) / 1e6
        cpu.setdefault(key, []).append(float(r["cpu_ticks"]) * tick_us / requests)
        rps.setdefault(key, []).append(requests / seconds if seconds else 0.0)
        errors[key] = errors.get(key, 0) + sum(int(float(r[k] or 0)) for k in ERRORS)
        load.append(float(r["loadavg"] or 0))
    cells = sorted({(m, c) for (m, c, _) in cpu}, key=lambda mc: (mc[0] != "json", mc[1]))
    rounds = max((len(v) for v in cpu.values()), default=0)
    lines = [
        "# CPU per request: gateway next to nginx",
        "",
        f"`{meta.get('command', '')}`, {meta.get('date', '')}, {meta.get('repo_head', '')}; "
        f"{meta.get('gateway_version', '')}. {rounds} round(s); medians. Background CPU before the run "
        f"{meta.get('background_pct_start', '?')}% of one core; load average during the runs "
        f"{min(load, default=0):.1f}–{max(load, default=0):.1f}, at the end {meta.get('loadavg_end', '?')}.",
        "",
        "| mode | conc | " + " | ".join(TARGETS) + " | " + " | ".join(f"{g} / {n}" for g, n in PAIRS) + " |",
        "|---|---:|" + "---:|" * (len(TARGETS) + len(PAIRS)),
    ]
    for mode, conc in cells:
        med = {t: statistics.median(cpu[(mode, conc, t)]) for t in TARGETS if (mode, conc, t) in cpu}
        cols = [f"{med[t]:.0f} µs" if t in med else "–" for t in TARGETS]
        ratios = [
            f"{med[g] / med[n]:.1f}×" if g in med and n in med and med[n] > 0 else "–" for g, n in PAIRS
        ]
        lines.append(f"| {mode} | {conc} | " + " | ".join(cols) + " | " + " | ".join(ratios) + " |")
    lines += ["", "Requests per second (medians) and errors (all rounds):", ""]
    lines += ["| mode | conc | " + " | ".join(TARGETS) + " |", "|---|---:|" + "---:|" * len(TARGETS)]
    for mode, conc in cells:
        cols = []
        for t in TARGETS:
            key = (mode, conc, t)
            if key not in rps:
                cols.append("–")
                continue
            err = f", {errors[key]} errors" if errors[key] else ""
            cols.append(f"{statistics.median(rps[key]):.0f}{err}")
        lines.append(f"| {mode} | {conc} | " + " | ".join(cols) + " |")
    peaks = [f"{t} {int(meta[f'hwm_kib.{t}']) / 1024:.0f} MiB" for t in TARGETS if f"hwm_kib.{t}" in meta]
    if peaks:
        lines += ["", "Peak resident memory at the end (VmHWM, the largest process of each): " + ", ".join(peaks) + "."]
    text = "\n".join(lines) + "\n"
    with open(out, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
