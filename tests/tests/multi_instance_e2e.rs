//! Two gateway instances on one PostgreSQL database: a client key created
//! through one works on the other, and revoking it on one stops it on the
//! other, within a few poll intervals, without a restart.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use ai_proxy_tests::gateway::TestGateway;
use ai_proxy_tests::mock::MockUpstream;
use ai_proxy_tests::postgres::TempDatabase;
use reqwest::Method;

const MASTER_KEY: &str = "0202020202020202020202020202020202020202020202020202020202020202";

async fn wait_for_status(gw: &TestGateway, key: &str, want: u16) -> Duration {
    let started = Instant::now();
    loop {
        let (status, _, body) = gw.chat(key).await;
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

#[tokio::test]
async fn changes_made_on_one_instance_reach_the_other() {
    let Some(db) = TempDatabase::create("multi_instance").await else {
        return;
    };
    let mock = MockUpstream::start().await;
    let env = [
        ("DATABASE_URL", db.url.clone()),
        ("AI_PROXY_MASTER_KEY", MASTER_KEY.into()),
        ("AI_PROXY_CONFIG_POLL_MS", "200".into()),
    ];
    let first = TestGateway::in_process_with(&env).await;
    let second = TestGateway::in_process_with(&env).await;

    let key = first
        .client_key_for("openai", &mock.base_url(), "sk-up")
        .await;
    assert_eq!(
        first.chat(&key).await.0,
        200,
        "at once on the instance that made it"
    );
    let took = wait_for_status(&second, &key, 200).await;
    assert!(
        took < Duration::from_secs(3),
        "reached the other instance in {took:?}"
    );

    let id = first.admin_ok(Method::GET, "/api/client-keys", None).await[0]["id"].clone();
    second
        .admin_ok(Method::DELETE, &format!("/api/client-keys/{id}"), None)
        .await;
    assert_eq!(second.chat(&key).await.0, 401);
    let took = wait_for_status(&first, &key, 401).await;
    assert!(
        took < Duration::from_secs(3),
        "revoked on the other instance in {took:?}"
    );
    drop((first, second));
    db.drop_database().await;
}

#[tokio::test]
async fn a_logout_on_one_instance_ends_the_session_on_all() {
    let Some(db) = TempDatabase::create("multi_instance_logout").await else {
        return;
    };
    let env = [
        ("DATABASE_URL", db.url.clone()),
        ("AI_PROXY_MASTER_KEY", MASTER_KEY.into()),
        ("AI_PROXY_CONFIG_POLL_MS", "200".into()),
    ];
    let first = TestGateway::in_process_with(&env).await;
    let second = TestGateway::in_process_with(&env).await;
    let http = reqwest::Client::new();
    let login: serde_json::Value = http
        .post(format!("{}/api/auth/login", first.admin_url))
        .json(&serde_json::json!({"username": "admin", "password": ai_proxy_tests::gateway::ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().expect("session token").to_owned();
    let me = |gw: &TestGateway| {
        http.get(format!("{}/api/auth/me", gw.admin_url))
            .bearer_auth(&token)
            .send()
    };
    assert_eq!(
        me(&second).await.unwrap().status(),
        200,
        "one session, any instance"
    );
    let out = http
        .post(format!("{}/api/auth/logout", first.admin_url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 200);
    assert_eq!(me(&first).await.unwrap().status(), 401);
    let started = Instant::now();
    while me(&second).await.unwrap().status() != 401 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the other instance still accepts the session"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop((first, second));
    db.drop_database().await;
}
