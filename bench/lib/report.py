#!/usr/bin/env python3
"""Turn the raw files of one bench/run.sh run into a Markdown report.

usage: report.py RAW_DIR OUT_MD
Reads RAW_DIR/runs.tsv, RAW_DIR/meta.tsv and RAW_DIR/sse-*.json; writes OUT_MD and
prints it on stdout.
"""
import csv
import json
import os
import sys

PROXIES = ["nginx-1w", "gateway-1t", "nginx-auto", "gateway-default", "gateway-limits", "gateway-redis"]
GATEWAYS = ["gateway-1t", "gateway-default", "gateway-limits", "gateway-redis"]
# Gateways with every limit on and a pool of upstream keys, each against the plain default one.
LIMITED = [("gateway-limits", "in-process counters"), ("gateway-redis", "Redis counters")]
TARGETS = ["direct"] + PROXIES
PAIRS = [("gateway-1t", "nginx-1w"), ("gateway-default", "nginx-auto")]
LABEL = {
    "direct": "direct to mock",
    "nginx-1w": "nginx, 1 worker",
    "nginx-auto": "nginx, auto workers",
    "gateway-1t": "gateway, 1 proxy thread",
    "gateway-default": "gateway, default threads",
    "gateway-limits": "gateway, limits + pool, in-process",
    "gateway-redis": "gateway, limits + pool, Redis",
}
MIB = 1024


def load(raw):
    with open(os.path.join(raw, "runs.tsv")) as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    runs = {}
    for r in rows:
        for k, v in r.items():
            if k not in ("target", "mode", "loadavg"):
                r[k] = float(v) if v not in ("", None) else 0.0
        runs[(r["target"], r["mode"], int(r["conc"]))] = r
    meta = {}
    with open(os.path.join(raw, "meta.tsv")) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("\t")
            meta[k] = v
    sse = {}
    for name in os.listdir(raw):
        if name.startswith("sse-") and name.endswith(".json"):
            try:
                with open(os.path.join(raw, name)) as f:
                    sse[name[4:-5]] = json.load(f)
            except (OSError, ValueError):
                sse[name[4:-5]] = None
    return runs, meta, sse


def ms(us):
    return f"{us / 1000:.3f}"


def cpu_us_per_req(r, clk_tck):
    if not r["requests"]:
        return None
    return r["cpu_ticks"] * (1e6 / clk_tck) / r["requests"]


def main():
    raw, out_md = sys.argv[1], sys.argv[2]
    runs, meta, sse = load(raw)
    clk = float(meta.get("clk_tck", 100))
    tick_us = 1e6 / clk
    delay = float(meta.get("stream_delay_ms", 100))
    L = []
    w = L.append

    w("# ai-proxy benchmark: latest run")
    w("")
    w(f"* Date: {meta.get('date')}  ")
    w(f"* Command: `{meta.get('command')}` (took {meta.get('elapsed_s')} s)  ")
    w(f"* Machine: {meta.get('nproc')} cores ({meta.get('cpu')}), {meta.get('mem')}, {meta.get('kernel')}  ")
    w(f"* Tools: {meta.get('wrk')}, {meta.get('nginx')}  ")
    w(f"* Gateway: `{meta.get('gateway_bin')}` ({meta.get('gateway_version')}; repo HEAD at run time: {meta.get('repo_head')}); "
      f"mock: `{meta.get('mock_bin')}` (`--no-record`)  ")
    w(f"* Each cell: {meta.get('warmup_s')} s wrk warm-up, then {meta.get('duration_s')} s measured; "
      "wrk `-t1` at c=1, `-t2` at c=64, `--latency --timeout 5s`, POST body from `bench/lib/post.lua`.")
    w("* wrk, the mock, and the proxy under test all share the same cores on loopback, so at c=64 "
      "the three compete for CPU: throughput at c=64 is a comparison between proxies on this box, not "
      "a capacity figure.")
    w("* nginx: `worker_processes 1` (\"nginx-1w\") and `worker_processes auto` (\"nginx-auto\" = one per core), "
      "`access_log off`, HTTP/1.1 keepalive upstream pool (`keepalive 128`), `proxy_buffering off`. "
      "Gateway: `AI_PROXY_PROXY_THREADS=1` (\"gateway-1t\", the fair pair with nginx-1w) and unset "
      "(\"gateway-default\" = one per core, paired with nginx-auto). `RUST_LOG=warn`, fresh data dir.")
    w(f"* CPU per request = (utime+stime from `/proc/<pid>/stat`, over the proxy's processes: nginx master + workers, "
      f"the gateway's one pid) during the measured run / requests wrk completed. Resolution: one clock tick "
      f"= {tick_us:.0f} µs of CPU over the whole run. For \"direct\" the CPU column is the mock's own.")
    w("")

    w("## Throughput, latency, CPU")
    w("")
    w("| Target | Mode | c | Requests | Req/s | p50 (ms) | p99 (ms) | Errors (non-2xx / socket) | CPU µs/req | "
      "Other CPU |")
    w("|---|---|---:|---:|---:|---:|---:|---|---:|---:|")
    foreign_max = 0.0
    for mode in ("json", "stream"):
        for conc in (1, 64):
            for t in TARGETS:
                r = runs.get((t, mode, conc))
                if not r:
                    continue
                rps = r["requests"] / (r["duration_us"] / 1e6) if r["duration_us"] else 0
                sock = int(r["err_connect"] + r["err_read"] + r["err_write"] + r["err_timeout"])
                cpu = cpu_us_per_req(r, clk)
                ours = r["wrk_ticks"] + r["mock_ticks"] + (0 if t == "direct" else r["cpu_ticks"])
                foreign = max(0.0, r["sys_ticks"] - ours) / clk / (r["duration_us"] / 1e6) * 100
                foreign_max = max(foreign_max, foreign)
                w(f"| {LABEL[t]} | {mode} | {conc} | {int(r['requests'])} | {rps:,.0f} | {ms(r['p50_us'])} | "
                  f"{ms(r['p99_us'])} | {int(r['err_status'])} / {sock} | "
                  f"{'' if cpu is None else f'{cpu:.1f}'} | {foreign:.0f}% |")
    w("")
    w("Stream = one SSE response per request (the mock's full stream, no pacing delay). "
      "Other CPU = machine-wide busy time during the measured run (`/proc/stat`) minus what wrk, the mock "
      "and the proxy under test used, as % of one core (the machine has "
      f"{meta.get('nproc')} cores = {100 * int(meta.get('nproc', 1))}%): CPU taken by anything else, "
      "including the idle instances of this run. Background load before the run started: "
      f"{meta.get('background_pct_start', '?')}% of one core.")
    if foreign_max > 15:
        w("")
        w(f"**Warning:** other processes used up to {foreign_max:.0f}% of a core during some runs; "
          "those rows are perturbed.")
    w("")

    w(f"## Limits on and a pool of {meta.get('pool_keys', '10')} upstream keys, against the plain gateway")
    w("")
    w("Both limited gateways run with default threads, like \"gateway, default threads\" (one upstream key, "
      "no limits). Their client key has every limit set (requests per second, minute and day; tokens and cost "
      "per day), high enough never to refuse, so each request is admitted and counted (token and cost "
      "estimates reserved and settled); its pool holds "
      f"{meta.get('pool_keys', '10')} upstream keys (round robin), each with its own requests-per-second and "
      f"tokens-per-day limit. Redis: {meta.get('redis', '?')} (keys under a prefix unique to the run, deleted "
      "at its end).")
    w("")
    w("| Gateway | Mode | c | Req/s | vs plain | p50 (ms) | p99 (ms) | p99 vs plain | CPU µs/req | Errors |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for mode in ("json", "stream"):
        for conc in (1, 64):
            base = runs.get(("gateway-default", mode, conc))
            for t in ["gateway-default"] + [g for g, _ in LIMITED]:
                r = runs.get((t, mode, conc))
                if not r or not base:
                    continue
                rps = r["requests"] / (r["duration_us"] / 1e6) if r["duration_us"] else 0
                base_rps = base["requests"] / (base["duration_us"] / 1e6) if base["duration_us"] else 0
                cpu = cpu_us_per_req(r, clk)
                errors = int(r["err_status"] + r["err_connect"] + r["err_read"] + r["err_write"] + r["err_timeout"])
                vs = "" if t == "gateway-default" else (f"{rps / base_rps:.2f}×" if base_rps else "n/a")
                p99vs = "" if t == "gateway-default" else (
                    f"{r['p99_us'] / base['p99_us']:.2f}×" if base["p99_us"] else "n/a")
                w(f"| {LABEL[t]} | {mode} | {conc} | {rps:,.0f} | {vs} | {ms(r['p50_us'])} | {ms(r['p99_us'])} | "
                  f"{p99vs} | {'' if cpu is None else f'{cpu:.1f}'} | {errors} |")
    if not any(runs.get(("gateway-redis", m, c)) for m in ("json", "stream") for c in (1, 64)):
        w("")
        w("The Redis gateway did not run (Redis not reachable).")
    w("")

    w("## Added latency at one request in flight (p50 at c=1, proxy − direct)")
    w("")
    w("| Proxy | JSON (ms) | Stream (ms) |")
    w("|---|---:|---:|")
    added = {}
    for t in PROXIES:
        cells = []
        for mode in ("json", "stream"):
            p, d = runs.get((t, mode, 1)), runs.get(("direct", mode, 1))
            if p and d:
                added[(t, mode)] = p["p50_us"] - d["p50_us"]
                cells.append(f"{(p['p50_us'] - d['p50_us']) / 1000:+.3f}")
            else:
                cells.append("n/a")
        w(f"| {LABEL[t]} | {cells[0]} | {cells[1]} |")
    w("")
    w("wrk records latency in whole microseconds; single-run p50 differences of ±0.01 ms are noise.")
    w("")

    w("## CPU per request: gateway ÷ nginx")
    w("")
    w("| Pair | JSON c=1 | JSON c=64 | Stream c=1 | Stream c=64 |")
    w("|---|---:|---:|---:|---:|")
    ratios = {}
    for g, n in PAIRS:
        cells = []
        for mode in ("json", "stream"):
            for conc in (1, 64):
                rg, rn = runs.get((g, mode, conc)), runs.get((n, mode, conc))
                cg = cpu_us_per_req(rg, clk) if rg else None
                cn = cpu_us_per_req(rn, clk) if rn else None
                if cg is not None and cn:
                    ratios[(g, mode, conc)] = cg / cn
                    cells.append(f"{cg / cn:.2f}× ({cg:.0f} vs {cn:.0f} µs)")
                else:
                    cells.append("n/a")
        w(f"| {g} / {n} | " + " | ".join(cells) + " |")
    w("")

    w("## Memory (at the end of the run)")
    w("")
    w("| Process | Peak RSS (VmHWM) | RSS now | Processes |")
    w("|---|---:|---:|---:|")
    for t in PROXIES:
        if f"hwm_kib.{t}" not in meta:
            continue
        hwm = float(meta.get(f"hwm_kib.{t}", 0))
        rss = float(meta.get(f"rss_kib.{t}", 0))
        procs = meta.get(f"procs.{t}", "?")
        extra = ""
        if t.startswith("nginx"):
            extra = f" (largest process; sum over processes {float(meta.get(f'hwm_sum_kib.{t}', 0)) / MIB:.1f} MiB)"
        w(f"| {LABEL[t]} | {hwm / MIB:.1f} MiB{extra} | {rss / MIB:.1f} MiB | {procs} |")
    w("")

    w("Gateway resident memory before any proxied request: "
      + "; ".join(f"{LABEL[t]}: {float(meta.get(f'rss_healthy_kib.{t}', 0)) / MIB:.1f} MiB once healthy, "
                  f"{float(meta.get(f'rss_configured_kib.{t}', 0)) / MIB:.1f} MiB after the admin API set it up"
                  for t in ("gateway-1t", "gateway-default")) + ".")
    w("")

    w("## Gateway CPU by thread (measured runs, % of one core)")
    w("")
    w("| Run | Busiest threads |")
    w("|---|---|")
    for mode in ("json", "stream"):
        for conc in (1, 64):
            for t in ("gateway-1t", "gateway-default"):
                r = runs.get((t, mode, conc))
                path = os.path.join(raw, f"{t}-{mode}-c{conc}.threads.tsv")
                if not r or not os.path.exists(path):
                    continue
                secs = r["duration_us"] / 1e6
                parts = []
                with open(path) as f:
                    for line in f:
                        name, _, ticks = line.rstrip("\n").partition("\t")
                        pct = float(ticks or 0) / clk / secs * 100
                        if pct >= 1:
                            parts.append(f"{name} {pct:.0f}%")
                w(f"| {LABEL[t]}, {mode}, c={conc} | {', '.join(parts[:5]) or '-'} |")
    w("")
    w("Thread names as the kernel shows them (15 characters): \"Pingora HTTP Pr\" = the proxy's worker "
      "threads, \"sqlx-sqlite-wor\" = the SQLite writer (traces), \"core\" = the gateway's core Tokio runtime "
      "(two threads: admin API, trace writer, background tasks), \"plugin-epoch\" = the wasmtime epoch ticker.")
    w("")

    w(f"## Streamed chunks forwarded as they arrive (mock paces events {delay:.0f} ms apart)")
    w("")
    w("| Path | Status | Events | First event (ms) | Gaps between events (ms) |")
    w("|---|---:|---:|---:|---|")
    for t in ("direct", "nginx-1w", "gateway-1t", "gateway-default"):
        s = sse.get(t)
        if not s:
            w(f"| {LABEL[t]} | failed | | | |")
            continue
        first = s["offsets_ms"][0] if s["offsets_ms"] else float("nan")
        w(f"| {LABEL[t]} | {s['status']} | {s['events']} | {first:.1f} | "
          + ", ".join(f"{g:.0f}" for g in s["gaps_ms"]) + " |")
    w("")

    w("## Traces recorded by the gateway")
    w("")
    w("| Gateway | Requests sent (wrk-reported incl. warm-up, + smoke + SSE check) | Traces recorded | Traces with status 200 |")
    w("|---|---:|---:|---:|")
    traces_ok = True
    for t in GATEWAYS:
        if f"traces_expected.{t}" not in meta:
            continue
        exp = int(meta.get(f"traces_expected.{t}", 0))
        tot = int(meta.get(f"traces_total.{t}", 0))
        ok200 = meta.get(f"traces_200.{t}", "?")
        traces_ok &= tot >= exp
        w(f"| {LABEL[t]} | {exp} | {tot} | {ok200} |")
    w("")
    w("Traces can exceed wrk's count: wrk does not count requests still in flight when its timer ends.")
    w("")

    w("## Gateway stderr")
    w("")
    for t in GATEWAYS:
        if f"stderr_lines.{t}" not in meta:
            continue
        path = os.path.join(raw, f"{t}.stderr")
        try:
            with open(path, errors="replace") as f:
                lines = f.read().splitlines()
        except OSError:
            lines = []
        w(f"* {LABEL[t]}: {len(lines)} line(s) at `RUST_LOG=warn`" + (":" if lines else "."))
        if lines:
            w("")
            w("  ```")
            for line in lines[:15]:
                w("  " + line[:300])
            if len(lines) > 15:
                w(f"  ... ({len(lines) - 15} more in bench/out/raw/{t}.stderr)")
            w("  ```")
    w("")

    # ------------------------------------------------------------ verdicts
    w("## Targets")
    w("")
    all_errors = sum(int(r["err_status"] + r["err_connect"] + r["err_read"] + r["err_write"] + r["err_timeout"])
                     for (t, _, _), r in runs.items() if t.startswith("gateway"))

    def verdict(ok):
        return "**met**" if ok else "**not met**"

    r1 = [v for (g, _, _), v in ratios.items() if g == "gateway-1t"]
    rd = [v for (g, _, _), v in ratios.items() if g == "gateway-default"]
    if r1:
        w(f"* CPU per request ≤ 2× nginx: {verdict(max(r1) <= 2.0)} for 1 thread vs 1 worker "
          f"(ratios {min(r1):.2f}×–{max(r1):.2f}×)"
          + (f"; defaults: {verdict(max(rd) <= 2.0)} ({min(rd):.2f}×–{max(rd):.2f}×)" if rd else "") + ".")
    gw_added = {k: v for k, v in added.items() if k[0].startswith("gateway")}
    if gw_added:
        worst = max(gw_added.values())
        w(f"* Added latency at one request in flight < 0.1 ms: {verdict(worst < 100)} (gateway p50 − direct p50: "
          + ", ".join(f"{t} {m} {v / 1000:+.3f} ms" for (t, m), v in sorted(gw_added.items())) + ").")
    hwms = [float(meta.get(f"hwm_kib.{t}", 0)) for t in ("gateway-1t", "gateway-default")]
    w(f"* Gateway peak RSS < 64 MiB: {verdict(max(hwms) < 64 * MIB)} "
      f"({', '.join(f'{h / MIB:.1f} MiB' for h in hwms)} for 1 thread / default).")
    g = sse.get("gateway-1t")
    gaps = g["gaps_ms"] if g else []
    stream_ok = bool(gaps) and g["status"] == 200 and min(gaps) >= 0.5 * delay and max(gaps) <= 1.5 * delay
    w(f"* Streamed chunks forwarded as they arrive: {verdict(stream_ok)} "
      f"(gaps {min(gaps, default=0):.0f}–{max(gaps, default=0):.0f} ms for {delay:.0f} ms pacing; "
      f"pass band {0.5 * delay:.0f}–{1.5 * delay:.0f} ms).")
    w(f"* Every request traced: {verdict(traces_ok)}. Gateway errors counted by wrk (non-2xx + socket): {all_errors}.")
    w("")

    text = "\n".join(L) + "\n"
    os.makedirs(os.path.dirname(out_md) or ".", exist_ok=True)
    with open(out_md, "w") as f:
        f.write(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
