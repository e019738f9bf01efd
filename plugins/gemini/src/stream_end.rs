//! Ending a `streamGenerateContent?alt=sse` stream early, the way Gemini
//! ends one that hit `maxOutputTokens`: a last response whose candidate
//! has `finishReason: "MAX_TOKENS"` and an empty text part, with the usage
//! so far. The running output estimate counts the candidates' text parts
//! (Gemini reports a running usage on every event anyway; the estimate
//! only raises it).

use ai_proxy_sdk::json::{self, scan};
use ai_proxy_sdk::{EndReason, SseEvent, StreamState};
use serde_json::{Value, json};

/// The finish reason a cut answer reports.
pub const CUT_FINISH_REASON: &str = "MAX_TOKENS";

fn candidates(data: &Value) -> &[Value] {
    data.get("candidates")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// Bytes of generated text in one event, scanned for rather than parsed
/// whole (every event comes here).
pub fn generated_bytes(event: &SseEvent) -> usize {
    let data = event.data.as_bytes();
    let Ok([candidates]) = scan::fields(data, ["candidates"]) else {
        return 0;
    };
    json::sum_elements(json::member(data, candidates), |candidate| {
        let parts = json::raw_field(candidate, "content")
            .and_then(|content| json::raw_field(content, "parts"));
        json::sum_elements(parts, |part| {
            json::raw_field(part, "text").map_or(0, |text| json::string_len(text).unwrap_or(0))
        })
    })
}

/// The event that ends `stream`; empty when nothing was streamed yet or
/// a candidate already finished.
pub fn terminal_event(stream: &StreamState, _reason: EndReason) -> Vec<u8> {
    let (Some(first), Some(last)) = (
        stream.first_event().and_then(SseEvent::json),
        stream.last_event().and_then(SseEvent::json),
    ) else {
        return Vec::new();
    };
    if candidates(&last)
        .iter()
        .any(|c| c.get("finishReason").is_some())
    {
        return Vec::new();
    }
    let usage = stream.running_usage().unwrap_or_default();
    let mut meta = json!({
        "promptTokenCount": usage.input_tokens,
        "candidatesTokenCount": usage.output_tokens.saturating_sub(usage.reasoning_tokens),
        "totalTokenCount": usage.input_tokens.saturating_add(usage.output_tokens),
    });
    if usage.reasoning_tokens > 0 {
        meta["thoughtsTokenCount"] = json!(usage.reasoning_tokens);
    }
    let mut end = json!({
        "candidates": [{
            "content": {"parts": [{"text": ""}], "role": "model"},
            "finishReason": CUT_FINISH_REASON,
            "index": 0,
        }],
        "usageMetadata": meta,
    });
    for field in ["modelVersion", "responseId"] {
        if let Some(value) = first.get(field) {
            end[field] = value.clone();
        }
    }
    format!("data: {end}\r\n\r\n").into_bytes()
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;
    use crate::Gemini;

    const EVENT: &str = "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hello there\"}],\"role\":\"model\"},\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":5,\"candidatesTokenCount\":2,\"totalTokenCount\":7},\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"r1\"}\r\n\r\n";

    #[test]
    fn a_cut_stream_ends_with_max_tokens_and_the_running_usage() {
        let mut state = StreamState::default();
        let running = state.feed::<Gemini>(EVENT.as_bytes()).expect("usage");
        assert_eq!(
            running.output_tokens, 3,
            "11 bytes of text beat the reported 2"
        );
        let end = terminal_event(&state, EndReason::QuotaExhausted);
        let text = String::from_utf8(end).expect("utf-8");
        assert!(
            text.starts_with("data: ") && text.ends_with("\r\n\r\n"),
            "{text}"
        );
        let data: Value =
            serde_json::from_str(text.trim().trim_start_matches("data: ")).expect("json");
        assert_eq!(data["candidates"][0]["finishReason"], CUT_FINISH_REASON);
        assert_eq!(data["usageMetadata"]["candidatesTokenCount"], 3);
        assert_eq!(data["responseId"], "r1");
    }

    #[test]
    fn a_finished_or_empty_stream_cannot_be_ended_again() {
        assert!(terminal_event(&StreamState::default(), EndReason::QuotaExhausted).is_empty());
        let mut state = StreamState::default();
        state.feed::<Gemini>(
            EVENT
                .replace("\"index\":0", "\"index\":0,\"finishReason\":\"STOP\"")
                .as_bytes(),
        );
        assert!(terminal_event(&state, EndReason::QuotaExhausted).is_empty());
    }
}
