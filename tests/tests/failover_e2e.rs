//! Keys that never let a client down: a pool with a rate-limited, a
//! failing, a stalled and a revoked key next to a good one answers every
//! request; the trace lists each attempt; 429s cool keys down for the
//! upstream's `Retry-After`; an auth-invalid key leaves rotation until a
//! background health check finds it fixed. When every key fails, the
//! client gets the provider's own last answer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use ai_proxy_tests::gateway::TestGateway;
use ai_proxy_tests::mock::MockUpstream;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn a_pool_with_one_good_key_answers_every_request() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::in_process_with(&[("AI_PROXY_MAX_ATTEMPTS", "5".into())]).await;
    // Keys whose upstream answers stall get a short read timeout.
    let provider = gw.provider_id("openai").await;
    gw.admin_ok(
        Method::PUT,
        &format!("/api/providers/{provider}"),
        Some(json!({"read_timeout_ms": 800})),
    )
    .await;
    let pool = gw
        .pool(
            "openai",
            &mock.base_url(),
            &[
                ("stalled", "mock-hang-c", json!({})),
                ("limited", "mock-429-a", json!({})),
                ("broken", "mock-500-b", json!({})),
                ("good", "sk-good", json!({})),
            ],
            json!({"strategy": "round_robin"}),
        )
        .await;

    for i in 0..4 {
        let (status, _, body) = gw.chat(&pool.client_key).await;
        assert_eq!(status, 200, "request {i}: {body}");
    }
    let traces = gw.traces(4).await;
    assert!(traces.iter().all(|t| t["upstream_key_name"] == "good"));
    let first = traces.last().unwrap();
    let attempts = first["attempt_log"].as_array().unwrap();
    let mut outcomes: Vec<(String, String)> = attempts
        .iter()
        .map(|a| {
            (
                a["upstream_key_name"].as_str().unwrap().to_owned(),
                a["error_class"]
                    .as_str()
                    .or(a["error"].as_str())
                    .unwrap_or("ok")
                    .to_owned(),
            )
        })
        .collect();
    assert_eq!(
        outcomes.pop(),
        Some(("good".into(), "ok".into())),
        "the good key answered last: {first}"
    );
    outcomes.sort();
    assert_eq!(
        outcomes,
        [
            ("broken".into(), "server_error".into()),
            ("limited".into(), "rate_limited".into()),
            ("stalled".into(), "upstream_timeout".into()),
        ],
        "{first}"
    );
    // The failed keys are cooling down, so later requests went straight to the good one.
    assert!(
        traces[..3]
            .iter()
            .all(|t| t["attempt_log"].as_array().unwrap().len() == 1),
        "{traces:?}"
    );
    let limited = gw.key_health(pool.key_ids[1]).await;
    assert_eq!(limited["status"], "rate_limited");
    assert_eq!(limited["in_rotation"], false);
    let cooldown = limited["cooldown_seconds"].as_u64().unwrap();
    assert!((1..=3).contains(&cooldown), "Retry-After is 3: {limited}");
    let good = gw.key_health(pool.key_ids[3]).await;
    assert_eq!(
        (good["status"].as_str(), good["in_rotation"].as_bool()),
        (Some("healthy"), Some(true))
    );

    // The 429 cooldown ends with the upstream's Retry-After.
    tokio::time::sleep(Duration::from_millis(3200)).await;
    assert_eq!(gw.key_health(pool.key_ids[1]).await["in_rotation"], true);
}

#[tokio::test]
async fn when_every_key_fails_the_client_gets_the_last_upstream_answer() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::in_process().await;
    let pool = gw
        .pool(
            "openai",
            &mock.base_url(),
            &[
                ("a", "mock-500-a", json!({})),
                ("b", "mock-429-b", json!({})),
            ],
            json!({}),
        )
        .await;
    let (status, headers, body) = gw.chat(&pool.client_key).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(headers["retry-after"], "3");
    assert!(
        body["error"]["message"].is_string(),
        "the provider's own error body: {body}"
    );
    let trace = &gw.traces(1).await[0];
    assert_eq!(trace["attempt_log"].as_array().unwrap().len(), 2, "{trace}");
    assert_eq!(trace["status_code"], 429);

    // Both keys are cooling down now. Rather than refuse, the gateway tries
    // them anyway (one bad answer must not take a small pool down), and the
    // client again gets what the upstream said.
    let (status, _, body) = gw.chat(&pool.client_key).await;
    assert!(status == 429 || status == 500, "{status}: {body}");
    assert!(
        body["error"]["message"].is_string(),
        "the provider's own error body: {body}"
    );

    // Keys known to be broken (auth invalid) are never tried: the gateway says why.
    let revoked = gw
        .pool(
            "gemini",
            &mock.base_url(),
            &[("revoked", "mock-401-g", json!({}))],
            json!({}),
        )
        .await;
    let gemini = |key: String| {
        let url = format!(
            "{}/v1beta/models/gemini-2.5-flash:generateContent",
            gw.proxy_url
        );
        async move {
            reqwest::Client::new()
                .post(url)
                .header("x-goog-api-key", key)
                .json(&json!({"contents": [{"parts": [{"text": "hi"}]}]}))
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(gemini(revoked.client_key.clone()).await.status(), 401);
    let refused = gemini(revoked.client_key.clone()).await;
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().contains_key("retry-after"));
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "no_usable_upstream_key");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("all unhealthy")
    );

    // A bad request is the client's fault: not retried, the key stays healthy.
    let good = gw
        .pool(
            "anthropic",
            &mock.base_url(),
            &[("fine", "sk-fine", json!({}))],
            json!({}),
        )
        .await;
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/messages", gw.proxy_url))
        .header("x-api-key", &good.client_key)
        .header("x-mock-status", "400")
        .json(&json!({"model": "claude-sonnet-4", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(gw.key_health(good.key_ids[0]).await["in_rotation"], true);
}

#[tokio::test]
async fn an_auth_invalid_key_leaves_rotation_until_a_health_check_clears_it() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::in_process_with(&[("AI_PROXY_HEALTH_INTERVAL_SECS", "1".into())]).await;
    let pool = gw
        .pool(
            "openai",
            &mock.base_url(),
            &[
                ("revoked", "mock-401-a", json!({})),
                ("good", "sk-good", json!({})),
            ],
            json!({}),
        )
        .await;
    let (status, _, body) = gw.chat(&pool.client_key).await;
    assert_eq!(status, 200, "{body}");
    let health = gw.key_health(pool.key_ids[0]).await;
    assert_eq!(
        (health["status"].as_str(), health["in_rotation"].as_bool()),
        (Some("auth_invalid"), Some(false)),
        "{health}"
    );

    // The operator fixes the secret; the background checker brings the key back.
    gw.admin_ok(
        Method::PUT,
        &format!("/api/upstream-keys/{}", pool.key_ids[0]),
        Some(json!({"secret": "sk-fixed"})),
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let health = gw.key_health(pool.key_ids[0]).await;
        if health["status"] == "healthy" && health["in_rotation"] == true {
            assert!(health["last_checked"].is_string());
            break;
        }
        assert!(Instant::now() < deadline, "key did not recover: {health}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let listed = gw.admin_ok(Method::GET, "/api/upstream-keys", None).await;
    assert_eq!(
        listed[0]["health_status"], "healthy",
        "stored for other readers: {listed}"
    );
    // Both keys serve again, in turn.
    let mut names = std::collections::BTreeSet::new();
    for _ in 0..4 {
        let (_, headers, _) = gw.chat(&pool.client_key).await;
        let rid = headers["x-request-id"].to_str().unwrap().to_owned();
        names.insert(
            gw.trace_by_request_id(&rid).await["upstream_key_name"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(names.len(), 2, "{names:?}");
}

#[tokio::test]
async fn an_upstream_that_resets_before_answering_fails_over_to_another_key() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::in_process().await;
    let pool = gw
        .pool(
            "openai",
            &mock.base_url(),
            &[
                ("resetting", "mock-reset-a", json!({})),
                ("good", "sk-good", json!({})),
            ],
            json!({"strategy": "round_robin"}),
        )
        .await;
    for i in 0..4 {
        let (status, _, body) = gw.chat(&pool.client_key).await;
        assert_eq!(status, 200, "request {i}: {body}");
        assert_eq!(body["object"], "chat.completion", "{body}");
    }
    let traces = gw.traces(4).await;
    assert!(traces.iter().all(|t| t["upstream_key_name"] == "good"));
    let retried: Vec<_> = traces
        .iter()
        .filter(|t| t["attempts"].as_i64() == Some(2))
        .collect();
    assert!(!retried.is_empty(), "{traces:?}");
    for trace in retried {
        let log = trace["attempt_log"].as_array().unwrap();
        assert_eq!(log[0]["upstream_key_name"], "resetting", "{trace}");
        assert!(log[0]["status"].is_null(), "no answer: {trace}");
        assert!(log[0]["error"].as_str().is_some(), "{trace}");
        assert_eq!(log[1]["upstream_key_name"], "good");
        assert_eq!(log[1]["status"], 200);
    }
    // The key that reset was recorded as failing.
    let health = gw.key_health(pool.key_ids[0]).await;
    assert_ne!(health["status"], "healthy", "{health}");
}
