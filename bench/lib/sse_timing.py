#!/usr/bin/env python3
"""Send one streaming chat completion and time each SSE event as it reaches the client.

usage: sse_timing.py HOST:PORT BEARER DELAY_MS
Prints one JSON object: the event arrival offsets (ms since the request was sent),
the gaps between consecutive events, and the time to the response headers.
"""
import http.client
import json
import sys
import time


def main() -> int:
    hostport, bearer, delay_ms = sys.argv[1], sys.argv[2], sys.argv[3]
    host, port = hostport.rsplit(":", 1)
    body = json.dumps({"model": "gpt-4o-mini", "stream": True,
                       "messages": [{"role": "user", "content": "hi"}]})
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    t0 = time.monotonic()
    conn.request("POST", "/v1/chat/completions", body=body, headers={
        "Content-Type": "application/json",
        "Authorization": f"Bearer {bearer}",
        "x-mock-delay-ms": str(delay_ms),
    })
    resp = conn.getresponse()
    t_headers = time.monotonic()
    arrivals = []
    # readline() on a chunked response returns as soon as a full line is available,
    # so each `data:` line is timestamped when its bytes arrive, not when the body ends.
    while True:
        line = resp.readline()
        if not line:
            break
        if line.startswith(b"data:"):
            arrivals.append(time.monotonic())
    conn.close()
    offsets = [round((t - t0) * 1000, 2) for t in arrivals]
    gaps = [round((b - a) * 1000, 2) for a, b in zip(arrivals, arrivals[1:])]
    print(json.dumps({
        "status": resp.status,
        "headers_ms": round((t_headers - t0) * 1000, 2),
        "events": len(arrivals),
        "offsets_ms": offsets,
        "gaps_ms": gaps,
    }))
    return 0 if resp.status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
