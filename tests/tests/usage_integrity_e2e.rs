//! Usage the gateway cannot read is not free, and a limiter that could not
//! reserve never refunds (issue 12, item 4).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;
use std::time::{Duration, Instant};

use ai_proxy_tests::gateway::TestGateway;
use ai_proxy_tests::mock::MockUpstream;
use ai_proxy_tests::pools::chat_body;
use ai_proxy_tests::redis::PrivateRedis;
use serde_json::json;

/// The token estimate of `TestGateway::chat`'s request.
fn chat_estimate() -> i64 {
    let body = serde_json::to_vec(&chat_body()).unwrap();
    i64::try_from(body.len().div_ceil(4)).unwrap() + 256
}

#[tokio::test]
async fn an_answer_without_readable_usage_is_charged_its_estimate_and_traced() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::start().await;
    let pool = gw
        .pool(
            "openai",
            &mock.base_url(),
            &[("k", "sk-up", json!({}))],
            json!({"limits": {"tokens_per_day": 1_000_000}}),
        )
        .await;
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", gw.proxy_url))
        .bearer_auth(&pool.client_key)
        .header("x-mock-no-usage", "1")
        .json(&json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let rid = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    let trace = gw.trace_by_request_id(&rid).await;
    assert_eq!(trace["error_class"], "usage_unknown", "{trace}");
    assert!(
        trace["error_message"]
            .as_str()
            .unwrap()
            .contains("charged the estimate"),
        "{trace}"
    );
    gw.assert_tokens_charged(pool.client_id, &pool.client_key, chat_estimate())
        .await;
}

/// Runs `redis-cli` against the private server.
fn redis_cli(redis: &PrivateRedis, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-p", &redis.port.to_string()])
        .args(args)
        .output()
        .expect("redis-cli");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Fail open: a request admitted while the limit script cannot run held
/// nothing, so settling it adds its usage and refunds nothing.
#[tokio::test]
async fn a_request_admitted_without_redis_refunds_no_reservation() {
    let Some(redis) = PrivateRedis::start("usage_fail_open") else {
        return;
    };
    // The gateway's user may not run scripts (so every admission fails)
    // but may add to counters (so settling works).
    assert_eq!(
        redis_cli(
            &redis,
            &[
                "ACL", "SETUSER", "gw", "on", "nopass", "~*", "+@all", "-evalsha", "-eval",
                "-script"
            ]
        ),
        "OK"
    );
    let mock = MockUpstream::start().await;
    let gw = TestGateway::start_with(&[
        (
            "REDIS_URL",
            format!("redis://gw:x@127.0.0.1:{}", redis.port),
        ),
        ("AI_PROXY_REDIS_FAILURE", "open".into()),
    ])
    .await;
    let pool = gw
        .pool(
            "openai",
            &mock.base_url(),
            &[("k", "sk-up", json!({}))],
            json!({"limits": {"tokens_per_day": 1_000_000}}),
        )
        .await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let counter = format!("*ck:{}:tpd*", pool.client_id);
    let tokens = loop {
        assert_eq!(gw.chat(&pool.client_key).await.0, 200, "fails open");
        tokio::time::sleep(Duration::from_millis(300)).await;
        let key = redis_cli(&redis, &["--scan", "--pattern", &counter]);
        if !key.is_empty() {
            break redis_cli(&redis, &["GET", key.lines().next().unwrap()]);
        }
        assert!(Instant::now() < deadline, "usage never reached Redis");
    };
    let tokens: i64 = tokens.parse().unwrap();
    assert!(
        tokens > 0,
        "the counter went down to {tokens}: a reservation never made was refunded"
    );
    assert!(gw.log().contains("rate limits degraded"));
}

/// A Redis that answers slower than the call's timeout is treated like one
/// that fails: promptly, by the failure policy.
#[tokio::test]
async fn a_slow_redis_follows_the_failure_policy_promptly() {
    let Some(redis) = PrivateRedis::start("usage_slow_redis") else {
        return;
    };
    let mock = MockUpstream::start().await;
    let start = |policy: &'static str| {
        let env = [
            ("REDIS_URL", redis.url()),
            ("AI_PROXY_REDIS_FAILURE", policy.to_owned()),
        ];
        async move { TestGateway::start_with(&env).await }
    };
    let (closed, open) = (start("closed").await, start("open").await);
    let limits = json!({"limits": {"requests_per_minute": 1000}});
    let keys = [
        closed
            .pool(
                "openai",
                &mock.base_url(),
                &[("k", "sk-up", json!({}))],
                limits.clone(),
            )
            .await
            .client_key,
        open.pool(
            "openai",
            &mock.base_url(),
            &[("k", "sk-up", json!({}))],
            limits,
        )
        .await
        .client_key,
    ];
    assert_eq!(closed.chat(&keys[0]).await.0, 200);
    assert_eq!(open.chat(&keys[1]).await.0, 200);

    let port = redis.port.to_string();
    let sleeper = std::thread::spawn(move || {
        Command::new("redis-cli")
            .args(["-p", &port, "DEBUG", "SLEEP", "3"])
            .output()
    });
    let slept = Instant::now();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Each gateway admits from its lease of the limit until the lease
    // needs Redis (at the latest when it expires, one lease time = 1 s
    // after it was taken); from then on the closed one refuses, and
    // every answer comes promptly.
    for (gw, key, want) in [(&closed, &keys[0], 503), (&open, &keys[1], 200)] {
        loop {
            let started = Instant::now();
            let (status, _, body) = gw.chat(key).await;
            let took = started.elapsed();
            assert!(
                took < Duration::from_millis(1500),
                "answered after {took:?} while Redis sleeps 3 s"
            );
            if status == want {
                break;
            }
            assert_eq!(status, 200, "{body}");
            assert!(
                slept.elapsed() < Duration::from_millis(2500),
                "still admitted {:?} into the outage: the lease outlived its time",
                slept.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    assert!(
        slept.elapsed() < Duration::from_millis(3000),
        "the policy applied while Redis still slept"
    );
    sleeper.join().unwrap().unwrap();
}
