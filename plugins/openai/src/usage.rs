//! Token usage from OpenAI answers, whole or streamed.
//!
//! Two shapes of `usage` object exist:
//! - chat completions, legacy completions and embeddings:
//!   `prompt_tokens`, `completion_tokens`,
//!   `prompt_tokens_details.cached_tokens`,
//!   `completion_tokens_details.reasoning_tokens`;
//! - the Responses API (and image generation): `input_tokens`,
//!   `output_tokens`, `input_tokens_details.cached_tokens`,
//!   `output_tokens_details.reasoning_tokens`.
//!
//! OpenAI's prompt counts already include cached tokens and its completion
//! counts already include reasoning tokens, as the gateway's `usage` wants.
//!
//! Streams: a chat completion carries `usage` on its last chunk only (other
//! chunks say `"usage": null`); a Responses stream carries it inside the
//! `response` object of `response.completed`, `response.incomplete` or
//! `response.failed`. Either way the latest usage replaces the previous.

use ai_proxy_sdk::{SseEvent, Usage, openai};

/// Usage from a whole JSON body; `None` without a `usage` object.
pub fn from_body(body: &[u8]) -> Option<Usage> {
    openai::usage_from_body(body)
}

/// Updates a stream's usage with one event.
pub fn from_event(event: &SseEvent, usage: &mut Option<Usage>) {
    openai::usage_from_event(event, usage);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OpenAi;
    use ai_proxy_sdk::parse_stream;

    const CHAT: &[u8] = include_bytes!("../fixtures/chat_completion.json");
    const RESPONSE: &[u8] = include_bytes!("../fixtures/response.json");
    const EMBEDDING: &[u8] = include_bytes!("../fixtures/embedding.json");
    const ERROR: &[u8] = include_bytes!("../fixtures/error_insufficient_quota.json");
    const CHAT_STREAM: &[u8] = include_bytes!("../fixtures/chat_stream.sse");
    const RESPONSES_STREAM: &[u8] = include_bytes!("../fixtures/responses_stream.sse");
    const INCOMPLETE_STREAM: &[u8] = include_bytes!("../fixtures/responses_incomplete_stream.sse");

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
        ai_proxy_sdk::testing::assert_stream_usage::<OpenAi>(stream, expected);
    }

    #[test]
    fn chat_completion_body_reports_cached_and_reasoning_tokens() {
        assert_eq!(from_body(CHAT), Some(usage(2006, 300, 1920, 192)));
    }

    #[test]
    fn responses_body_reports_cached_and_reasoning_tokens() {
        assert_eq!(from_body(RESPONSE), Some(usage(5310, 1187, 4864, 1024)));
    }

    #[test]
    fn embeddings_body_reports_prompt_tokens_only() {
        assert_eq!(from_body(EMBEDDING), Some(usage(8, 0, 0, 0)));
    }

    #[test]
    fn chat_body_without_details_counts_zero_cached_and_reasoning() {
        let body = br#"{"usage":{"prompt_tokens":10,"completion_tokens":3,"total_tokens":13}}"#;
        assert_eq!(from_body(body), Some(usage(10, 3, 0, 0)));
    }

    #[test]
    fn body_without_usage_is_none() {
        assert_eq!(from_body(br#"{"object":"list","data":[]}"#), None);
        assert_eq!(from_body(br#"{"id":"x","usage":null}"#), None);
    }

    #[test]
    fn error_and_non_json_bodies_are_none() {
        assert_eq!(from_body(ERROR), None);
        assert_eq!(from_body(b"<html>502 Bad Gateway</html>"), None);
        assert_eq!(from_body(b""), None);
        assert_eq!(from_body(b"[1,2]"), None);
    }

    #[test]
    fn transcription_duration_usage_is_none() {
        assert_eq!(
            from_body(br#"{"text":"hi","usage":{"type":"duration","seconds":9}}"#),
            None
        );
    }

    #[test]
    fn chat_stream_takes_usage_from_final_chunk_in_any_split() {
        assert_stream(CHAT_STREAM, Some(usage(1140, 137, 1024, 64)));
    }

    #[test]
    fn responses_stream_takes_usage_from_completed_event_in_any_split() {
        assert_stream(RESPONSES_STREAM, Some(usage(37, 11, 0, 0)));
    }

    #[test]
    fn responses_incomplete_stream_still_reports_usage() {
        assert_stream(INCOMPLETE_STREAM, Some(usage(120, 16, 0, 16)));
    }

    #[test]
    fn chat_stream_without_usage_chunk_reports_none() {
        let stream = b"data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}],\"usage\":null}\n\ndata: [DONE]\n\n";
        assert_stream(stream, None);
    }

    #[test]
    fn chat_stream_null_usage_after_usage_does_not_reset_it() {
        let stream = b"data: {\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}\n\ndata: {\"choices\":[],\"usage\":null}\n\ndata: [DONE]\n\n";
        assert_stream(stream, Some(usage(5, 2, 0, 0)));
    }

    #[test]
    fn cut_short_stream_keeps_nothing_from_a_partial_event() {
        let cut = &CHAT_STREAM[..CHAT_STREAM.len() - 60];
        assert_eq!(parse_stream::<OpenAi>(&[cut]), None);
    }
}
