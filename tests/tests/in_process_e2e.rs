//! The in-process test gateway (`TestGateway::in_process`,
//! `ai_proxy::serve_in_process`): it serves both ports like the binary,
//! two run side by side in one process, and dropping one stops it. Also
//! prints how long a start takes either way.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use ai_proxy_tests::gateway::TestGateway;
use ai_proxy_tests::mock::MockUpstream;

#[tokio::test]
async fn in_process_gateways_serve_both_ports_side_by_side_and_stop_on_drop() {
    let upstream = MockUpstream::start().await;
    let (a, b) = (
        TestGateway::in_process().await,
        TestGateway::in_process().await,
    );
    assert_ne!(a.admin_url, b.admin_url);
    for gw in [&a, &b] {
        let key = gw
            .client_key_for("openai", &upstream.base_url(), "sk-upstream")
            .await;
        let resp = reqwest::Client::new()
            .post(format!("{}/v1/chat/completions", gw.proxy_url))
            .bearer_auth(&key)
            .json(&serde_json::json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .expect("proxy request");
        assert_eq!(resp.status(), 200);
        assert_eq!(gw.traces(1).await.len(), 1);
    }
    let admin = a.admin_url.clone();
    drop(a);
    let after = reqwest::Client::new()
        .get(format!("{admin}/api/health"))
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    assert!(after.is_err(), "a dropped gateway still answers: {after:?}");
    b.admin_ok(reqwest::Method::GET, "/api/health", None).await;
}

#[tokio::test]
async fn a_start_takes_less_in_process_than_as_a_process() {
    let started = Instant::now();
    let process = TestGateway::start().await;
    let as_process = started.elapsed();
    drop(process);
    let started = Instant::now();
    let in_process = TestGateway::in_process().await;
    let inside = started.elapsed();
    drop(in_process);
    println!("gateway start: process {as_process:?}, in-process {inside:?}");
}
