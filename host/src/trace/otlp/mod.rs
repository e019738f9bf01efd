//! OpenTelemetry export of request traces over OTLP/HTTP (protobuf), when
//! `AI_PROXY_OTLP_ENDPOINT` is set: one SERVER span per proxied request and
//! one CLIENT span per upstream attempt, by the GenAI semantic conventions,
//! continuing the client's W3C `traceparent`. The export is batched on a
//! task of its own and drops (counted in `/metrics`) rather than slowing a
//! request. Each plugin call is an INTERNAL span under the attempt it
//! served (at most `MAX_PLUGIN_CALL_SPANS` a request, the rest counted),
//! logged only while an exporter is configured.

mod endpoint;
mod exporter;
mod plugin_spans;
mod protobuf;
mod spans;
mod traceparent;

pub use endpoint::{Endpoint, EndpointError};
pub use exporter::{
    DEFAULT_EXPORT_INTERVAL, DEFAULT_EXPORT_QUEUE, EXPORT_BATCH, EXPORT_TIMEOUT, ExportError,
    ExportStats, OtlpExporter, SpanQueue,
};
pub use spans::{ServiceInfo, export_request, operation_name, provider_name};
pub use traceparent::TraceParent;
