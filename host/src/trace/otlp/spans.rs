//! Trace records as OTLP spans (`ExportTraceServiceRequest`, the message a
//! collector's `/v1/traces` takes as `application/x-protobuf`).
//!
//! Each proxied request is one SERVER span, named and attributed by the
//! OpenTelemetry GenAI semantic conventions (`{operation} {model}`,
//! `gen_ai.*`), with one CLIENT child span per upstream attempt and one
//! INTERNAL span per plugin call (`plugin_spans`). The gateway's own facts
//! are under `ai_proxy.*`. Only ids, names of models, providers and
//! plugins, the path (never the query, where keys may travel), counts and
//! classes are exported: no key, no prompt, no answer and no error message
//! (an upstream's error text may quote the prompt).

use chrono::{DateTime, Utc};

use super::plugin_spans;
use super::protobuf::Message;
use crate::plugins::PluginCallLog;
use crate::trace::{Attempt, TraceRecord};

// Field numbers, from opentelemetry/proto/{collector/trace,trace,common,resource}/v1.
const REQUEST_RESOURCE_SPANS: u32 = 1;
const RESOURCE_SPANS_RESOURCE: u32 = 1;
const RESOURCE_SPANS_SCOPE_SPANS: u32 = 2;
const RESOURCE_ATTRIBUTES: u32 = 1;
const SCOPE_SPANS_SCOPE: u32 = 1;
const SCOPE_SPANS_SPANS: u32 = 2;
const SCOPE_NAME: u32 = 1;
const SCOPE_VERSION: u32 = 2;
const SPAN_TRACE_ID: u32 = 1;
const SPAN_SPAN_ID: u32 = 2;
pub(super) const SPAN_PARENT_SPAN_ID: u32 = 4;
const SPAN_NAME: u32 = 5;
const SPAN_KIND: u32 = 6;
pub(super) const SPAN_START: u32 = 7;
pub(super) const SPAN_END: u32 = 8;
pub(super) const SPAN_ATTRIBUTES: u32 = 9;
const SPAN_STATUS: u32 = 15;
const SPAN_FLAGS: u32 = 16;
const STATUS_MESSAGE: u32 = 2;
const STATUS_CODE: u32 = 3;
const KEY_VALUE_KEY: u32 = 1;
const KEY_VALUE_VALUE: u32 = 2;
const ANY_STRING: u32 = 1;
const ANY_BOOL: u32 = 2;
const ANY_INT: u32 = 3;
const ANY_DOUBLE: u32 = 4;

const KIND_SERVER: u64 = 2;
const KIND_CLIENT: u64 = 3;
pub(super) const KIND_INTERNAL: u64 = 1;
const STATUS_ERROR: u64 = 2;
/// `Span.flags` bits saying whether the parent is known to be remote.
const FLAG_HAS_IS_REMOTE: u32 = 0x100;
const FLAG_IS_REMOTE: u32 = 0x200;

/// What names the exporting service.
#[derive(Debug, Clone)]
pub struct ServiceInfo {
    pub name: String,
    pub version: String,
}

/// A request's trace record with the ids its spans get.
pub struct RequestSpans {
    pub record: TraceRecord,
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
}

impl RequestSpans {
    /// Continues the client's trace (`record.parent`) when it sent one,
    /// else starts one.
    pub fn new(record: TraceRecord) -> RequestSpans {
        RequestSpans {
            trace_id: record.parent.map_or_else(random_trace_id, |p| p.trace_id),
            span_id: random_span_id(),
            record,
        }
    }
}

fn random_trace_id() -> [u8; 16] {
    loop {
        let id: [u8; 16] = rand::random();
        if id != [0; 16] {
            return id;
        }
    }
}

pub(super) fn random_span_id() -> [u8; 8] {
    loop {
        let id: [u8; 8] = rand::random();
        if id != [0; 8] {
            return id;
        }
    }
}

/// One export request holding every span of `batch`.
pub fn export_request(service: &ServiceInfo, batch: &[RequestSpans]) -> Vec<u8> {
    let mut resource = Message::new();
    for (key, value) in [
        ("service.name", service.name.as_str()),
        ("service.version", service.version.as_str()),
        ("telemetry.sdk.name", "ai-proxy"),
        ("telemetry.sdk.language", "rust"),
    ] {
        resource.message(RESOURCE_ATTRIBUTES, attr(key, Value::Str(value)));
    }
    let mut scope = Message::new();
    scope
        .string(SCOPE_NAME, "ai-proxy")
        .string(SCOPE_VERSION, &service.version);
    let mut scope_spans = Message::new();
    scope_spans.message(SCOPE_SPANS_SCOPE, scope);
    for spans in batch {
        let calls = spans.record.plugin_calls.as_ref().map(PluginCallLog::seen);
        let mut request = request_span(spans);
        if let Some(calls) = &calls {
            plugin_spans::count_calls(&mut request, calls);
        }
        scope_spans.message(SCOPE_SPANS_SPANS, request);
        let mut attempt_ids = Vec::with_capacity(spans.record.attempts.len());
        for (n, attempt) in spans.record.attempts.iter().enumerate() {
            let id = random_span_id();
            scope_spans.message(SCOPE_SPANS_SPANS, attempt_span(spans, &id, n + 1, attempt));
            attempt_ids.push(id);
        }
        for call in calls.as_ref().map_or(&[][..], |c| &c.spans[..]) {
            // Under the attempt it served; before the first, under the request.
            let parent = (call.attempt as usize)
                .checked_sub(1)
                .and_then(|i| attempt_ids.get(i))
                .unwrap_or(&spans.span_id);
            let names = calls
                .as_ref()
                .and_then(|c| c.plugins.get(usize::from(call.plugin)));
            scope_spans.message(
                SCOPE_SPANS_SPANS,
                plugin_spans::call_span(spans, parent, names, call),
            );
        }
    }
    let mut resource_spans = Message::new();
    resource_spans
        .message(RESOURCE_SPANS_RESOURCE, resource)
        .message(RESOURCE_SPANS_SCOPE_SPANS, scope_spans);
    let mut request = Message::new();
    request.message(REQUEST_RESOURCE_SPANS, resource_spans);
    request.into_bytes()
}

pub(super) enum Value<'a> {
    Str(&'a str),
    Int(i64),
    Double(f64),
    Bool(bool),
}

pub(super) fn attr(key: &str, value: Value<'_>) -> Message {
    let mut any = Message::new();
    match value {
        Value::Str(s) => any.string(ANY_STRING, s),
        Value::Int(i) => any.int(ANY_INT, i),
        Value::Double(d) => any.double(ANY_DOUBLE, d),
        Value::Bool(b) => any.boolean(ANY_BOOL, b),
    };
    let mut kv = Message::new();
    kv.string(KEY_VALUE_KEY, key).message(KEY_VALUE_VALUE, any);
    kv
}

pub(super) fn int(v: u64) -> Value<'static> {
    Value::Int(i64::try_from(v).unwrap_or(i64::MAX))
}

/// The GenAI operation a request path stands for.
pub fn operation_name(path: &str) -> &'static str {
    let path = path.to_ascii_lowercase();
    if path.ends_with(":generatecontent") || path.ends_with(":streamgeneratecontent") {
        "generate_content"
    } else if path.contains("embed") {
        "embeddings"
    } else if path.ends_with("/chat/completions")
        || path.ends_with("/messages")
        || path.ends_with("/responses")
    {
        "chat"
    } else if path.ends_with("/completions") {
        "text_completion"
    } else {
        "other"
    }
}

/// The `gen_ai.provider.name` of a plugin, by the conventions' well-known values.
pub fn provider_name(plugin: &str) -> &str {
    match plugin {
        "gemini" => "gcp.gemini",
        "azure-openai" => "azure.ai.openai",
        other => other,
    }
}

fn span_name(record: &TraceRecord) -> String {
    let op = operation_name(&record.path);
    match &record.model {
        Some(model) => format!("{op} {model}"),
        None => op.to_owned(),
    }
}

pub(super) fn unix_nanos(t: DateTime<Utc>, plus_ms: u64) -> u64 {
    let base = u64::try_from(t.timestamp_nanos_opt().unwrap_or(0)).unwrap_or(0);
    base.saturating_add(plus_ms.saturating_mul(1_000_000))
}

/// Attributes a request span and its attempt spans share.
fn gen_ai_attrs(span: &mut Message, record: &TraceRecord) {
    span.message(
        SPAN_ATTRIBUTES,
        attr(
            "gen_ai.operation.name",
            Value::Str(operation_name(&record.path)),
        ),
    );
    if let Some(plugin) = record.plugin_name.as_deref() {
        let provider = provider_name(plugin);
        span.message(
            SPAN_ATTRIBUTES,
            attr("gen_ai.provider.name", Value::Str(provider)),
        );
        span.message(SPAN_ATTRIBUTES, attr("gen_ai.system", Value::Str(provider)));
    }
    if let Some(model) = record.model.as_deref() {
        span.message(
            SPAN_ATTRIBUTES,
            attr("gen_ai.request.model", Value::Str(model)),
        );
    }
}

pub(super) fn span_head(spans: &RequestSpans, span_id: &[u8; 8], name: &str, kind: u64) -> Message {
    let mut span = Message::new();
    span.bytes(SPAN_TRACE_ID, &spans.trace_id)
        .bytes(SPAN_SPAN_ID, span_id)
        .string(SPAN_NAME, name)
        .uint(SPAN_KIND, kind);
    span
}

pub(super) fn error_status(span: &mut Message, class: Option<&str>) {
    let mut status = Message::new();
    if let Some(class) = class {
        status.string(STATUS_MESSAGE, class);
    }
    status.uint(STATUS_CODE, STATUS_ERROR);
    span.message(SPAN_STATUS, status);
}

fn request_span(spans: &RequestSpans) -> Message {
    let r = &spans.record;
    let start = r.created_at.unwrap_or_else(Utc::now);
    let mut span = span_head(spans, &spans.span_id, &span_name(r), KIND_SERVER);
    let flags = match &r.parent {
        Some(parent) => {
            span.bytes(SPAN_PARENT_SPAN_ID, &parent.span_id);
            u32::from(parent.flags) | FLAG_HAS_IS_REMOTE | FLAG_IS_REMOTE
        }
        None => u32::from(super::traceparent::SAMPLED) | FLAG_HAS_IS_REMOTE,
    };
    span.fixed64(SPAN_START, unix_nanos(start, 0))
        .fixed64(SPAN_END, unix_nanos(start, r.duration_ms))
        .fixed32(SPAN_FLAGS, flags);
    gen_ai_attrs(&mut span, r);
    let mut add = |key: &str, value: Value<'_>| {
        span.message(SPAN_ATTRIBUTES, attr(key, value));
    };
    add("gen_ai.usage.input_tokens", int(r.input_tokens));
    add("gen_ai.usage.output_tokens", int(r.output_tokens));
    if r.cached_input_tokens > 0 {
        add(
            "gen_ai.usage.cache_read.input_tokens",
            int(r.cached_input_tokens),
        );
    }
    if r.cache_write_tokens > 0 {
        add(
            "gen_ai.usage.cache_creation.input_tokens",
            int(r.cache_write_tokens),
        );
    }
    add("http.request.method", Value::Str(&r.method));
    add("http.response.status_code", int(u64::from(r.status_code)));
    add("url.path", Value::Str(&r.path));
    add("ai_proxy.request_id", Value::Str(&r.request_id));
    add("ai_proxy.stream", Value::Bool(r.is_stream));
    add("ai_proxy.attempts", int(r.attempts.len() as u64));
    if let Some(id) = r.client_key_id {
        add("ai_proxy.client_key.id", Value::Int(i64::from(id)));
    }
    if let Some(id) = r.upstream_key_id {
        add("ai_proxy.upstream_key.id", Value::Int(i64::from(id)));
    }
    if let Some(name) = r.provider_name.as_deref() {
        add("ai_proxy.provider.name", Value::Str(name));
    }
    if let Some(nanos) = r.cost_nanos {
        add("ai_proxy.cost_nanos", int(nanos));
        add("ai_proxy.cost_usd", Value::Double(nanos as f64 / 1e9));
    }
    if let Some(ms) = r.first_byte_ms {
        add("ai_proxy.first_byte_ms", int(ms));
    }
    if let Some(class) = r.error_class.as_deref() {
        add("error.type", Value::Str(class));
        add("ai_proxy.error_class", Value::Str(class));
    }
    if r.status_code >= 400 || r.status_code == 0 {
        error_status(&mut span, r.error_class.as_deref());
    }
    span
}

fn attempt_span(
    spans: &RequestSpans,
    span_id: &[u8; 8],
    number: usize,
    attempt: &Attempt,
) -> Message {
    let r = &spans.record;
    let start = r.created_at.unwrap_or_else(Utc::now);
    let mut span = span_head(spans, span_id, &span_name(r), KIND_CLIENT);
    span.bytes(SPAN_PARENT_SPAN_ID, &spans.span_id)
        .fixed64(SPAN_START, unix_nanos(start, attempt.started_ms))
        .fixed64(
            SPAN_END,
            unix_nanos(
                start,
                attempt.started_ms.saturating_add(attempt.duration_ms),
            ),
        );
    gen_ai_attrs(&mut span, r);
    let mut add = |key: &str, value: Value<'_>| {
        span.message(SPAN_ATTRIBUTES, attr(key, value));
    };
    add("ai_proxy.attempt", int(number as u64));
    add(
        "ai_proxy.upstream_key.id",
        Value::Int(i64::from(attempt.upstream_key_id)),
    );
    if let Some(status) = attempt.status {
        add("http.response.status_code", int(u64::from(status)));
    }
    // The attempt's class (from the plugin) or the gateway's own error code.
    let class = attempt.error_class.as_deref().or(attempt.error.as_deref());
    if let Some(class) = class {
        add("error.type", Value::Str(class));
        add("ai_proxy.error_class", Value::Str(class));
    }
    if attempt.status.is_none_or(|s| s >= 400) {
        error_status(&mut span, class);
    }
    span
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_gen_ai_operations() {
        for (path, op) in [
            ("/v1/chat/completions", "chat"),
            ("/v1/messages", "chat"),
            ("/v1/responses", "chat"),
            ("/v1/completions", "text_completion"),
            ("/v1/embeddings", "embeddings"),
            (
                "/v1beta/models/gemini-2.0-flash:generateContent",
                "generate_content",
            ),
            ("/v1beta/models/g:streamGenerateContent", "generate_content"),
            ("/v1beta/models/g:embedContent", "embeddings"),
            ("/v1/models", "other"),
        ] {
            assert_eq!(operation_name(path), op, "{path}");
        }
    }

    use super::super::TraceParent;

    #[test]
    fn a_request_without_parent_starts_a_trace_of_its_own() {
        let a = RequestSpans::new(TraceRecord::default());
        let b = RequestSpans::new(TraceRecord::default());
        assert_ne!(a.trace_id, b.trace_id);
        assert_ne!(a.trace_id, [0; 16]);
        let parent = TraceParent {
            trace_id: [7; 16],
            span_id: [9; 8],
            flags: 1,
        };
        let c = RequestSpans::new(TraceRecord {
            parent: Some(parent),
            ..TraceRecord::default()
        });
        assert_eq!(c.trace_id, [7; 16]);
        assert_ne!(c.span_id, [9; 8]);
    }

    #[test]
    fn the_error_message_and_key_names_are_never_encoded() {
        let record = TraceRecord {
            path: "/v1/chat/completions".into(),
            model: Some("gpt-x".into()),
            error_message: Some("upstream said: my prompt text".into()),
            client_key_name: Some("team-secret-name".into()),
            upstream_key_name: Some("upstream-name".into()),
            status_code: 502,
            attempts: vec![Attempt {
                upstream_key_id: 4,
                upstream_key_name: "upstream-name".into(),
                status: Some(500),
                error_class: Some("server_error".into()),
                error: Some("raw text".into()),
                message: Some("upstream said: my prompt text".into()),
                duration_ms: 3,
                started_ms: 1,
            }],
            ..TraceRecord::default()
        };
        let service = ServiceInfo {
            name: "gw".into(),
            version: "1".into(),
        };
        let bytes = export_request(&service, &[RequestSpans::new(record)]);
        let text = String::from_utf8_lossy(&bytes);
        for hidden in [
            "my prompt text",
            "team-secret-name",
            "upstream-name",
            "raw text",
        ] {
            assert!(!text.contains(hidden), "{hidden} was exported");
        }
        assert!(text.contains("chat gpt-x"));
        assert!(text.contains("server_error"));
    }
}
