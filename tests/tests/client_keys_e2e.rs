//! A `user` account can only narrow its client keys, within what an
//! operator granted it, against the real gateway: each way of lifting an
//! operator's decision is tried through the admin API by a real `user`
//! account and refused with a 403 naming the field, and the proxy port goes
//! on enforcing the operator's settings. Disabling or deleting the account
//! stops its keys at once, on every instance.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use ai_proxy_tests::gateway::TestGateway;
use ai_proxy_tests::mock::MockUpstream;
use ai_proxy_tests::postgres::TempDatabase;
use chrono::Utc;
use reqwest::Method;
use serde_json::{Value, json};

const USER: &str = "bob";
const USER_PASSWORD: &str = "bob-password-1";
const GRANTED_SECRET: &str = "sk-up-granted";
const OTHER_SECRET: &str = "sk-up-not-granted";

/// A gateway with the openai provider on the mock, two upstream keys
/// (the first to be granted), and the account `bob` (role `user`).
struct Setup {
    gw: TestGateway,
    mock: MockUpstream,
    provider_id: i64,
    granted_key: i64,
    other_key: i64,
    user_id: i64,
}

impl Setup {
    async fn start(env: &[(&str, String)]) -> Setup {
        let gw = TestGateway::in_process_with(env).await;
        let mock = MockUpstream::start().await;
        let provider_id = gw.provider_id("openai").await;
        gw.admin_ok(
            Method::PUT,
            &format!("/api/providers/{provider_id}"),
            Some(json!({"base_url": mock.base_url()})),
        )
        .await;
        let mut ids = Vec::new();
        for (name, secret) in [("granted", GRANTED_SECRET), ("other", OTHER_SECRET)] {
            let key = gw
                .admin_ok(
                    Method::POST,
                    "/api/upstream-keys",
                    Some(json!({"provider_id": provider_id, "name": name, "secret": secret})),
                )
                .await;
            ids.push(key["id"].as_i64().unwrap());
        }
        let user = gw
            .admin_ok(
                Method::POST,
                "/api/users",
                Some(json!({"username": USER, "password": USER_PASSWORD, "role": "user"})),
            )
            .await;
        Setup {
            gw,
            mock,
            provider_id,
            granted_key: ids[0],
            other_key: ids[1],
            user_id: user["id"].as_i64().unwrap(),
        }
    }

    /// An admin API call as `bob`.
    async fn as_user(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = reqwest::Client::new()
            .request(method, format!("{}{path}", self.gw.admin_url))
            .basic_auth(USER, Some(USER_PASSWORD));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn grant(&self, grant: Value) -> Value {
        self.gw
            .admin_ok(
                Method::PUT,
                &format!("/api/users/{}/grants", self.user_id),
                Some(grant),
            )
            .await
    }

    /// Creates a key as `bob` with `fields` merged in; must succeed.
    async fn user_key(&self, fields: Value) -> Value {
        let mut body = json!({"name": "bob-app", "provider_id": self.provider_id,
                              "upstream_key_ids": [self.granted_key]});
        body.as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        let (status, key) = self
            .as_user(Method::POST, "/api/client-keys", Some(body))
            .await;
        assert_eq!(status, 200, "{key}");
        key
    }
}

/// A chat request for `model`: status and body.
async fn chat(gw: &TestGateway, key: &str, model: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", gw.proxy_url))
        .bearer_auth(key)
        .json(&json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Asserts a 403 whose JSON error message names `field`.
fn assert_refused(what: &str, (status, body): (u16, Value), field: &str) {
    assert_eq!(status, 403, "{what}: {body}");
    assert_eq!(body["error"]["code"], "forbidden", "{what}: {body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with(&format!("{field}:")),
        "{what}: the refusal names {field}: {body}"
    );
}

#[tokio::test]
async fn a_user_cannot_lift_what_an_admin_set_on_its_key_and_the_proxy_keeps_enforcing_it() {
    let s = Setup::start(&[]).await;
    s.grant(json!({"upstream_key_ids": [s.granted_key]})).await;
    let key = s.user_key(json!({})).await;
    let (id, secret) = (key["id"].as_i64().unwrap(), key["key"].as_str().unwrap());
    let path = format!("/api/client-keys/{id}");
    let expires = Utc::now() + chrono::Duration::days(1);
    let restricted = json!({
        "enabled": false,
        "allowed_models": ["gpt-4o-mini"],
        "expires_at": expires.to_rfc3339(),
        "limits": {"requests_per_day": 100, "tokens_per_day": 100000},
    });
    s.gw.admin_ok(Method::PUT, &path, Some(restricted)).await;
    let before = s.gw.admin_ok(Method::GET, &path, None).await;
    assert_eq!(before["disabled_by_admin"], true, "{before}");

    let later = (expires + chrono::Duration::days(30)).to_rfc3339();
    let attacks = [
        // The request from the issue: re-enable and drop the model restriction.
        (json!({"enabled": true, "allowed_models": []}), "enabled"),
        (json!({"enabled": true}), "enabled"),
        (json!({"allowed_models": []}), "allowed_models"),
        (json!({"allowed_models": ["gpt-4o"]}), "allowed_models"),
        (
            json!({"allowed_models": ["gpt-4o-mini", "*"]}),
            "allowed_models",
        ),
        (json!({"expires_at": later}), "expires_at"),
        (json!({"expires_at": null}), "expires_at"),
        (
            json!({"upstream_key_ids": [s.other_key]}),
            "upstream_key_ids",
        ),
        (
            json!({"limits": {"requests_per_day": 1000000, "tokens_per_day": 100000}}),
            "limits.requests_per_day",
        ),
        (
            json!({"limits": {"requests_per_day": 100}}),
            "limits.tokens_per_day",
        ),
        (json!({"strategy": "weighted"}), "strategy"),
        (json!({"quota_overrun": "cut"}), "quota_overrun"),
    ];
    for (body, field) in attacks {
        let what = body.to_string();
        assert_refused(
            &what,
            s.as_user(Method::PUT, &path, Some(body)).await,
            field,
        );
    }
    let mut after = s.gw.admin_ok(Method::GET, &path, None).await;
    let mut unchanged = before.clone();
    for view in [&mut after, &mut unchanged] {
        view.as_object_mut().unwrap().remove("updated_at");
    }
    assert_eq!(after, unchanged, "no refused change was stored");
    assert_eq!(
        chat(&s.gw, secret, "gpt-4o-mini").await.0,
        403,
        "still disabled"
    );

    // The admin enables it again; the restriction holds on the proxy port.
    s.gw.admin_ok(Method::PUT, &path, Some(json!({"enabled": true})))
        .await;
    assert_eq!(chat(&s.gw, secret, "gpt-4o-mini").await.0, 200);
    let (status, body) = chat(&s.gw, secret, "gpt-4o").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("model_not_allowed")),
        "{body}"
    );
    let seen: Vec<String> = s
        .mock
        .requests()
        .iter()
        .filter_map(|r| r.header("authorization").map(str::to_owned))
        .collect();
    assert_eq!(seen, [format!("Bearer {GRANTED_SECRET}")]);

    // Narrowing is the user's to do: an earlier expiry, a shorter model list,
    // lower limits, and disabling (and enabling again) its own key.
    let sooner = (Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    for body in [
        json!({"expires_at": sooner}),
        json!({"allowed_models": ["gpt-4o-mini"]}),
        json!({"limits": {"requests_per_day": 10, "tokens_per_day": 1000, "requests_per_second": 5}}),
        json!({"enabled": false}),
    ] {
        let (status, view) = s.as_user(Method::PUT, &path, Some(body.clone())).await;
        assert_eq!(status, 200, "{body}: {view}");
    }
    assert_eq!(chat(&s.gw, secret, "gpt-4o-mini").await.0, 403);
    let (status, view) = s
        .as_user(Method::PUT, &path, Some(json!({"enabled": true})))
        .await;
    assert_eq!(
        status, 200,
        "the user disabled it, the user enables it: {view}"
    );
    assert_eq!(view["limits"]["requests_per_day"], 10);
    assert_eq!(chat(&s.gw, secret, "gpt-4o-mini").await.0, 200);
}

#[tokio::test]
async fn a_user_pools_only_granted_keys_and_its_new_keys_get_the_default_limits() {
    let s = Setup::start(&[]).await;
    let body =
        json!({"name": "k", "provider_id": s.provider_id, "upstream_key_ids": [s.granted_key]});
    assert_refused(
        "no grant yet",
        s.as_user(Method::POST, "/api/client-keys", Some(body.clone()))
            .await,
        "upstream_key_ids",
    );
    let no_pool = json!({"name": "k", "provider_id": s.provider_id});
    assert_refused(
        "a provider not granted",
        s.as_user(Method::POST, "/api/client-keys", Some(no_pool))
            .await,
        "provider_id",
    );

    let defaults =
        json!({"requests_per_day": 100, "tokens_per_day": 5000, "cost_per_day_usd": 1.5});
    let grant = s
        .grant(json!({"upstream_key_ids": [s.granted_key], "default_limits": defaults}))
        .await;
    assert_eq!(grant["upstream_key_ids"], json!([s.granted_key]));
    let (status, own) = s
        .as_user(
            Method::GET,
            &format!("/api/users/{}/grants", s.user_id),
            None,
        )
        .await;
    assert_eq!((status, &own), (200, &grant), "a user reads its own grant");
    let (status, _) = s
        .as_user(
            Method::PUT,
            &format!("/api/users/{}/grants", s.user_id),
            Some(json!({"provider_ids": [s.provider_id]})),
        )
        .await;
    assert_eq!(status, 403, "a user cannot grant itself more");
    let admin_id = s.gw.admin_ok(Method::GET, "/api/auth/me", None).await["id"].clone();
    let (status, _) = s
        .as_user(Method::GET, &format!("/api/users/{admin_id}/grants"), None)
        .await;
    assert_eq!(status, 403, "nor read another account's");

    assert_refused(
        "an upstream key not granted",
        s.as_user(
            Method::POST,
            "/api/client-keys",
            Some(json!({"name": "k", "provider_id": s.provider_id,
                        "upstream_key_ids": [s.granted_key, s.other_key]})),
        )
        .await,
        "upstream_key_ids",
    );
    assert_refused(
        "limits above the defaults",
        s.as_user(
            Method::POST,
            "/api/client-keys",
            Some(json!({"name": "k", "provider_id": s.provider_id, "upstream_key_ids": [s.granted_key],
                        "limits": {"requests_per_day": 101, "tokens_per_day": 5000, "cost_per_day_usd": 1.5}})),
        )
        .await,
        "limits.requests_per_day",
    );
    assert_refused(
        "no limits at all",
        s.as_user(
            Method::POST,
            "/api/client-keys",
            Some(json!({"name": "k", "provider_id": s.provider_id, "upstream_key_ids": [s.granted_key],
                        "limits": {}})),
        )
        .await,
        "limits.requests_per_day",
    );

    let key = s.user_key(json!({})).await;
    let mut expected = json!({"requests_per_second": null, "requests_per_minute": null});
    expected
        .as_object_mut()
        .unwrap()
        .extend(defaults.as_object().unwrap().clone());
    assert_eq!(key["limits"], expected, "{key}");
    let lower = s
        .user_key(json!({"limits": {"requests_per_day": 1, "tokens_per_day": 5000, "cost_per_day_usd": 1.0}}))
        .await;
    assert_eq!(lower["limits"]["requests_per_day"], 1);
    let secret = lower["key"].as_str().unwrap();
    assert_eq!(chat(&s.gw, secret, "gpt-4o-mini").await.0, 200);
    assert_eq!(
        chat(&s.gw, secret, "gpt-4o-mini").await.0,
        429,
        "the user's own lower limit holds on the proxy port"
    );

    // An admin cannot pool a user's key outside its grant by mistake...
    let path = format!("/api/client-keys/{}", key["id"]);
    let (status, body) =
        s.gw.admin(
            Method::PUT,
            &path,
            Some(json!({"upstream_key_ids": [s.other_key]})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    // ...and taking the grant back stops the key from using it at once.
    let secret = key["key"].as_str().unwrap();
    assert_eq!(chat(&s.gw, secret, "gpt-4o-mini").await.0, 200);
    s.grant(json!({})).await;
    let (status, body) = chat(&s.gw, secret, "gpt-4o-mini").await;
    assert_eq!(status, 503, "{body}");
    // A grant of the whole provider covers every key of it, and is the pool
    // of a key created without naming one.
    s.grant(json!({"provider_ids": [s.provider_id]})).await;
    assert_eq!(chat(&s.gw, secret, "gpt-4o-mini").await.0, 200);
    let (status, whole) = s
        .as_user(
            Method::POST,
            "/api/client-keys",
            Some(json!({"name": "all", "provider_id": s.provider_id})),
        )
        .await;
    assert_eq!(status, 200, "{whole}");
    assert_eq!(
        whole["upstream_key_ids"],
        json!([s.granted_key, s.other_key])
    );
}

async fn wait_for(gw: &TestGateway, key: &str, want: u16) -> Duration {
    let started = Instant::now();
    loop {
        let (status, body) = chat(gw, key, "gpt-4o-mini").await;
        if status == want {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "still {status}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Disables, enables and deletes `bob` through `first`; its key follows
/// at once on `first` and within a poll on `second`.
async fn account_changes_reach_keys(s: &Setup, second: &TestGateway) {
    s.grant(json!({"upstream_key_ids": [s.granted_key]})).await;
    let key = s.user_key(json!({})).await;
    let secret = key["key"].as_str().unwrap();
    wait_for(second, secret, 200).await;
    let user = format!("/api/users/{}", s.user_id);
    for (change, want) in [
        (json!({"enabled": false}), 403),
        (json!({"enabled": true}), 200),
    ] {
        s.gw.admin_ok(Method::PUT, &user, Some(change)).await;
        assert_eq!(chat(&s.gw, secret, "gpt-4o-mini").await.0, want, "at once");
        let took = wait_for(second, secret, want).await;
        assert!(took < Duration::from_secs(3), "other instance: {took:?}");
    }
    s.gw.admin_ok(Method::DELETE, &user, None).await;
    let (status, body) = chat(&s.gw, secret, "gpt-4o-mini").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("api_key_disabled")),
        "{body}"
    );
    let took = wait_for(second, secret, 403).await;
    assert!(took < Duration::from_secs(3), "other instance: {took:?}");
    let view =
        s.gw.admin_ok(
            Method::GET,
            &format!("/api/client-keys/{}", key["id"]),
            None,
        )
        .await;
    assert_eq!(
        (&view["enabled"], &view["disabled_by_admin"]),
        (&json!(false), &json!(true)),
        "{view}"
    );
}

#[tokio::test]
async fn disabling_or_deleting_a_user_stops_its_keys_at_once() {
    let s = Setup::start(&[]).await;
    account_changes_reach_keys(&s, &s.gw).await;
}

#[tokio::test]
async fn disabling_or_deleting_a_user_stops_its_keys_on_every_instance() {
    let Some(db) = TempDatabase::create("user_keys").await else {
        return;
    };
    let env = [
        ("DATABASE_URL", db.url.clone()),
        (
            "AI_PROXY_MASTER_KEY",
            "0303030303030303030303030303030303030303030303030303030303030303".into(),
        ),
        ("AI_PROXY_CONFIG_POLL_MS", "200".into()),
    ];
    let s = Setup::start(&env).await;
    let second = TestGateway::in_process_with(&env).await;
    account_changes_reach_keys(&s, &second).await;
    drop((s, second));
    db.drop_database().await;
}
