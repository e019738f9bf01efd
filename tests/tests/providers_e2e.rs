//! The real gateway between a client and the mock upstream, for every
//! built-in provider, JSON and streaming, on SQLite and on PostgreSQL:
//! the upstream sees the upstream key and nothing identifying the client,
//! the client gets the upstream's bytes unchanged, and the trace holds the
//! model, the tokens and the cost.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ai_proxy_tests::gateway::TestGateway;
use ai_proxy_tests::mock::{
    CACHE_CREATION_TOKENS, CACHED_TOKENS, COMPLETION_TOKENS, Endpoint, MockUpstream, PROMPT_TOKENS,
    REASONING_TOKENS, RecordedRequest, THOUGHTS_TOKENS, expected_body,
};
use ai_proxy_tests::postgres::TempDatabase;
use serde_json::{Value, json};

/// Headers a client might send that must never reach the upstream.
const IDENTITY_HEADERS: &[(&str, &str)] = &[
    ("x-forwarded-for", "203.0.113.7"),
    ("x-real-ip", "203.0.113.7"),
    ("forwarded", "for=203.0.113.7"),
    ("cookie", "session=abc"),
    ("via", "1.1 corp-proxy"),
    ("true-client-ip", "203.0.113.7"),
    ("cf-connecting-ip", "203.0.113.7"),
    ("x-client-ip", "203.0.113.7"),
    ("x-cluster-client-ip", "203.0.113.7"),
];

struct Call<'a> {
    path: &'a str,
    body: Value,
    /// The header carrying the client key; `None` when the key is in the URL.
    key_header: Option<(&'a str, String)>,
}

/// Sends `call` through the gateway; returns status, request id and body.
async fn send(gw: &TestGateway, call: Call<'_>) -> (u16, String, Vec<u8>) {
    let mut req = reqwest::Client::new()
        .post(format!("{}{}", gw.proxy_url, call.path))
        .json(&call.body);
    if let Some((name, value)) = call.key_header {
        req = req.header(name, value);
    }
    for (k, v) in IDENTITY_HEADERS {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.expect("proxy request");
    let status = resp.status().as_u16();
    let request_id = resp
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (
        status,
        request_id,
        resp.bytes().await.expect("body").to_vec(),
    )
}

/// The upstream request must carry only the upstream credential.
fn assert_clean_upstream(seen: &RecordedRequest, client_key: &str) {
    for (name, value) in &seen.headers {
        assert!(
            !value.contains(client_key),
            "client key leaked upstream in {name}"
        );
        assert!(
            !IDENTITY_HEADERS.iter().any(|(n, _)| n == name),
            "client identity header {name} reached the upstream"
        );
    }
    assert!(
        !seen.path_and_query.contains(client_key),
        "client key leaked upstream in the path"
    );
}

fn last(mock: &MockUpstream) -> RecordedRequest {
    mock.requests().pop().expect("the upstream saw a request")
}

fn assert_trace(t: &Value, model: &str, stream: bool, usage: [u64; 5], cost_nanos: u64) {
    assert_eq!(t["status_code"], 200, "{t}");
    assert_eq!(t["model"], model);
    assert_eq!(t["is_stream"], stream, "{t}");
    let [input, output, cached, cache_write, reasoning] = usage;
    assert_eq!(t["input_tokens"], input, "{t}");
    assert_eq!(t["output_tokens"], output, "{t}");
    assert_eq!(t["cached_input_tokens"], cached, "{t}");
    assert_eq!(t["cache_write_tokens"], cache_write, "{t}");
    assert_eq!(t["reasoning_tokens"], reasoning, "{t}");
    assert_eq!(t["cost_nanos"], cost_nanos, "{t}");
    assert_eq!(t["attempts"], 1);
    assert!(
        t["request_id"]
            .as_str()
            .is_some_and(|r| r.starts_with("req_"))
    );
}

async fn openai(gw: &TestGateway, mock: &MockUpstream) {
    let key = gw
        .client_key_for("openai", &mock.base_url(), "sk-upstream-openai")
        .await;
    // gpt-4o-mini: $0.15 in, $0.075 cached, $0.60 out per 1M tokens.
    let usage = [
        PROMPT_TOKENS,
        COMPLETION_TOKENS,
        CACHED_TOKENS,
        0,
        REASONING_TOKENS,
    ];
    let cost = ((PROMPT_TOKENS - CACHED_TOKENS) * 150_000
        + CACHED_TOKENS * 75_000
        + COMPLETION_TOKENS * 600_000
        + 500)
        / 1000;
    for stream in [false, true] {
        let body = json!({"model": "gpt-4o-mini", "stream": stream, "messages": [{"role": "user", "content": "hi"}]});
        let (status, rid, got) = send(
            gw,
            Call {
                path: "/v1/chat/completions",
                body,
                key_header: Some(("authorization", format!("Bearer {key}"))),
            },
        )
        .await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&got));
        // Streams ask for usage: the gateway adds stream_options.include_usage.
        let expected = expected_body(
            Endpoint::ChatCompletions {
                include_usage: stream,
            },
            "gpt-4o-mini",
            stream,
        );
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&expected)
        );
        let seen = last(mock);
        assert_eq!(
            seen.header("authorization"),
            Some("Bearer sk-upstream-openai")
        );
        assert_clean_upstream(&seen, &key);
        if stream {
            assert_eq!(
                seen.json().unwrap()["stream_options"]["include_usage"],
                true
            );
        }
        assert_trace(
            &gw.trace_by_request_id(&rid).await,
            "gpt-4o-mini",
            stream,
            usage,
            cost,
        );
    }
    // The Responses API: gpt-4o, $2.50 in, $1.25 cached, $10 out.
    let cost = ((PROMPT_TOKENS - CACHED_TOKENS) * 2_500_000
        + CACHED_TOKENS * 1_250_000
        + COMPLETION_TOKENS * 10_000_000
        + 500)
        / 1000;
    for stream in [false, true] {
        let body = json!({"model": "gpt-4o", "stream": stream, "input": "hi"});
        let (status, rid, got) = send(
            gw,
            Call {
                path: "/v1/responses",
                body,
                key_header: Some(("authorization", format!("Bearer {key}"))),
            },
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(got, expected_body(Endpoint::Responses, "gpt-4o", stream));
        assert_clean_upstream(&last(mock), &key);
        assert_trace(
            &gw.trace_by_request_id(&rid).await,
            "gpt-4o",
            stream,
            usage,
            cost,
        );
    }
}

async fn anthropic(gw: &TestGateway, mock: &MockUpstream) {
    let key = gw
        .client_key_for("anthropic", &mock.base_url(), "sk-ant-upstream")
        .await;
    let model = "claude-sonnet-4-20250514";
    // Anthropic's input_tokens exclude cache reads; the gateway's include them.
    let input = PROMPT_TOKENS + CACHED_TOKENS;
    let usage = [
        input,
        COMPLETION_TOKENS,
        CACHED_TOKENS,
        CACHE_CREATION_TOKENS,
        0,
    ];
    // claude-sonnet-4: $3 in, $0.30 cache read, $3.75 cache write, $15 out.
    let cost = (PROMPT_TOKENS * 3_000_000
        + CACHED_TOKENS * 300_000
        + CACHE_CREATION_TOKENS * 3_750_000
        + COMPLETION_TOKENS * 15_000_000
        + 500)
        / 1000;
    for stream in [false, true] {
        let body = json!({"model": model, "max_tokens": 64, "stream": stream, "messages": [{"role": "user", "content": "hi"}]});
        let (status, rid, got) = send(
            gw,
            Call {
                path: "/v1/messages",
                body,
                key_header: Some(("x-api-key", key.clone())),
            },
        )
        .await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&got));
        assert_eq!(got, expected_body(Endpoint::Messages, model, stream));
        let seen = last(mock);
        assert_eq!(seen.header("x-api-key"), Some("sk-ant-upstream"));
        assert_eq!(seen.header("authorization"), None);
        assert!(seen.header("anthropic-version").is_some());
        assert_clean_upstream(&seen, &key);
        assert_trace(
            &gw.trace_by_request_id(&rid).await,
            model,
            stream,
            usage,
            cost,
        );
    }
}

async fn gemini(gw: &TestGateway, mock: &MockUpstream) {
    let key = gw
        .client_key_for("gemini", &mock.base_url(), "goog-upstream-key")
        .await;
    let model = "gemini-2.5-flash";
    let usage = [
        PROMPT_TOKENS,
        COMPLETION_TOKENS + THOUGHTS_TOKENS,
        CACHED_TOKENS,
        0,
        THOUGHTS_TOKENS,
    ];
    // gemini-2.5-flash: $0.30 in, $0.075 cached, $2.50 out (thoughts bill as output).
    let cost = ((PROMPT_TOKENS - CACHED_TOKENS) * 300_000
        + CACHED_TOKENS * 75_000
        + (COMPLETION_TOKENS + THOUGHTS_TOKENS) * 2_500_000
        + 500)
        / 1000;
    let body = json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]});
    let calls = [
        (
            format!("/v1beta/models/{model}:generateContent?key={key}"),
            None,
            false,
        ),
        (
            format!("/v1beta/models/{model}:streamGenerateContent?alt=sse"),
            Some(("x-goog-api-key", key.clone())),
            true,
        ),
    ];
    for (path, key_header, stream) in calls {
        let (status, rid, got) = send(
            gw,
            Call {
                path: &path,
                body: body.clone(),
                key_header,
            },
        )
        .await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&got));
        assert_eq!(got, expected_body(Endpoint::GenerateContent, model, stream));
        let seen = last(mock);
        assert_eq!(seen.header("x-goog-api-key"), Some("goog-upstream-key"));
        assert!(
            !seen.path_and_query.contains("key="),
            "{}",
            seen.path_and_query
        );
        assert_clean_upstream(&seen, &key);
        assert_trace(
            &gw.trace_by_request_id(&rid).await,
            model,
            stream,
            usage,
            cost,
        );
    }
}

async fn suite(database_url: Option<String>) {
    let mock = MockUpstream::start().await;
    let env: Vec<(&str, String)> = database_url
        .into_iter()
        .map(|u| ("DATABASE_URL", u))
        .collect();
    let gw = TestGateway::in_process_with(&env).await;
    openai(&gw, &mock).await;
    anthropic(&gw, &mock).await;
    gemini(&gw, &mock).await;
    // The health endpoint reports the trace writer's counters.
    let health: Value = reqwest::get(format!("{}/api/health", gw.admin_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        health["traces"]["written"].as_u64().unwrap() >= 8,
        "{health}"
    );
    assert_eq!(health["traces"]["dropped_queue_full"], 0);
}

#[tokio::test]
async fn every_provider_json_and_stream_on_sqlite() {
    suite(None).await;
}

#[tokio::test]
async fn every_provider_json_and_stream_on_postgres() {
    let Some(db) = TempDatabase::create("providers_e2e").await else {
        return;
    };
    suite(Some(db.url.clone())).await;
    db.drop_database().await;
}
