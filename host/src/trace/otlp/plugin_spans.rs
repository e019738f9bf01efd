//! Plugin calls as OTLP spans: one INTERNAL span per call a request's log
//! kept (`crate::plugins::PluginCallLog`), a child of the attempt span the call
//! served, or of the request span for calls before the first attempt
//! (`inspect`, `prepare`). Named `{call} {plugin}`, in the GenAI
//! conventions' `{operation} {target}` shape, and attributed with the
//! plugin's name and version, the call and how it ended; nothing the call
//! was given or returned. The request span counts every call and the ones
//! past the log's cap.

use super::protobuf::Message;
use super::spans::{
    KIND_INTERNAL, RequestSpans, SPAN_ATTRIBUTES, SPAN_END, SPAN_PARENT_SPAN_ID, SPAN_START, Value,
    attr, error_status, int, random_span_id, span_head, unix_nanos,
};
use crate::plugins::{CallEnd, PluginCallSpan, PluginCallsSeen};

/// Adds the request's call counts to its span.
pub(super) fn count_calls(request: &mut Message, calls: &PluginCallsSeen) {
    let made = (calls.spans.len() as u64).saturating_add(u64::from(calls.dropped));
    request.message(SPAN_ATTRIBUTES, attr("ai_proxy.plugin.calls", int(made)));
    request.message(
        SPAN_ATTRIBUTES,
        attr(
            "ai_proxy.plugin.calls_dropped",
            int(u64::from(calls.dropped)),
        ),
    );
}

/// The span of `call`, a child of span `parent`; `plugin` is the name and
/// version of the plugin it called.
pub(super) fn call_span(
    spans: &RequestSpans,
    parent: &[u8; 8],
    plugin: Option<&(String, String)>,
    call: &PluginCallSpan,
) -> Message {
    let (name, version) = plugin.map_or(("", ""), |(n, v)| (n.as_str(), v.as_str()));
    let arrived = unix_nanos(spans.record.created_at.unwrap_or_else(chrono::Utc::now), 0);
    let start = arrived.saturating_add(nanos(call.start));
    let end = start.saturating_add(nanos(call.duration));
    let mut span = span_head(
        spans,
        &random_span_id(),
        &format!("{} {name}", call.call),
        KIND_INTERNAL,
    );
    span.bytes(SPAN_PARENT_SPAN_ID, parent)
        .fixed64(SPAN_START, start)
        .fixed64(SPAN_END, end);
    let mut add = |key: &str, value: Value<'_>| {
        span.message(SPAN_ATTRIBUTES, attr(key, value));
    };
    add("ai_proxy.plugin.name", Value::Str(name));
    add("ai_proxy.plugin.version", Value::Str(version));
    add("ai_proxy.plugin.call", Value::Str(call.call));
    add("ai_proxy.plugin.outcome", Value::Str(call.end.as_str()));
    if call.attempt > 0 {
        add("ai_proxy.attempt", int(u64::from(call.attempt)));
    }
    if call.end != CallEnd::Ok {
        error_status(&mut span, Some(call.end.as_str()));
    }
    span
}

fn nanos(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
