//! Leased quotas (issue 20): two gateway instances on one Redis, each
//! admitting from leases of a client key's daily token or cost quota,
//! under concurrent load against a nearly spent quota. What is charged in
//! the end never exceeds the quota plus the stated bound (instances ×
//! one lease block), every admitted request is charged exactly once (no
//! lease is lost or counted twice once they have come back), and when the
//! quota is spent both instances refuse.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;
use std::time::{Duration, Instant};

use ai_proxy_tests::gateway::TestGateway;
use ai_proxy_tests::mock::MockUpstream;
use ai_proxy_tests::postgres::TempDatabase;
use ai_proxy_tests::redis::{SHARED_URL, delete_prefix, shared};
use serde_json::{Value, json};

const MASTER_KEY: &str = "0101010101010101010101010101010101010101010101010101010101010101";
/// The default lease: 1 % of the limit per instance.
const LEASE_FRACTION: f64 = 0.01;
/// The default lease time, after which unused leases come back.
const LEASE_TIME: Duration = Duration::from_millis(1000);
const INSTANCES: i64 = 2;
/// Concurrent clients per instance.
const CLIENTS: usize = 8;
/// Bounds of the load loop.
const MAX_REQUESTS_PER_CLIENT: usize = 60;
const LOAD_DEADLINE: Duration = Duration::from_secs(60);

fn redis_cli(args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-u", SHARED_URL])
        .args(args)
        .output()
        .expect("redis-cli");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The shared counter of client `id`'s daily quota (`tpd` or `cpd`), days
/// in UTC.
fn counter(prefix: &str, id: i64, what: &str) -> String {
    let day = chrono::Utc::now().timestamp().div_euclid(86_400);
    format!("{prefix}ck:{id}:{what}:d{day}")
}

fn read(key: &str) -> i64 {
    redis_cli(&["GET", key]).parse().unwrap_or(0)
}

/// Which quota a run spends.
struct Quota {
    /// The limit's name in errors, and its counter's suffix.
    name: &'static str,
    suffix: &'static str,
    /// The client key's limits.
    limits: Value,
    /// The quota in counter units.
    quota: i64,
    /// Spent before the load: what is left admits a few dozen requests.
    left: i64,
}

/// What one admitted request is charged, read from its trace.
async fn charged(gateway: &TestGateway, headers: &reqwest::header::HeaderMap, q: &Quota) -> i64 {
    let id = headers["x-request-id"].to_str().unwrap();
    let trace = gateway.trace_by_request_id(id).await;
    let field = |f: &str| trace[f].as_i64().unwrap_or(0);
    match q.suffix {
        "tpd" => field("input_tokens") + field("output_tokens"),
        _ => field("cost_nanos"),
    }
}

/// What one admitted request was charged, read from the newest answered
/// request's trace.
async fn charged_by_any(gateway: &TestGateway, q: &Quota) -> i64 {
    let page = gateway
        .admin_ok(
            reqwest::Method::GET,
            "/api/logs/traces?page_size=1&status_code=200",
            None,
        )
        .await;
    let id = page["items"][0]["id"].clone();
    let trace = gateway
        .admin_ok(
            reqwest::Method::GET,
            &format!("/api/logs/traces/{id}"),
            None,
        )
        .await;
    let field = |f: &str| trace[f].as_i64().unwrap_or(0);
    match q.suffix {
        "tpd" => field("input_tokens") + field("output_tokens"),
        _ => field("cost_nanos"),
    }
}

/// One client: requests until refused for the quota; returns the
/// requests admitted.
async fn client(gateway: &TestGateway, client_key: &str, q: &Quota, started: Instant) -> i64 {
    let mut admitted = 0;
    for _ in 0..MAX_REQUESTS_PER_CLIENT {
        let (status, _, body) = gateway.chat(client_key).await;
        match status {
            200 => admitted += 1,
            429 => {
                assert_eq!(body["error"]["param"], q.name, "{body}");
                break;
            }
            other => panic!("unexpected {other}: {body}"),
        }
        assert!(
            started.elapsed() < LOAD_DEADLINE,
            "the load loop ran too long"
        );
    }
    admitted
}

/// Sends requests from `CLIENTS` concurrent clients per instance until
/// each is refused for the quota; returns the requests admitted.
async fn load(gateways: &[&TestGateway], client_key: &str, q: &Quota) -> i64 {
    let started = Instant::now();
    let clients = gateways
        .iter()
        .flat_map(|g| (0..CLIENTS).map(move |_| *g))
        .map(|g| client(g, client_key, q, started));
    futures_util::future::join_all(clients)
        .await
        .into_iter()
        .sum()
}

async fn quota_holds_across_two_instances(test: &str, q: Quota) {
    let Some((url, prefix)) = shared(test) else {
        return;
    };
    let Some(db) = TempDatabase::create(test).await else {
        return;
    };
    // A day that turns during the run would start a fresh counter.
    let to_midnight = 86_400 - chrono::Utc::now().timestamp().rem_euclid(86_400);
    if to_midnight < 90 {
        tokio::time::sleep(Duration::from_secs(u64::try_from(to_midnight).unwrap() + 1)).await;
    }
    let mock = MockUpstream::start().await;
    let env = [
        ("DATABASE_URL", db.url.clone()),
        ("AI_PROXY_MASTER_KEY", MASTER_KEY.into()),
        ("REDIS_URL", url),
        ("AI_PROXY_REDIS_PREFIX", prefix.clone()),
    ];
    let first = TestGateway::in_process_with(&env).await;
    let pool = first
        .pool(
            "openai",
            &mock.base_url(),
            &[("k", "sk-up", json!({}))],
            q.limits.clone(),
        )
        .await;
    let second = TestGateway::in_process_with(&env).await;
    let key = counter(&prefix, pool.client_id, q.suffix);
    let spent_before = q.quota - q.left;
    redis_cli(&["SET", &key, &spent_before.to_string(), "EX", "90000"]);

    let mut admitted = load(&[&first, &second], &pool.client_key, &q).await;
    assert!(admitted >= 2, "what is left admits requests: {admitted}");
    // Leases come back within a lease time (plus a sync period); then
    // what is left is admitted again, alternately on each instance, until
    // the quota refuses.
    tokio::time::sleep(LEASE_TIME * 2).await;
    let mut refused = [false, false];
    let mut per_request = None;
    for i in 0..200 {
        let gateway = if i % 2 == 0 { &first } else { &second };
        let (status, headers, body) = gateway.chat(&pool.client_key).await;
        match status {
            200 => {
                admitted += 1;
                if per_request.is_none() {
                    per_request = Some(charged(gateway, &headers, &q).await);
                }
                refused = [false, false];
            }
            429 => {
                assert_eq!(body["error"]["param"], q.name, "{body}");
                refused[i % 2] = true;
                if refused == [true, true] {
                    break;
                }
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(
        refused,
        [true, true],
        "both instances refuse once the quota is spent"
    );
    tokio::time::sleep(LEASE_TIME * 2).await;

    // On a loaded machine the first burst can outlast the leases and admit
    // all that was left; any admitted request tells the charge then (every
    // request of the mock costs the same).
    let per_request = match per_request {
        Some(charge) => charge,
        None => charged_by_any(&first, &q).await,
    };
    let total = read(&key);
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
    let block = ((q.quota as f64 * LEASE_FRACTION) as i64).max(1);
    let bound = INSTANCES * block;
    assert!(
        total <= q.quota + bound,
        "{total} charged against a quota of {} (bound {bound})",
        q.quota
    );
    assert_eq!(
        total,
        spent_before + admitted * per_request,
        "every admitted request charged exactly once, every lease given back"
    );
    // Refused with less than one estimate left, and at most the bound
    // held back by the other instance's lease.
    let estimate = match q.suffix {
        "tpd" => 300,
        _ => 200_000,
    };
    assert!(
        total > q.quota - estimate - bound,
        "refused early: {total} of {}",
        q.quota
    );
    drop((first, second));
    delete_prefix(&prefix);
    db.drop_database().await;
}

#[tokio::test]
async fn a_nearly_spent_token_quota_is_not_overshot_by_two_leasing_instances() {
    quota_holds_across_two_instances(
        "lease_tokens",
        Quota {
            name: "tokens_per_day",
            suffix: "tpd",
            limits: json!({"limits": {"tokens_per_day": 100_000}}),
            quota: 100_000,
            left: 3_000,
        },
    )
    .await;
}

#[tokio::test]
async fn a_nearly_spent_cost_quota_is_not_overshot_by_two_leasing_instances() {
    quota_holds_across_two_instances(
        "lease_cost",
        Quota {
            name: "cost_per_day",
            suffix: "cpd",
            limits: json!({"limits": {"cost_per_day_usd": 0.01}}),
            quota: 10_000_000,
            left: 600_000,
        },
    )
    .await;
}
