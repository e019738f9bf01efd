"""A real OTLP/HTTP trace receiver for the gateway's export test.

Listens on 127.0.0.1 (port 0), prints "PORT <n>" once ready, and for every
POST to /v1/traces decodes the body as an ExportTraceServiceRequest with
the published OpenTelemetry protobuf definitions (the opentelemetry-proto
package). Each export is kept in OUT_DIR as N.bin (the raw body) and N.json
(its spans, one object each, with ids in hex and attributes as a map).
A request the decoder refuses, or on another path or content type, is
answered 400 and recorded as N.error, so the test sees it.

    python otlp_receiver.py OUT_DIR
"""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

OUT = sys.argv[1]
COUNT = 0


def value_of(any_value):
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


def attributes(key_values):
    return {kv.key: value_of(kv.value) for kv in key_values}


def spans_of(request):
    out = []
    for resource_spans in request.resource_spans:
        resource = attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                out.append(
                    {
                        "resource": resource,
                        "scope": scope_spans.scope.name,
                        "trace_id": span.trace_id.hex(),
                        "span_id": span.span_id.hex(),
                        "parent_span_id": span.parent_span_id.hex(),
                        "flags": span.flags,
                        "name": span.name,
                        "kind": span.kind,
                        "start": span.start_time_unix_nano,
                        "end": span.end_time_unix_nano,
                        "attributes": attributes(span.attributes),
                        "status_code": span.status.code,
                        "status_message": span.status.message,
                    }
                )
    return out


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        global COUNT
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        COUNT += 1
        base = os.path.join(OUT, str(COUNT))
        problem = None
        if self.path != "/v1/traces":
            problem = f"path {self.path}"
        elif self.headers.get("content-type") != "application/x-protobuf":
            problem = f"content type {self.headers.get('content-type')}"
        else:
            try:
                request = trace_service_pb2.ExportTraceServiceRequest()
                request.ParseFromString(body)
                spans = spans_of(request)
            except Exception as e:  # the decoder's refusal is the finding
                problem = f"decode: {e}"
        with open(base + ".bin", "wb") as f:
            f.write(body)
        if problem:
            with open(base + ".error", "w") as f:
                f.write(problem)
            self.send_response(400)
            self.send_header("content-length", "0")
            self.end_headers()
            return
        with open(base + ".json.tmp", "w") as f:
            json.dump(spans, f)
        os.rename(base + ".json.tmp", base + ".json")
        answer = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), Handler)
print(f"PORT {server.server_address[1]}", flush=True)
server.serve_forever()
