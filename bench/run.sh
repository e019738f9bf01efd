#!/usr/bin/env bash
# Benchmarks the gateway against a plain nginx reverse proxy and against the mock upstream
# directly, on loopback. One run measures everything and writes bench/out/latest.md.
#
# Environment (all optional):
#   BENCH_DURATION   seconds per measured wrk run (default 10)
#   BENCH_WARMUP     seconds of warm-up before each measured run (default 2)
#   AI_PROXY_BIN     gateway binary (default: the release build)
#   MOCK_BIN         mock upstream binary (default: the release build)
#   BENCH_STREAM_DELAY_MS  pacing for the "chunks forwarded as they arrive" check (default 100)
#   BENCH_WAIT_IDLE  wait up to this many seconds for other processes to leave the CPUs idle
#                    (background load under 15% of one core) before measuring (default 0)
#   BENCH_CONCURRENCY  0 leaves out the open-streams scenario (bench/concurrency.sh)
#   BENCH_REDIS_URL  Redis for the "limits on, Redis" gateway (default redis://127.0.0.1:6379);
#                    its keys get a prefix unique to the run and are deleted at the end. When
#                    it does not answer, that gateway is left out (and the report says so).
#   BENCH_SCENARIO   "all" (default) or "limits": only the two limits-on gateways (in-process vs
#                    Redis counters), JSON at c=16 and c=64, both arms interleaved, repeated
#                    BENCH_REPEAT times (default 3); writes bench/out/limits.md (needs Redis).
#                    "cpu": only nginx and the plain gateways, JSON and streamed answers at the
#                    concurrencies in BENCH_CPU_CONC (default "1 64"), BENCH_REPEAT rounds with the
#                    target order rotating; writes bench/out/cpu.md (CPU per request, gateway / nginx).
#   BENCH_PERF       a target name (e.g. gateway-1t): `perf record -g` of it during each of its
#                    measured runs, to bench/out/raw/TAG.perf.data
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
# the command line as run, with the settings that came from the environment
COMMAND="$0${*:+ $*}"
for var in MOCK_BIN AI_PROXY_BIN BENCH_STREAM_DELAY_MS BENCH_WARMUP BENCH_DURATION BENCH_WAIT_IDLE BENCH_REDIS_URL BENCH_SCENARIO BENCH_REPEAT BENCH_CPU_CONC BENCH_PERF; do
    [[ -n ${!var:-} ]] && COMMAND="$var=${!var} $COMMAND"
done
CACHE=/root/.cache/ai-proxy
GATEWAY_BIN=${AI_PROXY_BIN:-$CACHE/target/release/ai-proxy}
MOCK_BIN=${MOCK_BIN:-$CACHE/target/release/mock-upstream}
DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-2}
STREAM_DELAY_MS=${BENCH_STREAM_DELAY_MS:-100}
WAIT_IDLE=${BENCH_WAIT_IDLE:-0}
REDIS_URL_BENCH=${BENCH_REDIS_URL:-redis://127.0.0.1:6379}
SCENARIO=${BENCH_SCENARIO:-all}
REPEAT=${BENCH_REPEAT:-3}
CPU_CONC=${BENCH_CPU_CONC:-1 64}
[[ $SCENARIO =~ ^(all|limits|cpu)$ ]] || { echo "BENCH_SCENARIO must be all, limits or cpu" >&2; exit 2; }
# unique to this run, so it never touches another user's keys
REDIS_PREFIX="aip-bench-$$-$(date +%s):"
REDIS_USED=0
# Limits that hold every request (checked and counted, never refusing one): the "limits on"
# gateways' client key and each of their 10 upstream keys.
POOL_KEYS=10
CLIENT_LIMITS='{"requests_per_second":1000000000,"requests_per_minute":1000000000,"requests_per_day":1000000000000,"tokens_per_day":1000000000000000,"cost_per_day_usd":1000000}'
KEY_LIMITS='{"requests_per_second":1000000000,"tokens_per_day":1000000000000000}'
ADMIN_PW=bench-admin-pw
LUA=$BENCH_DIR/lib/post.lua
OUT=$BENCH_DIR/out
START_EPOCH=$(date +%s)

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }

# ---------------------------------------------------------------- prerequisites
need_apt=()
command -v wrk >/dev/null || need_apt+=(wrk)
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || need_apt+=(nginx-light)
if ((${#need_apt[@]})); then
    log "installing ${need_apt[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
for tool in wrk python3 curl timeout; do command -v "$tool" >/dev/null || die "missing $tool"; done
[[ -x $GATEWAY_BIN ]] || die "gateway binary not found: $GATEWAY_BIN (build it, or set AI_PROXY_BIN)"
[[ -x $MOCK_BIN ]] || die "mock binary not found: $MOCK_BIN (build it, or set MOCK_BIN)"

# ---------------------------------------------------------------- workspace + cleanup
TMP=$(mktemp -d /tmp/ai-proxy-bench.XXXXXX)
mkdir -p "$OUT"
RAW=$OUT/raw
rm -rf "$RAW"
mkdir -p "$RAW"
PIDS=()
cleanup() {
    local rc=$?
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if ((REDIS_USED)); then
        redis-cli -u "$REDIS_URL_BENCH" --scan --pattern "${REDIS_PREFIX}*" 2>/dev/null |
            xargs -r redis-cli -u "$REDIS_URL_BENCH" del >/dev/null 2>&1 || true
    fi
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# utime+stime (clock ticks) summed over the given pids
cpu_ticks() {
    local total=0 pid rest
    for pid in "$@"; do
        [[ -r /proc/$pid/stat ]] || continue
        rest=$(sed 's/^.*) //' "/proc/$pid/stat")  # drop "pid (comm) ", comm may hold spaces
        # after the comm, field 14 (utime) is word 12 and field 15 (stime) word 13
        set -- $rest
        total=$((total + ${12} + ${13}))
    done
    echo "$total"
}

# every pid belonging to a target (nginx: master + workers)
target_pids() {
    local pid=$1
    echo "$pid"
    pgrep -P "$pid" || true
}

# per-thread CPU of one process, summed by thread name: lines "name<TAB>ticks"
thread_ticks() {
    local f
    for f in /proc/"$1"/task/*/stat; do
        [[ -r $f ]] && sed 's/^[0-9]* (\(.*\)) [A-Za-z] \(.*\)$/\1\t\2/' "$f" 2>/dev/null
    done | awk -F'\t' '{ split($2, w, " "); t[$1] += w[11] + w[12] } END { for (n in t) printf "%s\t%d\n", n, t[n] }'
}

# busy clock ticks of the whole machine (all CPUs) from /proc/stat
sys_busy_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }

# CPU ticks of this shell's reaped children (wrk runs in the foreground, so its CPU lands here)
children_ticks() {
    local rest
    rest=$(sed 's/^.*) //' "/proc/$$/stat")
    set -- $rest
    echo $((${14} + ${15}))  # fields 16 (cutime) and 17 (cstime)
}

# CPU used by everything on the machine over SECONDS, as % of one core
background_pct() {
    local b0 b1
    b0=$(sys_busy_ticks); sleep "$1"; b1=$(sys_busy_ticks)
    echo $(((b1 - b0) * 100 / ($(getconf CLK_TCK) * $1)))
}

status_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# copies, so that a rebuild during the run cannot swap a binary between the two gateways
GATEWAY_BUILT=$(date -u -r "$GATEWAY_BIN" '+%Y-%m-%d %H:%M UTC')
cp "$GATEWAY_BIN" "$TMP/ai-proxy"
cp "$MOCK_BIN" "$TMP/mock-upstream"

# ---------------------------------------------------------------- quiet machine?
BG_START=$(background_pct 2)
waited=0
while ((BG_START >= 15 && waited < WAIT_IDLE)); do
    log "machine busy with other work (${BG_START}% of one core); waiting for it to settle"
    sleep 8; waited=$((waited + 10))
    BG_START=$(background_pct 2)
done
log "background CPU before the run: ${BG_START}% of one core (loadavg $(cut -d' ' -f1-3 /proc/loadavg))"

# ---------------------------------------------------------------- mock upstream
log "starting mock upstream ($MOCK_BIN)"
"$TMP/mock-upstream" --port 0 --no-record >"$TMP/mock.out" 2>"$RAW/mock.stderr" &
MOCK_PID=$!
PIDS+=("$MOCK_PID")
for _ in $(seq 100); do grep -q '^listening on' "$TMP/mock.out" 2>/dev/null && break; sleep 0.1; done
MOCK_ADDR=$(awk '/^listening on/ { print $3 }' "$TMP/mock.out")
[[ -n $MOCK_ADDR ]] || die "mock did not report its address"
log "mock on $MOCK_ADDR"

# ---------------------------------------------------------------- nginx
# start_nginx NAME WORKERS -> sets NGINX_ADDR, NGINX_PID
start_nginx() {
    local name=$1 workers=$2 dir=$TMP/$1 port
    port=$(free_port)
    mkdir -p "$dir/tmp"
    cat >"$dir/nginx.conf" <<EOF
worker_processes $workers;
daemon off;
pid $dir/nginx.pid;
error_log $RAW/$name.error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    keepalive_requests 1000000;
    upstream mock {
        server $MOCK_ADDR;
        keepalive 128;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:$port;
        location / {
            proxy_pass http://mock;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_request_buffering off;
        }
    }
}
EOF
    cp "$dir/nginx.conf" "$RAW/$name.conf"
    "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$RAW/$name.error.log" 2>>"$RAW/$name.error.log" &
    NGINX_PID=$!
    PIDS+=("$NGINX_PID")
    NGINX_ADDR=127.0.0.1:$port
    for _ in $(seq 100); do curl -s -o /dev/null "http://$NGINX_ADDR/" && return 0; sleep 0.1; done
    die "nginx $name did not start (see $RAW/$name.error.log)"
}

# ---------------------------------------------------------------- gateway
# start_gateway NAME THREADS(empty = default) [MODE] -> sets GW_PROXY, GW_ADMIN, GW_PID, GW_KEY
# MODE "" = one upstream key, no limits (the plain gateway); "limits" = a pool of $POOL_KEYS
# upstream keys and every client and key limit set (in-process counters); "redis" = the same
# with the counters in Redis.
start_gateway() {
    local name=$1 threads=$2 mode=${3:-} dir=$TMP/$1 pport aport pk pool=() i
    pport=$(free_port)
    aport=$(free_port)
    mkdir -p "$dir/data"
    (
        export AI_PROXY_PROXY_ADDR=127.0.0.1:$pport AI_PROXY_ADMIN_ADDR=127.0.0.1:$aport \
            AI_PROXY_DATA_DIR=$dir/data AI_PROXY_ADMIN_PASSWORD=$ADMIN_PW RUST_LOG=warn \
            AI_PROXY_EGRESS_ALLOW=127.0.0.0/8
        if [[ -n $threads ]]; then export AI_PROXY_PROXY_THREADS=$threads; else unset AI_PROXY_PROXY_THREADS; fi
        unset REDIS_URL
        if [[ $mode == redis ]]; then
            export REDIS_URL=$REDIS_URL_BENCH AI_PROXY_REDIS_PREFIX=$REDIS_PREFIX AI_PROXY_REDIS_FAILURE=closed
        fi
        exec "$TMP/ai-proxy" serve
    ) >"$RAW/$name.stdout" 2>"$RAW/$name.stderr" &
    GW_PID=$!
    PIDS+=("$GW_PID")
    GW_PROXY=127.0.0.1:$pport
    GW_ADMIN=http://127.0.0.1:$aport
    for _ in $(seq 600); do
        curl -fsS "$GW_ADMIN/api/health" >/dev/null 2>&1 && break
        kill -0 "$GW_PID" 2>/dev/null || die "gateway $name exited (see $RAW/$name.stderr)"
        sleep 0.1
    done
    curl -fsS "$GW_ADMIN/api/health" >/dev/null || die "gateway $name not healthy"
    printf 'rss_healthy_kib.%s\t%s\n' "$name" "$(status_kib "$GW_PID" VmRSS)" >>"$TMP/gw-mem.tsv"
    local api=(curl -fsS -u "admin:$ADMIN_PW" -H 'content-type: application/json')
    local id='import json,sys; print(json.load(sys.stdin)["id"])'
    "${api[@]}" -X PUT -d "{\"base_url\":\"http://$MOCK_ADDR\"}" "$GW_ADMIN/api/providers/1" >/dev/null
    if [[ -z $mode ]]; then
        pk=$("${api[@]}" -X POST -d '{"provider_id":1,"name":"bench","secret":"sk-bench"}' \
            "$GW_ADMIN/api/upstream-keys" | python3 -c "$id")
        GW_KEY=$("${api[@]}" -X POST -d "{\"name\":\"bench\",\"provider_id\":1,\"upstream_key_ids\":[$pk]}" \
            "$GW_ADMIN/api/client-keys" | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
    else
        for i in $(seq "$POOL_KEYS"); do
            pool+=("$("${api[@]}" -X POST \
                -d "{\"provider_id\":1,\"name\":\"bench-$i\",\"secret\":\"sk-bench-$i\",\"limits\":$KEY_LIMITS}" \
                "$GW_ADMIN/api/upstream-keys" | python3 -c "$id")")
        done
        GW_KEY=$("${api[@]}" -X POST -d "{\"name\":\"bench\",\"provider_id\":1,\"upstream_key_ids\":[$(IFS=,; echo "${pool[*]}")],\"limits\":$CLIENT_LIMITS}" \
            "$GW_ADMIN/api/client-keys" | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
    fi
    [[ -n $GW_KEY ]] || die "no client key for $name"
    printf 'rss_configured_kib.%s\t%s\n' "$name" "$(status_kib "$GW_PID" VmRSS)" >>"$TMP/gw-mem.tsv"
}

# Targets: NAME -> address, bearer, pid. "1w"/"1t" = one worker / one proxy thread (the fair
# pair), "auto"/"default" = each one's default (nginx auto = nproc, gateway default = nproc).
declare -A ADDR AUTH PID ADMIN REQS
ADDR[direct]=$MOCK_ADDR; AUTH[direct]=sk-bench; PID[direct]=$MOCK_PID

GATEWAYS=()
TARGETS=()
if [[ $SCENARIO == all || $SCENARIO == cpu ]]; then
    log "starting nginx (worker_processes 1)"
    start_nginx nginx-1w 1
    ADDR[nginx-1w]=$NGINX_ADDR; AUTH[nginx-1w]=sk-bench; PID[nginx-1w]=$NGINX_PID
    log "starting nginx (worker_processes auto)"
    start_nginx nginx-auto auto
    ADDR[nginx-auto]=$NGINX_ADDR; AUTH[nginx-auto]=sk-bench; PID[nginx-auto]=$NGINX_PID

    log "starting gateway (AI_PROXY_PROXY_THREADS=1)"
    start_gateway gateway-1t 1
    ADDR[gateway-1t]=$GW_PROXY; AUTH[gateway-1t]=$GW_KEY; PID[gateway-1t]=$GW_PID; ADMIN[gateway-1t]=$GW_ADMIN
    log "starting gateway (AI_PROXY_PROXY_THREADS unset = default)"
    start_gateway gateway-default ""
    ADDR[gateway-default]=$GW_PROXY; AUTH[gateway-default]=$GW_KEY; PID[gateway-default]=$GW_PID; ADMIN[gateway-default]=$GW_ADMIN
    GATEWAYS=(gateway-1t gateway-default)
    TARGETS=(direct nginx-1w gateway-1t nginx-auto gateway-default)
fi

if [[ $SCENARIO != cpu ]]; then
    log "starting gateway (default threads, limits on, pool of $POOL_KEYS keys, in-process counters)"
    start_gateway gateway-limits "" limits
    ADDR[gateway-limits]=$GW_PROXY; AUTH[gateway-limits]=$GW_KEY; PID[gateway-limits]=$GW_PID; ADMIN[gateway-limits]=$GW_ADMIN
    GATEWAYS+=(gateway-limits)
    TARGETS+=(gateway-limits)
    if redis-cli -u "$REDIS_URL_BENCH" ping 2>/dev/null | grep -q PONG; then
        log "starting gateway (default threads, limits on, pool of $POOL_KEYS keys, Redis counters under $REDIS_PREFIX)"
        REDIS_USED=1
        start_gateway gateway-redis "" redis
        ADDR[gateway-redis]=$GW_PROXY; AUTH[gateway-redis]=$GW_KEY; PID[gateway-redis]=$GW_PID; ADMIN[gateway-redis]=$GW_ADMIN
        GATEWAYS+=(gateway-redis)
        TARGETS+=(gateway-redis)
    else
        [[ $SCENARIO == limits ]] && die "BENCH_SCENARIO=limits needs Redis at $REDIS_URL_BENCH"
        log "Redis at $REDIS_URL_BENCH does not answer: the limits-on-Redis gateway is left out"
    fi
fi
for t in "${TARGETS[@]}"; do REQS[$t]=0; done

# ---------------------------------------------------------------- smoke check
for t in "${TARGETS[@]}"; do
    for stream in false true; do
        code=$(curl -sS -o "$RAW/smoke-$t-$stream.body" -w '%{http_code}' --max-time 10 \
            -H "Authorization: Bearer ${AUTH[$t]}" -H 'content-type: application/json' \
            -d "{\"model\":\"gpt-4o-mini\",\"stream\":$stream,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}" \
            "http://${ADDR[$t]}/v1/chat/completions")
        [[ $code == 200 ]] || die "smoke request to $t (stream=$stream) returned $code"
        REQS[$t]=$((REQS[$t] + 1))
    done
done
log "smoke requests OK on all targets"

# ---------------------------------------------------------------- load runs
RUNS=$RAW/runs.tsv
printf 'target\tmode\tconc\trequests\tduration_us\tp50_us\tp90_us\tp99_us\tmean_us\tmax_us\terr_connect\terr_read\terr_write\terr_status\terr_timeout\tcpu_ticks\twarm_requests\tmock_ticks\twrk_ticks\tsys_ticks\tloadavg\n' >"$RUNS"

bench_field() {
    awk -v k="$2" '/^BENCH / { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) print kv[2] } }' "$1"
}

run_one() {
    local t=$1 mode=$2 conc=$3 threads=1 stream=0 tag warm_req req before after pids
    ((conc > 1)) && threads=2
    [[ $mode == stream ]] && stream=1
    tag=$t-$mode-c$conc
    local url=http://${ADDR[$t]}/v1/chat/completions
    local args=(-t"$threads" -c"$conc" --latency --timeout 5s -s "$LUA")
    BENCH_STREAM=$stream BENCH_AUTH=${AUTH[$t]} timeout $((WARMUP + 30)) \
        wrk "${args[@]}" -d"${WARMUP}s" "$url" >"$RAW/$tag.warmup.txt" 2>&1 || log "warm-up $tag: wrk rc=$?"
    warm_req=$(bench_field "$RAW/$tag.warmup.txt" requests)
    warm_req=${warm_req:-0}
    pids=$(target_pids "${PID[$t]}")
    before=$(cpu_ticks $pids)
    local m0 w0 s0 m1 w1 s1
    [[ $t == gateway* ]] && thread_ticks "${PID[$t]}" >"$TMP/threads.before"
    m0=$(cpu_ticks "$MOCK_PID"); w0=$(children_ticks); s0=$(sys_busy_ticks)
    local perf_pid=
    if [[ -n ${BENCH_PERF:-} && $t == "$BENCH_PERF" ]]; then
        # sampled profile of this target during the measured run (perf's interrupts land in
        # its CPU time: profile and measure in separate runs)
        perf record -F 499 -g -p "${PID[$t]}" -o "$RAW/$tag.perf.data" -- sleep "$DURATION" \
            >/dev/null 2>&1 &
        perf_pid=$!
    fi
    BENCH_STREAM=$stream BENCH_AUTH=${AUTH[$t]} timeout $((DURATION + 30)) \
        wrk "${args[@]}" -d"${DURATION}s" "$url" >"$RAW/$tag.txt" 2>&1 || log "$tag: wrk rc=$?"
    [[ -n $perf_pid ]] && { wait "$perf_pid" || true; }
    after=$(cpu_ticks $pids)
    m1=$(cpu_ticks "$MOCK_PID"); w1=$(children_ticks); s1=$(sys_busy_ticks)
    if [[ $t == gateway* ]]; then
        # CPU per thread name during the measured run, busiest first
        thread_ticks "${PID[$t]}" | awk -F'\t' 'NR == FNR { b[$1] = $2; next } { print $1 "\t" ($2 - b[$1]) }' \
            "$TMP/threads.before" - | sort -t$'\t' -k2,2nr >"$RAW/$tag.threads.tsv"
    fi
    grep -q '^BENCH ' "$RAW/$tag.txt" || die "$tag: no wrk summary (see $RAW/$tag.txt)"
    req=$(bench_field "$RAW/$tag.txt" requests)
    REQS[$t]=$((REQS[$t] + req + warm_req))
    local f row="$t	$mode	$conc"
    for f in requests duration_us p50_us p90_us p99_us mean_us max_us err_connect err_read err_write err_status err_timeout; do
        row+="	$(bench_field "$RAW/$tag.txt" "$f")"
    done
    row+="	$((after - before))	$warm_req	$((m1 - m0))	$((w1 - w0))	$((s1 - s0))	$(cut -d' ' -f1 /proc/loadavg)"
    printf '%s\n' "$row" >>"$RUNS"
    log "$tag: $req requests, p50 $(bench_field "$RAW/$tag.txt" p50_us) us, p99 $(bench_field "$RAW/$tag.txt" p99_us) us, cpu $((after - before)) ticks"
}

# ---------------------------------------------------------------- limits: in-process vs Redis
# Both arms in one run, interleaved (the order swaps every round), so a noisy neighbour
# weighs on both alike; the summary takes each arm's median over the rounds.
if [[ $SCENARIO == limits ]]; then
    for round in $(seq "$REPEAT"); do
        for conc in 16 64; do
            order=(gateway-limits gateway-redis)
            ((round % 2 == 0)) && order=(gateway-redis gateway-limits)
            for t in "${order[@]}"; do run_one "$t" json "$conc"; done
        done
    done
    {
        printf 'command\t%s\n' "$COMMAND"
        printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
        printf 'repo_head\t%s\n' "$(git -C "$BENCH_DIR/.." rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$BENCH_DIR/.." diff --quiet HEAD 2>/dev/null || echo ' (dirty tree)')"
        printf 'background_pct_start\t%s\n' "$BG_START"
        printf 'clk_tck\t%s\n' "$(getconf CLK_TCK)"
        printf 'elapsed_s\t%s\n' "$(($(date +%s) - START_EPOCH))"
    } >"$RAW/meta.tsv"
    for t in "${GATEWAYS[@]}"; do
        printf 'stderr_lines.%s\t%s\n' "$t" "$(wc -l <"$RAW/$t.stderr")" >>"$RAW/meta.tsv"
    done
    python3 "$BENCH_DIR/lib/limits_report.py" "$RAW" "$OUT/limits.md"
    exit 0
fi

# Peak and current resident memory of nginx and the gateways, as meta.tsv rows.
memory_rows() {
    local t p h r hwm rss sum
    for t in nginx-1w nginx-auto "${GATEWAYS[@]}"; do
        hwm=0 rss=0 sum=0
        for p in $(target_pids "${PID[$t]}"); do
            h=$(status_kib "$p" VmHWM); r=$(status_kib "$p" VmRSS)
            ((h > hwm)) && hwm=$h
            ((r > rss)) && rss=$r
            sum=$((sum + h))
        done
        printf 'hwm_kib.%s\t%s\nrss_kib.%s\t%s\nhwm_sum_kib.%s\t%s\nprocs.%s\t%s\n' \
            "$t" "$hwm" "$t" "$rss" "$t" "$sum" "$t" "$(target_pids "${PID[$t]}" | wc -l)"
    done
}

# ---------------------------------------------------------------- CPU per request only
# Every target once per round and cell, the order rotating each round, so a busy neighbour
# weighs on all alike; the report takes each target's median over the rounds.
if [[ $SCENARIO == cpu ]]; then
    for round in $(seq "$REPEAT"); do
        order=("${TARGETS[@]:round % ${#TARGETS[@]}}" "${TARGETS[@]:0:round % ${#TARGETS[@]}}")
        for mode in json stream; do
            for conc in $CPU_CONC; do
                for t in "${order[@]}"; do run_one "$t" "$mode" "$conc"; done
            done
        done
    done
    {
        printf 'command\t%s\n' "$COMMAND"
        printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
        printf 'repo_head\t%s\n' "$(git -C "$BENCH_DIR/.." rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$BENCH_DIR/.." diff --quiet HEAD 2>/dev/null || echo ' (dirty tree)')"
        printf 'gateway_version\t%s\n' "$("$TMP/ai-proxy" --version 2>&1 | head -1), built $GATEWAY_BUILT"
        printf 'background_pct_start\t%s\n' "$BG_START"
        printf 'loadavg_end\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
        printf 'clk_tck\t%s\n' "$(getconf CLK_TCK)"
        printf 'elapsed_s\t%s\n' "$(($(date +%s) - START_EPOCH))"
        memory_rows
    } >"$RAW/meta.tsv"
    python3 "$BENCH_DIR/lib/cpu_report.py" "$RAW" "$OUT/cpu.md"
    exit 0
fi

for mode in json stream; do
    for conc in 1 64; do
        for t in "${TARGETS[@]}"; do run_one "$t" "$mode" "$conc"; done
    done
done

# ---------------------------------------------------------------- chunks forwarded as they arrive
for t in direct nginx-1w gateway-1t gateway-default; do
    timeout 60 python3 "$BENCH_DIR/lib/sse_timing.py" "${ADDR[$t]}" "${AUTH[$t]}" "$STREAM_DELAY_MS" \
        >"$RAW/sse-$t.json" || log "sse timing via $t failed"
    REQS[$t]=$((REQS[$t] + 1))
    log "sse via $t: $(cat "$RAW/sse-$t.json")"
done

# ---------------------------------------------------------------- memory
META=$RAW/meta.tsv
memory_rows >"$META"
cat "$TMP/gw-mem.tsv" >>"$META"

# ---------------------------------------------------------------- traces written?
sleep 2
for t in "${GATEWAYS[@]}"; do
    expected=${REQS[$t]} total=0
    # The trace writer's own count: the log's page totals stop counting at
    # 10,000 (a lower bound past that), a benchmark writes far more.
    for _ in $(seq 30); do
        total=$(curl -fsS -u "admin:$ADMIN_PW" "${ADMIN[$t]}/metrics" |
            awk '$1 == "ai_proxy_traces_written_total" {print $2}' || true)
        total=${total:-0}
        ((total >= expected)) && break
        sleep 1
    done
    printf 'traces_total.%s\t%s\ntraces_expected.%s\t%s\n' "$t" "$total" "$t" "$expected" >>"$META"
    log "$t traces: $total recorded, $expected requests sent (wrk-reported + smoke + sse)"
    # traces whose status is 200: all minus the 4xx and 5xx ones (few, so counted exactly)
    bad=0
    for class in 4xx 5xx; do
        n=$(curl -fsS -u "admin:$ADMIN_PW" "${ADMIN[$t]}/api/logs/traces?page_size=1&status_class=$class" |
            python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])' || echo 0)
        bad=$((bad + n))
    done
    printf 'traces_200.%s\t%s\n' "$t" "$((total - bad))" >>"$META"
done

# ---------------------------------------------------------------- gateway logs
for t in "${GATEWAYS[@]}"; do
    printf 'stderr_lines.%s\t%s\n' "$t" "$(wc -l <"$RAW/$t.stderr")" >>"$META"
done

# ---------------------------------------------------------------- machine facts
{
    printf 'command\t%s\n' "$COMMAND"
    printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    printf 'nproc\t%s\n' "$(nproc)"
    printf 'cpu\t%s\n' "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
    printf 'kernel\t%s\n' "$(uname -sr)"
    printf 'mem\t%s\n' "$(awk '/^MemTotal/ { printf "%.1f GiB", $2/1048576 }' /proc/meminfo)"
    printf 'wrk\t%s\n' "$(wrk -v 2>&1 | head -1 | awk '{ print $1, $2 }')"
    printf 'nginx\t%s\n' "$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')"
    printf 'background_pct_start\t%s\n' "$BG_START"
    printf 'gateway_bin\t%s\n' "$GATEWAY_BIN"
    printf 'gateway_version\t%s\n' "$("$TMP/ai-proxy" --version 2>&1 | head -1), built $GATEWAY_BUILT"
    printf 'repo_head\t%s\n' "$(git -C "$BENCH_DIR/.." rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$BENCH_DIR/.." diff --quiet HEAD 2>/dev/null || echo ' (dirty tree)')"
    printf 'mock_bin\t%s\n' "$MOCK_BIN"
    printf 'clk_tck\t%s\n' "$(getconf CLK_TCK)"
    printf 'duration_s\t%s\n' "$DURATION"
    printf 'warmup_s\t%s\n' "$WARMUP"
    printf 'stream_delay_ms\t%s\n' "$STREAM_DELAY_MS"
    printf 'pool_keys\t%s\n' "$POOL_KEYS"
    printf 'redis\t%s\n' "$( ((REDIS_USED)) && echo "${REDIS_URL_BENCH##*@} $(redis-cli -u "$REDIS_URL_BENCH" info server 2>/dev/null | awk -F: '/^redis_version/ { print "(Redis " $2 ")" }' | tr -d '\r')" || echo "not reachable: left out")"
    printf 'elapsed_s\t%s\n' "$(($(date +%s) - START_EPOCH))"
} >>"$META"

python3 "$BENCH_DIR/lib/report.py" "$RAW" "$OUT/latest.md"

# ---------------------------------------------------------------- open streams
# Thousands of paced streams at once, gateway next to nginx (bench/concurrency.sh, about 6
# minutes; BENCH_CONCURRENCY=0 leaves it out).
if [[ ${BENCH_CONCURRENCY:-1} != 0 ]]; then
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    AI_PROXY_BIN=$GATEWAY_BIN MOCK_BIN=$MOCK_BIN "$BENCH_DIR/concurrency.sh"
fi
