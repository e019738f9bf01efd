//! The admin API's access control against the real gateway: sessions
//! (login, cookie, logout, password change), roles (admin and user),
//! account management, and the audit log. Sign-in lockout and its audit
//! are in `sign_in_e2e.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ai_proxy_tests::gateway::{ADMIN_PASSWORD, TestGateway};
use ai_proxy_tests::mock::MockUpstream;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    fn new(gw: &TestGateway) -> Api {
        Api {
            base: gw.admin_url.clone(),
            http: reqwest::Client::new(),
        }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("admin request");
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn login(&self, username: &str, password: &str) -> (StatusCode, Value) {
        self.call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"username": username, "password": password})),
        )
        .await
    }

    async fn token(&self, username: &str, password: &str) -> String {
        let (status, body) = self.login(username, password).await;
        assert_eq!(status, 200, "{body}");
        body["token"].as_str().expect("token").to_owned()
    }
}

#[tokio::test]
async fn anonymous_callers_get_401_except_on_health_and_login() {
    let gw = TestGateway::in_process().await;
    let api = Api::new(&gw);
    for path in [
        "/api/providers",
        "/api/users",
        "/api/audit",
        "/api/logs/traces",
        "/api/client-keys",
        "/api/upstream-keys",
        "/api/plugins",
    ] {
        let (status, body) = api.call(Method::GET, path, None, None).await;
        assert_eq!(status, 401, "{path}: {body}");
        assert_eq!(body["error"]["code"], "unauthorized");
    }
    assert_eq!(
        api.call(Method::GET, "/api/health", None, None).await.0,
        200
    );
    let (status, _) = api
        .call(Method::GET, "/api/providers", Some("not-a-token"), None)
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn sessions_work_as_bearer_and_cookie_and_end_at_logout() {
    let gw = TestGateway::in_process().await;
    let api = Api::new(&gw);
    let (status, _) = api.login("admin", "wrong-password").await;
    assert_eq!(status, 401);

    let resp = api
        .http
        .post(format!("{}/api/auth/login", api.base))
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let body: Value = resp.json().await.unwrap();
    let token = body["token"].as_str().unwrap().to_owned();
    assert!(!body.to_string().contains(ADMIN_PASSWORD));

    assert_eq!(
        api.call(Method::GET, "/api/providers", Some(&token), None)
            .await
            .0,
        200
    );
    let pair = cookie.split(';').next().unwrap().to_owned();
    let by_cookie = api
        .http
        .get(format!("{}/api/auth/me", api.base))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(by_cookie.status(), 200);
    assert_eq!(by_cookie.json::<Value>().await.unwrap()["role"], "admin");

    assert_eq!(
        api.call(Method::POST, "/api/auth/logout", Some(&token), None)
            .await
            .0,
        200
    );
    assert_eq!(
        api.call(Method::GET, "/api/providers", Some(&token), None)
            .await
            .0,
        401
    );
}

#[tokio::test]
async fn users_manage_only_their_own_keys_and_see_only_their_own_traces() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::in_process().await;
    let api = Api::new(&gw);
    let admin = api.token("admin", ADMIN_PASSWORD).await;
    let admin_key = gw
        .client_key_for("openai", &mock.base_url(), "sk-up-1")
        .await;
    let upstream_key_id =
        gw.admin_ok(Method::GET, "/api/upstream-keys", None).await[0]["id"].clone();
    let openai = gw.provider_id("openai").await;

    let (status, body) = api
        .call(
            Method::POST,
            "/api/users",
            Some(&admin),
            Some(json!({"username": "alice", "password": "short"})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, alice_user) = api
        .call(
            Method::POST,
            "/api/users",
            Some(&admin),
            Some(json!({"username": "alice", "password": "alice-password", "role": "user"})),
        )
        .await;
    assert_eq!(status, 200, "{alice_user}");
    assert!(alice_user.get("password_hash").is_none());
    let alice = api.token("alice", "alice-password").await;

    // Admin-only resources.
    for (method, path, body) in [
        (Method::GET, "/api/users", None),
        (Method::GET, "/api/audit", None),
        (Method::GET, "/api/upstream-keys", None),
        (Method::GET, "/api/plugins", None),
        (
            Method::POST,
            "/api/providers",
            Some(json!({"name": "x", "plugin": "openai"})),
        ),
        (
            Method::PUT,
            &format!("/api/providers/{openai}") as &str,
            Some(json!({"enabled": false})),
        ),
    ] {
        let (status, body) = api.call(method.clone(), path, Some(&alice), body).await;
        assert_eq!(status, 403, "{method} {path}: {body}");
    }

    // Alice may pool the upstream key she is granted, under default limits.
    let (status, body) = api
        .call(
            Method::PUT,
            &format!("/api/users/{}/grants", alice_user["id"]),
            Some(&admin),
            Some(json!({"upstream_key_ids": [upstream_key_id], "default_limits": {"requests_per_minute": 60}})),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // Alice's own key works and is the only one she sees.
    let (status, mine) = api
        .call(
            Method::POST,
            "/api/client-keys",
            Some(&alice),
            Some(json!({"name": "alice-app", "provider_id": openai, "upstream_key_ids": [upstream_key_id]})),
        )
        .await;
    assert_eq!(status, 200, "{mine}");
    // Limits and strategy are the operator's: a user cannot lift them.
    for body in [
        json!({"limits": {"requests_per_minute": 1000000}}),
        json!({"strategy": "weighted"}),
    ] {
        let (status, _) = api
            .call(
                Method::PUT,
                &format!("/api/client-keys/{}", mine["id"]),
                Some(&alice),
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, 403, "{body}");
    }
    let (status, _) = api
        .call(
            Method::POST,
            "/api/client-keys",
            Some(&alice),
            Some(json!({"name": "alice-unlimited", "provider_id": openai, "limits": {}})),
        )
        .await;
    assert_eq!(status, 403);
    let (_, listed) = api
        .call(Method::GET, "/api/client-keys", Some(&alice), None)
        .await;
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alice-app"]);
    let admins_key_id = gw.admin_ok(Method::GET, "/api/client-keys", None).await[0]["id"].clone();
    let (status, _) = api
        .call(
            Method::DELETE,
            &format!("/api/client-keys/{admins_key_id}"),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(status, 404, "someone else's key is invisible");

    // Traffic on both keys; Alice sees only hers.
    let client = reqwest::Client::new();
    for key in [admin_key.as_str(), mine["key"].as_str().unwrap()] {
        let resp = client
            .post(format!("{}/v1/chat/completions", gw.proxy_url))
            .bearer_auth(key)
            .json(&json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
    gw.traces(2).await;
    let (_, alice_traces) = api
        .call(Method::GET, "/api/logs/traces", Some(&alice), None)
        .await;
    assert_eq!(alice_traces["total"], 1, "{alice_traces}");
    assert_eq!(alice_traces["items"][0]["client_key_name"], "alice-app");
    let (_, all) = api
        .call(Method::GET, "/api/logs/traces", Some(&admin), None)
        .await;
    assert_eq!(all["total"], 2);
    let admins_trace = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["client_key_name"] != "alice-app")
        .unwrap()["id"]
        .clone();
    let (status, _) = api
        .call(
            Method::GET,
            &format!("/api/logs/traces/{admins_trace}"),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(status, 404);

    // A password change ends the old sessions.
    let (status, body) = api
        .call(
            Method::POST,
            "/api/auth/password",
            Some(&alice),
            Some(json!({"current_password": "alice-password", "new_password": "alice-password-2"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        api.call(Method::GET, "/api/auth/me", Some(&alice), None)
            .await
            .0,
        401
    );
    api.token("alice", "alice-password-2").await;

    // Disabling an account locks it out at once.
    let alice_id = alice_user["id"].clone();
    let alice2 = api.token("alice", "alice-password-2").await;
    api.call(
        Method::PUT,
        &format!("/api/users/{alice_id}"),
        Some(&admin),
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(
        api.call(Method::GET, "/api/auth/me", Some(&alice2), None)
            .await
            .0,
        401
    );
}

#[tokio::test]
async fn the_last_admin_cannot_be_removed_and_changes_are_audited_without_secrets() {
    let gw = TestGateway::in_process().await;
    let api = Api::new(&gw);
    let admin = api.token("admin", ADMIN_PASSWORD).await;
    let (_, me) = api
        .call(Method::GET, "/api/auth/me", Some(&admin), None)
        .await;
    let my_id = me["id"].clone();
    let (status, _) = api
        .call(
            Method::DELETE,
            &format!("/api/users/{my_id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 409);
    let (status, _) = api
        .call(
            Method::PUT,
            &format!("/api/users/{my_id}"),
            Some(&admin),
            Some(json!({"role": "user"})),
        )
        .await;
    assert_eq!(status, 409);

    let openai = gw.provider_id("openai").await;
    let secret = "sk-very-secret-upstream-key-123456";
    let (status, key) = api
        .call(
            Method::POST,
            "/api/upstream-keys",
            Some(&admin),
            Some(json!({"provider_id": openai, "name": "k", "secret": secret})),
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        !key.to_string().contains(secret),
        "the secret is never returned"
    );
    api.call(
        Method::PUT,
        &format!("/api/upstream-keys/{}", key["id"]),
        Some(&admin),
        Some(json!({"name": "renamed"})),
    )
    .await;

    let (status, log) = api
        .call(
            Method::GET,
            "/api/audit?resource=upstream_key",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 200, "{log}");
    let items = log["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{log}");
    assert_eq!(items[0]["action"], "update");
    assert_eq!(items[0]["actor_name"], "admin");
    assert_eq!(items[0]["before"]["name"], "k");
    assert_eq!(items[0]["after"]["name"], "renamed");
    assert_eq!(items[1]["action"], "create");
    assert!(
        !log.to_string().contains(secret),
        "no secret in the audit log"
    );
}

#[tokio::test]
async fn bad_admin_input_gets_a_json_400_and_changes_nothing() {
    let gw = TestGateway::in_process().await;
    let api = Api::new(&gw);
    let admin = api.token("admin", ADMIN_PASSWORD).await;
    let resp = api
        .http
        .post(format!("{}/api/upstream-keys", api.base))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_request");
    let (status, _) = api
        .call(
            Method::POST,
            "/api/upstream-keys",
            Some(&admin),
            Some(json!({"provider_id": 1, "name": "x", "secret": "s", "colour": "red"})),
        )
        .await;
    assert_eq!(status, 400, "unknown fields are refused");
    let (status, _) = api
        .call(
            Method::GET,
            "/api/logs/traces?page_size=0",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 400);
    let (status, _) = api
        .call(
            Method::GET,
            "/api/logs/traces?page_size=201",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        api.call(
            Method::GET,
            "/api/logs/traces?page_size=200",
            Some(&admin),
            None
        )
        .await
        .0,
        200
    );
    let (_, keys) = api
        .call(Method::GET, "/api/upstream-keys", Some(&admin), None)
        .await;
    assert_eq!(keys.as_array().unwrap().len(), 0, "nothing was stored");
}

#[tokio::test]
async fn providers_in_use_cannot_be_deleted_and_keys_can_be_limited_to_models() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::in_process().await;
    let key = gw.client_key_for("openai", &mock.base_url(), "sk-up").await;
    let openai = gw.provider_id("openai").await;
    let (status, body) = gw
        .admin(Method::DELETE, &format!("/api/providers/{openai}"), None)
        .await;
    assert_eq!(status, 409, "{body}");
    let gemini = gw.provider_id("gemini").await;
    gw.admin_ok(Method::DELETE, &format!("/api/providers/{gemini}"), None)
        .await;
    assert_eq!(
        gw.admin(Method::GET, &format!("/api/providers/{gemini}"), None)
            .await
            .0,
        404
    );

    let id = gw.admin_ok(Method::GET, "/api/client-keys", None).await[0]["id"].clone();
    let limited = gw
        .admin_ok(
            Method::PUT,
            &format!("/api/client-keys/{id}"),
            Some(json!({"allowed_models": ["gpt-4o-mini", "o4-*"]})),
        )
        .await;
    assert_eq!(limited["allowed_models"], json!(["gpt-4o-mini", "o4-*"]));
    let client = reqwest::Client::new();
    for (model, status) in [("gpt-4o-mini", 200), ("o4-mini", 200), ("gpt-4o", 403)] {
        let resp = client
            .post(format!("{}/v1/chat/completions", gw.proxy_url))
            .bearer_auth(&key)
            .json(&json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), status, "{model}");
        if status == 403 {
            let body: Value = resp.json().await.unwrap();
            assert_eq!(body["error"]["code"], "model_not_allowed");
        }
    }
    let (status, _) = gw
        .admin(
            Method::PUT,
            &format!("/api/client-keys/{id}"),
            Some(json!({"allowed_models": [""]})),
        )
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn the_first_key_routes_and_field_names_still_answer_as_the_new_ones() {
    let gw = TestGateway::in_process().await;
    let api = Api::new(&gw);
    let admin = api.token("admin", ADMIN_PASSWORD).await;
    let openai = gw.provider_id("openai").await;
    let (status, key) = api
        .call(
            Method::POST,
            "/api/provider-keys/keys",
            Some(&admin),
            Some(json!({"provider_id": openai, "name": "old-route", "secret": "sk-old-route-1"})),
        )
        .await;
    assert_eq!(status, 200, "{key}");
    let key_id = key["id"].as_i64().unwrap();
    for path in [
        format!("/api/provider-keys/keys/{key_id}"),
        format!("/api/upstream-keys/{key_id}"),
    ] {
        let (status, same) = api.call(Method::GET, &path, Some(&admin), None).await;
        assert_eq!(
            (status, same["name"].as_str()),
            (StatusCode::OK, Some("old-route")),
            "{path}"
        );
    }

    // A body with the first field name: the pool is taken, the answer says it the new way.
    let (status, client) = api
        .call(
            Method::POST,
            "/api/user-service/keys",
            Some(&admin),
            Some(json!({"name": "old-field", "provider_id": openai, "provider_key_ids": [key_id]})),
        )
        .await;
    assert_eq!(status, 200, "{client}");
    assert_eq!(client["upstream_key_ids"], json!([key_id]), "{client}");
    assert!(client.get("provider_key_ids").is_none(), "{client}");
    let client_id = client["id"].as_i64().unwrap();
    let (status, _) = api
        .call(
            Method::DELETE,
            &format!("/api/user-service/keys/{client_id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = api
        .call(
            Method::GET,
            &format!("/api/client-keys/{client_id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(
        status, 404,
        "deleted through the old route, gone under the new"
    );

    // The log's filter under its first name filters (nothing matches this key's name).
    let (status, page) = api
        .call(
            Method::GET,
            "/api/logs/traces?provider_key=old-route",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(
        (status, page["total"].as_i64()),
        (StatusCode::OK, Some(0)),
        "{page}"
    );
    // Only a whole path segment is an old name.
    let (status, _) = api
        .call(Method::GET, "/api/provider-keys/keysX", Some(&admin), None)
        .await;
    assert_eq!(status, 404);

    // The document names the new routes only.
    let (_, doc) = api.call(Method::GET, "/api/openapi.json", None, None).await;
    let paths: Vec<&String> = doc["paths"].as_object().unwrap().keys().collect();
    assert!(paths.iter().any(|p| p.starts_with("/api/upstream-keys")));
    assert!(
        !paths
            .iter()
            .any(|p| p.starts_with("/api/user-service") || p.starts_with("/api/provider-keys")),
        "{paths:?}"
    );
}
