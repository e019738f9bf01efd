//! The leased store against the machine's Redis (127.0.0.1:6379, keys
//! under a prefix of this run's own); skipped with a printed reason when
//! Redis is unreachable, unless `AI_PROXY_REQUIRE_SERVICES=1`.

use std::sync::Arc;
use std::time::Duration;

use chrono::{Offset, Utc};

use super::LeasedStore;
use crate::limits::counter::{Charge, CounterStore};
use crate::limits::lease::LeaseConfig;
use crate::limits::redis_store::RedisStore;
use crate::limits::window::Window;

const URL: &str = "redis://127.0.0.1:6379";

fn reachable() -> bool {
    let up = std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], 6379)),
        Duration::from_millis(500),
    )
    .is_ok();
    if !up {
        assert!(
            std::env::var("AI_PROXY_REQUIRE_SERVICES").as_deref() != Ok("1"),
            "Redis is required but unreachable at {URL}"
        );
        eprintln!("SKIPPED: Redis unreachable at {URL}");
    }
    up
}

fn prefix(test: &str) -> String {
    let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
    format!("aip-unit:{test}:{}:{nanos}:", std::process::id())
}

async fn store(prefix: &str, fraction: f64) -> Arc<LeasedStore> {
    let redis = RedisStore::new(URL, prefix).expect("redis url");
    for _ in 0..100 {
        if redis.connected() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(redis.connected(), "connected to Redis");
    LeasedStore::new(
        redis,
        LeaseConfig {
            fraction,
            time: Duration::from_secs(30),
        },
    )
}

fn daily(name: &str, amount: i64, limit: Option<i64>) -> Charge {
    Charge {
        name: name.to_owned(),
        window: Window::Day(Utc.fix()),
        amount,
        limit,
    }
}

/// What Redis holds for the counter (leases included).
async fn in_redis(store: &LeasedStore, name: &str) -> i64 {
    let values = store
        .redis
        .current(&[daily(name, 0, None)], Utc::now())
        .await
        .expect("redis answers");
    values.first().copied().unwrap_or(0)
}

/// Gives every lease back (after background renewals have landed).
async fn give_back(store: &LeasedStore) {
    tokio::time::sleep(Duration::from_millis(100)).await;
    let result = store.sync(true).await;
    assert!(!matches!(result, Some(Err(_))), "{result:?}");
}

async fn admit(store: &LeasedStore, name: &str, amount: i64, limit: i64) -> bool {
    store
        .try_charge(&[daily(name, amount, Some(limit))], Utc::now())
        .await
        .expect("redis answers")
        .is_ok()
}

#[tokio::test]
async fn requests_within_a_lease_ask_redis_nothing_and_the_lease_comes_back() {
    if !reachable() {
        return;
    }
    let store = store(&prefix("within"), 0.01).await;
    assert!(admit(&store, "rpd", 1, 1000).await);
    assert_eq!(
        in_redis(&store, "rpd").await,
        11,
        "one request and a block of 10"
    );
    for _ in 0..4 {
        assert!(admit(&store, "rpd", 1, 1000).await);
    }
    assert_eq!(in_redis(&store, "rpd").await, 11, "admitted from the lease");
    let seen = store.current(&[daily("rpd", 0, None)], Utc::now()).await;
    assert_eq!(seen.expect("current"), [5], "usage without the unused room");
    give_back(&store).await;
    assert_eq!(in_redis(&store, "rpd").await, 5, "the room given back");
}

#[tokio::test]
async fn usage_beyond_the_room_reaches_redis_before_the_next_admission() {
    if !reachable() {
        return;
    }
    let store = store(&prefix("owed"), 0.01).await;
    assert!(admit(&store, "tpd", 5, 1000).await);
    assert_eq!(
        in_redis(&store, "tpd").await,
        15,
        "5 reserved, a block of 10"
    );
    store
        .add(&[daily("tpd", 30, None)], Utc::now())
        .await
        .expect("settled locally");
    assert_eq!(in_redis(&store, "tpd").await, 15, "settling asks nothing");
    store
        .add(&[daily("tpd", -3, None)], Utc::now())
        .await
        .expect("refund");
    assert!(admit(&store, "tpd", 1, 1000).await);
    // Used: 5 + 30 - 3 + 1 = 33; held: a fresh block of 10.
    assert_eq!(in_redis(&store, "tpd").await, 43);
    assert!(
        !admit(&store, "tpd", 968, 1000).await,
        "33 used + 968 > 1000, whatever the lease holds"
    );
    assert!(admit(&store, "tpd", 967, 1000).await, "exactly the limit");
    give_back(&store).await;
    assert_eq!(in_redis(&store, "tpd").await, 1000);
}

#[tokio::test]
async fn two_leasing_stores_never_admit_past_a_limit_between_them() {
    if !reachable() {
        return;
    }
    const LIMIT: i64 = 50;
    let prefix = prefix("two");
    let stores = [store(&prefix, 0.1).await, store(&prefix, 0.1).await];
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let store = stores[i % 2].clone();
            tokio::spawn(async move { admit(&store, "rpm", 1, LIMIT).await })
        })
        .collect();
    let mut admitted = 0;
    for task in tasks {
        admitted += i64::from(task.await.expect("task"));
    }
    assert!(admitted <= LIMIT);
    for store in &stores {
        give_back(store).await;
    }
    assert_eq!(
        in_redis(&stores[0], "rpm").await,
        admitted,
        "leases given back"
    );
    // What is left is admitted, alternately, up to exactly the limit.
    for i in 0..(2 * LIMIT) {
        admitted += i64::from(admit(&stores[usize::from(i % 2 == 1)], "rpm", 1, LIMIT).await);
        // Background renewals land before the next try.
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(admitted, LIMIT, "the limit between both, no more");
    for store in &stores {
        give_back(store).await;
    }
    assert_eq!(in_redis(&stores[1], "rpm").await, LIMIT);
}
