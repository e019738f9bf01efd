//! A JavaScript plugin's stream cut at its client's quota (issue 15, item
//! 5): the DeepSeek plugin (`plugins/js/deepseek`, componentize-qjs)
//! exports `stream-control` and keeps a running output estimate, so a
//! stream over a key's daily tokens ends cleanly in the OpenAI format
//! (a `finish_reason: "length"` chunk, the usage so far, `[DONE]`), the
//! upstream's own end never reaches the client, and the trace says
//! `quota_cut`. Before, a JavaScript provider's streams always ran to
//! their end.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use ai_proxy_tests::gateway::TestGateway;
use ai_proxy_tests::mock::{MockUpstream, TEXT_PIECES};
use reqwest::Method;
use serde_json::{Value, json};

/// Daily token quota of the key under test: above one request's
/// admission estimate, far below a repeated stream.
const QUOTA: i64 = 400;
/// Times the mock repeats its text deltas: ~2,900 bytes, ~725 tokens.
const REPEAT: usize = 100;

fn deepseek_wasm() -> Option<PathBuf> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../plugins/js/deepseek/dist/deepseek.wasm");
    if path.is_file() {
        return Some(path);
    }
    let reason = format!(
        "{} is missing: run plugins/js/build.sh (scripts/test.sh does)",
        path.display()
    );
    assert!(
        std::env::var("AI_PROXY_REQUIRE_SERVICES").as_deref() != Ok("1"),
        "{reason}"
    );
    println!("skipped: {reason}");
    None
}

/// The data of each event of a whole SSE body; panics on a torn end.
fn events(body: &str) -> Vec<String> {
    assert!(
        body.ends_with("\n\n"),
        "the stream ends inside an event: {body:?}"
    );
    body.split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            block
                .lines()
                .filter_map(|l| l.strip_prefix("data: "))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect()
}

#[tokio::test]
async fn a_javascript_plugins_stream_over_its_quota_is_cut_with_a_clean_end() {
    let Some(wasm) = deepseek_wasm() else { return };
    let mock = MockUpstream::start().await;
    let gw = TestGateway::in_process_with(&[("AI_PROXY_PLUGIN_FILES", wasm.display().to_string())])
        .await;
    gw.admin_ok(
        Method::POST,
        "/api/providers",
        Some(json!({"name": "deepseek", "plugin": "deepseek", "base_url": mock.base_url()})),
    )
    .await;
    let plugins = gw.admin_ok(Method::GET, "/api/plugins", None).await;
    assert!(
        plugins.to_string().contains("deepseek"),
        "the JavaScript plugin is loaded: {plugins}"
    );
    let pool = gw
        .pool(
            "deepseek",
            &mock.base_url(),
            &[("k", "sk-deepseek-upstream", json!({}))],
            json!({"limits": {"tokens_per_day": QUOTA}, "quota_overrun": "cut"}),
        )
        .await;
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", gw.proxy_url))
        .bearer_auth(&pool.client_key)
        .header("x-mock-repeat", REPEAT.to_string())
        .header("x-mock-delay-ms", "1")
        .json(&json!({"model": "deepseek-chat", "stream": true,
                      "messages": [{"role": "user", "content": "Tell me a long story."}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let request_id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body = resp.text().await.unwrap();
    let events = events(&body);
    let n = events.len();
    assert!(n > 4, "{body}");
    assert_eq!(events[n - 1], "[DONE]");
    let usage: Value = serde_json::from_str(&events[n - 2]).unwrap();
    assert_eq!(usage["choices"], json!([]), "{usage}");
    assert!(
        usage["usage"]["completion_tokens"].as_u64().unwrap() > 0,
        "{usage}"
    );
    let finish: Value = serde_json::from_str(&events[n - 3]).unwrap();
    assert_eq!(finish["choices"][0]["finish_reason"], "length", "{finish}");
    assert_eq!(finish["id"], "chatcmpl-mock000000000000000000000000");
    let deltas = events[..n - 3]
        .iter()
        .map(|e| serde_json::from_str::<Value>(e).expect("every event is whole JSON"))
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
    let trace = gw.trace_by_request_id(&request_id).await;
    assert_eq!(trace["error_class"], "quota_cut", "{trace}");
    let used = trace["input_tokens"].as_i64().unwrap() + trace["output_tokens"].as_i64().unwrap();
    assert!(
        used > QUOTA - 64 && used < QUOTA + 64,
        "{used} tokens charged for a {QUOTA} quota"
    );
}
