//! Budgets above client keys (issue 19) against the real gateway: two keys
//! of one team under concurrent load against a nearly spent team budget,
//! in one instance and across two instances on one Redis and one
//! PostgreSQL; a user's budget; the refusal naming the spent budget; the
//! alert recorded once per period (audit log and `/metrics`); and a
//! hostile member that tries to spend another team's budget or read its
//! report.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;
use std::time::{Duration, Instant};

use ai_proxy_tests::gateway::TestGateway;
use ai_proxy_tests::mock::{MockUpstream, OPENAI_TOTAL_TOKENS};
use ai_proxy_tests::postgres::TempDatabase;
use ai_proxy_tests::redis::{SHARED_URL, delete_prefix, shared};
use reqwest::Method;
use serde_json::{Value, json};

const MASTER_KEY: &str = "0101010101010101010101010101010101010101010101010101010101010101";
/// Tokens one chat request through the mock uses.
const PER_REQUEST: i64 = OPENAI_TOTAL_TOKENS as i64;
/// Concurrent clients per key and instance.
const CLIENTS: usize = 6;
/// Bounds of the load loop.
const MAX_REQUESTS_PER_CLIENT: usize = 60;
const LOAD_DEADLINE: Duration = Duration::from_secs(60);
/// The default lease: 1 % of the limit per instance.
const LEASE_FRACTION: f64 = 0.01;
const LEASE_TIME: Duration = Duration::from_millis(1000);
const MEMBER: &str = "mallory";
const MEMBER_PASSWORD: &str = "mallory-password-1";

/// A team with two client keys on the mock.
struct Team {
    id: i64,
    keys: Vec<String>,
}

/// The openai provider on `mock`, one upstream key, a team and two client
/// keys in it, with the team's budget set to `budget`.
async fn team_with_two_keys(
    gw: &TestGateway,
    mock: &MockUpstream,
    name: &str,
    budget: Value,
) -> Team {
    let pool = gw
        .pool(
            "openai",
            &mock.base_url(),
            &[("k", "sk-up", json!({}))],
            json!({}),
        )
        .await;
    let team = gw
        .admin_ok(Method::POST, "/api/teams", Some(json!({"name": name})))
        .await;
    let id = team["id"].as_i64().unwrap();
    let provider_id = gw.provider_id("openai").await;
    let mut keys = Vec::new();
    for n in 0..2 {
        let key = gw
            .admin_ok(
                Method::POST,
                "/api/client-keys",
                Some(
                    json!({"name": format!("{name}-{n}"), "provider_id": provider_id,
                            "upstream_key_ids": pool.key_ids}),
                ),
            )
            .await;
        gw.admin_ok(
            Method::POST,
            &format!("/api/teams/{id}/keys"),
            Some(json!({"client_key_id": key["id"]})),
        )
        .await;
        keys.push(key["key"].as_str().unwrap().to_owned());
    }
    gw.admin_ok(
        Method::PUT,
        &format!("/api/teams/{id}/budget"),
        Some(budget),
    )
    .await;
    Team { id, keys }
}

/// What the team's budget line `limit` has used, as the API says.
async fn used(gw: &TestGateway, team: i64, limit: &str) -> i64 {
    let budget = gw
        .admin_ok(Method::GET, &format!("/api/teams/{team}/budget"), None)
        .await;
    budget["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["limit"] == limit)
        .map_or(0, |l| l["used"].as_i64().unwrap())
}

/// One client: requests until refused for the team's budget.
async fn client(gw: &TestGateway, key: &str, started: Instant) -> i64 {
    let mut admitted = 0;
    for _ in 0..MAX_REQUESTS_PER_CLIENT {
        let (status, _, body) = gw.chat(key).await;
        match status {
            200 => admitted += 1,
            429 => {
                assert_eq!(body["error"]["param"], "team_tokens_per_month", "{body}");
                assert_eq!(body["error"]["code"], "budget_exceeded", "{body}");
                assert!(
                    body["error"]["message"]
                        .as_str()
                        .unwrap()
                        .contains("team_tokens_per_month budget is spent"),
                    "{body}"
                );
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

/// `CLIENTS` clients per key and gateway at once; the requests admitted.
async fn load(gateways: &[&TestGateway], team: &Team) -> i64 {
    let started = Instant::now();
    let clients = gateways.iter().flat_map(|g| {
        team.keys
            .iter()
            .flat_map(move |k| (0..CLIENTS).map(move |_| (*g, k.as_str())))
    });
    let runs = clients.map(|(g, k)| client(g, k, started));
    futures_util::future::join_all(runs).await.into_iter().sum()
}

#[tokio::test]
async fn two_keys_of_one_team_do_not_overshoot_its_nearly_spent_budget() {
    let gw = TestGateway::in_process().await;
    let mock = MockUpstream::start().await;
    let team = team_with_two_keys(
        &gw,
        &mock,
        "platform",
        json!({"tokens_per_month": 1_000_000}),
    )
    .await;
    // Spend some of the month, then lower the budget to what is spent
    // plus room for a few dozen requests.
    for key in &team.keys {
        assert_eq!(gw.chat(key).await.0, 200);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let spent = used(&gw, team.id, "team_tokens_per_month").await;
    assert_eq!(spent, 2 * PER_REQUEST, "both keys charge the team");
    let quota = spent + 2_000;
    gw.admin_ok(
        Method::PUT,
        &format!("/api/teams/{}/budget", team.id),
        Some(json!({"tokens_per_month": quota})),
    )
    .await;

    let mut admitted = load(&[&gw], &team).await;
    assert!(admitted >= 2, "what is left admits requests: {admitted}");
    // Clients that met the others' holds stopped early; one at a time,
    // what is left is admitted until the budget refuses.
    // (A refusal is tried again once settling has surely caught up.)
    let mut refusals = 0;
    for i in 0..100 {
        let (status, _, body) = gw.chat(&team.keys[i % 2]).await;
        match status {
            200 => {
                admitted += 1;
                refusals = 0;
            }
            429 if refusals == 0 => refusals = 1,
            429 => break,
            other => panic!("unexpected {other}: {body}"),
        }
        tokio::time::sleep(Duration::from_millis(if refusals == 0 { 20 } else { 300 })).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let total = used(&gw, team.id, "team_tokens_per_month").await;
    assert!(
        total <= quota,
        "{total} charged against a budget of {quota}"
    );
    assert_eq!(
        total,
        spent + admitted * PER_REQUEST,
        "each admitted request charged once"
    );
    // Refused with less than one estimate (about 280 tokens) left.
    assert!(total > quota - 300, "refused early: {total} of {quota}");
    let (status, _, body) = gw.chat(&team.keys[1]).await;
    assert_eq!(
        (status, body["error"]["param"].as_str()),
        (429, Some("team_tokens_per_month"))
    );
}

fn redis_cli(args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args(["-u", SHARED_URL])
        .args(args)
        .output()
        .expect("redis-cli");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The shared counter of team `id`'s monthly tokens (months in UTC).
fn month_counter(prefix: &str, id: i64) -> String {
    use chrono::Datelike;
    let now = chrono::Utc::now();
    let month = i64::from(now.year()) * 12 + i64::from(now.month0());
    format!("{prefix}bt:{id}:tk:mo{month}")
}

#[tokio::test]
async fn two_instances_on_redis_do_not_overshoot_a_nearly_spent_team_budget() {
    const QUOTA: i64 = 100_000;
    const LEFT: i64 = 3_000;
    let Some((url, prefix)) = shared("team_budget") else {
        return;
    };
    let Some(db) = TempDatabase::create("team_budget").await else {
        return;
    };
    let mock = MockUpstream::start().await;
    let env = [
        ("DATABASE_URL", db.url.clone()),
        ("AI_PROXY_MASTER_KEY", MASTER_KEY.into()),
        ("REDIS_URL", url),
        ("AI_PROXY_REDIS_PREFIX", prefix.clone()),
    ];
    let first = TestGateway::in_process_with(&env).await;
    let team =
        team_with_two_keys(&first, &mock, "shared", json!({"tokens_per_month": QUOTA})).await;
    // The second instance reads the same configuration at start.
    let second = TestGateway::in_process_with(&env).await;
    let key = month_counter(&prefix, team.id);
    let spent_before = QUOTA - LEFT;
    redis_cli(&["SET", &key, &spent_before.to_string(), "EX", "3000000"]);

    let mut admitted = load(&[&first, &second], &team).await;
    assert!(admitted >= 2, "what is left admits requests: {admitted}");
    // Leases come back within a lease time; then what is left is admitted
    // again on either instance until the budget refuses on both.
    tokio::time::sleep(LEASE_TIME * 2).await;
    let mut refused = [false, false];
    for i in 0..200 {
        let gateway = if i % 2 == 0 { &first } else { &second };
        let (status, _, body) = gateway.chat(&team.keys[i % 2]).await;
        match status {
            200 => {
                admitted += 1;
                refused = [false, false];
            }
            429 => {
                assert_eq!(body["error"]["param"], "team_tokens_per_month", "{body}");
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
        "both instances refuse once the budget is spent"
    );
    tokio::time::sleep(LEASE_TIME * 2).await;
    let total: i64 = redis_cli(&["GET", &key]).parse().unwrap_or(0);
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
    let bound = 2 * ((QUOTA as f64 * LEASE_FRACTION) as i64).max(1);
    assert!(
        total <= QUOTA + bound,
        "{total} charged against {QUOTA} (bound {bound})"
    );
    assert_eq!(
        total,
        spent_before + admitted * PER_REQUEST,
        "every admitted request charged exactly once, every lease given back"
    );
    assert!(
        total > QUOTA - 300 - bound,
        "refused early: {total} of {QUOTA}"
    );
    drop((first, second));
    delete_prefix(&prefix);
    db.drop_database().await;
}

/// Creates the `user` account `mallory`; returns its id.
async fn member(gw: &TestGateway) -> i64 {
    let user = gw
        .admin_ok(
            Method::POST,
            "/api/users",
            Some(json!({"username": MEMBER, "password": MEMBER_PASSWORD, "role": "user"})),
        )
        .await;
    user["id"].as_i64().unwrap()
}

/// An admin API call as `mallory`.
async fn as_member(
    gw: &TestGateway,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .request(method, format!("{}{path}", gw.admin_url))
        .basic_auth(MEMBER, Some(MEMBER_PASSWORD));
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_user_budget_refuses_naming_itself_and_alerts_once() {
    let gw = TestGateway::in_process().await;
    let mock = MockUpstream::start().await;
    let pool = gw
        .pool(
            "openai",
            &mock.base_url(),
            &[("k", "sk-up", json!({}))],
            json!({}),
        )
        .await;
    let user_id = member(&gw).await;
    gw.admin_ok(
        Method::PUT,
        &format!("/api/users/{user_id}/grants"),
        Some(json!({"upstream_key_ids": pool.key_ids})),
    )
    .await;
    let (status, key) = as_member(
        &gw,
        Method::POST,
        "/api/client-keys",
        Some(json!({"name": "mine", "provider_id": gw.provider_id("openai").await})),
    )
    .await;
    assert_eq!(status, 200, "{key}");
    let key = key["key"].as_str().unwrap().to_owned();
    // Three requests a day, an alert at two thirds.
    gw.admin_ok(
        Method::PUT,
        &format!("/api/users/{user_id}/budget"),
        Some(json!({"requests_per_day": 3, "tokens_per_month": 10_000, "alert_percent": 60})),
    )
    .await;
    for _ in 0..3 {
        assert_eq!(gw.chat(&key).await.0, 200);
    }
    let (status, headers, body) = gw.chat(&key).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["param"], "user_requests_per_day");
    assert_eq!(body["error"]["code"], "budget_exceeded");
    assert_eq!(body["error"]["type"], "rate_limit_error");
    assert!(headers.contains_key("retry-after"));
    // The member reads its own budget; the request lines say 3 of 3.
    let (status, budget) = as_member(
        &gw,
        Method::GET,
        &format!("/api/users/{user_id}/budget"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let line = budget["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["limit"] == "user_requests_per_day")
        .cloned()
        .unwrap();
    assert_eq!(
        (line["used"].as_i64(), line["budget"].as_i64()),
        (Some(3), Some(3))
    );

    // 60 % of 3 requests is reached at the second request: one alert for
    // the day, however many requests follow.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for _ in 0..2 {
        assert_eq!(gw.chat(&key).await.0, 429);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let audit = gw
        .admin_ok(Method::GET, "/api/audit?resource=user&page_size=200", None)
        .await;
    let alerts: Vec<&Value> = audit["items"]
        .as_array()
        .or_else(|| audit["entries"].as_array())
        .expect("audit entries")
        .iter()
        .filter(|e| e["action"] == "budget_alert")
        .collect();
    assert_eq!(alerts.len(), 1, "once per period: {alerts:?}");
    assert_eq!(alerts[0]["after"]["limit"], "user_requests_per_day");
    assert_eq!(alerts[0]["resource_id"], user_id.to_string());
    let metrics = reqwest::Client::new()
        .get(format!("{}/metrics", gw.admin_url))
        .basic_auth("admin", Some(ai_proxy_tests::gateway::ADMIN_PASSWORD))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            "ai_proxy_budget_alerts_total{scope=\"user\",limit=\"user_requests_per_day\"} 1"
        ),
        "{metrics}"
    );
    assert!(
        !metrics.contains("user_tokens_per_month\"}"),
        "66 of 10,000 tokens raise nothing"
    );
}

#[tokio::test]
async fn a_hostile_member_cannot_spend_or_read_another_teams_budget() {
    let gw = TestGateway::in_process().await;
    let mock = MockUpstream::start().await;
    let theirs = team_with_two_keys(
        &gw,
        &mock,
        "theirs",
        json!({"cost_per_month_usd": 500.0, "tokens_per_month": 1_000_000}),
    )
    .await;
    let ours = gw
        .admin_ok(Method::POST, "/api/teams", Some(json!({"name": "ours"})))
        .await;
    let ours = ours["id"].as_i64().unwrap();
    let user_id = member(&gw).await;
    gw.admin_ok(
        Method::POST,
        &format!("/api/teams/{ours}/members"),
        Some(json!({"user_id": user_id})),
    )
    .await;
    let granted = gw.admin_ok(Method::GET, "/api/upstream-keys", None).await;
    let upstream: Vec<i64> = granted
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["id"].as_i64().unwrap())
        .collect();
    gw.admin_ok(
        Method::PUT,
        &format!("/api/users/{user_id}/grants"),
        Some(json!({"upstream_key_ids": upstream})),
    )
    .await;
    let (_, mine) = as_member(
        &gw,
        Method::POST,
        "/api/client-keys",
        Some(json!({"name": "mine", "provider_id": gw.provider_id("openai").await})),
    )
    .await;
    let (mine_id, mine_key) = (
        mine["id"].as_i64().unwrap(),
        mine["key"].as_str().unwrap().to_owned(),
    );
    let their_keys = gw
        .admin_ok(Method::GET, &format!("/api/teams/{}", theirs.id), None)
        .await;
    let their_key_id = their_keys["keys"][0]["id"].as_i64().unwrap();

    // Not visible: another team, its budget, its keys.
    for path in [
        format!("/api/teams/{}", theirs.id),
        format!("/api/teams/{}/budget", theirs.id),
    ] {
        let (status, body) = as_member(&gw, Method::GET, &path, None).await;
        assert_eq!(status, 404, "{path}: {body}");
    }
    // Its own key into another team's budget: refused.
    let (status, _) = as_member(
        &gw,
        Method::POST,
        &format!("/api/teams/{}/keys", theirs.id),
        Some(json!({"client_key_id": mine_id})),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = as_member(
        &gw,
        Method::PUT,
        &format!("/api/client-keys/{mine_id}"),
        Some(json!({"team_id": theirs.id})),
    )
    .await;
    assert_eq!(status, 400, "team_id is not a client key field");
    // Someone else's key into its own team, or out of theirs: refused.
    let (status, _) = as_member(
        &gw,
        Method::POST,
        &format!("/api/teams/{ours}/keys"),
        Some(json!({"client_key_id": their_key_id})),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = as_member(
        &gw,
        Method::DELETE,
        &format!("/api/teams/{}/keys/{their_key_id}", theirs.id),
        None,
    )
    .await;
    assert_eq!(status, 404);
    // Its own team's budget is the operator's to set.
    let (status, _) = as_member(
        &gw,
        Method::PUT,
        &format!("/api/teams/{ours}/budget"),
        Some(json!({"tokens_per_month": 1})),
    )
    .await;
    assert_eq!(status, 403);
    // Its own key into its own team: allowed.
    let (status, team) = as_member(
        &gw,
        Method::POST,
        &format!("/api/teams/{ours}/keys"),
        Some(json!({"client_key_id": mine_id})),
    )
    .await;
    assert_eq!(status, 200, "{team}");

    // Spending: the member's requests never reach the other team's budget.
    for _ in 0..3 {
        assert_eq!(gw.chat(&mine_key).await.0, 200);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(used(&gw, theirs.id, "team_tokens_per_month").await, 0);
    // The report shows the member its team and its key only.
    let (status, report) = as_member(&gw, Method::GET, "/api/stats/budgets", None).await;
    assert_eq!(status, 200, "{report}");
    let teams: Vec<i64> = report["teams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    assert_eq!(teams, vec![ours]);
    let keys: Vec<i64> = report["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["id"].as_i64().unwrap())
        .collect();
    assert_eq!(keys, vec![mine_id]);
    let users: Vec<i64> = report["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_i64().unwrap())
        .collect();
    assert_eq!(users, vec![user_id]);
    // Its requests are in its team's spend (once the trace is written).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, report) = as_member(&gw, Method::GET, "/api/stats/budgets", None).await;
        if report["teams"][0]["spend"]["requests"] == 3 {
            assert_eq!(report["teams"][0]["spend"]["tokens"], 3 * PER_REQUEST);
            assert_eq!(report["providers"][0]["name"], "openai");
            break;
        }
        assert!(Instant::now() < deadline, "spend not reported: {report}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The admin sees both teams, with the budget beside the spend.
    let report = gw.admin_ok(Method::GET, "/api/stats/budgets", None).await;
    let their_row = report["teams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == theirs.id)
        .cloned()
        .unwrap();
    assert_eq!(their_row["budget"]["limits"]["cost_per_month_usd"], 500.0);
    assert_eq!(their_row["spend"]["requests"], 0);
}
