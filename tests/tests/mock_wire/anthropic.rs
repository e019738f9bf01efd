//! Anthropic: messages (plain and streamed) and models.

use ai_proxy_tests::mock::{
    self, ANTHROPIC_START_OUTPUT_TOKENS, CACHE_CREATION_TOKENS, CACHED_TOKENS, COMPLETION_TOKENS,
    Endpoint, MockUpstream, PROMPT_TOKENS, Provider, TEXT, TEXT_PIECES,
};
use serde_json::{Value, json};

use super::{get, post, sse_events};

const KEY: (&str, &str) = ("x-api-key", "sk-ant-test");
const VERSION: (&str, &str) = ("anthropic-version", "2023-06-01");

fn request(stream: bool) -> Value {
    json!({"model": "claude-x", "max_tokens": 64, "stream": stream, "messages": [{"role": "user", "content": "hi"}]})
}

#[tokio::test]
async fn message_reports_text_and_cache_usage() {
    let mock = MockUpstream::start().await;

    let answer = post(&mock, "/v1/messages", &[KEY, VERSION], &request(false)).await;

    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(answer.header("request-id"), Some(mock::REQUEST_ID));
    assert_eq!(
        answer.body,
        mock::expected_body(Endpoint::Messages, "claude-x", false)
    );
    let body = answer.json();
    assert_eq!(body["type"], "message");
    assert_eq!(body["model"], "claude-x");
    assert_eq!(body["content"], json!([{"type": "text", "text": TEXT}]));
    assert_eq!(body["stop_reason"], "end_turn");
    let usage = &body["usage"];
    assert_eq!(usage["input_tokens"], PROMPT_TOKENS);
    assert_eq!(usage["output_tokens"], COMPLETION_TOKENS);
    assert_eq!(usage["cache_creation_input_tokens"], CACHE_CREATION_TOKENS);
    assert_eq!(usage["cache_read_input_tokens"], CACHED_TOKENS);
}

#[tokio::test]
async fn message_stream_follows_the_documented_event_order() {
    let mock = MockUpstream::start().await;

    let answer = post(&mock, "/v1/messages", &[KEY, VERSION], &request(true)).await;

    assert_eq!(
        answer.header("content-type"),
        Some("text/event-stream; charset=utf-8")
    );
    assert_eq!(
        answer.body,
        mock::expected_body(Endpoint::Messages, "claude-x", true)
    );
    let events = sse_events(answer.text(), "\n\n");
    let names: Vec<&str> = events
        .iter()
        .map(|(name, _)| name.as_deref().unwrap())
        .collect();
    let mut expected = vec!["message_start", "content_block_start", "ping"];
    expected.extend(TEXT_PIECES.iter().map(|_| "content_block_delta"));
    expected.extend(["content_block_stop", "message_delta", "message_stop"]);
    assert_eq!(names, expected);
    let data: Vec<Value> = events
        .iter()
        .map(|(_, data)| serde_json::from_str(data).unwrap())
        .collect();
    for (name, event) in names.iter().zip(&data) {
        assert_eq!(event["type"], *name);
    }
    let start = &data[0]["message"]["usage"];
    assert_eq!(start["input_tokens"], PROMPT_TOKENS);
    assert_eq!(start["cache_creation_input_tokens"], CACHE_CREATION_TOKENS);
    assert_eq!(start["cache_read_input_tokens"], CACHED_TOKENS);
    assert_eq!(start["output_tokens"], ANTHROPIC_START_OUTPUT_TOKENS);
    let text: String = data
        .iter()
        .filter_map(|event| event["delta"]["text"].as_str())
        .collect();
    assert_eq!(text, TEXT);
    let delta = &data[names.len() - 2];
    assert_eq!(delta["delta"]["stop_reason"], "end_turn");
    assert_eq!(delta["usage"]["output_tokens"], COMPLETION_TOKENS);
}

#[tokio::test]
async fn models_with_anthropic_version_lists_anthropic_models() {
    let mock = MockUpstream::start().await;

    let answer = get(
        &mock,
        "/v1/models",
        &[("authorization", "Bearer sk-ant"), VERSION],
    )
    .await;

    assert_eq!(answer.body, mock::expected_models_body(Provider::Anthropic));
    let body = answer.json();
    assert_eq!(body["has_more"], false);
    assert!(
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|model| model["type"] == "model")
    );
}
