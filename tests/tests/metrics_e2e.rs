//! `/metrics` names upstream keys and plugin figures, so it is not public:
//! the scrape token (`AI_PROXY_METRICS_TOKEN`, as `Authorization: Bearer`)
//! or an admin account reads it; anonymous callers and wrong tokens get a
//! 401 JSON error and a `user` account a 403, with no figure in either.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ai_proxy_tests::gateway::{ADMIN_PASSWORD, TestGateway};
use ai_proxy_tests::mock::MockUpstream;
use reqwest::Method;
use serde_json::{Value, json};

const SCRAPE_TOKEN: &str = "scrape-token-0123456789abcdef0123456789";

#[tokio::test]
async fn metrics_need_the_scrape_token_or_an_admin_and_refuse_everyone_else() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::in_process_with(&[("AI_PROXY_METRICS_TOKEN", SCRAPE_TOKEN.into())]).await;
    gw.client_key_for("openai", &mock.base_url(), "sk-up-secret")
        .await;
    gw.admin_ok(
        Method::POST,
        "/api/users",
        Some(json!({"username": "alice", "password": "alice-password"})),
    )
    .await;
    let url = format!("{}/metrics", gw.admin_url);
    let http = reqwest::Client::new();

    let refused = [
        ("anonymous", http.get(&url), 401),
        (
            "wrong scrape token",
            http.get(&url).bearer_auth(format!("{SCRAPE_TOKEN}x")),
            401,
        ),
        (
            "scrape token prefix",
            http.get(&url).bearer_auth(&SCRAPE_TOKEN[..20]),
            401,
        ),
        (
            "wrong admin password",
            http.get(&url).basic_auth("admin", Some("not-the-password")),
            401,
        ),
        (
            "user account",
            http.get(&url).basic_auth("alice", Some("alice-password")),
            403,
        ),
    ];
    for (case, request, status) in refused {
        let resp = request.send().await.unwrap();
        assert_eq!(resp.status().as_u16(), status, "{case}");
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{case}"
        );
        let text = resp.text().await.unwrap();
        let body: Value = serde_json::from_str(&text).unwrap();
        assert!(body["error"]["code"].is_string(), "{case}: {body}");
        assert!(
            !text.contains("ai_proxy_") && !text.contains("openai-upstream"),
            "{case}: no figure leaks: {text}"
        );
    }

    for (case, request) in [
        ("scrape token", http.get(&url).bearer_auth(SCRAPE_TOKEN)),
        (
            "admin Basic",
            http.get(&url).basic_auth("admin", Some(ADMIN_PASSWORD)),
        ),
    ] {
        let resp = request.send().await.unwrap();
        assert_eq!(resp.status(), 200, "{case}");
        let text = resp.text().await.unwrap();
        assert!(
            text.contains(
                "ai_proxy_upstream_key_health_score{key_id=\"1\",key=\"openai-upstream\"}"
            ),
            "{case}: {text}"
        );
        assert!(!text.contains("sk-up-secret"), "{case}: no secrets");
    }

    // An admin session works too; the scrape token opens nothing else.
    let login: Value = http
        .post(format!("{}/api/auth/login", gw.admin_url))
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session = login["token"].as_str().unwrap();
    assert_eq!(
        http.get(&url)
            .bearer_auth(session)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        http.get(format!("{}/api/providers", gw.admin_url))
            .bearer_auth(SCRAPE_TOKEN)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}

#[tokio::test]
async fn metrics_without_a_configured_token_need_an_admin() {
    let gw = TestGateway::in_process().await;
    let url = format!("{}/metrics", gw.admin_url);
    let http = reqwest::Client::new();
    assert_eq!(http.get(&url).send().await.unwrap().status(), 401);
    assert_eq!(
        http.get(&url)
            .bearer_auth("")
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let resp = http
        .get(&url)
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("ai_proxy_traces_written_total")
    );
}
