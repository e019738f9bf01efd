//! Token usage from Anthropic answers, whole or streamed.
//!
//! Anthropic's `usage` splits the prompt three ways: `input_tokens` (not
//! cached), `cache_read_input_tokens` and `cache_creation_input_tokens`.
//! The gateway's input count includes cache reads, so it is
//! `input_tokens + cache_read_input_tokens`; cache writes stay apart in
//! `cache-write-tokens`. `output_tokens` already includes thinking tokens,
//! which Anthropic does not count separately (so reasoning stays 0).
//!
//! A stream reports usage twice: `message_start` carries the prompt counts
//! (and `output_tokens: 1`), and `message_delta` near the end carries the
//! final `output_tokens` — a running total, not an increment. Newer API
//! versions repeat the prompt counts in `message_delta`, possibly grown by
//! server tools; counts present there replace the earlier ones, absent or
//! `null` ones keep them.

use ai_proxy_sdk::json::scan;
use ai_proxy_sdk::{SseEvent, Usage, json};
use serde_json::Value;

/// Usage from a whole JSON body; `None` without a `usage` object. Only
/// `usage` is parsed, so the answer's size does not matter.
pub fn from_body(body: &[u8]) -> Option<Usage> {
    updated(Usage::ZERO, &json::field(body, "usage").ok()??)
}

/// Updates a stream's usage with one event. Only `message_start` and
/// `message_delta` carry usage, and every text delta comes here too: an
/// event without the word `usage` is skipped unread, the others are
/// scanned for their type and only the `usage` object is parsed.
pub fn from_event(event: &SseEvent, usage: &mut Option<Usage>) {
    let data = event.data.as_bytes();
    if !json::may_contain_key(data, "usage") {
        return;
    }
    let Ok([kind, message, delta_usage]) = scan::fields(data, ["type", "message", "usage"]) else {
        return;
    };
    let kind = json::member(data, kind).unwrap_or_default();
    let found = if json::string_is(kind, "message_start") {
        json::member(data, message)
            .and_then(|message| json::field(message, "usage").ok().flatten())
            .and_then(|object| updated(Usage::ZERO, &object))
    } else if json::string_is(kind, "message_delta") {
        json::member(data, delta_usage)
            .and_then(|raw| serde_json::from_slice::<Value>(raw).ok())
            .and_then(|object| updated(usage.unwrap_or(Usage::ZERO), &object))
    } else {
        None
    };
    if found.is_some() {
        *usage = found;
    }
}

/// `base` with the counts present in Anthropic `usage` object `object`
/// replacing its own; `None` when `object` carries no count at all.
fn updated(base: Usage, object: &Value) -> Option<Usage> {
    let count = |name: &str| object.get(name).and_then(Value::as_u64);
    let (input, read, write, output) = (
        count("input_tokens"),
        count("cache_read_input_tokens"),
        count("cache_creation_input_tokens"),
        count("output_tokens"),
    );
    if input.is_none() && read.is_none() && write.is_none() && output.is_none() {
        return None;
    }
    let uncached = input.unwrap_or(base.input_tokens.saturating_sub(base.cached_input_tokens));
    let cache_read = read.unwrap_or(base.cached_input_tokens);
    Some(Usage {
        input_tokens: uncached.saturating_add(cache_read),
        output_tokens: output.unwrap_or(base.output_tokens),
        cached_input_tokens: cache_read,
        cache_write_tokens: write.unwrap_or(base.cache_write_tokens),
        reasoning_tokens: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Anthropic;

    const MESSAGE: &[u8] = include_bytes!("../fixtures/message.json");
    const ERROR: &[u8] = include_bytes!("../fixtures/error_overloaded.json");
    const STREAM: &[u8] = include_bytes!("../fixtures/stream.sse");
    const STREAM_TOOLS: &[u8] = include_bytes!("../fixtures/stream_thinking_tools.sse");
    const STREAM_ERROR: &[u8] = include_bytes!("../fixtures/stream_overloaded.sse");

    fn usage(input: u64, output: u64, cached: u64, cache_write: u64) -> Usage {
        Usage {
            input_tokens: input,
            output_tokens: output,
            cached_input_tokens: cached,
            cache_write_tokens: cache_write,
            reasoning_tokens: 0,
        }
    }

    /// The stream parsed whole, split at every byte and byte by byte.
    fn assert_stream(stream: &[u8], expected: Option<Usage>) {
        ai_proxy_sdk::testing::assert_stream_usage::<Anthropic>(stream, expected);
    }

    #[test]
    fn message_body_adds_cache_reads_to_input_and_keeps_writes_apart() {
        assert_eq!(from_body(MESSAGE), Some(usage(8012, 215, 8000, 1500)));
    }

    #[test]
    fn message_body_without_cache_fields_counts_zero_cache() {
        let body = br#"{"type":"message","usage":{"input_tokens":25,"output_tokens":9}}"#;
        assert_eq!(from_body(body), Some(usage(25, 9, 0, 0)));
    }

    #[test]
    fn count_tokens_body_has_no_usage() {
        assert_eq!(from_body(br#"{"input_tokens":2095}"#), None);
    }

    #[test]
    fn error_empty_and_non_json_bodies_have_no_usage() {
        assert_eq!(from_body(ERROR), None);
        assert_eq!(from_body(br#"{"usage":{}}"#), None);
        assert_eq!(from_body(b"upstream connect error"), None);
        assert_eq!(from_body(b""), None);
    }

    #[test]
    fn stream_takes_prompt_from_start_and_output_from_delta_in_any_split() {
        assert_stream(STREAM, Some(usage(2520, 15, 2048, 0)));
    }

    #[test]
    fn stream_delta_repeating_prompt_counts_replaces_them_in_any_split() {
        assert_stream(STREAM_TOOLS, Some(usage(9840, 611, 0, 2400)));
    }

    #[test]
    fn stream_cut_by_error_event_keeps_start_usage() {
        assert_stream(STREAM_ERROR, Some(usage(30, 1, 0, 0)));
    }

    #[test]
    fn stream_message_delta_output_is_a_total_not_an_increment() {
        let stream = concat!(
            "event: message_start\n",
            "data: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}\n\n",
            "event: message_delta\n",
            "data: {\"type\":\"message_delta\",\"delta\":{},\"usage\":{\"output_tokens\":10}}\n\n",
            "event: message_delta\n",
            "data: {\"type\":\"message_delta\",\"delta\":{},\"usage\":{\"output_tokens\":25}}\n\n",
        );
        assert_stream(stream.as_bytes(), Some(usage(10, 25, 0, 0)));
    }

    #[test]
    fn stream_null_counts_in_delta_keep_earlier_ones() {
        let stream = concat!(
            "data: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":4,\"cache_read_input_tokens\":6,\"cache_creation_input_tokens\":2,\"output_tokens\":1}}}\n\n",
            "data: {\"type\":\"message_delta\",\"usage\":{\"input_tokens\":null,\"cache_read_input_tokens\":null,\"output_tokens\":7}}\n\n",
        );
        assert_stream(stream.as_bytes(), Some(usage(10, 7, 6, 2)));
    }

    #[test]
    fn stream_without_message_events_has_no_usage() {
        assert_stream(b"event: ping\ndata: {\"type\": \"ping\"}\n\n", None);
    }

    #[test]
    fn feed_reports_usage_only_when_an_event_changes_it() {
        let mut state = ai_proxy_sdk::StreamState::default();
        let start = b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n";
        assert_eq!(state.feed::<Anthropic>(start), Some(usage(3, 1, 0, 0)));
        assert_eq!(
            state.feed::<Anthropic>(b"event: ping\ndata: {\"type\": \"ping\"}\n\n"),
            None
        );
    }
}
