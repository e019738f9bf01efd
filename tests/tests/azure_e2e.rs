//! A provider the gateway's core never heard of: the Azure OpenAI plugin
//! (`plugins/azure-openai`, written against the public SDK only), loaded from
//! a file at start as an operator would, in front of the mock upstream.
//!
//! The upstream must see the upstream key in `api-key` (never `Authorization`,
//! never the client's key) on Azure's paths, the client must get the upstream's
//! bytes, and the trace must hold the deployment as the model, the tokens and
//! the cost. The official `openai` Python SDK's `AzureOpenAI` client drives it
//! too.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

use ai_proxy_tests::gateway::{TestGateway, azure_openai_wasm};
use ai_proxy_tests::mock::{
    CACHED_TOKENS, COMPLETION_TOKENS, Endpoint, MockUpstream, PROMPT_TOKENS, REASONING_TOKENS,
    RecordedRequest, expected_body,
};
use reqwest::Method;
use serde_json::{Value, json};

const UPSTREAM_KEY: &str = "azure-upstream-key-1";
const DEPLOYMENT: &str = "gpt-4o-mini";

/// The gateway with the Azure plugin loaded and a provider, an upstream key
/// and a client key using it; returns the client key.
async fn azure_gateway(mock: &MockUpstream) -> (TestGateway, String) {
    let gw = TestGateway::in_process_with(&[(
        "AI_PROXY_PLUGIN_FILES",
        azure_openai_wasm().display().to_string(),
    )])
    .await;
    gw.admin_ok(
        Method::POST,
        "/api/providers",
        Some(json!({"name": "azure", "plugin": "azure-openai", "base_url": mock.base_url()})),
    )
    .await;
    let key = gw
        .client_key_for("azure", &mock.base_url(), UPSTREAM_KEY)
        .await;
    (gw, key)
}

/// Sends `body` to `path` with the client key as a bearer token; returns
/// status, request id and body.
async fn send(gw: &TestGateway, key: &str, path: &str, body: &Value) -> (u16, String, Vec<u8>) {
    let resp = reqwest::Client::new()
        .post(format!("{}{path}", gw.proxy_url))
        .bearer_auth(key)
        // A client-sent `api-key` must never reach Azure in place of the upstream key.
        .header("api-key", "client-supplied-api-key")
        .json(body)
        .send()
        .await
        .expect("proxy request");
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

fn last(mock: &MockUpstream) -> RecordedRequest {
    mock.requests().pop().expect("the upstream saw a request")
}

/// The upstream saw the upstream key in `api-key` and nothing of the client's.
fn assert_azure_credential(seen: &RecordedRequest, client_key: &str) {
    assert_eq!(seen.header("api-key"), Some(UPSTREAM_KEY), "{seen:?}");
    assert_eq!(seen.header("authorization"), None, "{seen:?}");
    for (name, value) in &seen.headers {
        assert!(!value.contains(client_key), "client key leaked in {name}");
    }
}

/// gpt-4o-mini at $0.15 in, $0.075 cached, $0.60 out per 1M tokens, in nano-USD.
fn mini_cost() -> u64 {
    ((PROMPT_TOKENS - CACHED_TOKENS) * 150_000
        + CACHED_TOKENS * 75_000
        + COMPLETION_TOKENS * 600_000
        + 500)
        / 1000
}

async fn assert_trace(gw: &TestGateway, request_id: &str, model: &str, stream: bool) {
    let t = gw.trace_by_request_id(request_id).await;
    assert_eq!(t["status_code"], 200, "{t}");
    assert_eq!(t["provider_name"], "azure", "{t}");
    assert_eq!(t["model"], model, "{t}");
    assert_eq!(t["is_stream"], stream, "{t}");
    assert_eq!(t["input_tokens"], PROMPT_TOKENS, "{t}");
    assert_eq!(t["output_tokens"], COMPLETION_TOKENS, "{t}");
    assert_eq!(t["cached_input_tokens"], CACHED_TOKENS, "{t}");
    assert_eq!(t["reasoning_tokens"], REASONING_TOKENS, "{t}");
    assert_eq!(t["cost_nanos"], mini_cost(), "{t}");
}

#[tokio::test]
async fn azure_deployment_paths_carry_api_key_and_are_traced_with_cost() {
    let mock = MockUpstream::start().await;
    let (gw, key) = azure_gateway(&mock).await;
    let path = format!("/openai/deployments/{DEPLOYMENT}/chat/completions?api-version=2024-10-21");

    for stream in [false, true] {
        // No `model` in the body: the deployment in the path names it.
        let body = json!({"stream": stream, "messages": [{"role": "user", "content": "hi"}]});
        let (status, rid, got) = send(&gw, &key, &path, &body).await;

        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&got));
        let expected = expected_body(
            Endpoint::ChatCompletions {
                include_usage: stream,
            },
            DEPLOYMENT,
            stream,
        );
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&expected)
        );
        let seen = last(&mock);
        assert_eq!(seen.path_and_query, path);
        assert_azure_credential(&seen, &key);
        let sent = seen.json().expect("JSON body");
        assert_eq!(
            sent["stream_options"]["include_usage"] == true,
            stream,
            "usage is asked for on streams only: {sent}"
        );
        assert_trace(&gw, &rid, DEPLOYMENT, stream).await;
    }
}

#[tokio::test]
async fn azure_v1_and_plain_openai_paths_reach_the_v1_api() {
    let mock = MockUpstream::start().await;
    let (gw, key) = azure_gateway(&mock).await;
    let body = json!({"model": DEPLOYMENT, "stream": true, "messages": []});

    for path in ["/openai/v1/chat/completions", "/v1/chat/completions"] {
        let (status, rid, got) = send(&gw, &key, path, &body).await;

        assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&got));
        let seen = last(&mock);
        assert_eq!(seen.path_and_query, "/openai/v1/chat/completions");
        assert_azure_credential(&seen, &key);
        assert_trace(&gw, &rid, DEPLOYMENT, true).await;
    }
}

#[tokio::test]
async fn azure_deployment_path_without_api_version_gets_the_default() {
    let mock = MockUpstream::start().await;
    let (gw, key) = azure_gateway(&mock).await;

    let (status, _, got) = send(
        &gw,
        &key,
        &format!("/openai/deployments/{DEPLOYMENT}/chat/completions"),
        &json!({"messages": []}),
    )
    .await;

    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&got));
    assert_eq!(
        last(&mock).path_and_query,
        format!("/openai/deployments/{DEPLOYMENT}/chat/completions?api-version=2024-10-21")
    );
}

#[tokio::test]
async fn azure_throttling_reaches_the_client_as_azure_sent_it() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::in_process_with(&[(
        "AI_PROXY_PLUGIN_FILES",
        azure_openai_wasm().display().to_string(),
    )])
    .await;
    gw.admin_ok(
        Method::POST,
        "/api/providers",
        Some(json!({"name": "azure", "plugin": "azure-openai", "base_url": mock.base_url()})),
    )
    .await;
    // The mock answers any key starting with `mock-429` with Azure's 429.
    let key = gw
        .client_key_for("azure", &mock.base_url(), "mock-429-azure")
        .await;

    let (status, rid, got) = send(
        &gw,
        &key,
        "/openai/v1/chat/completions",
        &json!({"model": DEPLOYMENT, "messages": []}),
    )
    .await;

    assert_eq!(status, 429, "{}", String::from_utf8_lossy(&got));
    let body: Value = serde_json::from_slice(&got).expect("JSON error");
    assert_eq!(body["error"]["code"], "429", "{body}");
    assert_eq!(last(&mock).header("api-key"), Some("mock-429-azure"));
    let t = gw.trace_by_request_id(&rid).await;
    assert_eq!(t["status_code"], 429, "{t}");
}

fn python_suite() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/run.sh")
}

#[tokio::test]
async fn official_azure_openai_python_client_works_through_the_plugin() {
    let mock = MockUpstream::start().await;
    let (gw, key) = azure_gateway(&mock).await;

    let proxy_url = gw.proxy_url.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python_suite())
            .args(["-q", "-rs", "-k", "azure"])
            .env("AI_PROXY_BASE_URL", proxy_url)
            .env("AI_PROXY_AZURE_KEY", key)
            .env("AI_PROXY_AZURE_DEPLOYMENT", DEPLOYMENT)
            .env("AI_PROXY_EXPECT_INJECTED_USAGE", "1")
            .output()
    })
    .await
    .expect("join")
    .expect("run tests/python/run.sh");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "AzureOpenAI suite failed:\n{stdout}\n{stderr}"
    );
    assert!(
        !stdout.contains("skipped") && stdout.contains("passed"),
        "the AzureOpenAI tests must run:\n{stdout}"
    );
    for seen in mock.requests() {
        assert!(
            seen.path_and_query
                .starts_with(&format!("/openai/deployments/{DEPLOYMENT}/")),
            "{}",
            seen.path_and_query
        );
        assert_eq!(seen.header("api-key"), Some(UPSTREAM_KEY));
    }
}
