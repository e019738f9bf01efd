//! Clients authenticated by JWT instead of an API key: HS256 and RS256
//! tokens naming a client key work like the key itself; expired tokens,
//! wrong audiences or issuers, `alg: none` and algorithm confusion (an
//! HS256 token signed with the RSA public key) are refused.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use ai_proxy_tests::gateway::TestGateway;
use ai_proxy_tests::mock::MockUpstream;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use reqwest::Method;
use serde_json::{Value, json};

const HS_SECRET: &str = "test-hs256-secret-of-at-least-32-bytes!!";

fn claims(sub: &Value, exp_offset: i64, aud: &str) -> Value {
    json!({"sub": sub, "exp": chrono::Utc::now().timestamp() + exp_offset, "iss": "corp-idp", "aud": aud})
}

fn hs(secret: &[u8], claims: &Value) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

#[tokio::test]
async fn jwt_clients_carry_a_client_keys_identity_and_bad_tokens_are_refused() {
    let dir = std::env::temp_dir().join(format!("aip-jwt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let private = dir.join("private.pem");
    let public = dir.join("public.pem");
    assert!(
        Command::new("openssl")
            .args(["genrsa", "-out"])
            .arg(&private)
            .arg("2048")
            .output()
            .unwrap()
            .status
            .success()
    );
    assert!(
        Command::new("openssl")
            .args(["rsa", "-pubout", "-in"])
            .arg(&private)
            .arg("-out")
            .arg(&public)
            .output()
            .unwrap()
            .status
            .success()
    );
    let private_pem = std::fs::read(&private).unwrap();
    let public_pem = std::fs::read(&public).unwrap();

    let mock = MockUpstream::start().await;
    let gw = TestGateway::in_process_with(&[
        ("AI_PROXY_JWT_HS256_SECRET", HS_SECRET.into()),
        (
            "AI_PROXY_JWT_RS256_PUBLIC_KEY_FILE",
            public.display().to_string(),
        ),
        ("AI_PROXY_JWT_ISSUER", "corp-idp".into()),
        ("AI_PROXY_JWT_AUDIENCE", "ai-proxy".into()),
    ])
    .await;
    gw.client_key_for("openai", &mock.base_url(), "sk-up").await;
    // `sub` is a string (RFC 7519): the client key id in decimal.
    let key_id = Value::String(
        gw.admin_ok(Method::GET, "/api/client-keys", None).await[0]["id"].to_string(),
    );

    let chat = |token: String| {
        reqwest::Client::new()
            .post(format!("{}/v1/chat/completions", gw.proxy_url))
            .bearer_auth(token)
            .json(&json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}))
            .send()
    };

    let good = claims(&key_id, 300, "ai-proxy");
    let resp = chat(hs(HS_SECRET.as_bytes(), &good)).await.unwrap();
    let rid = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(resp.status(), 200, "{}", gw.trace_by_request_id(&rid).await);
    assert_eq!(
        gw.trace_by_request_id(&rid).await["client_key_name"],
        "openai-client"
    );
    assert!(mock.requests().pop().unwrap().header("authorization") == Some("Bearer sk-up"));

    let rs = encode(
        &Header::new(Algorithm::RS256),
        &good,
        &EncodingKey::from_rsa_pem(&private_pem).unwrap(),
    )
    .unwrap();
    assert_eq!(chat(rs).await.unwrap().status(), 200);

    use base64::Engine;
    let b64 = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    let refused = [
        (
            "expired",
            hs(HS_SECRET.as_bytes(), &claims(&key_id, -5, "ai-proxy")),
        ),
        (
            "wrong audience",
            hs(HS_SECRET.as_bytes(), &claims(&key_id, 300, "someone-else")),
        ),
        (
            "wrong secret",
            hs(b"another-secret-another-secret-another", &good),
        ),
        (
            "unknown key",
            hs(
                HS_SECRET.as_bytes(),
                &claims(&json!("9999"), 300, "ai-proxy"),
            ),
        ),
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(r#"{"alg":"none","typ":"JWT"}"#),
                b64(&good.to_string())
            ),
        ),
        ("algorithm confusion", hs(&public_pem, &good)),
    ];
    for (case, token) in refused {
        let resp = chat(token).await.unwrap();
        assert_eq!(resp.status(), 401, "{case}");
        let body: Value = resp.json().await.unwrap();
        let code = body["error"]["code"].as_str().unwrap();
        let expected = if case == "unknown key" {
            "invalid_api_key"
        } else {
            "invalid_token"
        };
        assert_eq!(code, expected, "{case}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A token's `nbf`, `iat` and lifetime are judged against the configured
/// leeway and maximum lifetime, through the real gateway.
#[tokio::test]
async fn jwt_not_yet_valid_future_issued_or_too_long_lived_tokens_are_refused() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::in_process_with(&[
        ("AI_PROXY_JWT_HS256_SECRET", HS_SECRET.into()),
        ("AI_PROXY_JWT_LEEWAY_SECS", "10".into()),
        ("AI_PROXY_JWT_MAX_LIFETIME_SECS", "600".into()),
    ])
    .await;
    gw.client_key_for("openai", &mock.base_url(), "sk-up").await;
    let key_id = gw.admin_ok(Method::GET, "/api/client-keys", None).await[0]["id"].to_string();
    let status = |claims: Value| {
        let token = hs(HS_SECRET.as_bytes(), &claims);
        let url = format!("{}/v1/chat/completions", gw.proxy_url);
        async move {
            let resp = reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .json(&json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}))
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap();
            (status, body["error"]["code"].as_str().map(str::to_owned))
        }
    };
    let now = chrono::Utc::now().timestamp();
    let refused = (401, Some("invalid_token".to_owned()));
    for (case, claims, expected) in [
        (
            "nbf and iat now, lifetime exactly the maximum",
            json!({"sub": key_id, "nbf": now, "iat": now, "exp": now + 600}),
            (200, None),
        ),
        (
            "nbf two minutes ahead",
            json!({"sub": key_id, "nbf": now + 120, "exp": now + 300}),
            refused.clone(),
        ),
        (
            "iat two minutes ahead",
            json!({"sub": key_id, "iat": now + 120, "exp": now + 300}),
            refused.clone(),
        ),
        (
            "lifetime one second over the maximum",
            json!({"sub": key_id, "iat": now, "exp": now + 601}),
            refused.clone(),
        ),
        (
            "no iat and more than the maximum left",
            json!({"sub": key_id, "exp": now + 3600}),
            refused.clone(),
        ),
    ] {
        assert_eq!(status(claims).await, expected, "{case}");
    }
    assert_eq!(
        mock.requests().len(),
        1,
        "only the valid token reached the upstream"
    );
}
