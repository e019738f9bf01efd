#!/usr/bin/env bash
# Shadow mode's cost to clients (issue 15): client latency through one gateway with no
# shadow candidate and with a candidate in shadow on a sample of requests, for JSON answers
# and for streams with their usage chunk, at 1 and 16 requests in flight.
#
#   AI_PROXY_BIN=$CARGO_TARGET_DIR/release/ai-proxy bench/shadow.sh
#
# Environment: AI_PROXY_BIN (default $CARGO_TARGET_DIR/debug/ai-proxy), MOCK_BIN (the same
# folder's mock-upstream), CANDIDATE_WASM (default: the openai-miscount fixture under
# $CARGO_TARGET_DIR/wasm-plugins), BENCH_DURATION (seconds per run, default 8),
# BENCH_ROUNDS (rounds of off and on, default 2), BENCH_SAMPLE (share shadowed, default 1.0),
# BENCH_KINDS (default "json stream"), BENCH_CONCS (default "1 16"). Off and on run on the
# same gateway (rollback / shadow between runs), in the order off-on, on-off, off-on, ... so
# drift on a shared machine hits both. Every cell reports the median over the rounds and
# the range (min-max); the noise band is the range of the "off" rounds: a difference inside
# it is noise. Each run also records the gateway's CPU time and the shadow worker thread's
# (from /proc), so the CPU the proxy itself spends per request can be compared off and on.
# The gateway's /metrics tell how many requests were compared and how many were dropped.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET="${CARGO_TARGET_DIR:-target}"
BIN="${AI_PROXY_BIN:-$TARGET/debug/ai-proxy}"
MOCK="${MOCK_BIN:-$(dirname "$BIN")/mock-upstream}"
WASM="${CANDIDATE_WASM:-$(find "$TARGET/wasm-plugins" -name plugin_openai_miscount.wasm -not -path '*/deps/*' | head -1)}"
DURATION="${BENCH_DURATION:-8}"
ROUNDS="${BENCH_ROUNDS:-2}"
SAMPLE="${BENCH_SAMPLE:-1.0}"
KINDS="${BENCH_KINDS:-json stream}"
CONCS="${BENCH_CONCS:-1 16}"
PW="bench-shadow-password"
LUA="bench/lib/post.lua"
WORK="$(mktemp -d /tmp/aip-shadow-bench.XXXXXX)"
OUT="${BENCH_OUT:-bench/out/shadow.md}"
mkdir -p bench/out
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
die() { echo "shadow bench: $*" >&2; exit 1; }
for tool in wrk curl python3; do command -v "$tool" >/dev/null || die "missing $tool"; done
[[ -x $BIN && -x $MOCK && -f $WASM ]] || die "need $BIN, $MOCK and the candidate wasm ($WASM)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

"$MOCK" --port 0 --no-record >"$WORK/mock.out" 2>"$WORK/mock.err" &
PIDS+=($!)
for _ in $(seq 100); do grep -q '^listening on' "$WORK/mock.out" 2>/dev/null && break; sleep 0.1; done
MOCK_ADDR=$(awk '/^listening on/ { print $3 }' "$WORK/mock.out")
[[ -n $MOCK_ADDR ]] || die "mock did not start"

pport=$(free_port); aport=$(free_port)
AI_PROXY_PROXY_ADDR=127.0.0.1:$pport AI_PROXY_ADMIN_ADDR=127.0.0.1:$aport AI_PROXY_DATA_DIR=$WORK/data \
    AI_PROXY_ADMIN_PASSWORD=$PW RUST_LOG=warn AI_PROXY_EGRESS_ALLOW=127.0.0.0/8 AI_PROXY_HEALTH_INTERVAL_SECS=0 \
    "$BIN" >"$WORK/gw.out" 2>"$WORK/gw.err" &
GW_PID=$!
PIDS+=("$GW_PID")
ADMIN=http://127.0.0.1:$aport
for _ in $(seq 600); do curl -fs "$ADMIN/api/health" >/dev/null 2>&1 && break; sleep 0.1; done
api=(curl -fsS -u "admin:$PW" -H 'content-type: application/json')
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
"${api[@]}" -X PUT -d "{\"base_url\":\"http://$MOCK_ADDR\"}" "$ADMIN/api/providers/1" >/dev/null
pk=$("${api[@]}" -X POST -d '{"provider_id":1,"name":"bench","secret":"sk-bench"}' "$ADMIN/api/upstream-keys" | json '["id"]')
KEY=$("${api[@]}" -X POST -d "{\"name\":\"bench\",\"provider_id\":1,\"upstream_key_ids\":[$pk]}" "$ADMIN/api/client-keys" | json '["key"]')
candidate=$(curl -fsS -u "admin:$PW" -H 'content-type: application/wasm' --data-binary "@$WASM" "$ADMIN/api/plugins?force=true" | json '["id"]')
# Binds the provider to 0.1.0; rolled back at once, so the first run is without shadow.
"${api[@]}" -X POST -d "{\"plugin_id\":$candidate,\"sample\":$SAMPLE}" "$ADMIN/api/providers/1/rollout/shadow" >/dev/null
"${api[@]}" -X POST "$ADMIN/api/providers/1/rollout/rollback" >/dev/null

shadow() {
    if [[ $1 == on ]]; then
        "${api[@]}" -X POST -d "{\"plugin_id\":$candidate,\"sample\":$SAMPLE}" "$ADMIN/api/providers/1/rollout/shadow" >/dev/null
    else
        # 409 when nothing is in shadow (the first round): already off.
        "${api[@]}" -X POST "$ADMIN/api/providers/1/rollout/rollback" >/dev/null 2>&1 || true
    fi
}
metric() { curl -fsS -u "admin:$PW" "$ADMIN/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
# CPU clock ticks (utime + stime) of the gateway, and of its shadow worker thread alone.
gw_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$GW_PID/stat"; }
worker_task() { grep -lx shadow-worker /proc/"$GW_PID"/task/*/comm 2>/dev/null | head -1 | xargs -r dirname; }
worker_ticks() {
    local t; t=$(worker_task)
    if [[ -n $t ]]; then awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "$t/stat"; else echo 0; fi
}
compared_now() { metric ai_proxy_shadow_compared_total; }

echo "round	shadow	kind	conc	requests	p50_us	p99_us	errors	gw_ticks	worker_ticks	compared	load1" >"$WORK/runs.tsv"
for round in $(seq "$ROUNDS"); do
    modes="off on"; (( round % 2 == 0 )) && modes="on off"
    for mode in $modes; do
        shadow "$mode"
        for kind in $KINDS; do
            for conc in $CONCS; do
                stream=0; [[ $kind == stream ]] && stream=1
                threads=1; [[ $conc -gt 1 ]] && threads=2
                BENCH_STREAM=$stream BENCH_USAGE=1 BENCH_AUTH=$KEY wrk -t$threads -c$conc -d2s -s "$LUA" "http://127.0.0.1:$pport/v1/chat/completions" >/dev/null 2>&1 || true
                g0=$(gw_ticks); w0=$(worker_ticks); c0=$(compared_now)
                line=$(BENCH_STREAM=$stream BENCH_USAGE=1 BENCH_AUTH=$KEY wrk -t$threads -c$conc -d"${DURATION}s" --latency -s "$LUA" "http://127.0.0.1:$pport/v1/chat/completions" | grep '^BENCH ')
                g1=$(gw_ticks); w1=$(worker_ticks); c1=$(compared_now)
                load=$(cut -d' ' -f1 /proc/loadavg)
                python3 - "$round" "$mode" "$kind" "$conc" "$line" "$((g1 - g0))" "$((w1 - w0))" "$((c1 - c0))" "$load" >>"$WORK/runs.tsv" <<'PY'
import sys
r, mode, kind, conc, line, gw, worker, compared, load = sys.argv[1:]
f = dict(kv.split("=") for kv in line.split()[1:])
errors = sum(int(f[k]) for k in f if k.startswith("err_"))
print("\t".join([r, mode, kind, conc, f["requests"], f["p50_us"], f["p99_us"], str(errors), gw, worker, compared, load]))
PY
            done
        done
    done
done
shadow off
sleep 2
policy=$(t=$(worker_task); [[ -n $t ]] && awk '{ sub(/^.*\) /, ""); print "policy " $39 ", nice " $17 }' "$t/stat" || echo "no worker thread")
compared=$(metric ai_proxy_shadow_compared_total)
dropped=$(curl -fsS -u "admin:$PW" "$ADMIN/metrics" | awk -F'[{}" ]' '/^ai_proxy_shadow_dropped_total\{/ { printf "%s %s; ", $3, $NF }')
cp "$WORK/runs.tsv" "${OUT%.md}.tsv"
python3 - "$WORK/runs.tsv" "$BIN" "$SAMPLE" "$compared" "$dropped" "$policy" "$(getconf CLK_TCK)" >"$OUT" <<'PY'
import csv, statistics, sys, time, os
path, binary, sample, compared, dropped, policy, hz = sys.argv[1:]
rows = list(csv.DictReader(open(path), delimiter="\t"))
loads = [float(r["load1"]) for r in rows]
print(f"Shadow mode, sample {sample}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, binary {binary}, "
      f"{os.cpu_count()} cores, 1-minute load during the runs {min(loads):.1f} to {max(loads):.1f}; "
      f"shadow worker thread: {policy} (policy 5 is SCHED_IDLE).")
print()
print("| Answer | In flight | p50 off (µs) | p50 shadow (µs) | Δ p50 | p50 noise band | p99 off (µs) | p99 shadow (µs) | Δ p99 | p99 noise band | proxy CPU/req off (µs) | proxy CPU/req shadow (µs) | worker CPU/compared (µs) | compared | errors |")
print("|---|---:|---|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|")
tick_us = 1e6 / int(hz)
for kind in dict.fromkeys(r["kind"] for r in rows):
    for conc in dict.fromkeys(r["conc"] for r in rows):
        cell = [r for r in rows if r["kind"] == kind and r["conc"] == conc]
        if not cell:
            continue
        pick = lambda mode, f: [float(r[f]) for r in cell if r["shadow"] == mode]
        med = lambda xs: statistics.median(xs) if xs else float("nan")
        span = lambda xs: f"{med(xs):.0f} ({min(xs):.0f}–{max(xs):.0f})" if xs else "-"
        delta = lambda f: (med(pick("on", f)) / med(pick("off", f)) - 1) * 100
        band = lambda f: (max(pick("off", f)) - min(pick("off", f))) / med(pick("off", f)) * 100
        sumf = lambda mode, f: sum(pick(mode, f))
        proxy_cpu = lambda mode: (sumf(mode, "gw_ticks") - sumf(mode, "worker_ticks")) * tick_us / max(sumf(mode, "requests"), 1)
        worker = sumf("on", "worker_ticks") * tick_us / max(sumf("on", "compared"), 1)
        errors = int(sumf("off", "errors") + sumf("on", "errors"))
        print(f"| {kind} | {conc} | {span(pick('off','p50_us'))} | {span(pick('on','p50_us'))} | {delta('p50_us'):+.1f} % | {band('p50_us'):.1f} % "
              f"| {span(pick('off','p99_us'))} | {span(pick('on','p99_us'))} | {delta('p99_us'):+.1f} % | {band('p99_us'):.1f} % "
              f"| {proxy_cpu('off'):.0f} | {proxy_cpu('on'):.0f} | {worker:.0f} | {sumf('on','compared'):.0f} | {errors} |")
print()
print(f"Compared in shadow: {compared}; dropped by reason: {dropped.strip()}")
PY
cat "$OUT"
