//! Gemini: generateContent, streamGenerateContent (SSE and JSON array) and models.

use ai_proxy_tests::mock::{
    self, CACHED_TOKENS, COMPLETION_TOKENS, Endpoint, GEMINI_TOTAL_TOKENS, MockUpstream,
    PROMPT_TOKENS, Provider, TEXT, TEXT_PIECES, THOUGHTS_TOKENS,
};
use serde_json::{Value, json};

use super::{get, post, sse_events};

const KEY: (&str, &str) = ("x-goog-api-key", "gm-test");

fn request() -> Value {
    json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})
}

fn assert_total_usage(usage: &Value) {
    assert_eq!(usage["promptTokenCount"], PROMPT_TOKENS);
    assert_eq!(usage["candidatesTokenCount"], COMPLETION_TOKENS);
    assert_eq!(usage["cachedContentTokenCount"], CACHED_TOKENS);
    assert_eq!(usage["thoughtsTokenCount"], THOUGHTS_TOKENS);
    assert_eq!(usage["totalTokenCount"], GEMINI_TOTAL_TOKENS);
}

#[tokio::test]
async fn generate_content_answers_on_v1beta_and_v1() {
    let mock = MockUpstream::start().await;
    for version in ["v1beta", "v1"] {
        let path = format!("/{version}/models/gemini-x:generateContent");

        let answer = post(&mock, &path, &[KEY], &request()).await;

        assert_eq!(answer.status, 200, "{version}");
        assert_eq!(
            answer.header("content-type"),
            Some("application/json; charset=UTF-8")
        );
        assert_eq!(
            answer.body,
            mock::expected_body(Endpoint::GenerateContent, "gemini-x", false)
        );
        let body = answer.json();
        assert_eq!(body["candidates"][0]["content"]["parts"][0]["text"], TEXT);
        assert_eq!(body["candidates"][0]["content"]["role"], "model");
        assert_eq!(body["candidates"][0]["finishReason"], "STOP");
        assert_eq!(body["modelVersion"], "gemini-x");
        assert_total_usage(&body["usageMetadata"]);
    }
}

#[tokio::test]
async fn stream_with_alt_sse_uses_crlf_framing_and_running_usage() {
    let mock = MockUpstream::start().await;

    let answer = post(
        &mock,
        "/v1beta/models/gemini-x:streamGenerateContent?alt=sse",
        &[KEY],
        &request(),
    )
    .await;

    assert_eq!(answer.header("content-type"), Some("text/event-stream"));
    assert_eq!(
        answer.body,
        mock::expected_body(Endpoint::GenerateContent, "gemini-x", true)
    );
    let events = sse_events(answer.text(), "\r\n\r\n");
    assert_eq!(events.len(), TEXT_PIECES.len());
    let chunks: Vec<Value> = events
        .iter()
        .map(|(name, data)| {
            assert!(name.is_none());
            serde_json::from_str(data).unwrap()
        })
        .collect();
    let pieces: Vec<&str> = chunks
        .iter()
        .map(|c| {
            c["candidates"][0]["content"]["parts"][0]["text"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(pieces, TEXT_PIECES);
    let running: Vec<u64> = chunks
        .iter()
        .map(|c| c["usageMetadata"]["candidatesTokenCount"].as_u64().unwrap())
        .collect();
    assert!(
        running.windows(2).all(|pair| pair[0] <= pair[1]),
        "{running:?}"
    );
    for chunk in &chunks {
        let usage = &chunk["usageMetadata"];
        let sum = PROMPT_TOKENS + usage["candidatesTokenCount"].as_u64().unwrap() + THOUGHTS_TOKENS;
        assert_eq!(usage["totalTokenCount"], sum);
    }
    let last = chunks.last().unwrap();
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    assert_total_usage(&last["usageMetadata"]);
    assert!(
        chunks[..chunks.len() - 1]
            .iter()
            .all(|c| c["candidates"][0].get("finishReason").is_none())
    );
}

#[tokio::test]
async fn stream_without_alt_sse_is_one_json_array() {
    let mock = MockUpstream::start().await;

    let answer = post(
        &mock,
        "/v1/models/gemini-x:streamGenerateContent",
        &[KEY],
        &request(),
    )
    .await;

    assert_eq!(
        answer.header("content-type"),
        Some("application/json; charset=UTF-8")
    );
    let chunks = answer.json();
    let chunks = chunks.as_array().unwrap();
    assert_eq!(chunks.len(), TEXT_PIECES.len());
    assert_total_usage(&chunks.last().unwrap()["usageMetadata"]);
}

#[tokio::test]
async fn key_in_query_is_accepted_like_the_header() {
    let mock = MockUpstream::start().await;

    let ok = post(
        &mock,
        "/v1beta/models/gemini-x:generateContent?key=gm-test",
        &[],
        &request(),
    )
    .await;
    let failing = post(
        &mock,
        "/v1beta/models/gemini-x:generateContent?key=mock-500",
        &[],
        &request(),
    )
    .await;

    assert_eq!(ok.status, 200);
    assert_eq!(failing.status, 500);
}

#[tokio::test]
async fn unknown_method_is_not_found_in_google_shape() {
    let mock = MockUpstream::start().await;

    let answer = post(
        &mock,
        "/v1beta/models/gemini-x:frobnicate",
        &[KEY],
        &request(),
    )
    .await;

    assert_eq!(answer.status, 404);
    assert_eq!(answer.json()["error"]["status"], "NOT_FOUND");
}

#[tokio::test]
async fn models_lists_gemini_models_on_v1beta_and_v1() {
    let mock = MockUpstream::start().await;

    let v1beta = get(&mock, "/v1beta/models", &[KEY]).await;
    let v1 = get(&mock, "/v1/models", &[KEY]).await;
    let one = get(&mock, "/v1beta/models/gemini-x", &[KEY]).await;

    assert_eq!(v1beta.body, mock::expected_models_body(Provider::Gemini));
    assert_eq!(v1.body, v1beta.body);
    let models = v1beta.json();
    assert!(
        models["models"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["name"].as_str().unwrap().starts_with("models/"))
    );
    assert_eq!(one.json()["name"], "models/gemini-x");
}
