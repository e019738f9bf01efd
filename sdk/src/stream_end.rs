//! Ending a stream early in the OpenAI wire format (chat completions,
//! legacy completions and the Responses API), for
//! [`Provider::terminal_event`](crate::Provider::terminal_event), and the
//! running output estimate of those streams
//! ([`openai_generated_bytes`]).
//!
//! What a client sees at a cut is what it would see had the model hit its
//! output limit: a chat chunk with `finish_reason: "length"` (or a legacy
//! completion choice, or a `response.incomplete` event with reason
//! `max_output_tokens`), the usage so far, then `data: [DONE]`. The ids,
//! model and creation time are those of the stream's first event, so the
//! end belongs to the same answer.

use serde_json::{Value, json};

use crate::{EndReason, SseEvent, StreamState, Usage, json as json_path};

/// The finish reason a cut chat or legacy completion reports.
pub const CUT_FINISH_REASON: &str = "length";
/// The `incomplete_details.reason` a cut Responses stream reports.
pub const CUT_INCOMPLETE_REASON: &str = "max_output_tokens";

/// `data: <json>\n\n`.
pub fn data_event(value: &Value) -> Vec<u8> {
    format!("data: {value}\n\n").into_bytes()
}

/// `event: <name>\ndata: <json>\n\n`.
pub fn named_event(name: &str, value: &Value) -> Vec<u8> {
    format!("event: {name}\ndata: {value}\n\n").into_bytes()
}

/// Bytes of generated text in one OpenAI stream event: a chat chunk's
/// `delta.content`, `delta.reasoning_content` and tool-call arguments, a
/// legacy completion's `text`, a Responses `*.delta` event's `delta`.
pub fn openai_generated_bytes(event: &SseEvent) -> usize {
    let Some(data) = event.json() else {
        return 0;
    };
    if let Some(delta) = data.get("delta").and_then(Value::as_str) {
        return delta.len();
    }
    let Some(choices) = data.get("choices").and_then(Value::as_array) else {
        return 0;
    };
    let text = |value: &Value, path: &[&str]| {
        json_path::at(value, path)
            .and_then(Value::as_str)
            .map_or(0, str::len)
    };
    choices
        .iter()
        .map(|choice| {
            let tools = json_path::at(choice, &["delta", "tool_calls"])
                .and_then(Value::as_array)
                .map_or(0, |calls| {
                    calls
                        .iter()
                        .map(|call| text(call, &["function", "arguments"]))
                        .sum()
                });
            text(choice, &["delta", "content"])
                + text(choice, &["delta", "reasoning_content"])
                + text(choice, &["text"])
                + tools
        })
        .sum()
}

/// The end of an OpenAI-format stream: see the module documentation.
/// Only `[DONE]` when the stream already gave its finish reason; empty
/// when it already ended, or when its format is not recognised.
pub fn openai_terminal_event(stream: &StreamState, _reason: EndReason) -> Vec<u8> {
    let last = stream.last_event();
    if last.is_some_and(|event| event.data.trim() == "[DONE]") {
        return Vec::new();
    }
    let Some(first) = stream.first_event().and_then(SseEvent::json) else {
        return b"data: [DONE]\n\n".to_vec();
    };
    let usage = stream.running_usage().unwrap_or_default();
    if first.get("type").and_then(Value::as_str) == Some("response.created") {
        return responses_end(&first, last, usage);
    }
    let object = first
        .get("object")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let chunk = |choices: Value| {
        json!({
            "id": first.get("id").cloned().unwrap_or(Value::Null),
            "object": object,
            "created": first.get("created").cloned().unwrap_or(json!(0)),
            "model": first.get("model").cloned().unwrap_or(Value::Null),
            "choices": choices,
        })
    };
    let finished = last.and_then(SseEvent::json).is_some_and(|data| {
        data.get("choices")
            .and_then(Value::as_array)
            .is_some_and(|c| c.is_empty() || c.iter().any(|c| !c["finish_reason"].is_null()))
    });
    let mut out = Vec::new();
    if !finished {
        let choice = match object {
            "chat.completion.chunk" => json!({
                "index": 0, "delta": {}, "logprobs": null, "finish_reason": CUT_FINISH_REASON,
            }),
            "text_completion" => json!({
                "index": 0, "text": "", "logprobs": null, "finish_reason": CUT_FINISH_REASON,
            }),
            _ => return Vec::new(),
        };
        out.extend(data_event(&chunk(json!([choice]))));
        let mut usage_chunk = chunk(json!([]));
        usage_chunk["usage"] = chat_usage(usage);
        out.extend(data_event(&usage_chunk));
    }
    out.extend_from_slice(b"data: [DONE]\n\n");
    out
}

/// A chat `usage` object.
fn chat_usage(usage: Usage) -> Value {
    json!({
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens.saturating_add(usage.output_tokens),
    })
}

/// `response.incomplete`, carrying the `response` of `response.created`
/// marked incomplete, with the usage so far; empty once the stream ended.
fn responses_end(first: &Value, last: Option<&SseEvent>, usage: Usage) -> Vec<u8> {
    let last = last.and_then(SseEvent::json);
    let ended = last
        .as_ref()
        .and_then(|data| data.get("type").and_then(Value::as_str))
        .is_some_and(|t| {
            matches!(
                t,
                "response.completed" | "response.incomplete" | "response.failed"
            )
        });
    if ended {
        return Vec::new();
    }
    let mut response = first.get("response").cloned().unwrap_or_else(|| json!({}));
    response["status"] = json!("incomplete");
    response["incomplete_details"] = json!({ "reason": CUT_INCOMPLETE_REASON });
    response["usage"] = json!({
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens.saturating_add(usage.output_tokens),
    });
    let sequence = last
        .as_ref()
        .and_then(|data| data.get("sequence_number").and_then(Value::as_u64))
        .map_or(0, |n| n + 1);
    named_event(
        "response.incomplete",
        &json!({ "type": "response.incomplete", "sequence_number": sequence, "response": response }),
    )
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;
    use crate::sse::SseParser;

    struct Chat;
    impl crate::Provider for Chat {
        fn endpoints() -> Vec<crate::endpoints::Endpoint> {
            crate::openai::endpoints()
        }

        fn info() -> crate::ProviderInfo {
            unimplemented!()
        }
        fn inspect(
            _: &crate::RequestHead,
            _: &[u8],
        ) -> Result<crate::RequestFacts, crate::PluginError> {
            unimplemented!()
        }
        fn prepare(
            _: crate::RequestHead,
            _: Vec<u8>,
            _: &str,
        ) -> Result<crate::OutboundRequest, crate::PluginError> {
            unimplemented!()
        }
        fn body_usage(_: &[u8]) -> Option<Usage> {
            None
        }
        fn stream_event(event: &SseEvent, usage: &mut Option<Usage>) {
            crate::openai::usage_from_event(event, usage);
        }
        fn generated_bytes(event: &SseEvent) -> usize {
            openai_generated_bytes(event)
        }
        fn default_prices() -> Vec<crate::Price> {
            Vec::new()
        }
    }

    fn events(bytes: &[u8]) -> Vec<SseEvent> {
        let mut parser = SseParser::new();
        let mut out = Vec::new();
        parser.push(bytes, |e| out.push(e.clone()));
        out
    }

    const CHUNK: &str = r#"data: {"id":"c1","object":"chat.completion.chunk","created":7,"model":"m","choices":[{"index":0,"delta":{"content":"Hello world!"},"finish_reason":null}],"usage":null}

"#;

    #[test]
    fn a_cut_chat_stream_ends_with_length_usage_and_done() {
        let mut state = StreamState::default();
        let running = state.feed::<Chat>(CHUNK.as_bytes());
        assert_eq!(running.map(|u| u.output_tokens), Some(3), "12 bytes / 4");
        let end = openai_terminal_event(&state, EndReason::QuotaExhausted);
        let got = events(&end);
        assert_eq!(got.len(), 3, "{}", String::from_utf8_lossy(&end));
        let finish = got[0].json().expect("json");
        assert_eq!(finish["id"], "c1");
        assert_eq!(finish["model"], "m");
        assert_eq!(finish["choices"][0]["finish_reason"], CUT_FINISH_REASON);
        let usage = got[1].json().expect("json");
        assert_eq!(usage["usage"]["completion_tokens"], 3);
        assert_eq!(got[2].data, "[DONE]");
    }

    #[test]
    fn a_chat_stream_past_its_finish_reason_only_gets_done() {
        let mut state = StreamState::default();
        state.feed::<Chat>(CHUNK.as_bytes());
        state.feed::<Chat>(br#"data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}

"#);
        let end = openai_terminal_event(&state, EndReason::QuotaExhausted);
        assert_eq!(end, b"data: [DONE]\n\n");
        state.feed::<Chat>(b"data: [DONE]\n\n");
        assert!(openai_terminal_event(&state, EndReason::QuotaExhausted).is_empty());
    }

    #[test]
    fn a_cut_responses_stream_ends_incomplete() {
        let mut state = StreamState::default();
        state.feed::<Chat>(
            br#"event: response.created
data: {"type":"response.created","sequence_number":0,"response":{"id":"resp_1","status":"in_progress","model":"m"}}

event: response.output_text.delta
data: {"type":"response.output_text.delta","sequence_number":1,"delta":"Hi there"}

"#,
        );
        let end = openai_terminal_event(&state, EndReason::QuotaExhausted);
        let got = events(&end);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].event.as_deref(), Some("response.incomplete"));
        let data = got[0].json().expect("json");
        assert_eq!(data["sequence_number"], 2);
        assert_eq!(data["response"]["id"], "resp_1");
        assert_eq!(data["response"]["status"], "incomplete");
        assert_eq!(
            data["response"]["incomplete_details"]["reason"],
            CUT_INCOMPLETE_REASON
        );
        assert_eq!(data["response"]["usage"]["output_tokens"], 2);
    }

    #[test]
    fn generated_text_is_counted_from_every_kind_of_delta() {
        let count = |data: &str| {
            openai_generated_bytes(&SseEvent {
                event: None,
                data: data.to_owned(),
            })
        };
        assert_eq!(count(r#"{"choices":[{"delta":{"content":"abcd"}}]}"#), 4);
        assert_eq!(
            count(r#"{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"{}"}}]}}]}"#),
            2
        );
        assert_eq!(count(r#"{"choices":[{"text":"abc"}]}"#), 3);
        assert_eq!(
            count(r#"{"type":"response.output_text.delta","delta":"ab"}"#),
            2
        );
        assert_eq!(count("[DONE]"), 0);
    }
}
