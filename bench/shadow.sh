#!/usr/bin/env bash
# Shadow mode's cost to clients (issue 15): client latency through one gateway with no
# shadow candidate and with a candidate in shadow on every request (sample 1.0), for JSON
# answers and for streams with their usage chunk, at 1 and 16 requests in flight.
#
#   bench/shadow.sh
#
# Environment: AI_PROXY_BIN (default $CARGO_TARGET_DIR/debug/ai-proxy), MOCK_BIN (the same
# folder's mock-upstream), CANDIDATE_WASM (default: the openai-miscount fixture under
# $CARGO_TARGET_DIR/wasm-plugins), BENCH_DURATION (seconds per run, default 8),
# BENCH_ROUNDS (alternations of off/on, default 2), BENCH_SAMPLE (share shadowed, default 1.0). Off and on alternate on the same
# gateway (rollback / shadow between runs), so drift on a loaded machine hits both. The
# gateway's /metrics tell how many requests were compared and how many were dropped.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET="${CARGO_TARGET_DIR:-target}"
BIN="${AI_PROXY_BIN:-$TARGET/debug/ai-proxy}"
MOCK="${MOCK_BIN:-$(dirname "$BIN")/mock-upstream}"
WASM="${CANDIDATE_WASM:-$(find "$TARGET/wasm-plugins" -name plugin_openai_miscount.wasm -not -path '*/deps/*' | head -1)}"
DURATION="${BENCH_DURATION:-8}"
ROUNDS="${BENCH_ROUNDS:-2}"
SAMPLE="${BENCH_SAMPLE:-1.0}"
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
PIDS+=($!)
ADMIN=http://127.0.0.1:$aport
for _ in $(seq 600); do curl -fs "$ADMIN/api/health" >/dev/null 2>&1 && break; sleep 0.1; done
api=(curl -fsS -u "admin:$PW" -H 'content-type: application/json')
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
"${api[@]}" -X PUT -d "{\"base_url\":\"http://$MOCK_ADDR\"}" "$ADMIN/api/providers/1" >/dev/null
pk=$("${api[@]}" -X POST -d '{"provider_id":1,"name":"bench","secret":"sk-bench"}' "$ADMIN/api/provider-keys/keys" | json '["id"]')
KEY=$("${api[@]}" -X POST -d "{\"name\":\"bench\",\"provider_id\":1,\"provider_key_ids\":[$pk]}" "$ADMIN/api/user-service/keys" | json '["key"]')
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

echo "run	shadow	kind	conc	requests	p50_us	p99_us	errors" >"$WORK/runs.tsv"
for round in $(seq "$ROUNDS"); do
    for mode in off on; do
        shadow "$mode"
        for kind in json stream; do
            for conc in 1 16; do
                stream=0; [[ $kind == stream ]] && stream=1
                threads=1; [[ $conc -gt 1 ]] && threads=2
                BENCH_STREAM=$stream BENCH_USAGE=1 BENCH_AUTH=$KEY wrk -t$threads -c$conc -d2s -s "$LUA" "http://127.0.0.1:$pport/v1/chat/completions" >/dev/null 2>&1 || true
                line=$(BENCH_STREAM=$stream BENCH_USAGE=1 BENCH_AUTH=$KEY wrk -t$threads -c$conc -d"${DURATION}s" --latency -s "$LUA" "http://127.0.0.1:$pport/v1/chat/completions" | grep '^BENCH ')
                python3 - "$round" "$mode" "$kind" "$conc" "$line" >>"$WORK/runs.tsv" <<'PY'
import sys
r, mode, kind, conc, line = sys.argv[1:]
f = dict(kv.split("=") for kv in line.split()[1:])
errors = sum(int(f[k]) for k in f if k.startswith("err_"))
print("\t".join([r, mode, kind, conc, f["requests"], f["p50_us"], f["p99_us"], str(errors)]))
PY
            done
        done
    done
done
shadow off
sleep 2
compared=$(metric ai_proxy_shadow_compared_total)
dropped_full=$(metric 'ai_proxy_shadow_dropped_total{reason="queue_full"}')
dropped_busy=$(metric 'ai_proxy_shadow_dropped_total{reason="busy"}')
python3 - "$WORK/runs.tsv" "$BIN" "$compared" "$dropped_full" "$dropped_busy" >"$OUT" <<'PY'
import csv, statistics, sys, time, os
path, binary, compared, full, busy = sys.argv[1:]
rows = list(csv.DictReader(open(path), delimiter="\t"))
load = open("/proc/loadavg").read().split()[:3]
print(f"Shadow mode, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, binary {binary}, {os.cpu_count()} cores, loadavg {' '.join(load)}")
print()
print("| Answer | In flight | p50 off (µs) | p50 shadow (µs) | p99 off (µs) | p99 shadow (µs) | requests off | requests shadow | errors |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for kind in ("json", "stream"):
    for conc in ("1", "16"):
        pick = lambda mode, f: [float(r[f]) for r in rows if r["kind"] == kind and r["conc"] == conc and r["shadow"] == mode]
        med = lambda xs: statistics.median(xs) if xs else float("nan")
        dur = None
        rps = lambda mode: sum(pick(mode, "requests"))
        errors = int(sum(pick("off", "errors") + pick("on", "errors")))
        print(f"| {kind} | {conc} | {med(pick('off','p50_us')):.0f} | {med(pick('on','p50_us')):.0f} | {med(pick('off','p99_us')):.0f} | {med(pick('on','p99_us')):.0f} | {rps('off'):.0f} | {rps('on'):.0f} | {errors} |")
print()
print(f"Compared in shadow: {compared}; dropped with the queue full: {full}; dropped as busy: {busy}.")
PY
cat "$OUT"
