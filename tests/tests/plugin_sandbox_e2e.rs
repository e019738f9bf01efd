//! What a plugin can observe of the world through the real gateway: its
//! clocks stand still at zero and its random source is fixed, so every
//! request's instance sees the same values (the contract in
//! `wit/provider.wit`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ai_proxy_tests::gateway::{TestGateway, misbehave_wasm};
use ai_proxy_tests::mock::MockUpstream;
use reqwest::Method;
use serde_json::json;

/// The model name the `misbehave` plugin's `entropy` mode reports for one
/// request (read back from the trace).
async fn entropy_seen(gw: &TestGateway, key: &str) -> String {
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", gw.proxy_url))
        .bearer_auth(key)
        .json(&json!({"model": "entropy", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 200);
    let rid = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    let trace = gw.trace_by_request_id(&rid).await;
    trace["model"].as_str().expect("model in trace").to_owned()
}

#[tokio::test]
async fn plugin_clocks_and_random_are_fixed_and_equal_in_every_request() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::in_process_with(&[(
        "AI_PROXY_PLUGIN_FILES",
        misbehave_wasm().display().to_string(),
    )])
    .await;
    gw.admin_ok(
        Method::POST,
        "/api/providers",
        Some(json!({"name": "misbehave", "plugin": "misbehave", "base_url": mock.base_url()})),
    )
    .await;
    let key = gw
        .client_key_for("misbehave", &mock.base_url(), "sk-misbehave-upstream")
        .await;

    let first = entropy_seen(&gw, &key).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let second = entropy_seen(&gw, &key).await;
    assert_eq!(first, second, "two requests saw different clocks or random");

    let parts: Vec<&str> = first.split('-').collect();
    assert_eq!(parts.len(), 4, "{first}");
    assert_eq!(parts[1], "0.000000000", "the wall clock is not the epoch");
    assert_eq!(parts[2], "0", "the monotonic clock advanced");
    assert_eq!(parts[3].len(), 16, "{first}");
}
