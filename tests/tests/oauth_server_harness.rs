//! The OAuth 2.0 server the upstream-OAuth tests run against behaves like
//! a real one: authorization code with PKCE (S256) and state, a wrong
//! verifier refused, short-lived access tokens, rotating refresh tokens
//! (a used one refused), and refreshes failing on demand.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ai_proxy_tests::oauth_server::OAuthServer;
use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};

const VERIFIER: &str = "dBjftJeZ4CVP-mJ0kOHpqFRQn8wQ1WnEmk8sS9dXc3kFOZ5hDPbHhUi1Sbyj.Xkc";
const REDIRECT: &str = "http://127.0.0.1:9/callback";

fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Follows the authorization URL and returns the `code` and `state` it redirects with.
async fn authorize(server: &OAuthServer, state: &str) -> (String, String) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = client
        .get(server.authorize_url())
        .query(&[
            ("response_type", "code"),
            ("client_id", "ai-proxy-test"),
            ("redirect_uri", REDIRECT),
            ("scope", "openid offline_access"),
            ("state", state),
            ("code_challenge", &challenge(VERIFIER)),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let location = reqwest::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    let get = |name: &str| {
        location
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap()
    };
    (get("code"), get("state"))
}

async fn token(server: &OAuthServer, form: &[(&str, &str)]) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(server.token_url())
        .form(form)
        .send()
        .await
        .unwrap();
    (
        resp.status().as_u16(),
        resp.json().await.unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn the_test_authorization_server_speaks_pkce_and_rotates_refresh_tokens() {
    let Some(server) = OAuthServer::start("oauth_server_harness", 5) else {
        return;
    };
    let (code, state) = authorize(&server, "state-1").await;
    assert_eq!(state, "state-1");
    let exchange = |code: String, verifier: &'static str| {
        let server = &server;
        async move {
            token(
                server,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", REDIRECT),
                    ("client_id", "ai-proxy-test"),
                    ("code_verifier", verifier),
                ],
            )
            .await
        }
    };
    let (status, _) = exchange(code, "wrong-verifier-wrong-verifier-wrong-verifier-00").await;
    assert!(status >= 400, "a wrong verifier is refused");

    let (code, _) = authorize(&server, "state-2").await;
    let (status, tokens) = exchange(code, VERIFIER).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["expires_in"], 5);
    assert!(tokens["access_token"].as_str().unwrap().starts_with("eyJ"));
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();

    let refresh_with = |token_value: String| {
        let server = &server;
        async move {
            token(
                server,
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &token_value),
                    ("client_id", "ai-proxy-test"),
                ],
            )
            .await
        }
    };
    let (status, renewed) = refresh_with(refresh.clone()).await;
    assert_eq!(status, 200, "{renewed}");
    let rotated = renewed["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rotated, refresh);
    let (status, body) = refresh_with(refresh).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "a used refresh token"
    );

    server.fail_refreshes(true).await;
    assert_eq!(refresh_with(rotated.clone()).await.0, 400);
    server.fail_refreshes(false).await;
    assert_eq!(refresh_with(rotated).await.0, 200);
    assert_eq!(server.token_requests("refresh_token").await, 4);
    assert!(server.token_requests("authorization_code").await >= 1);
}
