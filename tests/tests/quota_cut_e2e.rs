//! Streams that cross their client key's daily token quota while they run
//! (issue 5, part 5): with `quota_overrun: cut` the gateway ends them
//! cleanly in the provider's own format and the trace says `quota_cut`;
//! with `finish` (the default) they run to their end; a plugin that cannot
//! end streams lets them finish and the trace says `quota_not_cut`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use ai_proxy_tests::gateway::{TestGateway, openai_miscount_wasm};
use ai_proxy_tests::mock::{MockUpstream, TEXT_PIECES};
use reqwest::Method;
use serde_json::{Value, json};

/// Daily token quota of the keys under test: above one request's
/// admission estimate (its body / 4 + 256), far below a repeated stream.
const QUOTA: i64 = 400;
/// Times the mock repeats its text deltas: ~2,900 bytes, ~725 tokens.
const REPEAT: usize = 100;

/// One SSE event: its `event:` name and `data:` text.
#[derive(Debug)]
struct Event {
    name: Option<String>,
    data: String,
}

/// Splits a whole SSE body into events; panics on a malformed one (a
/// line that is neither a field nor blank, or a torn last event).
fn parse_sse(body: &str) -> Vec<Event> {
    assert!(
        body.ends_with("\n\n") || body.ends_with("\r\n\r\n"),
        "the stream ends inside an event: {:?}",
        &body[body.len().saturating_sub(200)..]
    );
    body.replace("\r\n", "\n")
        .split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let mut event = Event {
                name: None,
                data: String::new(),
            };
            for line in block.lines() {
                if let Some(name) = line.strip_prefix("event: ") {
                    event.name = Some(name.to_owned());
                } else if let Some(data) = line.strip_prefix("data: ") {
                    event.data.push_str(data);
                } else {
                    panic!("malformed SSE line {line:?}");
                }
            }
            event
        })
        .collect()
}

/// A streamed OpenAI chat completion of `REPEAT` times the mock's text:
/// the `x-request-id` and the body.
async fn long_chat(gw: &TestGateway, key: &str) -> (u16, String, String) {
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", gw.proxy_url))
        .bearer_auth(key)
        .header("x-mock-repeat", REPEAT.to_string())
        .header("x-mock-delay-ms", "1")
        .json(&json!({"model": "gpt-4o-mini", "stream": true,
                      "messages": [{"role": "user", "content": "Tell me a long story."}]}))
        .send()
        .await
        .expect("proxy request");
    let status = resp.status().as_u16();
    let id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    (status, id, resp.text().await.expect("a whole body"))
}

async fn tokens_used(gw: &TestGateway, request_id: &str) -> (Value, i64) {
    let trace = gw.trace_by_request_id(request_id).await;
    let used = trace["input_tokens"].as_i64().unwrap() + trace["output_tokens"].as_i64().unwrap();
    (trace, used)
}

#[tokio::test]
async fn a_stream_over_its_token_quota_is_cut_with_a_clean_openai_end() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::in_process().await;
    let pool = gw
        .pool(
            "openai",
            &mock.base_url(),
            &[("k", "sk-up", json!({}))],
            json!({"limits": {"tokens_per_day": QUOTA}, "quota_overrun": "cut"}),
        )
        .await;
    let view = gw
        .admin_ok(
            Method::GET,
            &format!("/api/client-keys/{}", pool.client_id),
            None,
        )
        .await;
    assert_eq!(view["quota_overrun"], "cut");

    let (status, request_id, body) = long_chat(&gw, &pool.client_key).await;
    assert_eq!(status, 200);
    let events = parse_sse(&body);
    let n = events.len();
    assert!(n > 4, "{body}");
    assert_eq!(events[n - 1].data, "[DONE]");
    let usage: Value = serde_json::from_str(&events[n - 2].data).unwrap();
    assert_eq!(usage["choices"], json!([]));
    assert!(usage["usage"]["completion_tokens"].as_u64().unwrap() > 0);
    let finish: Value = serde_json::from_str(&events[n - 3].data).unwrap();
    assert_eq!(finish["choices"][0]["finish_reason"], "length");
    assert_eq!(finish["id"], "chatcmpl-mock000000000000000000000000");
    let deltas = events[..n - 3]
        .iter()
        .map(|e| serde_json::from_str::<Value>(&e.data).expect("every event is whole JSON"))
        .filter(|v| v["choices"][0]["delta"]["content"].is_string())
        .count();
    assert!(
        deltas > 10 && deltas < TEXT_PIECES.len() * REPEAT,
        "{deltas} deltas: cut somewhere in the middle"
    );
    assert!(
        !body.contains(r#""finish_reason":"stop""#),
        "the upstream's own end never reached the client"
    );

    let (trace, used) = tokens_used(&gw, &request_id).await;
    assert_eq!(trace["error_class"], "quota_cut", "{trace}");
    assert!(
        trace["error_message"]
            .as_str()
            .unwrap()
            .contains("tokens_per_day"),
        "{trace}"
    );
    // Cut at the first chunk past the quota: not far past it.
    assert!(
        used > QUOTA - 64 && used < QUOTA + 64,
        "{used} tokens charged for a {QUOTA} quota"
    );

    // The quota is spent: the next request is refused.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (status, _, body) = gw.chat(&pool.client_key).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["param"], "tokens_per_day");
}

#[tokio::test]
async fn an_anthropic_stream_over_its_quota_ends_with_max_tokens_and_message_stop() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::in_process().await;
    let pool = gw
        .pool(
            "anthropic",
            &mock.base_url(),
            &[("k", "sk-up", json!({}))],
            json!({"limits": {"tokens_per_day": QUOTA}, "quota_overrun": "cut"}),
        )
        .await;
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/messages", gw.proxy_url))
        .header("x-api-key", &pool.client_key)
        .header("x-mock-repeat", REPEAT.to_string())
        .json(
            &json!({"model": "claude-sonnet-4", "max_tokens": 4096, "stream": true,
                      "messages": [{"role": "user", "content": "Tell me a long story."}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let request_id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    let events = parse_sse(&resp.text().await.unwrap());
    let names: Vec<&str> = events
        .iter()
        .rev()
        .take(3)
        .filter_map(|e| e.name.as_deref())
        .collect();
    assert_eq!(
        names,
        ["message_stop", "message_delta", "content_block_stop"]
    );
    let delta: Value = serde_json::from_str(&events[events.len() - 2].data).unwrap();
    assert_eq!(delta["delta"]["stop_reason"], "max_tokens");
    let (trace, _) = tokens_used(&gw, &request_id).await;
    assert_eq!(trace["error_class"], "quota_cut", "{trace}");
}

#[tokio::test]
async fn official_python_sdks_read_cut_streams_to_a_clean_end() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::in_process().await;
    let mut keys = Vec::new();
    for provider in ["openai", "anthropic"] {
        let pool = gw
            .pool(
                provider,
                &mock.base_url(),
                &[("k", "sk-up", json!({}))],
                json!({"limits": {"tokens_per_day": QUOTA}, "quota_overrun": "cut"}),
            )
            .await;
        keys.push(pool.client_key);
    }
    let run = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/run.sh");
    let proxy_url = gw.proxy_url.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(run)
            .args(["-q", "-rs", "quota_cut_sdks.py"])
            .env("AI_PROXY_BASE_URL", proxy_url)
            .env("AI_PROXY_OPENAI_CUT_KEY", &keys[0])
            .env("AI_PROXY_ANTHROPIC_CUT_KEY", &keys[1])
            .output()
    })
    .await
    .unwrap()
    .expect("run tests/python/run.sh");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("2 passed"), "{stdout}");
    let traces = gw.traces(2).await;
    assert!(
        traces.iter().all(|t| t["error_class"] == "quota_cut"),
        "{traces:?}"
    );
}

#[tokio::test]
async fn a_gemini_stream_over_its_quota_ends_with_max_tokens() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::in_process().await;
    let pool = gw
        .pool(
            "gemini",
            &mock.base_url(),
            &[("k", "up-gemini", json!({}))],
            json!({"limits": {"tokens_per_day": QUOTA}, "quota_overrun": "cut"}),
        )
        .await;
    let resp = reqwest::Client::new()
        .post(format!(
            "{}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
            gw.proxy_url
        ))
        .header("x-goog-api-key", &pool.client_key)
        .header("x-mock-repeat", REPEAT.to_string())
        .json(
            &json!({"contents": [{"role": "user", "parts": [{"text": "Tell me a long story."}]}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let request_id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    let events = parse_sse(&resp.text().await.unwrap());
    assert!(events.len() > 10 && events.len() < TEXT_PIECES.len() * REPEAT);
    let last: Value = serde_json::from_str(&events.last().unwrap().data).unwrap();
    assert_eq!(
        last["candidates"][0]["finishReason"], "MAX_TOKENS",
        "{last}"
    );
    assert_eq!(last["responseId"], "mock-gemini-response-id");
    let (trace, used) = tokens_used(&gw, &request_id).await;
    assert_eq!(trace["error_class"], "quota_cut", "{trace}");
    assert!(used < QUOTA + 64, "{used}");
}

#[tokio::test]
async fn with_finish_a_stream_over_its_quota_runs_to_its_end() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::in_process().await;
    let pool = gw
        .pool(
            "openai",
            &mock.base_url(),
            &[("k", "sk-up", json!({}))],
            json!({"limits": {"tokens_per_day": QUOTA}}),
        )
        .await;
    let (status, request_id, body) = long_chat(&gw, &pool.client_key).await;
    assert_eq!(status, 200);
    let events = parse_sse(&body);
    assert_eq!(events.last().unwrap().data, "[DONE]");
    assert!(
        body.contains(r#""finish_reason":"stop""#),
        "the whole answer"
    );
    let (trace, used) = tokens_used(&gw, &request_id).await;
    assert!(trace["error_class"].is_null(), "{trace}");
    assert!(used > QUOTA, "charged in full: {used}");
}

#[tokio::test]
async fn a_plugin_that_cannot_end_streams_lets_them_finish_and_says_so() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::in_process().await;
    // Version 0.3.0 of `openai` (a test fixture) writes no terminal events;
    // it also miscounts cached tokens, so it fails its vectors and is forced in.
    let wasm = std::fs::read(openai_miscount_wasm()).unwrap();
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(wasm).file_name("openai-miscount.wasm"),
    );
    let resp = reqwest::Client::new()
        .post(format!("{}/api/plugins?force=true", gw.admin_url))
        .basic_auth("admin", Some(ai_proxy_tests::gateway::ADMIN_PASSWORD))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());
    let pool = gw
        .pool(
            "openai",
            &mock.base_url(),
            &[("k", "sk-up", json!({}))],
            json!({"limits": {"tokens_per_day": QUOTA}, "quota_overrun": "cut"}),
        )
        .await;
    let (status, request_id, body) = long_chat(&gw, &pool.client_key).await;
    assert_eq!(status, 200);
    assert_eq!(parse_sse(&body).last().unwrap().data, "[DONE]");
    assert!(
        body.contains(r#""finish_reason":"stop""#),
        "the whole answer"
    );
    let trace = gw.trace_by_request_id(&request_id).await;
    assert_eq!(trace["plugin_version"], "0.3.0", "{trace}");
    assert_eq!(trace["error_class"], "quota_not_cut", "{trace}");
}

#[tokio::test]
async fn quota_overrun_is_validated_and_kept_to_operators() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::in_process().await;
    let pool = gw
        .pool(
            "openai",
            &mock.base_url(),
            &[("k", "sk-up", json!({}))],
            json!({}),
        )
        .await;
    let path = format!("/api/client-keys/{}", pool.client_id);
    assert_eq!(
        gw.admin_ok(Method::GET, &path, None).await["quota_overrun"],
        "finish",
        "the default"
    );
    for bad in [
        json!({"quota_overrun": "stop"}),
        json!({"quota_overrun": 1}),
    ] {
        let (status, body) = gw.admin(Method::PUT, &path, Some(bad.clone())).await;
        assert!(status == 400 || status == 422, "{bad} -> {status}");
        assert!(body["error"]["message"].is_string(), "{body}");
    }
    let set = gw
        .admin_ok(Method::PUT, &path, Some(json!({"quota_overrun": "cut"})))
        .await;
    assert_eq!(set["quota_overrun"], "cut");
}
