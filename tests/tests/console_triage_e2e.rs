//! What the console needs on the bad day, through the real gateway: each
//! attempt keeps the upstream's status and own message (masked where the
//! upstream quotes the key, bounded), the trace's error is that message,
//! the log filters by status class, model prefix, error class and trace
//! id, the dashboard counts upstream failures apart from clients'
//! mistakes, and a test request for a key goes through the proxy and is
//! traced, refusing any other path or a forged header.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ai_proxy_tests::gateway::TestGateway;
use ai_proxy_tests::mock::MockUpstream;
use reqwest::Method;
use serde_json::{Value, json};

/// The mock's OpenAI 500 message.
const SERVER_ERROR: &str =
    "The server had an error while processing your request. Sorry about that!";

#[tokio::test]
async fn attempts_keep_the_upstreams_words_masked_and_the_log_filters_by_them() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::in_process().await;
    // The second key's secret is quoted by the upstream's message: a
    // hostile (or careless) upstream must not get it into the log.
    let pool = gw
        .pool(
            "openai",
            &mock.base_url(),
            &[
                ("broken", "mock-500-b", json!({})),
                ("quoted", "mock-500-processing your request", json!({})),
            ],
            json!({"strategy": "round_robin"}),
        )
        .await;
    let (status, headers, _) = gw.chat(&pool.client_key).await;
    assert_eq!(status, 500);
    let request_id = headers["x-request-id"].to_str().unwrap().to_owned();
    let trace = gw.trace_by_request_id(&request_id).await;
    let attempts = trace["attempt_log"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{trace}");
    for a in attempts {
        assert_eq!(a["status"], 500, "{a}");
        let message = a["message"].as_str().unwrap();
        if a["upstream_key_name"] == "broken" {
            assert_eq!(message, SERVER_ERROR);
        } else {
            assert!(!message.contains("processing your request"), "{message}");
            assert!(
                message.starts_with("The server had an error while "),
                "{message}"
            );
        }
    }
    let last = attempts.last().unwrap()["message"].as_str().unwrap();
    assert_eq!(trace["error_message"].as_str(), Some(last), "{trace}");

    // A success beside the failure, for the filters to tell apart.
    let good = gw
        .client_key_for("openai", &mock.base_url(), "sk-good")
        .await;
    assert_eq!(gw.chat(&good).await.0, 200);
    gw.traces(2).await;
    let ids = |page: Value| -> Vec<i64> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_i64().unwrap())
            .collect()
    };
    let get = |q: &'static str| gw.admin(Method::GET, q, None);
    let failed_id = trace["id"].as_i64().unwrap();
    let (s, five) = get("/api/logs/traces?status_class=5xx").await;
    assert_eq!((s, ids(five)), (200, vec![failed_id]));
    let (_, two) = get("/api/logs/traces?status_class=2XX").await;
    assert_eq!(ids(two).len(), 1);
    let (_, class) = get("/api/logs/traces?error_class=server_error").await;
    assert_eq!(ids(class), vec![failed_id]);
    let (_, prefix) = get("/api/logs/traces?model=gpt-4").await;
    assert_eq!(ids(prefix).len(), 2, "gpt-4 is a prefix of gpt-4o-mini");
    let (_, list) = get("/api/logs/traces?model=claude,%20gpt-4o-mini*").await;
    assert_eq!(ids(list).len(), 2);
    let (_, none) = get("/api/logs/traces?model=gpt-4o-mini-x").await;
    assert!(ids(none).is_empty());
    let by_id = gw
        .admin(
            Method::GET,
            &format!("/api/logs/traces?id={failed_id}"),
            None,
        )
        .await
        .1;
    assert_eq!(ids(by_id), vec![failed_id]);
    for bad in ["6xx", "5x", "500", "xx"] {
        let (s, body) = gw
            .admin(
                Method::GET,
                &format!("/api/logs/traces?status_class={bad}"),
                None,
            )
            .await;
        assert_eq!(s, 400, "{bad}: {body}");
    }
    let many = vec!["m"; 21].join(",");
    let (s, _) = gw
        .admin(Method::GET, &format!("/api/logs/traces?model={many}"), None)
        .await;
    assert_eq!(s, 400, "21 model prefixes");

    let (_, overview) = get("/api/stats/overview?days=1").await;
    assert_eq!(overview["errors"], 1, "{overview}");
    assert_eq!(overview["server_errors"], 1, "{overview}");
    let (_, series) = get("/api/stats/timeseries?days=1").await;
    assert_eq!(series[0]["server_errors"], 1, "{series}");
    assert!(series[0]["latency_ms"].as_i64().unwrap() >= 0);
}

#[tokio::test]
async fn a_test_request_goes_through_the_proxy_and_nothing_else_does() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::in_process().await;
    let key = gw
        .client_key_for("openai", &mock.base_url(), "sk-good")
        .await;

    let gateway = gw.admin_ok(Method::GET, "/api/gateway", None).await;
    let port: u16 = gw.proxy_url.rsplit(':').next().unwrap().parse().unwrap();
    assert_eq!(gateway["proxy_port"], port);
    assert_eq!(gateway["proxy_tls"], false);

    let answer = gw
        .admin_ok(
            Method::POST,
            "/api/gateway/test-request",
            Some(json!({"key": key, "path": "/v1/models"})),
        )
        .await;
    assert_eq!(answer["status"], 200, "{answer}");
    let trace = gw
        .trace_by_request_id(answer["request_id"].as_str().unwrap())
        .await;
    assert_eq!(trace["path"], "/v1/models");
    assert_eq!(trace["client_key_name"], "openai-client");

    // A key the gateway does not know: the proxy's own refusal, no more.
    let unknown = gw
        .admin_ok(
            Method::POST,
            "/api/gateway/test-request",
            Some(json!({"key": "aip-not-a-key", "path": "/v1/models"})),
        )
        .await;
    assert_eq!(unknown["status"], 401, "{unknown}");
    assert_eq!(
        unknown.as_object().unwrap().len(),
        2,
        "only status and request id: {unknown}"
    );

    for body in [
        json!({"key": key, "path": "/v1/chat/completions"}),
        json!({"key": key, "path": "/v1/models/../files"}),
        json!({"key": format!("{key}\r\nx-mock-status: 500"), "path": "/v1/models"}),
        json!({"key": "", "path": "/v1/models"}),
        json!({"key": "k".repeat(513), "path": "/v1/models"}),
    ] {
        let (s, answer) = gw
            .admin(
                Method::POST,
                "/api/gateway/test-request",
                Some(body.clone()),
            )
            .await;
        assert_eq!(s, 400, "{body}: {answer}");
    }
    // Without credentials: refused before anything is sent.
    let anonymous = reqwest::Client::new()
        .post(format!("{}/api/gateway/test-request", gw.admin_url))
        .json(&json!({"key": key, "path": "/v1/models"}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}
