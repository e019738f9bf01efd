#!/usr/bin/env bash
# Open streams at once: how many paced SSE streams one gateway instance holds, next to nginx
# (one worker) and the mock directly, in one run. For each level of concurrency, wrk keeps that
# many connections each streaming one chat completion after another (the mock paces events
# BENCH_CONC_PACING_MS apart), and the run records errors, mean stream time, and the proxy's
# resident memory: idle before, peak during, and BENCH_CONC_SETTLE seconds after the load.
#
# Environment (all optional):
#   BENCH_CONC_LEVELS      space-separated open streams per level (default "1000 4000 8000")
#   BENCH_CONC_DURATION    seconds per level (default 20)
#   BENCH_CONC_PACING_MS   ms between a stream's events (default 1000)
#   BENCH_CONC_SETTLE      seconds after the load before memory is read again (default 60)
#   BENCH_CONC_TARGETS     which of "direct nginx-1w gateway" to measure (default all three)
#   BENCH_CONC_WRAP        command the gateway runs under, e.g. "heaptrack -o /tmp/gw" (default none)
#   AI_PROXY_BIN, MOCK_BIN binaries (default: the release builds)
# Any AI_PROXY_* setting in the environment reaches the gateway (e.g. AI_PROXY_MAX_IN_FLIGHT).
# Writes bench/out/concurrency.md (and raw files under bench/out/raw-concurrency/, among them
# LEVEL.tcp.txt: the kernel's accept-queue, syncookie and SYN-retransmission counters over the level).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
CACHE=/root/.cache/ai-proxy
GATEWAY_BIN=${AI_PROXY_BIN:-$CACHE/target/release/ai-proxy}
MOCK_BIN=${MOCK_BIN:-$CACHE/target/release/mock-upstream}
LEVELS=${BENCH_CONC_LEVELS:-1000 4000 8000}
DURATION=${BENCH_CONC_DURATION:-20}
PACING=${BENCH_CONC_PACING_MS:-1000}
SETTLE=${BENCH_CONC_SETTLE:-60}
TARGETS=${BENCH_CONC_TARGETS:-direct nginx-1w gateway}
WRAP=${BENCH_CONC_WRAP:-}
ADMIN_PW=bench-admin-pw
LUA=$BENCH_DIR/lib/post.lua
OUT=$BENCH_DIR/out
RAW=$OUT/raw-concurrency

log() { printf '[concurrency %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }

command -v wrk >/dev/null || die "wrk is missing (bench/run.sh installs it)"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x $NGINX ]] || die "nginx is missing (bench/run.sh installs it)"
[[ -x $GATEWAY_BIN && -x $MOCK_BIN ]] || die "build the release binaries first (see bench/README.md)"
# wrk, the proxy and the mock each hold one file per open stream (the proxy two).
ulimit -n "$(ulimit -Hn)"

TMP=$(mktemp -d /tmp/ai-proxy-conc.XXXXXX)
rm -rf "$RAW"
mkdir -p "$RAW"
PIDS=()
cleanup() {
    local rc=$?
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
# resident KiB summed over a process and its children (nginx: master + worker)
rss_tree() {
    local total=0 p
    for p in "$1" $(pgrep -P "$1" || true); do total=$((total + $(kib "$p" VmRSS))); done
    echo "$total"
}
# open files of a process and its children
fds_tree() {
    local total=0 p
    for p in "$1" $(pgrep -P "$1" || true); do total=$((total + $(ls "/proc/$p/fd" 2>/dev/null | wc -l))); done
    echo "$total"
}
# The kernel's TCP counters that tell a refused connection's cause (full accept queues,
# syncookies, SYN retransmissions), absolute; namespace-wide, so other traffic adds to them.
TCP_COUNTERS="TcpExtListenOverflows TcpExtTCPReqQFullDoCookies TcpExtSyncookiesFailed TcpExtTCPSynRetrans TcpAttemptFails"
tcp_counters() {
    command -v nstat >/dev/null || return 0
    # shellcheck disable=SC2086
    nstat -asz $TCP_COUNTERS 2>/dev/null | awk '$1 !~ /^#/ { print $1, $2 }'
}
field() {
    awk -v k="$2" '/^BENCH / { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) print kv[2] } }' "$1"
}

cp "$GATEWAY_BIN" "$TMP/ai-proxy"
cp "$MOCK_BIN" "$TMP/mock-upstream"

"$TMP/mock-upstream" --port 0 --no-record >"$TMP/mock.out" 2>"$RAW/mock.stderr" &
PIDS+=("$!")
for _ in $(seq 100); do grep -q '^listening on' "$TMP/mock.out" 2>/dev/null && break; sleep 0.1; done
MOCK_ADDR=$(awk '/^listening on/ { print $3 }' "$TMP/mock.out")
[[ -n $MOCK_ADDR ]] || die "mock did not report its address"

start_nginx() {
    local port dir=$TMP/nginx
    port=$(free_port)
    mkdir -p "$dir/tmp"
    cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
worker_rlimit_nofile 20000;
daemon off;
pid $dir/nginx.pid;
error_log $RAW/nginx.error.log warn;
events { worker_connections 19000; }
http {
    access_log off;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    keepalive_requests 1000000;
    upstream mock { server $MOCK_ADDR; keepalive 128; }
    server {
        listen 127.0.0.1:$port backlog=16384;
        location / {
            proxy_pass http://mock;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_request_buffering off;
        }
    }
}
CONF
    "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$RAW/nginx.error.log" 2>>"$RAW/nginx.error.log" &
    TARGET_PID=$!
    PIDS+=("$TARGET_PID")
    TARGET_ADDR=127.0.0.1:$port
    TARGET_AUTH=sk-bench
    for _ in $(seq 100); do curl -s -o /dev/null "http://$TARGET_ADDR/" && return 0; sleep 0.1; done
    die "nginx did not start"
}

start_gateway() {
    local pport aport dir=$TMP/gateway pk api
    pport=$(free_port); aport=$(free_port)
    mkdir -p "$dir"
    AI_PROXY_PROXY_ADDR=127.0.0.1:$pport AI_PROXY_ADMIN_ADDR=127.0.0.1:$aport \
        AI_PROXY_DATA_DIR=$dir AI_PROXY_ADMIN_PASSWORD=$ADMIN_PW RUST_LOG=warn \
        AI_PROXY_EGRESS_ALLOW=127.0.0.0/8 $WRAP "$TMP/ai-proxy" serve >"$RAW/gateway.stdout" 2>"$RAW/gateway.stderr" &
    TARGET_PID=$!
    WRAP_PID=$TARGET_PID
    if [[ -n $WRAP ]]; then
        # the wrapper's child is the gateway
        for _ in $(seq 100); do pgrep -f "$TMP/ai-proxy serve" >/dev/null && break; sleep 0.1; done
        TARGET_PID=$(pgrep -f "^$TMP/ai-proxy serve" | head -1 || echo "$TARGET_PID")
    fi
    PIDS+=("$TARGET_PID")
    TARGET_ADDR=127.0.0.1:$pport
    GW_ADMIN=http://127.0.0.1:$aport
    for _ in $(seq 600); do curl -fsS "$GW_ADMIN/api/health" >/dev/null 2>&1 && break; sleep 0.1; done
    api=(curl -fsS -u "admin:$ADMIN_PW" -H 'content-type: application/json')
    "${api[@]}" -X PUT -d "{\"base_url\":\"http://$MOCK_ADDR\"}" "$GW_ADMIN/api/providers/1" >/dev/null
    pk=$("${api[@]}" -X POST -d '{"provider_id":1,"name":"bench","secret":"sk-bench"}' \
        "$GW_ADMIN/api/upstream-keys" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    TARGET_AUTH=$("${api[@]}" -X POST -d "{\"name\":\"bench\",\"provider_id\":1,\"upstream_key_ids\":[$pk]}" \
        "$GW_ADMIN/api/client-keys" | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
}

ROWS=$RAW/levels.tsv
printf 'target\topen_streams\trequests\terrors\tmean_ms\tp99_ms\tidle_kib\tpeak_kib\tafter_kib\tpeak_fds\n' >"$ROWS"

# measure NAME: every level against the running target, then memory after the settle time
measure() {
    local name=$1 idle peak level tag sampler errors after
    curl -sS -o /dev/null --max-time 10 -H "Authorization: Bearer $TARGET_AUTH" \
        -H 'content-type: application/json' -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}' \
        "http://$TARGET_ADDR/v1/chat/completions" || die "smoke request to $name failed"
    idle=$(rss_tree "$TARGET_PID")
    for level in $LEVELS; do
        tag=$name-c$level
        # resident memory sampled every 200 ms while wrk runs; the peak is kept
        # and so are its open files
        ( peak=0; fds=0; while sleep 0.2; do
            # written whole, then renamed: the sampler is killed at any point
            r=$(rss_tree "$TARGET_PID"); ((r > peak)) && peak=$r; echo "$peak" >"$TMP/peak.new" && mv "$TMP/peak.new" "$TMP/peak"
            f=$(fds_tree "$TARGET_PID"); ((f > fds)) && fds=$f; echo "$fds" >"$TMP/fds.new" && mv "$TMP/fds.new" "$TMP/fds"
        done ) &
        sampler=$!
        tcp_counters >"$TMP/tcp.before"
        # sockets by state (TIME-WAIT included) three quarters into the load
        ( sleep $((DURATION * 3 / 4)); ss -s >"$RAW/$tag.sockets.txt" 2>&1 ) &
        # Every target streams the same events: the gateway asks the upstream for the usage
        # chunk on the client's behalf, so the baselines ask for it themselves.
        BENCH_STREAM=1 BENCH_USAGE=1 BENCH_DELAY_MS=$PACING BENCH_AUTH=$TARGET_AUTH timeout $((DURATION + 120)) \
            wrk -t2 -c"$level" -d"${DURATION}s" --timeout 60s --latency -s "$LUA" \
            "http://$TARGET_ADDR/v1/chat/completions" >"$RAW/$tag.txt" 2>&1 || log "$tag: wrk rc=$?"
        kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
        # what the level added to each counter
        tcp_counters | awk 'NR == FNR { before[$1] = $2; next } { print $1, $2 - before[$1] }' \
            "$TMP/tcp.before" - >"$RAW/$tag.tcp.txt"
        peak=$(cat "$TMP/peak" 2>/dev/null); peak=${peak:-0}
        peak_fds=$(cat "$TMP/fds" 2>/dev/null); peak_fds=${peak_fds:-0}
        rm -f "$TMP/peak" "$TMP/fds"
        errors=0
        for f in err_connect err_read err_write err_status err_timeout; do
            errors=$((errors + $(field "$RAW/$tag.txt" "$f")))
        done
        after="-"
        if [[ $level == "${LEVELS##* }" ]]; then
            log "$name: waiting ${SETTLE}s after the load"
            sleep "$SETTLE"
            after=$(rss_tree "$TARGET_PID")
        fi
        printf '%s\t%s\t%s\t%s\t%.0f\t%.0f\t%s\t%s\t%s\t%s\n' "$name" "$level" "$(field "$RAW/$tag.txt" requests)" \
            "$errors" "$(echo "$(field "$RAW/$tag.txt" mean_us) / 1000" | bc -l)" \
            "$(echo "$(field "$RAW/$tag.txt" p99_us) / 1000" | bc -l)" "$idle" "$peak" "$after" "$peak_fds" >>"$ROWS"
        log "$(tail -1 "$ROWS")"
        if [[ $name == gateway ]]; then
            # What the gateway answered, by status class and error class, from its own traces.
            for class in 2xx 4xx 5xx; do
                printf '%s %s ' "$tag" "$class"
                curl -fsS -u "admin:$ADMIN_PW" "$GW_ADMIN/api/logs/traces?page_size=1&status_class=$class" |
                    python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])' || echo "?"
            done >>"$RAW/gateway-statuses.txt"
            curl -fsS -u "admin:$ADMIN_PW" "$GW_ADMIN/api/logs/traces?page_size=5&status_class=5xx" \
                >"$RAW/$tag.failed-traces.json" || true
        fi
    done
}

wants() { [[ " $TARGETS " == *" $1 "* ]]; }
if wants direct; then
    TARGET_PID=$(pgrep -f "$TMP/mock-upstream" | head -1); TARGET_ADDR=$MOCK_ADDR; TARGET_AUTH=sk-bench
    SETTLE_SAVED=$SETTLE; SETTLE=0
    measure direct
    SETTLE=$SETTLE_SAVED
fi
if wants nginx-1w; then
    start_nginx
    measure nginx-1w
    kill -TERM "$TARGET_PID"; wait "$TARGET_PID" 2>/dev/null || true
fi
if wants gateway; then
    start_gateway
    measure gateway
    kill -TERM "$TARGET_PID"; wait "$TARGET_PID" 2>/dev/null || true
    # a wrapper (heaptrack) writes its report when the gateway has exited
    if [[ -n $WRAP ]]; then wait "$WRAP_PID" 2>/dev/null || true; fi
fi

python3 - "$ROWS" "$OUT/concurrency.md" "$PACING" "$DURATION" "$SETTLE" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
direct = {r["open_streams"]: float(r["mean_ms"]) for r in rows if r["target"] == "direct"}
out = [f"# Open streams (pacing {sys.argv[3]} ms between events, {sys.argv[4]} s per level, memory read again {sys.argv[5]} s after)", "",
       "| target | open streams | requests | errors | mean stream ms | vs direct | p99 ms | idle MiB | peak MiB | per open stream KiB | after-load MiB | peak open files |",
       "|---|---|---|---|---|---|---|---|---|---|---|---|"]
for r in rows:
    level = r["open_streams"]
    mean = float(r["mean_ms"])
    vs = f"{(mean / direct[level] - 1) * 100:+.1f} %" if r["target"] != "direct" and direct.get(level) else "—"
    idle, peak = int(r["idle_kib"]), int(r["peak_kib"])
    per = (peak - idle) / int(level)
    after = "—" if r["after_kib"] == "-" else f"{int(r['after_kib']) / 1024:.0f}"
    out.append(f"| {r['target']} | {level} | {r['requests']} | {r['errors']} | {mean:.0f} | {vs} | {float(r['p99_ms']):.0f} | "
               f"{idle / 1024:.0f} | {peak / 1024:.0f} | {per:.1f} | {after} | {r['peak_fds']} |")
open(sys.argv[2], "w").write("\n".join(out) + "\n")
print("\n".join(out))
PY
