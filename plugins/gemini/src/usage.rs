//! Token usage from Gemini answers, whole or streamed.
//!
//! Every `GenerateContentResponse` carries `usageMetadata`:
//! `promptTokenCount` (including `cachedContentTokenCount`),
//! `candidatesTokenCount`, `thoughtsTokenCount` (reasoning, not included in
//! the candidates count) and `toolUsePromptTokenCount` (results of built-in
//! tools such as search grounding, billed as input but not included in the
//! prompt count). So the gateway's input is prompt + tool-use prompt and
//! its output is candidates + thoughts.
//!
//! In a stream every event carries the usage so far, so the latest replaces
//! the previous. `streamGenerateContent` without `alt=sse` answers one JSON
//! array of responses, read here as a whole body: the last element with
//! `usageMetadata` counts.

use ai_proxy_sdk::json::scan::{self, Member, Shape};
use ai_proxy_sdk::{SseEvent, Usage, json};
use serde_json::Value;

/// Usage from a whole body: one response object or an array of them (the
/// last one with usage). Only `usageMetadata` members are parsed, so the
/// answer's size does not matter.
pub fn from_body(body: &[u8]) -> Option<Usage> {
    let mut last = None;
    let shape = scan::walk(body, |member| {
        if let Member::Element(range) = member
            && let Some(found) = body.get(range).and_then(from_response_text)
        {
            last = Some(found);
        }
    })
    .ok()?;
    match shape {
        Shape::Array => last,
        _ => from_response_text(body),
    }
}

/// Usage from one response's text.
fn from_response_text(response: &[u8]) -> Option<Usage> {
    let meta = json::field(response, "usageMetadata").ok()??;
    from_meta(&meta)
}

/// Updates a stream's usage with one event. The event is scanned for its
/// `usageMetadata` and only that is parsed (this runs for every event).
pub fn from_event(event: &SseEvent, usage: &mut Option<Usage>) {
    let data = event.data.as_bytes();
    if !json::may_contain_key(data, "usageMetadata") {
        return;
    }
    if let Some(found) = from_response_text(data) {
        *usage = Some(found);
    }
}

/// Usage from a `usageMetadata` object.
fn from_meta(meta: &Value) -> Option<Usage> {
    let meta = meta.as_object()?;
    let count = |name: &str| meta.get(name).and_then(Value::as_u64);
    let known = [
        "promptTokenCount",
        "candidatesTokenCount",
        "thoughtsTokenCount",
        "totalTokenCount",
    ];
    if known.iter().all(|name| count(name).is_none()) {
        return None;
    }
    let count = |name: &str| count(name).unwrap_or(0);
    let thoughts = count("thoughtsTokenCount");
    Some(Usage {
        input_tokens: count("promptTokenCount").saturating_add(count("toolUsePromptTokenCount")),
        output_tokens: count("candidatesTokenCount").saturating_add(thoughts),
        cached_input_tokens: count("cachedContentTokenCount"),
        cache_write_tokens: 0,
        reasoning_tokens: thoughts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Gemini;

    const RESPONSE: &[u8] = include_bytes!("../fixtures/generate_content.json");
    const ARRAY: &[u8] = include_bytes!("../fixtures/stream_array.json");
    const ERROR: &[u8] = include_bytes!("../fixtures/error_rate_limited.json");
    const STREAM: &[u8] = include_bytes!("../fixtures/stream.sse");
    const STREAM_GROUNDED: &[u8] = include_bytes!("../fixtures/stream_grounded.sse");

    fn usage(input: u64, output: u64, cached: u64, reasoning: u64) -> Usage {
        Usage {
            input_tokens: input,
            output_tokens: output,
            cached_input_tokens: cached,
            cache_write_tokens: 0,
            reasoning_tokens: reasoning,
        }
    }

    /// The stream parsed whole, split at every byte and byte by byte.
    fn assert_stream(stream: &[u8], expected: Option<Usage>) {
        ai_proxy_sdk::testing::assert_stream_usage::<Gemini>(stream, expected);
    }

    #[test]
    fn response_body_counts_thoughts_as_output_and_cache_inside_input() {
        assert_eq!(from_body(RESPONSE), Some(usage(10412, 1520, 8192, 1208)));
    }

    #[test]
    fn json_array_body_takes_the_last_usage() {
        assert_eq!(from_body(ARRAY), Some(usage(9, 61, 0, 0)));
    }

    #[test]
    fn json_array_body_skips_trailing_elements_without_usage() {
        let body = br#"[{"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":2}},{"candidates":[]}]"#;
        assert_eq!(from_body(body), Some(usage(4, 2, 0, 0)));
        assert_eq!(from_body(b"[]"), None);
    }

    #[test]
    fn tool_use_prompt_tokens_count_as_input() {
        let body = br#"{"usageMetadata":{"promptTokenCount":20,"candidatesTokenCount":5,"toolUsePromptTokenCount":300,"totalTokenCount":325}}"#;
        assert_eq!(from_body(body), Some(usage(320, 5, 0, 0)));
    }

    #[test]
    fn count_tokens_and_error_bodies_have_no_usage() {
        assert_eq!(from_body(br#"{"totalTokens":31,"promptTokensDetails":[{"modality":"TEXT","tokenCount":31}]}"#), None);
        assert_eq!(from_body(ERROR), None);
        assert_eq!(from_body(br#"{"usageMetadata":{}}"#), None);
        assert_eq!(from_body(b"<!DOCTYPE html><title>Error 502</title>"), None);
    }

    #[test]
    fn sse_stream_with_crlf_separators_takes_the_latest_usage_in_any_split() {
        assert!(
            STREAM.windows(4).any(|w| w == b"\r\n\r\n"),
            "fixture must keep CRLF separators"
        );
        assert_stream(STREAM, Some(usage(9, 557, 0, 511)));
    }

    #[test]
    fn grounded_stream_with_cache_counts_tool_use_and_cached_tokens_in_any_split() {
        assert_stream(STREAM_GROUNDED, Some(usage(2848, 180, 2048, 0)));
    }

    #[test]
    fn stream_without_usage_has_none() {
        assert_stream(
            b"data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"hi\"}]}}]}\r\n\r\n",
            None,
        );
    }
}
