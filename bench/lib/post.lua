-- wrk script: POST one chat completion per request and print a machine-readable summary.
-- Environment: BENCH_STREAM=1 for an SSE request, BENCH_AUTH=<bearer token>,
-- BENCH_DELAY_MS=<ms> to have the mock pace a stream's events, BENCH_USAGE=1 to ask
-- for the usage chunk at the end of a stream (as the gateway asks on every client's
-- behalf), so that a baseline straight to the upstream streams the same events.
local stream = os.getenv("BENCH_STREAM") == "1"
local auth = os.getenv("BENCH_AUTH") or "sk-bench"
local delay = os.getenv("BENCH_DELAY_MS")
local usage = os.getenv("BENCH_USAGE") == "1"

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. auth
if delay and delay ~= "" then
  wrk.headers["x-mock-delay-ms"] = delay
end
if stream and usage then
  wrk.body = '{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}'
elseif stream then
  wrk.body = '{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}'
else
  wrk.body = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}'
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d bytes=%d p50_us=%.0f p90_us=%.0f p99_us=%.0f mean_us=%.1f max_us=%.0f " ..
    "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
