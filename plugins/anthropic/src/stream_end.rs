//! Ending a Messages stream early, the way Anthropic ends one that hit
//! `max_tokens`: the open content block is closed (`content_block_stop`),
//! then `message_delta` gives stop reason `max_tokens` and the output
//! tokens so far, then `message_stop`. The running output estimate counts
//! the text, thinking and tool-input JSON of `content_block_delta` events.

use ai_proxy_sdk::json::scan;
use ai_proxy_sdk::stream_end::named_event;
use ai_proxy_sdk::{EndReason, SseEvent, StreamState, json};
use serde_json::{Value, json};

/// The stop reason a cut message reports.
pub const CUT_STOP_REASON: &str = "max_tokens";

/// Bytes of generated text in one event, scanned for rather than parsed
/// whole (every event comes here).
pub fn generated_bytes(event: &SseEvent) -> usize {
    let data = event.data.as_bytes();
    let Ok([kind, delta]) = scan::fields(data, ["type", "delta"]) else {
        return 0;
    };
    if !json::string_is(
        json::member(data, kind).unwrap_or_default(),
        "content_block_delta",
    ) {
        return 0;
    }
    let Some(delta) = json::member(data, delta) else {
        return 0;
    };
    scan::fields(delta, ["text", "thinking", "partial_json"]).map_or(0, |found| {
        found
            .into_iter()
            .map(|at| json::string_len_at(delta, at))
            .sum()
    })
}

/// The events that end `stream`; empty when it never started a message
/// or already stopped.
pub fn terminal_event(stream: &StreamState, _reason: EndReason) -> Vec<u8> {
    let started = stream
        .first_event()
        .and_then(SseEvent::json)
        .is_some_and(|data| json::str_at(&data, &["type"]) == Some("message_start"));
    let last = stream.last_event().and_then(SseEvent::json);
    let last_type = last
        .as_ref()
        .and_then(|data| json::str_at(data, &["type"]).map(str::to_owned));
    if !started || last_type.as_deref() == Some("message_stop") {
        return Vec::new();
    }
    let mut out = Vec::new();
    if last_type.as_deref() != Some("message_delta") {
        if let (Some("content_block_start" | "content_block_delta"), Some(index)) = (
            last_type.as_deref(),
            last.as_ref()
                .and_then(|data| data.get("index"))
                .and_then(Value::as_u64),
        ) {
            out.extend(named_event(
                "content_block_stop",
                &json!({"type": "content_block_stop", "index": index}),
            ));
        }
        let output = stream.running_usage().unwrap_or_default().output_tokens;
        out.extend(named_event(
            "message_delta",
            &json!({
                "type": "message_delta",
                "delta": {"stop_reason": CUT_STOP_REASON, "stop_sequence": null},
                "usage": {"output_tokens": output},
            }),
        ));
    }
    out.extend(named_event(
        "message_stop",
        &json!({"type": "message_stop"}),
    ));
    out
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;
    use crate::Anthropic;
    use ai_proxy_sdk::sse::SseParser;

    const STREAM: &[u8] = include_bytes!("../fixtures/stream.sse");

    fn events(bytes: &[u8]) -> Vec<SseEvent> {
        let mut parser = SseParser::new();
        let mut out = Vec::new();
        parser.push(bytes, |e| out.push(e.clone()));
        out
    }

    /// The fixture up to (not including) the first event of type `name`.
    fn until(name: &str) -> &'static [u8] {
        let text = std::str::from_utf8(STREAM).expect("utf-8");
        let at = text.find(&format!("event: {name}")).expect("event present");
        &STREAM[..at]
    }

    #[test]
    fn a_stream_cut_inside_a_block_closes_it_then_stops_at_max_tokens() {
        let mut state = StreamState::default();
        state.feed::<Anthropic>(until("content_block_stop"));
        let running = state.running_usage().expect("running usage");
        let end = terminal_event(&state, EndReason::QuotaExhausted);
        let got = events(&end);
        let names: Vec<_> = got
            .iter()
            .map(|e| e.event.clone().unwrap_or_default())
            .collect();
        assert_eq!(
            names,
            ["content_block_stop", "message_delta", "message_stop"]
        );
        let delta = got[1].json().expect("json");
        assert_eq!(delta["delta"]["stop_reason"], CUT_STOP_REASON);
        assert_eq!(delta["usage"]["output_tokens"], running.output_tokens);
        assert!(running.output_tokens > 1, "the text raised the estimate");
    }

    #[test]
    fn a_stream_past_its_message_delta_only_gets_message_stop() {
        let mut state = StreamState::default();
        state.feed::<Anthropic>(until("message_stop"));
        let got = events(&terminal_event(&state, EndReason::QuotaExhausted));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].event.as_deref(), Some("message_stop"));
        state.feed::<Anthropic>(STREAM.get(until("message_stop").len()..).expect("rest"));
        assert!(terminal_event(&state, EndReason::QuotaExhausted).is_empty());
    }

    #[test]
    fn a_stream_that_never_started_cannot_be_ended() {
        assert!(terminal_event(&StreamState::default(), EndReason::QuotaExhausted).is_empty());
    }
}
