#!/usr/bin/env bash
# Trace storage figures for bench/RESULTS.md: bytes per `proxy_tracing` row and the
# console's request-log queries (GET /api/logs/traces: a page of 50 plus the total) at
# 1 and 10 million rows, on SQLite and PostgreSQL, seeded in bulk by SQL.
#
#   bench/trace_storage.sh [ROWS ...]        (default: 1000000 10000000)
#
# Environment: AI_PROXY_BIN (default target/debug/ai-proxy), BENCH_BACKENDS ("sqlite
# postgres"), PG_URL (postgres://postgres@127.0.0.1:5432), BENCH_STEP_TIMEOUT (seconds one
# seeding may take, default 1500: a size that does not fit is reported as skipped).
# BENCH_KEEP=1 keeps the seeded databases and the work directory (printed at the end) for a
# look at query plans by hand; the PostgreSQL database is still dropped.
# BEFORE_BIN: an older gateway to compare with. The rows are then seeded into its schema and
# timed with it first; AI_PROXY_BIN then starts on the same database (its migrations run:
# the "start" column is that time, e.g. building a new index over the seeded rows) and is
# timed too, and every answer's trace ids are compared with the older one's (the "same
# rows" column; totals past the newer gateway's count cap must be its lower bound).
# The schema is the gateway's own (its migrations run at a first start). Rows look like
# real traffic: 50 client keys, 20 upstream keys, 4 providers, 8 models, 2% errors,
# spread over the last 30 days. Each query is timed through the admin API with curl
# (best of 3; once above 5 s), so the figure is what the console waits for.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="${AI_PROXY_BIN:-target/debug/ai-proxy}"
BEFORE_BIN="${BEFORE_BIN:-}"
BACKENDS="${BENCH_BACKENDS:-sqlite postgres}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
STEP_TIMEOUT="${BENCH_STEP_TIMEOUT:-1500}"
SIZES=("$@")
[[ ${#SIZES[@]} -gt 0 ]] || SIZES=(1000000 10000000)
PASSWORD="bench-storage-password"
WORK="$(mktemp -d /tmp/aip-trace-bench.XXXXXX)"
OUT="${BENCH_OUT:-bench/out/trace_storage.md}"
mkdir -p bench/out
GW_PID=""
cleanup() {
    [[ -n "$GW_PID" ]] && kill "$GW_PID" 2>/dev/null || true
    [[ -n "${BENCH_KEEP:-}" ]] && echo "kept $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Starts gateway binary $3 (default $BIN) on $1 (a database URL) with data dir $2; sets
# GW_PID and ADMIN. Waits as long as its migrations take (bounded by the step timeout).
start_gateway() {
    local port admin bin="${3:-$BIN}"
    port="$(free_port)"; admin="$(free_port)"
    AI_PROXY_DATA_DIR="$2" DATABASE_URL="$1" AI_PROXY_ADMIN_PASSWORD="$PASSWORD" \
        AI_PROXY_PROXY_ADDR="127.0.0.1:$port" AI_PROXY_ADMIN_ADDR="127.0.0.1:$admin" \
        AI_PROXY_HEALTH_INTERVAL_SECS=0 AI_PROXY_TRACE_RETENTION_DAYS=0 RUST_LOG=warn \
        "$bin" >>"$WORK/gateway.log" 2>&1 &
    GW_PID=$!
    ADMIN="http://127.0.0.1:$admin"
    for _ in $(seq 1 $((STEP_TIMEOUT * 5))); do
        curl -fs "$ADMIN/api/health" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    echo "gateway did not start:" >&2; cat "$WORK/gateway.log" >&2; exit 1
}
stop_gateway() { kill "$GW_PID" 2>/dev/null || true; wait "$GW_PID" 2>/dev/null || true; GW_PID=""; }

# SELECT list producing row $i of $n (the same on both databases but for the
# time arithmetic and the random id, passed as $3 and $4).
select_list() {
    local n=$1 time_expr=$2 id_expr=$3
    cat <<SQL
$id_expr, 1 + i % 50, 'client-' || (i % 50), 1 + i % 4,
 (CASE i % 4 WHEN 0 THEN 'openai' WHEN 1 THEN 'anthropic' WHEN 2 THEN 'gemini' ELSE 'azure' END),
 1 + i % 20, 'upstream-' || (i % 20), 'openai', '1.0.0',
 (CASE i % 8 WHEN 0 THEN 'gpt-4o-mini' WHEN 1 THEN 'gpt-4o' WHEN 2 THEN 'claude-sonnet-4' WHEN 3 THEN 'claude-haiku-4'
   WHEN 4 THEN 'gemini-2.5-flash' WHEN 5 THEN 'gemini-2.5-pro' WHEN 6 THEN 'o4-mini' ELSE 'text-embedding-3-small' END),
 'POST', '/v1/chat/completions',
 (CASE WHEN i % 50 = 0 THEN 500 WHEN i % 97 = 0 THEN 429 ELSE 200 END), (i % 2 = 0), 1,
 '[{"upstream_key_id":' || (1 + i % 20) || ',"upstream_key_name":"upstream-' || (i % 20) || '","status":200,"error_class":null,"error":null,"duration_ms":' || (200 + i % 900) || '}]',
 100 + i % 400, 20 + i % 300, 0, 0, 0, 120 + i % 400 + i % 300, 1000 + i % 90000,
 (CASE WHEN i % 50 = 0 THEN 'server_error' ELSE NULL END),
 (CASE WHEN i % 50 = 0 THEN 'upstream answered 500' ELSE NULL END),
 150 + i % 500, 200 + i % 900, $time_expr
SQL
}
COLUMNS="request_id, client_key_id, client_key_name, provider_id, provider_name, provider_key_id,
 provider_key_name, plugin_name, plugin_version, model, method, path, status_code, is_stream, attempts,
 attempt_log, input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, reasoning_tokens,
 total_tokens, cost_nanos, error_class, error_message, first_byte_ms, duration_ms, created_at"

seed_sqlite() {
    local db=$1 n=$2
    # 30 days spread over n rows, oldest first; the text form the gateway writes.
    local t="strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', '-' || ((${n} - i) * 2592000.0 / ${n}) || ' seconds')"
    # As on PostgreSQL, the secondary indexes and the search index's triggers
    # are dropped during the load and made again after it (the same
    # definitions, read back from sqlite_master); the search table is then
    # filled the way migration 000025 fills it from existing rows.
    local saved
    saved=$(sqlite3 "$db" "SELECT sql || ';' FROM sqlite_master WHERE tbl_name = 'proxy_tracing'
        AND type IN ('index', 'trigger') AND sql IS NOT NULL")
    local drops
    drops=$(sqlite3 "$db" "SELECT 'DROP ' || upper(type) || ' ' || name || ';' FROM sqlite_master
        WHERE tbl_name = 'proxy_tracing' AND type IN ('index', 'trigger') AND sql IS NOT NULL")
    local doc="coalesce(model, '') || ' ' || coalesce(path, '') || ' ' || coalesce(client_key_name, '')
        || ' ' || coalesce(provider_key_name, '') || ' ' || coalesce(error_message, '')"
    local fill=""
    if sqlite3 "$db" "SELECT 1 FROM sqlite_master WHERE name = 'proxy_tracing_search'" | grep -q 1; then
        fill="INSERT INTO proxy_tracing_search(rowid, doc) SELECT id, $doc FROM proxy_tracing;"
    fi
    timeout "$STEP_TIMEOUT" sqlite3 "$db" <<SQL
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -262144;
$drops
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $n)
INSERT INTO proxy_tracing ($COLUMNS)
SELECT $(select_list "$n" "$t" "'req_' || lower(hex(randomblob(12)))") FROM s;
$saved
$fill
ANALYZE;
SQL
}

seed_postgres() {
    local url=$1 n=$2
    local t="now() - interval '1 second' * (2592000.0 * (${n} - i) / ${n})"
    # The secondary indexes are dropped during the load and built again after it
    # (a sorted build instead of ten million random inserts); the same definitions.
    timeout "$STEP_TIMEOUT" psql -q -v ON_ERROR_STOP=1 "$url" <<SQL
SET synchronous_commit = off;
SET maintenance_work_mem = '512MB';
CREATE TEMP TABLE saved AS SELECT indexname, indexdef FROM pg_indexes
 WHERE tablename = 'proxy_tracing'
   AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = 'proxy_tracing'::regclass);
DO \$\$ DECLARE r record; BEGIN
  FOR r IN SELECT indexname FROM saved LOOP EXECUTE 'DROP INDEX ' || quote_ident(r.indexname); END LOOP;
END \$\$;
INSERT INTO proxy_tracing ($COLUMNS)
SELECT $(select_list "$n" "$t" "'req_' || substr(md5(i::text || random()::text), 1, 24)") FROM generate_series(1, $n) AS i;
DO \$\$ DECLARE r record; BEGIN
  FOR r IN SELECT indexdef FROM saved LOOP EXECUTE r.indexdef; END LOOP;
END \$\$;
VACUUM ANALYZE proxy_tracing;
SQL
}

bytes_sqlite() {
    local db=$1 n=$2
    sqlite3 "$db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
    local table all
    table=$(sqlite3 "$db" "SELECT SUM(pgsize) FROM dbstat WHERE name = 'proxy_tracing';" 2>/dev/null || echo "")
    # With the search index's FTS5 shadow tables (proxy_tracing_search_*).
    all=$(sqlite3 "$db" "SELECT SUM(pgsize) FROM dbstat WHERE name = 'proxy_tracing' OR name LIKE 'proxy_tracing_search%' OR name IN (SELECT name FROM sqlite_master WHERE tbl_name = 'proxy_tracing');" 2>/dev/null || echo "")
    if [[ -z "$table" ]]; then
        all=$(stat -c %s "$db"); table="n/a"
        echo "$table $((all / n))"
    else
        echo "$((table / n)) $((all / n))"
    fi
}

bytes_postgres() {
    local url=$1 n=$2
    psql -At "$url" -c "SELECT pg_table_size('proxy_tracing') / $n, pg_total_relation_size('proxy_tracing') / $n;" | tr '|' ' '
}

# Best of three wall times (ms) of one admin API call; the answer is kept in $2 (a file).
time_query() {
    local best="" t
    for _ in 1 2 3; do
        t=$(curl -s -o "$2" -w '%{time_total}' -u "admin:$PASSWORD" "$ADMIN$1")
        python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert "items" in d, d' "$2"
        t=$(python3 -c "print(round($t * 1000, 1))")
        if [[ -z "$best" ]] || python3 -c "import sys; sys.exit(0 if $t < $best else 1)"; then best=$t; fi
        # A query over 5 s is timed once: the figure is what it is, and time is bounded.
        python3 -c "import sys; sys.exit(0 if $best > 5000 else 1)" && break
    done
    echo "$best"
}

# "yes" when answer $2 has the rows of answer $1 and a total it may have: the same, or
# (past a count cap) a lower bound below it.
same_rows() {
    python3 - "$1" "$2" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
ids = lambda d: [t["id"] for t in d["items"]]
ok = ids(a) == ids(b)
if b.get("total_is_lower_bound"):
    # Below the older one's exact total, or the same cap when it has one too.
    ok = ok and (b["total"] < a["total"] or (a.get("total_is_lower_bound") and b["total"] == a["total"]))
else:
    ok = ok and b["total"] == a["total"]
print("yes" if ok else "NO")
PY
}

QUERIES=(
    "newest page|/api/logs/traces?page=1&page_size=50"
    "page 100|/api/logs/traces?page=100&page_size=50"
    "page 1000|/api/logs/traces?page=1000&page_size=50"
    "before id|/api/logs/traces?before_id=MID_ID&page_size=50"
    "model|/api/logs/traces?model=claude-haiku-4"
    "model absent|/api/logs/traces?model=gpt-3.5"
    "status 500|/api/logs/traces?status_code=500"
    "5xx|/api/logs/traces?status_class=5xx"
    "provider|/api/logs/traces?provider=gemini"
    "upstream key|/api/logs/traces?upstream_key=upstream-7"
    "client key|/api/logs/traces?client_key_id=17"
    "last hour|/api/logs/traces?from=HOUR_AGO"
    "model + status|/api/logs/traces?model=gpt-4o&status_code=429"
    "search q|/api/logs/traces?q=upstream-7"
    "search + client key|/api/logs/traces?q=upstream-7&client_key_id=17"
    "search request id|/api/logs/traces?q=RARE_REQUEST"
    "search absent|/api/logs/traces?q=no-such-text"
    "search 2 chars|/api/logs/traces?q=4o"
)

# Times every query against the running gateway; answers go to $WORK/answers-$1-<n>.json.
time_all() {
    local tag=$1 row="" i=0 path
    for q in "${QUERIES[@]}"; do
        path="${q#*|}"
        path="${path/HOUR_AGO/$HOUR_AGO}"; path="${path/MID_ID/$MID_ID}"; path="${path/RARE_REQUEST/$RARE_REQUEST}"
        row="$row $(time_query "$path" "$WORK/answers-$tag-$i.json") |"
        i=$((i + 1))
    done
    echo "$row"
}

sizes_of() {
    if [[ $1 == sqlite ]]; then bytes_sqlite "$2/ai-proxy.db" "$3"; else bytes_postgres "$4" "$3"; fi
}

run_one() {
    local backend=$1 n=$2 url dir
    dir="$WORK/$backend-$n"; mkdir -p "$dir"
    if [[ $backend == sqlite ]]; then
        url="sqlite://$dir/ai-proxy.db?mode=rwc"
    else
        local name="aip_bench_$$_$n"
        psql -q "$PG_URL/postgres" -c "CREATE DATABASE $name" >/dev/null
        url="$PG_URL/$name"
    fi
    local first="${BEFORE_BIN:-$BIN}"
    start_gateway "$url" "$dir" "$first"; stop_gateway
    local started=$SECONDS
    if [[ $backend == sqlite ]]; then
        seed_sqlite "$dir/ai-proxy.db" "$n" || { echo "| $backend | $n | | seeding failed or took over ${STEP_TIMEOUT} s: skipped |" >>"$OUT"; return; }
    else
        seed_postgres "$url" "$n" || { echo "| $backend | $n | | seeding failed or took over ${STEP_TIMEOUT} s: skipped |" >>"$OUT"; psql -q "$PG_URL/postgres" -c "DROP DATABASE IF EXISTS aip_bench_$$_$n" || true; return; }
    fi
    local seeded=$((SECONDS - started)) sizes row
    sizes=$(sizes_of "$backend" "$dir" "$n" "$url")
    HOUR_AGO=$(date -u -d '1 hour ago' +%Y-%m-%dT%H:%M:%SZ)
    if [[ $backend == sqlite ]]; then
        MID_ID=$(sqlite3 "$dir/ai-proxy.db" "SELECT MAX(id) / 2 FROM proxy_tracing")
        RARE_REQUEST=$(sqlite3 "$dir/ai-proxy.db" "SELECT request_id FROM proxy_tracing WHERE id = $MID_ID")
    else
        MID_ID=$(psql -At "$url" -c "SELECT MAX(id) / 2 FROM proxy_tracing")
        RARE_REQUEST=$(psql -At "$url" -c "SELECT request_id FROM proxy_tracing WHERE id = $MID_ID")
    fi
    start_gateway "$url" "$dir" "$first"
    row="| $backend | $n | $(basename "$first") | seeded in ${seeded} s | ${sizes% *} | ${sizes#* } |$(time_all first) |"
    stop_gateway
    echo "$row" >>"$OUT"; echo "$row"
    if [[ -n "$BEFORE_BIN" ]]; then
        started=$SECONDS
        start_gateway "$url" "$dir" "$BIN"
        local migrated=$((SECONDS - started)) times same="" i
        times=$(time_all second)
        stop_gateway
        for ((i = 0; i < ${#QUERIES[@]}; i++)); do
            same="$same$(same_rows "$WORK/answers-first-$i.json" "$WORK/answers-second-$i.json") "
        done
        sizes=$(sizes_of "$backend" "$dir" "$n" "$url")
        row="| $backend | $n | $(basename "$BIN") | started in ${migrated} s | ${sizes% *} | ${sizes#* } |$times"
        echo "$row same rows: $same|" >>"$OUT"; echo "$row same rows: $same|"
    fi
    if [[ $backend == postgres ]]; then psql -q "$PG_URL/postgres" -c "DROP DATABASE aip_bench_$$_$n" >/dev/null; fi
    [[ -n "${BENCH_KEEP:-}" ]] || rm -rf "$dir"
}

{
    echo "Trace storage, $(date -u '+%Y-%m-%d %H:%M UTC'), binary $BIN${BEFORE_BIN:+ after $BEFORE_BIN}"
    echo
    header="| Backend | Rows | Binary | Seeding / start | Bytes/row (table) | Bytes/row (with indexes) |"
    sep="|---|---:|---|---:|---:|---:|"
    for q in "${QUERIES[@]}"; do header="$header ${q%%|*} ms |"; sep="$sep---:|"; done
    echo "$header"; echo "$sep"
} >"$OUT"
for n in "${SIZES[@]}"; do
    for backend in $BACKENDS; do
        run_one "$backend" "$n"
    done
done
cat "$OUT"
