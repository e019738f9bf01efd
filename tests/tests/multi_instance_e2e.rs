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
    let first = TestGateway::start_with(&env).await;
    let second = TestGateway::start_with(&env).await;

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

    let id = first
        .admin_ok(Method::GET, "/api/user-service/keys", None)
        .await[0]["id"]
        .clone();
    second
        .admin_ok(
            Method::DELETE,
            &format!("/api/user-service/keys/{id}"),
            None,
        )
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
