//! Behaviour switches: forced statuses, credential prefixes, hangs, pacing and broken streams.

use std::time::Duration;

use ai_proxy_tests::mock::{MockUpstream, Provider, RETRY_AFTER_SECS, error_body};
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{client, post};

const CHAT: &str = "/v1/chat/completions";
const MESSAGES: &str = "/v1/messages";
const GENERATE: &str = "/v1beta/models/gemini-x:generateContent";

fn chat() -> Value {
    json!({"model": "m", "messages": []})
}

#[tokio::test]
async fn forced_429_answers_each_provider_error_shape_with_retry_after() {
    let mock = MockUpstream::start().await;
    let cases = [
        (CHAT, Provider::OpenAi),
        (MESSAGES, Provider::Anthropic),
        (GENERATE, Provider::Gemini),
    ];
    for (path, provider) in cases {
        let answer = post(&mock, path, &[("x-mock-status", "429")], &chat()).await;

        assert_eq!(answer.status, 429, "{provider:?}");
        assert_eq!(
            answer.header("retry-after"),
            Some(RETRY_AFTER_SECS.to_string().as_str())
        );
        assert_eq!(
            answer.body,
            error_body(provider, StatusCode::TOO_MANY_REQUESTS).into_bytes()
        );
    }
}

#[tokio::test]
async fn error_bodies_have_the_provider_fields() {
    let openai: Value =
        serde_json::from_str(&error_body(Provider::OpenAi, StatusCode::TOO_MANY_REQUESTS)).unwrap();
    let anthropic: Value =
        serde_json::from_str(&error_body(Provider::Anthropic, StatusCode::UNAUTHORIZED)).unwrap();
    let gemini: Value = serde_json::from_str(&error_body(
        Provider::Gemini,
        StatusCode::INTERNAL_SERVER_ERROR,
    ))
    .unwrap();

    let error = &openai["error"];
    assert!(error["message"].is_string() && error["type"].is_string());
    assert!(error["param"].is_null());
    assert_eq!(error["code"], "rate_limit_exceeded");
    assert_eq!(anthropic["type"], "error");
    assert_eq!(anthropic["error"]["type"], "authentication_error");
    assert!(anthropic["error"]["message"].is_string());
    assert_eq!(gemini["error"]["code"], 500);
    assert_eq!(gemini["error"]["status"], "INTERNAL");
    assert!(gemini["error"]["message"].is_string());
}

#[tokio::test]
async fn forced_status_outside_error_range_is_ignored() {
    let mock = MockUpstream::start().await;

    let ok = post(&mock, CHAT, &[("x-mock-status", "200")], &chat()).await;
    let junk = post(&mock, CHAT, &[("x-mock-status", "soon")], &chat()).await;

    assert_eq!(ok.status, 200);
    assert_eq!(junk.status, 200);
}

#[tokio::test]
async fn credential_prefix_selects_the_status_in_each_dialect() {
    let mock = MockUpstream::start().await;
    let cases = [
        (
            CHAT,
            ("authorization", "Bearer mock-500-a"),
            500,
            Provider::OpenAi,
        ),
        (
            MESSAGES,
            ("x-api-key", "mock-401-b"),
            401,
            Provider::Anthropic,
        ),
        (
            MESSAGES,
            ("authorization", "Bearer mock-429"),
            429,
            Provider::Anthropic,
        ),
        (
            GENERATE,
            ("x-goog-api-key", "mock-429-c"),
            429,
            Provider::Gemini,
        ),
    ];
    for (path, credential, status, provider) in cases {
        let answer = post(&mock, path, &[credential], &chat()).await;

        assert_eq!(answer.status, status, "{credential:?}");
        let status = StatusCode::from_u16(status).unwrap();
        assert_eq!(answer.body, error_body(provider, status).into_bytes());
    }
}

#[tokio::test]
async fn credential_of_another_dialect_does_not_switch() {
    let mock = MockUpstream::start().await;

    // OpenAI reads only the bearer token; an x-api-key header means nothing there.
    let answer = post(&mock, CHAT, &[("x-api-key", "mock-500")], &chat()).await;

    assert_eq!(answer.status, 200);
}

#[tokio::test]
async fn hang_credential_never_answers_but_is_recorded() {
    let mock = MockUpstream::start().await;
    let request = client()
        .post(format!("{}{CHAT}", mock.base_url()))
        .bearer_auth("mock-hang")
        .timeout(Duration::from_millis(300))
        .body(chat().to_string());

    let error = request.send().await.unwrap_err();

    assert!(error.is_timeout(), "{error}");
    let recorded = mock.requests();
    assert_eq!(recorded.len(), 1);
    assert_eq!(
        recorded[0].header("authorization"),
        Some("Bearer mock-hang")
    );
}

#[tokio::test]
async fn delay_header_spaces_the_stream_events() {
    let mock = MockUpstream::start().await;
    let body = json!({"model": "m", "stream": true});
    let started = std::time::Instant::now();

    let answer = post(&mock, CHAT, &[("x-mock-delay-ms", "20")], &body).await;

    let events = answer.chunks.len() as u32;
    assert!(started.elapsed() >= Duration::from_millis(20) * (events - 1));
}

#[tokio::test]
async fn abort_after_breaks_the_stream_after_that_many_events() {
    let mock = MockUpstream::start().await;
    let response = client()
        .post(format!("{}{MESSAGES}", mock.base_url()))
        .header("x-mock-abort-after", "2")
        .header("x-mock-delay-ms", "5")
        .body(json!({"model": "m", "stream": true}).to_string())
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    let mut stream = response.bytes_stream();
    let mut received = Vec::new();
    let mut failed = false;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(bytes) => received.extend_from_slice(&bytes),
            Err(_) => {
                failed = true;
                break;
            }
        }
    }
    assert!(failed, "the body must end in an error, not a clean end");
    let text = String::from_utf8(received).unwrap();
    assert!(text.starts_with("event: message_start\n"));
    assert!(text.ends_with("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"));
}

#[tokio::test]
async fn body_that_is_not_json_is_refused_with_400_in_each_dialect() {
    let mock = MockUpstream::start().await;
    for (path, provider) in [
        (CHAT, Provider::OpenAi),
        (MESSAGES, Provider::Anthropic),
        (GENERATE, Provider::Gemini),
    ] {
        let answer = super::read(
            client()
                .post(format!("{}{path}", mock.base_url()))
                .body("{not json"),
        )
        .await;

        assert_eq!(answer.status, 400, "{provider:?}");
        assert_eq!(
            answer.body,
            error_body(provider, StatusCode::BAD_REQUEST).into_bytes()
        );
    }
}

#[tokio::test]
async fn unknown_path_is_not_found() {
    let mock = MockUpstream::start().await;

    let answer = post(&mock, "/v2/whatever", &[], &chat()).await;

    assert_eq!(answer.status, 404);
    assert!(answer.json()["error"]["message"].is_string());
}

/// Sends a raw HTTP/1.1 request with `extra` header lines; returns every byte the mock
/// wrote before closing the connection.
async fn raw_exchange(mock: &MockUpstream, extra: &str) -> Vec<u8> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let body = r#"{"model":"m","messages":[]}"#;
    let mut socket = tokio::net::TcpStream::connect(mock.addr()).await.unwrap();
    let request = format!(
        "POST {CHAT} HTTP/1.1\r\nhost: mock\r\ncontent-type: application/json\r\n{extra}content-length: {}\r\n\r\n{body}",
        body.len()
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut got))
        .await
        .expect("the mock closes the connection")
        .unwrap_or_default();
    got
}

#[tokio::test]
async fn reset_closes_the_connection_before_any_byte_of_answer() {
    let mock = MockUpstream::start().await;
    assert!(
        raw_exchange(&mock, "x-mock-fail: reset\r\n")
            .await
            .is_empty()
    );
    assert!(
        raw_exchange(&mock, "authorization: Bearer mock-reset-1\r\n")
            .await
            .is_empty()
    );
    assert_eq!(mock.requests().len(), 2, "both requests were read");
    let answered = post(&mock, CHAT, &[("x-mock-fail", "nothing")], &chat()).await;
    assert_eq!(answered.status, 200, "any other value is ignored");
}
