//! Signing in to the admin API, against the real gateway: wrong passwords
//! lock out only the address that sent them (the right password from
//! another address still works, so nobody can keep `admin` locked for
//! everyone), user names are capped at 64 bytes, and failed and successful
//! sign-ins are in the audit log without any password.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ai_proxy_tests::gateway::{ADMIN_PASSWORD, TestGateway};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Sign-ins from one client (one source address).
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

    async fn login(&self, username: &str, password: &str) -> (StatusCode, Value) {
        let resp = self
            .http
            .post(format!("{}/api/auth/login", self.base))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

#[tokio::test]
async fn repeated_failed_logins_lock_only_the_guessing_address() {
    let gw = TestGateway::in_process().await;
    let api = Api::new(&gw);
    // Five failures are free; the sixth locks `admin` at this address.
    for attempt in 1..=6 {
        let (status, _) = api.login("admin", "guess").await;
        assert_eq!(status, 401, "attempt {attempt}");
    }
    let resp = api
        .http
        .post(format!("{}/api/auth/login", api.base))
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        429,
        "even the right password waits out the lock at the guessing address"
    );
    assert!(resp.headers().contains_key("retry-after"));

    // The operator at another address is not locked out by the attacker.
    let elsewhere = Api {
        base: gw.admin_url.clone(),
        http: reqwest::Client::builder()
            .local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap())
            .build()
            .unwrap(),
    };
    let (status, body) = elsewhere.login("admin", ADMIN_PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = api.login("admin", ADMIN_PASSWORD).await;
    assert_eq!(status, 429, "the guessing address stays locked");

    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(api.login("admin", ADMIN_PASSWORD).await.0, 200);
}

#[tokio::test]
async fn sign_ins_are_audited_without_passwords_and_long_names_are_refused() {
    let gw = TestGateway::in_process().await;
    let api = Api::new(&gw);
    assert_eq!(api.login("admin", "wrong-password-1").await.0, 401);
    assert_eq!(api.login("wrong-password-2", "x").await.0, 401);
    assert_eq!(api.login("admin", ADMIN_PASSWORD).await.0, 200);

    // User names are capped at 64 bytes, at sign-in and at creation.
    let long = "a".repeat(65);
    let (status, body) = api.login(&long, "whatever").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_request"))
    );
    assert_eq!(api.login(&"a".repeat(64), "whatever").await.0, 401);
    let (status, _) = gw
        .admin(
            Method::POST,
            "/api/users",
            Some(json!({"username": long, "password": "long-enough"})),
        )
        .await;
    assert_eq!(status, 400);

    let audit = gw
        .admin_ok(Method::GET, "/api/audit?resource=user", None)
        .await;
    let items = audit["items"].as_array().unwrap();
    let actions: Vec<(&str, &str)> = items
        .iter()
        .map(|i| {
            (
                i["action"].as_str().unwrap(),
                i["actor_name"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(actions.contains(&("sign_in", "admin")), "{audit}");
    assert!(actions.contains(&("sign_in_failed", "admin")), "{audit}");
    assert!(
        actions.contains(&("sign_in_failed", "(unknown account)")),
        "{audit}"
    );
    let text = audit.to_string();
    for secret in ["wrong-password-1", "wrong-password-2", ADMIN_PASSWORD] {
        assert!(!text.contains(secret), "{secret} in the audit log");
    }
    assert!(
        text.contains("127.0.0.1"),
        "the address is recorded: {audit}"
    );
}
