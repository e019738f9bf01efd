//! Upstream keys that are OAuth accounts, against a real OAuth 2.0 server
//! (`tests/oauth`, npm `oauth2-mock-server`: PKCE, rotating refresh tokens,
//! short-lived JWT access tokens) and the mock provider, which refuses a JWT
//! past its `exp` with 401 as a provider would.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use ai_proxy_tests::gateway::TestGateway;
use ai_proxy_tests::mock::MockUpstream;
use ai_proxy_tests::oauth_server::OAuthServer;
use ai_proxy_tests::postgres::TempDatabase;
use reqwest::Method;
use serde_json::{Value, json};

const REDIRECT: &str = "http://127.0.0.1:9/callback";

struct Setup {
    gw: TestGateway,
    mock: MockUpstream,
    oauth: OAuthServer,
    key_id: i64,
    client_key: String,
}

/// The server's endpoints on 127.0.0.1 (the issuer says `localhost`).
fn endpoint(url: String) -> String {
    url.replace("localhost", "127.0.0.1")
}

/// Points `provider` at the mock and at the OAuth server, adds an OAuth key
/// and a client key using it.
async fn oauth_key(
    gw: &TestGateway,
    mock: &MockUpstream,
    oauth: &OAuthServer,
    provider: &str,
) -> (i64, String) {
    let id = gw.provider_id(provider).await;
    let view = gw
        .admin_ok(
            Method::PUT,
            &format!("/api/providers/{id}"),
            Some(json!({
                "base_url": mock.base_url(),
                "oauth": {
                    "authorize_url": endpoint(oauth.authorize_url()),
                    "token_url": endpoint(oauth.token_url()),
                    "client_id": "ai-proxy-test",
                    "scopes": ["openid", "offline_access"],
                    "client_secret": "cs-never-shown",
                    "request_headers": {"x-account-kind": "oauth"},
                },
            })),
        )
        .await;
    assert_eq!(view["oauth"]["source"], "override");
    assert_eq!(view["oauth"]["has_client_secret"], true);
    assert!(!view.to_string().contains("cs-never-shown"));
    let key = gw
        .admin_ok(
            Method::POST,
            "/api/upstream-keys",
            Some(json!({"provider_id": id, "name": format!("{provider}-account"), "auth_type": "oauth"})),
        )
        .await;
    assert_eq!(key["auth_type"], "oauth");
    assert_eq!(key["oauth"]["state"], "disconnected");
    let client = gw
        .admin_ok(
            Method::POST,
            "/api/client-keys",
            Some(json!({"name": format!("{provider}-client"), "provider_id": id, "upstream_key_ids": [key["id"]]})),
        )
        .await;
    (
        key["id"].as_i64().unwrap(),
        client["key"].as_str().unwrap().to_owned(),
    )
}

async fn setup(test: &str, token_ttl: u64, env: &[(&str, String)]) -> Option<Setup> {
    let oauth = OAuthServer::start(test, token_ttl)?;
    let mock = MockUpstream::start().await;
    let gw = TestGateway::start_with(env).await;
    let (key_id, client_key) = oauth_key(&gw, &mock, &oauth, "openai").await;
    Some(Setup {
        gw,
        mock,
        oauth,
        key_id,
        client_key,
    })
}

/// Starts an authorization and follows it to the redirect: the callback URL.
async fn authorize(gw: &TestGateway, key_id: i64) -> String {
    let started = gw
        .admin_ok(
            Method::POST,
            "/api/oauth/authorize",
            Some(json!({"key_id": key_id, "redirect_uri": REDIRECT})),
        )
        .await;
    let url = started["authorization_url"].as_str().unwrap();
    assert!(url.contains("code_challenge_method=S256"), "{url}");
    assert!(url.contains(&format!("state={}", started["state"].as_str().unwrap())));
    let resp = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(url)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    resp.headers()["location"].to_str().unwrap().to_owned()
}

async fn connect(gw: &TestGateway, key_id: i64) -> Value {
    let callback = authorize(gw, key_id).await;
    let view = gw
        .admin_ok(
            Method::POST,
            "/api/oauth/exchange",
            Some(json!({"callback_url": callback})),
        )
        .await;
    assert_eq!(view["oauth"]["state"], "connected", "{view}");
    view
}

/// An exchange that must fail with 400: its error code.
async fn exchange_error(gw: &TestGateway, body: Value) -> String {
    let (status, answer) = gw
        .admin(Method::POST, "/api/oauth/exchange", Some(body))
        .await;
    assert_eq!(status, 400, "{answer}");
    answer["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn key(gw: &TestGateway, key_id: i64) -> Value {
    gw.admin_ok(Method::GET, &format!("/api/upstream-keys/{key_id}"), None)
        .await
}

async fn chat_with(gw: &TestGateway, client_key: &str, extra: &[(&str, &str)]) -> u16 {
    let mut req = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", gw.proxy_url))
        .bearer_auth(client_key)
        .json(&json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}));
    for (name, value) in extra {
        req = req.header(*name, *value);
    }
    req.send().await.expect("proxy request").status().as_u16()
}

async fn chat(gw: &TestGateway, client_key: &str) -> u16 {
    chat_with(gw, client_key, &[]).await
}

fn bearer_sent(mock: &MockUpstream) -> String {
    let last = mock.requests().pop().expect("a request reached the mock");
    last.headers
        .iter()
        .find(|(n, _)| n == "authorization")
        .map(|(_, v)| v.clone())
        .expect("authorization header")
}

#[tokio::test]
async fn a_connected_account_serves_requests_with_a_bearer_token() {
    let Some(s) = setup("a_connected_account_serves_requests", 3600, &[]).await else {
        return;
    };
    assert_eq!(chat(&s.gw, &s.client_key).await, 503, "not connected yet");

    let callback = authorize(&s.gw, s.key_id).await;
    let view =
        s.gw.admin_ok(
            Method::POST,
            "/api/oauth/exchange",
            Some(json!({"callback_url": callback})),
        )
        .await;
    assert_eq!(view["oauth"]["state"], "connected");
    let expires: chrono::DateTime<chrono::Utc> = view["oauth"]["expires_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let left = expires - chrono::Utc::now();
    assert!(left > chrono::Duration::seconds(3500), "{left}");

    assert_eq!(chat(&s.gw, &s.client_key).await, 200);
    let sent = bearer_sent(&s.mock);
    let token = sent.strip_prefix("Bearer ").expect("bearer");
    assert_eq!(
        token.split('.').count(),
        3,
        "the access token (a JWT) is sent"
    );
    let shown = key(&s.gw, s.key_id).await.to_string();
    assert!(!shown.contains(token), "tokens are never shown");
    let log = s.gw.log();
    assert!(
        !log.contains(token) && !log.contains("cs-never-shown"),
        "secrets in the log"
    );

    // The same callback again: the session is spent.
    assert_eq!(
        exchange_error(&s.gw, json!({"callback_url": callback})).await,
        "invalid_state"
    );
    // A state nobody issued.
    assert_eq!(
        exchange_error(&s.gw, json!({"code": "c", "state": "forged"})).await,
        "invalid_state"
    );
    // The operator said no at the provider.
    assert_eq!(
        exchange_error(
            &s.gw,
            json!({"callback_url": format!("{REDIRECT}?error=access_denied&state=x")})
        )
        .await,
        "access_denied"
    );
    // A code the server never issued: the exchange fails and nothing changes.
    let started =
        s.gw.admin_ok(
            Method::POST,
            "/api/oauth/authorize",
            Some(json!({"key_id": s.key_id, "redirect_uri": REDIRECT})),
        )
        .await;
    let before = key(&s.gw, s.key_id).await;
    assert_eq!(
        exchange_error(
            &s.gw,
            json!({"code": "not-issued", "state": started["state"]})
        )
        .await,
        "exchange_failed"
    );
    let after = key(&s.gw, s.key_id).await;
    assert_eq!(
        before["oauth"], after["oauth"],
        "a failed exchange stores nothing"
    );
    assert_eq!(chat(&s.gw, &s.client_key).await, 200);

    // An API-key plugin (Anthropic puts keys in x-api-key) gets the token as a bearer token.
    let (anthropic_key, anthropic_client) = oauth_key(&s.gw, &s.mock, &s.oauth, "anthropic").await;
    connect(&s.gw, anthropic_key).await;
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/messages", s.gw.proxy_url))
        .header("x-api-key", &anthropic_client)
        .header("anthropic-version", "2023-06-01")
        .json(&json!({"model": "claude-sonnet-4", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let last = s.mock.requests().pop().unwrap();
    assert!(
        last.headers
            .iter()
            .any(|(n, v)| n == "x-account-kind" && v == "oauth"),
        "the provider's OAuth request headers are added"
    );
    assert!(
        last.headers.iter().all(|(n, _)| n != "x-api-key"),
        "{:?}",
        last.headers
    );
    assert!(bearer_sent(&s.mock).starts_with("Bearer "));
}

#[tokio::test]
async fn an_expired_authorization_is_refused_and_orphans_are_deleted() {
    let env = [
        ("AI_PROXY_OAUTH_SESSION_TTL_SECS", "1".to_owned()),
        ("AI_PROXY_OAUTH_CLEANUP_SECS", "3600".to_owned()),
    ];
    let Some(s) = setup("an_expired_authorization_is_refused", 3600, &env).await else {
        return;
    };
    let callback = authorize(&s.gw, s.key_id).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        exchange_error(&s.gw, json!({"callback_url": callback})).await,
        "session_expired"
    );
    assert_eq!(key(&s.gw, s.key_id).await["oauth"]["state"], "disconnected");

    // Orphans: sessions nobody finished are deleted on the cleanup schedule.
    let env = [
        ("AI_PROXY_OAUTH_SESSION_TTL_SECS", "1".to_owned()),
        ("AI_PROXY_OAUTH_CLEANUP_SECS", "1".to_owned()),
    ];
    let gw = TestGateway::start_with(&env).await;
    let (key_id, _) = oauth_key(&gw, &s.mock, &s.oauth, "openai").await;
    authorize(&gw, key_id).await;
    authorize(&gw, key_id).await;
    let pending = gw.admin_ok(Method::GET, "/api/oauth/sessions", None).await;
    assert_eq!(pending.as_array().unwrap().len(), 2, "{pending}");
    let deadline = Instant::now() + Duration::from_secs(6);
    loop {
        let pending = gw.admin_ok(Method::GET, "/api/oauth/sessions", None).await;
        if pending.as_array().unwrap().is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "orphans remain: {pending}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn tokens_are_refreshed_ahead_of_expiry() {
    let env = [
        ("AI_PROXY_OAUTH_REFRESH_MARGIN_SECS", "9".to_owned()),
        ("AI_PROXY_OAUTH_REFRESH_JITTER_SECS", "1".to_owned()),
    ];
    let Some(s) = setup("tokens_are_refreshed_ahead_of_expiry", 12, &env).await else {
        return;
    };
    let connected = connect(&s.gw, s.key_id).await;
    let first_expiry = connected["oauth"]["expires_at"]
        .as_str()
        .unwrap()
        .to_owned();
    // Due 12 - 9 - (up to 1) = 2 to 3 seconds after connecting.
    let deadline = Instant::now() + Duration::from_secs(10);
    let refreshed = loop {
        let view = key(&s.gw, s.key_id).await;
        if view["oauth"]["expires_at"].as_str() != Some(&first_expiry) {
            break view;
        }
        assert!(Instant::now() < deadline, "no refresh: {view}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(refreshed["oauth"]["state"], "connected");
    assert!(refreshed["oauth"]["last_refresh_at"].is_string());
    assert!(s.oauth.token_requests("refresh_token").await >= 1);
    assert_eq!(chat(&s.gw, &s.client_key).await, 200);
}

#[tokio::test]
async fn concurrent_requests_never_send_an_expired_token() {
    // No background refresh: every refresh happens on demand, under requests.
    let env = [("AI_PROXY_OAUTH_REFRESH_MARGIN_SECS", "0".to_owned())];
    let Some(s) = setup("concurrent_requests_never_send_an_expired_token", 8, &env).await else {
        return;
    };
    connect(&s.gw, s.key_id).await;
    let run_for = Duration::from_secs(12);
    let mut workers = Vec::new();
    for _ in 0..4 {
        workers.push(tokio::spawn(load(
            s.gw.proxy_url.clone(),
            s.client_key.clone(),
            run_for,
        )));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    let failed = all.iter().filter(|s| **s != 200).count();
    assert_eq!(failed, 0, "{failed} of {} requests failed", all.len());
    // Tokens live 8 s and are replaced 5 s before expiry: about 4 refreshes
    // in 12 s, one per expiry however many requests ran into it.
    let refreshes = s.oauth.token_requests("refresh_token").await;
    assert!(
        (2..=6).contains(&refreshes),
        "{refreshes} refreshes for {} requests",
        all.len()
    );
    assert!(all.len() > 40, "only {} requests ran", all.len());
}

/// Sends chat requests through `proxy` for `run_for` (at most 400); the statuses.
async fn load(proxy: String, client_key: String, run_for: Duration) -> Vec<u16> {
    let started = Instant::now();
    let http = reqwest::Client::new();
    let mut statuses = Vec::new();
    while started.elapsed() < run_for && statuses.len() < 400 {
        let status = http
            .post(format!("{proxy}/v1/chat/completions"))
            .bearer_auth(&client_key)
            .json(&json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .expect("proxy request")
            .status()
            .as_u16();
        statuses.push(status);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    statuses
}

#[tokio::test]
async fn two_instances_share_one_account_without_losing_it() {
    // Rotating refresh tokens: if both instances refreshed with the same
    // one, the second would be refused and the account lost.
    let Some(db) = TempDatabase::create("upstream_oauth_two_instances").await else {
        return;
    };
    let Some(oauth) = OAuthServer::start("two_instances_share_one_account", 8) else {
        return;
    };
    let mock = MockUpstream::start().await;
    let env = [
        ("DATABASE_URL", db.url.clone()),
        (
            "AI_PROXY_MASTER_KEY",
            "0303030303030303030303030303030303030303030303030303030303030303".into(),
        ),
        ("AI_PROXY_CONFIG_POLL_MS", "200".into()),
        ("AI_PROXY_OAUTH_REFRESH_MARGIN_SECS", "0".into()),
    ];
    let first = TestGateway::start_with(&env).await;
    let second = TestGateway::start_with(&env).await;
    let (key_id, client_key) = oauth_key(&first, &mock, &oauth, "openai").await;
    connect(&first, key_id).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while chat(&second, &client_key).await != 200 {
        assert!(
            Instant::now() < deadline,
            "the second instance never saw the account"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let run_for = Duration::from_secs(12);
    let mut workers = Vec::new();
    for gw in [&first, &second, &first, &second] {
        workers.push(tokio::spawn(load(
            gw.proxy_url.clone(),
            client_key.clone(),
            run_for,
        )));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    let failed = all.iter().filter(|s| **s != 200).count();
    assert_eq!(failed, 0, "{failed} of {} requests failed", all.len());
    let refreshes = oauth.token_requests("refresh_token").await;
    assert!(
        (2..=8).contains(&refreshes),
        "{refreshes} refreshes for {} requests",
        all.len()
    );
    assert_eq!(key(&first, key_id).await["oauth"]["state"], "connected");
}

#[tokio::test]
async fn a_refused_refresh_takes_the_key_out_until_reconnected() {
    let Some(s) = setup("a_refused_refresh_takes_the_key_out", 3600, &[]).await else {
        return;
    };
    connect(&s.gw, s.key_id).await;
    assert_eq!(chat(&s.gw, &s.client_key).await, 200);

    s.oauth.fail_refreshes(true).await;
    let (status, body) =
        s.gw.admin(
            Method::POST,
            &format!("/api/upstream-keys/{}/oauth/refresh", s.key_id),
            None,
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (502, Some("refresh_failed")),
        "{body}"
    );
    let view = key(&s.gw, s.key_id).await;
    assert_eq!(view["oauth"]["state"], "failed");
    assert!(
        view["oauth"]["last_error"]
            .as_str()
            .unwrap()
            .contains("invalid_grant"),
        "{view}"
    );
    assert_eq!(chat(&s.gw, &s.client_key).await, 503, "out of rotation");

    s.oauth.fail_refreshes(false).await;
    connect(&s.gw, s.key_id).await;
    assert_eq!(
        chat(&s.gw, &s.client_key).await,
        200,
        "back after reconnecting"
    );

    // Revoked: tokens gone, out of rotation.
    let view =
        s.gw.admin_ok(
            Method::POST,
            &format!("/api/upstream-keys/{}/oauth/revoke", s.key_id),
            None,
        )
        .await;
    assert_eq!(view["oauth"]["state"], "revoked");
    assert!(view["oauth"]["expires_at"].is_null());
    assert_eq!(chat(&s.gw, &s.client_key).await, 503);
}

#[tokio::test]
async fn an_upstream_401_triggers_one_refresh_and_one_retry() {
    let Some(s) = setup("an_upstream_401_triggers_one_refresh", 3600, &[]).await else {
        return;
    };
    connect(&s.gw, s.key_id).await;
    let before = s.oauth.token_requests("refresh_token").await;
    let first_token = {
        assert_eq!(chat(&s.gw, &s.client_key).await, 200);
        bearer_sent(&s.mock)
    };
    s.mock.clear();
    // Tokens are signed JWTs with a one-second `iat`: a refresh within the
    // same second would issue the very same token.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // The mock refuses every attempt: one refresh, one retry, then the 401 is passed on.
    assert_eq!(
        chat_with(&s.gw, &s.client_key, &[("x-mock-status", "401")]).await,
        401
    );
    assert_eq!(s.oauth.token_requests("refresh_token").await, before + 1);
    let sent: Vec<String> = s
        .mock
        .requests()
        .iter()
        .map(|r| {
            r.headers
                .iter()
                .find(|(n, _)| n == "authorization")
                .map(|(_, v)| v.clone())
                .unwrap()
        })
        .collect();
    assert_eq!(sent.len(), 2, "one retry");
    assert_eq!(sent[0], first_token);
    assert_ne!(
        sent[1], first_token,
        "the retry carries the refreshed token"
    );
    // Refused even with a fresh token: the key leaves rotation until a
    // health check finds it working; the account itself stays connected.
    let view = key(&s.gw, s.key_id).await;
    assert_eq!(view["oauth"]["state"], "connected");
    assert_eq!(view["health"]["status"], "auth_invalid", "{view}");
    assert_eq!(chat(&s.gw, &s.client_key).await, 503);
    let checked =
        s.gw.admin_ok(
            Method::POST,
            &format!("/api/upstream-keys/{}/health-check", s.key_id),
            None,
        )
        .await;
    assert_eq!(checked["result"]["status"], "healthy", "{checked}");
    assert_eq!(chat(&s.gw, &s.client_key).await, 200);
}

#[tokio::test]
async fn a_health_check_does_not_judge_an_account_by_an_expired_token() {
    let env = [("AI_PROXY_OAUTH_REFRESH_MARGIN_SECS", "0".to_owned())];
    let Some(s) = setup("a_health_check_does_not_judge_an_expired_token", 2, &env).await else {
        return;
    };
    connect(&s.gw, s.key_id).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let checked =
        s.gw.admin_ok(
            Method::POST,
            &format!("/api/upstream-keys/{}/health-check", s.key_id),
            None,
        )
        .await;
    assert_eq!(checked["result"]["status"], "unknown", "{checked}");
    assert_ne!(checked["health"]["status"], "auth_invalid", "{checked}");
    // The next request refreshes the token and goes through.
    assert_eq!(chat(&s.gw, &s.client_key).await, 200);
}
