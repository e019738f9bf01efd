//! OAuth 2.0 client credentials: a client managed through the admin API
//! trades its id and secret at `POST /oauth/token` (proxy port) for a
//! bearer token that the proxy accepts as the bound client key. Wrong
//! secrets, wrong grants, mixed authentication methods and tampered tokens
//! are refused in RFC 6749's error shape; disabling the client ends its
//! tokens at once, and re-enabling it does not revive them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ai_proxy_tests::gateway::TestGateway;
use ai_proxy_tests::mock::MockUpstream;
use reqwest::Method;
use serde_json::{Value, json};

/// A refused token request: name, Basic credentials, form, status, error code.
type Case<'a> = (
    &'a str,
    Option<(&'a str, &'a str)>,
    Vec<(&'a str, &'a str)>,
    u16,
    &'a str,
);

async fn token_request(
    gw: &TestGateway,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{}/oauth/token", gw.proxy_url))
        .form(form);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.json().await.unwrap())
}

async fn chat(gw: &TestGateway, token: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", gw.proxy_url))
        .bearer_auth(token)
        .json(&json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

#[tokio::test]
async fn client_credentials_tokens_act_as_the_bound_client_key() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::in_process().await;
    gw.client_key_for("openai", &mock.base_url(), "sk-up").await;
    let key_id = gw.admin_ok(Method::GET, "/api/client-keys", None).await[0]["id"].clone();

    // Bad input to the admin API.
    let (status, body) = gw
        .admin(
            Method::POST,
            "/api/oauth-clients",
            Some(json!({"name": "ci", "client_key_id": 9999})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = gw
        .admin(
            Method::POST,
            "/api/oauth-clients",
            Some(json!({"name": "ci"})),
        )
        .await;
    assert_eq!(status, 400);

    let created = gw
        .admin_ok(
            Method::POST,
            "/api/oauth-clients",
            Some(json!({"name": "ci-pipeline", "client_key_id": key_id})),
        )
        .await;
    let client_id = created["client_id"].as_str().unwrap().to_owned();
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    assert!(client_id.starts_with("aipc-") && secret.starts_with("aips-"));
    let listed = gw.admin_ok(Method::GET, "/api/oauth-clients", None).await;
    assert_eq!(listed[0]["client_id"], client_id.as_str());
    assert!(
        !listed.to_string().contains(&secret),
        "the secret is shown only once"
    );

    // Basic authentication, as RFC 6749 §2.3.1 prefers.
    let (status, headers, body) = token_request(
        &gw,
        Some((&client_id, &secret)),
        &[("grant_type", "client_credentials"), ("scope", "chat")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let token = body["access_token"].as_str().unwrap().to_owned();

    let (status, answer) = chat(&gw, &token).await;
    assert_eq!(status, 200, "{answer}");
    let trace = &gw.traces(1).await[0];
    assert_eq!(trace["client_key_name"], "openai-client");
    assert_eq!(
        mock.requests().pop().unwrap().header("authorization"),
        Some("Bearer sk-up")
    );

    // Credentials in the body work too.
    let (status, _, body) = token_request(
        &gw,
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &client_id),
            ("client_secret", &secret),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // Refusals, in the RFC's shape, never echoing the secret.
    let wrong = format!("{secret}x");
    let cases: [Case; 6] = [
        (
            "wrong secret",
            Some((&client_id, &wrong)),
            vec![("grant_type", "client_credentials")],
            401,
            "invalid_client",
        ),
        (
            "unknown client",
            Some(("aipc-nobody", &secret)),
            vec![("grant_type", "client_credentials")],
            401,
            "invalid_client",
        ),
        (
            "no credentials",
            None,
            vec![("grant_type", "client_credentials")],
            401,
            "invalid_client",
        ),
        (
            "wrong grant",
            Some((&client_id, &secret)),
            vec![("grant_type", "password")],
            400,
            "unsupported_grant_type",
        ),
        (
            "missing grant",
            Some((&client_id, &secret)),
            vec![],
            400,
            "invalid_request",
        ),
        (
            "two authentication methods",
            Some((&client_id, &secret)),
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", &client_id),
                ("client_secret", &secret),
            ],
            400,
            "invalid_request",
        ),
    ];
    for (case, basic, form, status, code) in cases {
        let (got, headers, body) = token_request(&gw, basic, &form).await;
        assert_eq!(
            (got, body["error"].as_str()),
            (status, Some(code)),
            "{case}: {body}"
        );
        assert!(body["error_description"].is_string(), "{case}");
        assert!(!body.to_string().contains(&secret), "{case}");
        if status == 401 {
            assert!(headers.contains_key("www-authenticate"), "{case}");
        }
    }
    let get = reqwest::get(format!("{}/oauth/token", gw.proxy_url))
        .await
        .unwrap();
    assert_eq!(get.status(), 405);

    // A tampered token is refused.
    let mut tampered = token.clone().into_bytes();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let (status, body) = chat(&gw, std::str::from_utf8(&tampered).unwrap()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("invalid_token"))
    );

    // Disabling the client ends its tokens at once and stops new ones.
    let id = created["id"].clone();
    gw.admin_ok(
        Method::PUT,
        &format!("/api/oauth-clients/{id}"),
        Some(json!({"enabled": false})),
    )
    .await;
    let (status, body) = chat(&gw, &token).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("invalid_token"))
    );
    let (status, _, body) = token_request(
        &gw,
        Some((&client_id, &secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
    gw.admin_ok(
        Method::PUT,
        &format!("/api/oauth-clients/{id}"),
        Some(json!({"enabled": true})),
    )
    .await;
    // Re-enabling does not revive the tokens issued before the disable;
    // a token issued after it works.
    let (status, body) = chat(&gw, &token).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("invalid_token")),
        "a token from before the disable is dead for good"
    );
    let (status, _, body) = token_request(
        &gw,
        Some((&client_id, &secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(chat(&gw, &token).await.0, 200);
    // Saving the client enabled again (no disable in between) keeps its tokens.
    gw.admin_ok(
        Method::PUT,
        &format!("/api/oauth-clients/{id}"),
        Some(json!({"enabled": true, "name": "ci-renamed"})),
    )
    .await;
    assert_eq!(chat(&gw, &token).await.0, 200);

    // Token requests leave no trace rows; the two chats above do.
    let traces = gw
        .admin_ok(Method::GET, "/api/logs/traces?page_size=200", None)
        .await;
    assert!(
        traces["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["path"] != "/oauth/token"),
        "{traces}"
    );

    // Revoking the client key revokes its OAuth clients with it.
    gw.admin_ok(Method::DELETE, &format!("/api/client-keys/{key_id}"), None)
        .await;
    assert_eq!(chat(&gw, &token).await.0, 401);
    assert_eq!(
        gw.admin_ok(Method::GET, "/api/oauth-clients", None).await,
        json!([])
    );
    let audit = gw
        .admin_ok(Method::GET, "/api/audit", None)
        .await
        .to_string();
    assert!(audit.contains("oauth_client") && !audit.contains(&secret));
}
