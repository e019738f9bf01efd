//! A provider plugin written in JavaScript (`plugins/js/deepseek`, compiled
//! with componentize-qjs by `plugins/js/build.sh`), loaded from a file at
//! start, in front of the mock upstream: the same guarantees as a Rust
//! plugin's (the upstream key in `Authorization`, usage asked for on
//! streams, tokens and cost in the trace), and the official `openai` Python
//! SDK works through it.
//!
//! The component is found at `AI_PROXY_JS_PLUGIN_WASM`, or where the build
//! script writes it. When it is missing the tests are skipped with a printed
//! reason, unless `AI_PROXY_REQUIRE_SERVICES=1`, where that is a failure.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use ai_proxy_tests::gateway::TestGateway;
use ai_proxy_tests::mock::{
    CACHED_TOKENS, COMPLETION_TOKENS, Endpoint, MockUpstream, PROMPT_TOKENS, REASONING_TOKENS,
    expected_body,
};
use reqwest::Method;
use serde_json::json;

const UPSTREAM_KEY: &str = "sk-deepseek-upstream";
const MODEL: &str = "deepseek-chat";

/// The DeepSeek component, or `None` (after saying why) when it was not built.
fn deepseek_wasm() -> Option<PathBuf> {
    let path = std::env::var_os("AI_PROXY_JS_PLUGIN_WASM").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../plugins/js/deepseek/dist/deepseek.wasm")
        },
        PathBuf::from,
    );
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

/// The gateway with the plugin loaded and a provider, an upstream key and a
/// client key using it; returns the client key.
async fn deepseek_gateway(wasm: &Path, mock: &MockUpstream) -> (TestGateway, String) {
    let gw = TestGateway::in_process_with(&[("AI_PROXY_PLUGIN_FILES", wasm.display().to_string())])
        .await;
    gw.admin_ok(
        Method::POST,
        "/api/providers",
        Some(json!({"name": "deepseek", "plugin": "deepseek", "base_url": mock.base_url()})),
    )
    .await;
    let key = gw
        .client_key_for("deepseek", &mock.base_url(), UPSTREAM_KEY)
        .await;
    (gw, key)
}

/// DeepSeek's price: $0.28 cache miss, $0.028 cache hit, $0.42 out per 1M tokens.
fn deepseek_cost() -> u64 {
    ((PROMPT_TOKENS - CACHED_TOKENS) * 280_000
        + CACHED_TOKENS * 28_000
        + COMPLETION_TOKENS * 420_000
        + 500)
        / 1000
}

#[tokio::test]
async fn js_plugin_proxies_json_and_streams_with_usage_and_cost() {
    let Some(wasm) = deepseek_wasm() else { return };
    let mock = MockUpstream::start().await;
    let (gw, key) = deepseek_gateway(&wasm, &mock).await;
    let client = reqwest::Client::new();

    for stream in [false, true] {
        let body = json!({"model": MODEL, "stream": stream, "messages": [{"role": "user", "content": "你好 👋"}]});
        let resp = client
            .post(format!("{}/v1/chat/completions", gw.proxy_url))
            .bearer_auth(&key)
            .json(&body)
            .send()
            .await
            .expect("proxy request");
        let status = resp.status().as_u16();
        let rid = resp.headers()["x-request-id"]
            .to_str()
            .expect("request id")
            .to_owned();
        let got = resp.bytes().await.expect("body");

        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&got));
        let expected = expected_body(
            Endpoint::ChatCompletions {
                include_usage: stream,
            },
            MODEL,
            stream,
        );
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&expected)
        );
        let seen = mock.requests().pop().expect("the upstream saw a request");
        assert_eq!(seen.path_and_query, "/v1/chat/completions");
        assert_eq!(
            seen.header("authorization"),
            Some(format!("Bearer {UPSTREAM_KEY}").as_str())
        );
        let sent = seen.json().expect("JSON body");
        assert_eq!(sent["messages"][0]["content"], "你好 👋", "UTF-8 intact");
        assert_eq!(
            sent["stream_options"]["include_usage"] == true,
            stream,
            "{sent}"
        );

        let t = gw.trace_by_request_id(&rid).await;
        assert_eq!(t["status_code"], 200, "{t}");
        assert_eq!(t["provider_name"], "deepseek", "{t}");
        assert_eq!(t["model"], MODEL, "{t}");
        assert_eq!(t["is_stream"], stream, "{t}");
        assert_eq!(t["input_tokens"], PROMPT_TOKENS, "{t}");
        assert_eq!(t["output_tokens"], COMPLETION_TOKENS, "{t}");
        assert_eq!(t["cached_input_tokens"], CACHED_TOKENS, "{t}");
        assert_eq!(t["reasoning_tokens"], REASONING_TOKENS, "{t}");
        assert_eq!(t["cost_nanos"], deepseek_cost(), "{t}");
    }
}

#[tokio::test]
async fn js_plugin_errors_are_classified_and_bad_requests_refused() {
    let Some(wasm) = deepseek_wasm() else { return };
    let mock = MockUpstream::start().await;
    let (gw, key) = deepseek_gateway(&wasm, &mock).await;
    let client = reqwest::Client::new();

    // `inspect` refuses a non-string model: the gateway answers 400 without calling upstream.
    let resp = client
        .post(format!("{}/v1/chat/completions", gw.proxy_url))
        .bearer_auth(&key)
        .json(&json!({"model": 7, "messages": []}))
        .send()
        .await
        .expect("proxy request");
    assert_eq!(resp.status().as_u16(), 400);
    let body = resp.text().await.unwrap_or_default();
    assert!(body.contains("`model` must be a string"), "{body}");
    assert!(
        mock.requests().is_empty(),
        "a refused request went upstream"
    );

    // An upstream 402 is passed through to the client.
    let resp = client
        .post(format!("{}/v1/chat/completions", gw.proxy_url))
        .bearer_auth(&key)
        .header("x-mock-status", "402")
        .json(&json!({"model": MODEL, "messages": []}))
        .send()
        .await
        .expect("proxy request");
    assert_eq!(resp.status().as_u16(), 402);
}

/// Size of the prompt in the large-body test. An interpreted plugin reads a
/// body at some tens of milliseconds per megabyte (more on a loaded
/// machine), so a megabyte fits the default 500 ms call deadline with room
/// to spare; bodies of many megabytes need `AI_PROXY_PLUGIN_TIMEOUT_MS`.
const LARGE_PROMPT_BYTES: usize = 1024 * 1024;

#[tokio::test]
async fn js_plugin_reads_a_megabyte_body_within_the_default_deadline() {
    let Some(wasm) = deepseek_wasm() else { return };
    let mock = MockUpstream::start().await;
    let (gw, key) = deepseek_gateway(&wasm, &mock).await;
    let prompt = format!("{}é你好👋", "x".repeat(LARGE_PROMPT_BYTES));

    let resp = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", gw.proxy_url))
        .bearer_auth(&key)
        .json(&json!({"model": MODEL, "stream": true, "messages": [{"role": "user", "content": prompt}]}))
        .send()
        .await
        .expect("proxy request");
    let status = resp.status().as_u16();
    let got = resp.bytes().await.expect("body");

    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&got));
    let sent = mock.requests().pop().expect("the upstream saw a request");
    let sent = sent.json().expect("JSON body");
    assert_eq!(sent["messages"][0]["content"], prompt.as_str());
    assert_eq!(sent["stream_options"]["include_usage"], true);
}

#[tokio::test]
async fn openai_python_sdk_works_through_the_js_plugin() {
    let Some(wasm) = deepseek_wasm() else { return };
    let mock = MockUpstream::start().await;
    let (gw, key) = deepseek_gateway(&wasm, &mock).await;

    let proxy_url = gw.proxy_url.clone();
    let started = Instant::now();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/run.sh"))
            .args(["-q", "-rs", "-k", "openai_chat"])
            .env("AI_PROXY_BASE_URL", proxy_url)
            .env("AI_PROXY_OPENAI_KEY", key)
            .env("AI_PROXY_OPENAI_MODEL", MODEL)
            .env("AI_PROXY_EXPECT_INJECTED_USAGE", "1")
            .output()
    })
    .await
    .expect("join")
    .expect("run tests/python/run.sh");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!(
        "{stdout}\n{stderr}\n(python suite took {:?})",
        started.elapsed()
    );
    assert!(
        output.status.success(),
        "openai SDK suite failed:\n{stdout}\n{stderr}"
    );
    assert!(
        !stdout.contains("skipped") && stdout.contains("3 passed"),
        "the three chat tests must run:\n{stdout}"
    );

    let upstream_calls = mock.requests().len();
    let traces = gw.traces(upstream_calls).await;
    let costed = traces
        .iter()
        .filter(|t| t["provider_name"] == "deepseek" && t["cost_nanos"] == deepseek_cost())
        .count();
    assert_eq!(costed, 3, "every SDK call is traced with its cost");
}

/// A JavaScript plugin inspects the review's 12.4 MiB body of zeros within
/// its memory cap (the SDK scans a large body instead of parsing it).
#[tokio::test]
async fn js_plugin_inspects_a_huge_body_within_its_limits() {
    let Some(wasm) = deepseek_wasm() else { return };
    let mock = MockUpstream::start().await;
    let (gw, key) = deepseek_gateway(&wasm, &mock).await;
    let mut body = format!(r#"{{"model":"{MODEL}","messages":["#).into_bytes();
    body.extend_from_slice(&b"0,".repeat(6_500_000));
    body.extend_from_slice(b"0]}");
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", gw.proxy_url))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("proxy request");
    let status = resp.status().as_u16();
    let rid = resp.headers()["x-request-id"]
        .to_str()
        .expect("request id")
        .to_owned();
    let answer = resp.text().await.unwrap_or_default();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(gw.trace_by_request_id(&rid).await["model"], MODEL);
}
