//! `POST /api/upstream-keys/{id}/health-check` against the mock
//! upstream: the plugin's probe runs with the key and the answer becomes
//! the key's health status.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ai_proxy_tests::gateway::{TestGateway, free_port};
use ai_proxy_tests::mock::MockUpstream;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn health_check_classifies_each_upstream_answer() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::in_process().await;
    for provider in ["openai", "anthropic", "gemini"] {
        let id = gw.provider_id(provider).await;
        gw.admin_ok(
            Method::PUT,
            &format!("/api/providers/{id}"),
            Some(json!({"base_url": mock.base_url()})),
        )
        .await;
        for (secret, expected) in [
            ("sk-good", "healthy"),
            ("mock-401-bad", "auth_invalid"),
            ("mock-429-busy", "rate_limited"),
            ("mock-500-down", "server_error"),
        ] {
            let key = gw
                .admin_ok(
                    Method::POST,
                    "/api/upstream-keys",
                    Some(json!({"provider_id": id, "name": format!("{provider}-{secret}"), "secret": secret})),
                )
                .await;
            let checked = gw
                .admin_ok(
                    Method::POST,
                    &format!("/api/upstream-keys/{}/health-check", key["id"]),
                    None,
                )
                .await;
            assert_eq!(
                checked["result"]["status"], expected,
                "{provider} {secret}: {checked}"
            );
            assert!(
                !checked.to_string().contains(secret)
                    || secret == "sk-good" && !checked.to_string().contains("sk-good")
            );
            let stored = gw
                .admin_ok(
                    Method::GET,
                    &format!("/api/upstream-keys/{}", key["id"]),
                    None,
                )
                .await;
            assert_eq!(stored["health_status"], expected);
        }
        // The probe carried the key the way the provider expects it.
        let seen = mock.requests().pop().unwrap();
        let carried = seen.header("authorization").unwrap_or_default().to_owned()
            + seen.header("x-api-key").unwrap_or_default()
            + seen.header("x-goog-api-key").unwrap_or_default();
        assert!(
            carried.contains("mock-500-down"),
            "{provider}: {:?}",
            seen.headers
        );
    }
    // An upstream that does not answer is a network problem.
    let openai = gw.provider_id("openai").await;
    gw.admin_ok(
        Method::PUT,
        &format!("/api/providers/{openai}"),
        Some(json!({"base_url": format!("http://127.0.0.1:{}", free_port())})),
    )
    .await;
    let key = gw.admin_ok(Method::GET, "/api/upstream-keys", None).await[0]["id"].clone();
    let checked = gw
        .admin_ok(
            Method::POST,
            &format!("/api/upstream-keys/{key}/health-check"),
            None,
        )
        .await;
    assert_eq!(checked["result"]["status"], "network", "{checked}");
}
