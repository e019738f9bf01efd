//! Limits shared by several gateway instances through Redis: two gateways
//! on one PostgreSQL database and one Redis admit a client key's requests
//! per minute exactly once between them. When Redis goes away, a gateway
//! configured to fail closed refuses with 503 and one configured to fail
//! open keeps serving (each as soon as its lease of the limit, held for at
//! most a lease time, needs Redis); both recover by themselves when Redis
//! returns.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use ai_proxy_tests::gateway::TestGateway;
use ai_proxy_tests::mock::MockUpstream;
use ai_proxy_tests::postgres::TempDatabase;
use ai_proxy_tests::redis::{PrivateRedis, delete_prefix, shared};
use chrono::Timelike;
use serde_json::json;

const MASTER_KEY: &str = "0101010101010101010101010101010101010101010101010101010101010101";

#[tokio::test]
async fn two_instances_share_one_limit() {
    let Some((url, prefix)) = shared("shared_limit") else {
        return;
    };
    let Some(db) = TempDatabase::create("redis_shared_limit").await else {
        return;
    };
    let mock = MockUpstream::start().await;
    let env = [
        ("DATABASE_URL", db.url.clone()),
        ("AI_PROXY_MASTER_KEY", MASTER_KEY.into()),
        ("REDIS_URL", url),
        ("AI_PROXY_REDIS_PREFIX", prefix.clone()),
    ];
    let first = TestGateway::start_with(&env).await;
    let pool = first
        .pool(
            "openai",
            &mock.base_url(),
            &[("k", "sk-up", json!({}))],
            json!({"limits": {"requests_per_minute": 6}}),
        )
        .await;
    // The second instance reads the same configuration at start.
    let second = TestGateway::start_with(&env).await;
    if chrono::Utc::now().second() >= 45 {
        tokio::time::sleep(Duration::from_secs(u64::from(
            61 - chrono::Utc::now().second(),
        )))
        .await;
    }
    let mut admitted = 0;
    for i in 0..12 {
        let gateway = if i % 2 == 0 { &first } else { &second };
        let (status, _, body) = gateway.chat(&pool.client_key).await;
        match status {
            200 => admitted += 1,
            429 => assert_eq!(body["error"]["param"], "requests_per_minute"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(
        admitted, 6,
        "six per minute between both instances, not six each"
    );
    drop((first, second));
    delete_prefix(&prefix);
    db.drop_database().await;
}

async fn start_on(url: &str, policy: &str) -> TestGateway {
    TestGateway::start_with(&[
        ("REDIS_URL", url.to_owned()),
        ("AI_PROXY_REDIS_FAILURE", policy.to_owned()),
    ])
    .await
}

async fn wait_for_status(gw: &TestGateway, key: &str, want: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, _, body) = gw.chat(key).await;
        if status == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "expected {want}, still {status}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn a_redis_outage_fails_closed_or_open_as_configured_and_recovers() {
    let Some(mut redis) = PrivateRedis::start("redis_outage") else {
        return;
    };
    let mock = MockUpstream::start().await;
    let closed = start_on(&redis.url(), "closed").await;
    let open = start_on(&redis.url(), "open").await;
    let limits = json!({"limits": {"requests_per_minute": 1000}});
    let closed_key = closed
        .pool(
            "openai",
            &mock.base_url(),
            &[("k", "sk-up", json!({}))],
            limits.clone(),
        )
        .await
        .client_key;
    let open_key = open
        .pool(
            "openai",
            &mock.base_url(),
            &[("k", "sk-up", json!({}))],
            limits,
        )
        .await
        .client_key;
    wait_for_status(&closed, &closed_key, 200).await;
    assert_eq!(open.chat(&open_key).await.0, 200);

    redis.stop();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, headers, body) = closed.chat(&closed_key).await;
        if status == 503 {
            assert_eq!(body["error"]["code"], "rate_limiter_unavailable");
            assert!(headers.contains_key("retry-after"));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "fail-closed gateway still answers {status}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(open.chat(&open_key).await.0, 200, "fail-open keeps serving");
    // The open gateway may still be admitting from its lease: it meets
    // the outage when the lease is renewed or given back, within a lease
    // time (1 s by default).
    let deadline = Instant::now() + Duration::from_secs(5);
    while !open.log().contains("rate limits degraded") {
        assert!(Instant::now() < deadline, "the outage is logged");
        assert_eq!(open.chat(&open_key).await.0, 200, "fail-open keeps serving");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    redis.restart();
    wait_for_status(&closed, &closed_key, 200).await;
    wait_for_status(&open, &open_key, 200).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !closed.log().contains("rate limits recovered") {
        assert!(Instant::now() < deadline, "recovery is logged");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Two streams of one client key, one through each of two instances,
/// share its daily token quota through Redis: with `quota_overrun: cut`
/// both are cut, and together they are charged about the quota, not
/// about twice it.
#[tokio::test]
async fn streams_on_two_instances_are_cut_at_their_shared_quota() {
    const QUOTA: u64 = 800;
    let Some((url, prefix)) = shared("shared_cut") else {
        return;
    };
    let Some(db) = TempDatabase::create("redis_shared_cut").await else {
        return;
    };
    let mock = MockUpstream::start().await;
    let env = [
        ("DATABASE_URL", db.url.clone()),
        ("AI_PROXY_MASTER_KEY", MASTER_KEY.into()),
        ("REDIS_URL", url),
        ("AI_PROXY_REDIS_PREFIX", prefix.clone()),
    ];
    let first = TestGateway::start_with(&env).await;
    let pool = first
        .pool(
            "openai",
            &mock.base_url(),
            &[("k", "sk-up", json!({}))],
            json!({"limits": {"tokens_per_day": QUOTA}, "quota_overrun": "cut"}),
        )
        .await;
    let second = TestGateway::start_with(&env).await;
    let stream = |gateway: &TestGateway| {
        reqwest::Client::new()
            .post(format!("{}/v1/chat/completions", gateway.proxy_url))
            .bearer_auth(&pool.client_key)
            .header("x-mock-repeat", "100")
            .header("x-mock-delay-ms", "2")
            .json(&json!({"model": "gpt-4o-mini", "stream": true,
                          "messages": [{"role": "user", "content": "hi"}]}))
            .send()
    };
    let (a, b) = tokio::join!(stream(&first), stream(&second));
    let mut used = 0;
    for (gateway, resp) in [(&first, a.unwrap()), (&second, b.unwrap())] {
        assert_eq!(resp.status(), 200);
        let id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
        let body = resp.text().await.unwrap();
        assert!(body.ends_with("data: [DONE]\n\n"), "a clean end");
        assert!(body.contains(r#""finish_reason":"length""#), "cut");
        let trace = gateway.trace_by_request_id(&id).await;
        assert_eq!(trace["error_class"], "quota_cut", "{trace}");
        used += trace["input_tokens"].as_u64().unwrap() + trace["output_tokens"].as_u64().unwrap();
    }
    assert!(
        used > QUOTA - 128 && used < QUOTA + 128,
        "{used} tokens charged against a shared quota of {QUOTA}"
    );
    delete_prefix(&prefix);
}
