//! OpenAI: chat completions, Responses, models, embeddings.

use ai_proxy_tests::mock::{
    self, CACHED_TOKENS, COMPLETION_TOKENS, EMBEDDING_DIMENSIONS, Endpoint, MockUpstream,
    OPENAI_TOTAL_TOKENS, PROMPT_TOKENS, Provider, REASONING_TOKENS, TEXT, TEXT_PIECES,
    embedding_value,
};
use serde_json::{Value, json};

use super::{get, post, sse_events};

const AUTH: (&str, &str) = ("authorization", "Bearer sk-test");

fn assert_chat_usage(usage: &Value) {
    assert_eq!(usage["prompt_tokens"], PROMPT_TOKENS);
    assert_eq!(usage["completion_tokens"], COMPLETION_TOKENS);
    assert_eq!(usage["total_tokens"], OPENAI_TOTAL_TOKENS);
    assert_eq!(
        usage["prompt_tokens_details"]["cached_tokens"],
        CACHED_TOKENS
    );
    assert_eq!(
        usage["completion_tokens_details"]["reasoning_tokens"],
        REASONING_TOKENS
    );
}

#[tokio::test]
async fn chat_completion_echoes_model_and_reports_usage() {
    let mock = MockUpstream::start().await;

    let answer = post(
        &mock,
        "/v1/chat/completions",
        &[AUTH],
        &json!({"model": "gpt-x", "messages": []}),
    )
    .await;

    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(answer.header("x-request-id"), Some(mock::REQUEST_ID));
    assert_eq!(
        answer.body,
        mock::expected_body(
            Endpoint::ChatCompletions {
                include_usage: false
            },
            "gpt-x",
            false
        )
    );
    let body = answer.json();
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "gpt-x");
    assert_eq!(body["choices"][0]["message"]["content"], TEXT);
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_chat_usage(&body["usage"]);
}

#[tokio::test]
async fn chat_stream_with_include_usage_ends_with_usage_chunk_then_done() {
    let mock = MockUpstream::start().await;
    let request =
        json!({"model": "gpt-x", "stream": true, "stream_options": {"include_usage": true}});

    let answer = post(&mock, "/v1/chat/completions", &[AUTH], &request).await;

    assert_eq!(
        answer.header("content-type"),
        Some("text/event-stream; charset=utf-8")
    );
    assert_eq!(
        answer.body,
        mock::expected_body(
            Endpoint::ChatCompletions {
                include_usage: true
            },
            "gpt-x",
            true
        )
    );
    let events = sse_events(answer.text(), "\n\n");
    let (last, chunks) = events.split_last().unwrap();
    assert_eq!(last, &(None, String::from("[DONE]")));
    let chunks: Vec<Value> = chunks
        .iter()
        .map(|(name, data)| {
            assert!(name.is_none());
            serde_json::from_str(data).unwrap()
        })
        .collect();
    assert!(
        chunks
            .iter()
            .all(|chunk| chunk["object"] == "chat.completion.chunk" && chunk["model"] == "gpt-x")
    );
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, TEXT);
    let (usage_chunk, others) = chunks.split_last().unwrap();
    assert_eq!(usage_chunk["choices"], json!([]));
    assert_chat_usage(&usage_chunk["usage"]);
    assert!(
        others
            .iter()
            .all(|chunk| chunk.get("usage") == Some(&Value::Null))
    );
    assert_eq!(
        others.last().unwrap()["choices"][0]["finish_reason"],
        "stop"
    );
}

#[tokio::test]
async fn chat_stream_without_include_usage_has_no_usage_member() {
    let mock = MockUpstream::start().await;

    let answer = post(
        &mock,
        "/v1/chat/completions",
        &[AUTH],
        &json!({"model": "gpt-x", "stream": true}),
    )
    .await;

    let events = sse_events(answer.text(), "\n\n");
    assert_eq!(events.len(), TEXT_PIECES.len() + 3);
    for (_, data) in &events[..events.len() - 1] {
        let chunk: Value = serde_json::from_str(data).unwrap();
        assert!(chunk.get("usage").is_none());
        assert_eq!(chunk["choices"].as_array().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn chat_stream_with_delay_sends_each_event_as_its_own_chunk() {
    let mock = MockUpstream::start().await;
    let request =
        json!({"model": "gpt-x", "stream": true, "stream_options": {"include_usage": true}});

    let answer = post(
        &mock,
        "/v1/chat/completions",
        &[AUTH, ("x-mock-delay-ms", "15")],
        &request,
    )
    .await;

    let expected = mock::expected_events(
        Endpoint::ChatCompletions {
            include_usage: true,
        },
        "gpt-x",
    );
    let chunks: Vec<String> = answer
        .chunks
        .iter()
        .map(|chunk| String::from_utf8(chunk.clone()).unwrap())
        .collect();
    assert_eq!(chunks, expected);
}

#[tokio::test]
async fn responses_create_reports_output_text_and_usage() {
    let mock = MockUpstream::start().await;

    let answer = post(
        &mock,
        "/v1/responses",
        &[AUTH],
        &json!({"model": "gpt-x", "input": "hi"}),
    )
    .await;

    assert_eq!(
        answer.body,
        mock::expected_body(Endpoint::Responses, "gpt-x", false)
    );
    let body = answer.json();
    assert_eq!(body["object"], "response");
    assert_eq!(body["status"], "completed");
    assert_eq!(body["output"][0]["content"][0]["text"], TEXT);
    let usage = &body["usage"];
    assert_eq!(usage["input_tokens"], PROMPT_TOKENS);
    assert_eq!(
        usage["input_tokens_details"]["cached_tokens"],
        CACHED_TOKENS
    );
    assert_eq!(usage["output_tokens"], COMPLETION_TOKENS);
    assert_eq!(
        usage["output_tokens_details"]["reasoning_tokens"],
        REASONING_TOKENS
    );
    assert_eq!(usage["total_tokens"], OPENAI_TOTAL_TOKENS);
}

#[tokio::test]
async fn responses_stream_names_every_event_and_ends_with_completed() {
    let mock = MockUpstream::start().await;

    let answer = post(
        &mock,
        "/v1/responses",
        &[AUTH],
        &json!({"model": "gpt-x", "stream": true}),
    )
    .await;

    assert_eq!(
        answer.header("content-type"),
        Some("text/event-stream; charset=utf-8")
    );
    assert_eq!(
        answer.body,
        mock::expected_body(Endpoint::Responses, "gpt-x", true)
    );
    let events = sse_events(answer.text(), "\n\n");
    for (index, (name, data)) in events.iter().enumerate() {
        let event: Value = serde_json::from_str(data).unwrap();
        assert_eq!(name.as_deref(), event["type"].as_str());
        assert_eq!(event["sequence_number"], index);
    }
    assert_eq!(
        events.first().unwrap().0.as_deref(),
        Some("response.created")
    );
    let (name, data) = events.last().unwrap();
    assert_eq!(name.as_deref(), Some("response.completed"));
    let completed: Value = serde_json::from_str(data).unwrap();
    assert_eq!(
        completed["response"]["usage"]["total_tokens"],
        OPENAI_TOTAL_TOKENS
    );
    let deltas: Vec<String> = events
        .iter()
        .filter(|(name, _)| name.as_deref() == Some("response.output_text.delta"))
        .map(|(_, data)| {
            serde_json::from_str::<Value>(data).unwrap()["delta"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(deltas, TEXT_PIECES);
    assert!(!answer.text().contains("[DONE]"));
}

#[tokio::test]
async fn models_without_provider_headers_lists_openai_models() {
    let mock = MockUpstream::start().await;

    let answer = get(&mock, "/v1/models", &[AUTH]).await;

    assert_eq!(answer.body, mock::expected_models_body(Provider::OpenAi));
    let body = answer.json();
    assert_eq!(body["object"], "list");
    assert!(
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|model| model["object"] == "model")
    );
}

#[tokio::test]
async fn embeddings_answer_one_float_vector_per_input() {
    let mock = MockUpstream::start().await;

    let answer = post(
        &mock,
        "/v1/embeddings",
        &[AUTH],
        &json!({"model": "emb", "input": ["a", "b", "c"]}),
    )
    .await;

    assert_eq!(
        answer.body,
        mock::expected_embeddings_body("emb", 3, EMBEDDING_DIMENSIONS, false)
    );
    let body = answer.json();
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 3);
    let first: Vec<f64> = data[0]["embedding"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let expected: Vec<f64> = (0..EMBEDDING_DIMENSIONS)
        .map(|i| f64::from(embedding_value(i)))
        .collect();
    assert_eq!(first, expected);
    assert_eq!(body["usage"]["prompt_tokens"], PROMPT_TOKENS);
}

#[tokio::test]
async fn embeddings_in_base64_are_little_endian_f32() {
    use base64::Engine;
    let mock = MockUpstream::start().await;
    let request =
        json!({"model": "emb", "input": "a", "encoding_format": "base64", "dimensions": 4});

    let answer = post(&mock, "/v1/embeddings", &[AUTH], &request).await;

    let body = answer.json();
    let encoded = body["data"][0]["embedding"].as_str().unwrap();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    let values: Vec<f32> = bytes
        .chunks(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert_eq!(values, (0..4).map(embedding_value).collect::<Vec<_>>());
}
