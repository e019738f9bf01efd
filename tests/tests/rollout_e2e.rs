//! Rolling a plugin version out (issue 15): a candidate in shadow under
//! live traffic changes nothing a client receives while its disagreements
//! are listed with both verdicts and totals; a candidate that traps fails
//! only its shadow comparison; a canary serves a sticky share of client
//! keys on every instance, and is promoted or rolled back in one audited
//! call that the other instance follows within its configuration poll.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ai_proxy_tests::gateway::{TestGateway, openai_miscount_wasm, openai_next_wasm};
use ai_proxy_tests::mock::MockUpstream;
use ai_proxy_tests::postgres::TempDatabase;
use reqwest::Method;
use serde_json::{Value, json};

const MASTER_KEY: &str = "0303030303030303030303030303030303030303030303030303030303030303";

async fn upload(gw: &TestGateway, wasm: std::path::PathBuf) -> i64 {
    let resp = reqwest::Client::new()
        // The fixture miscounts on purpose: it fails its vectors, so it is forced in.
        .post(format!("{}/api/plugins?force=true", gw.admin_url))
        .basic_auth("admin", Some(ai_proxy_tests::gateway::ADMIN_PASSWORD))
        .header("content-type", "application/wasm")
        .body(std::fs::read(wasm).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// The kinds of exchange the shadow run repeats.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Json,
    StreamWithUsage,
    StreamWithoutUsage,
    Error,
}

const KINDS: [Kind; 4] = [
    Kind::Json,
    Kind::StreamWithUsage,
    Kind::StreamWithoutUsage,
    Kind::Error,
];

/// One request; the status, body bytes and request id the client got.
async fn exchange(proxy: &str, key: &str, kind: Kind, content: &str) -> (u16, Vec<u8>, String) {
    let mut body =
        json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}]});
    match kind {
        Kind::StreamWithUsage => {
            body["stream"] = json!(true);
            body["stream_options"] = json!({"include_usage": true});
        }
        Kind::StreamWithoutUsage => body["stream"] = json!(true),
        Kind::Json | Kind::Error => {}
    }
    let mut req = reqwest::Client::new()
        .post(format!("{proxy}/v1/chat/completions"))
        .bearer_auth(key)
        .json(&body);
    if matches!(kind, Kind::Error) {
        req = req.header("x-mock-status", "400");
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let rid = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    (status, resp.bytes().await.unwrap().to_vec(), rid)
}

/// Every kind `rounds` times, four at a time; answers by (round, kind).
async fn traffic(
    gw: &TestGateway,
    key: &str,
    rounds: usize,
) -> BTreeMap<(usize, String), (u16, Vec<u8>, String)> {
    let mut out = BTreeMap::new();
    for round in 0..rounds {
        let runs = KINDS.map(|kind| {
            let (proxy, key) = (gw.proxy_url.clone(), key.to_owned());
            tokio::spawn(async move { (kind, exchange(&proxy, &key, kind, "hi").await) })
        });
        for run in runs {
            let (kind, answer) = run.await.unwrap();
            out.insert((round, format!("{kind:?}")), answer);
        }
    }
    out
}

async fn rollout(gw: &TestGateway, provider: i64) -> Value {
    gw.admin_ok(
        Method::GET,
        &format!("/api/providers/{provider}/rollout"),
        None,
    )
    .await
}

/// Polls the rollout until `compared` reaches `want` (bounded).
async fn compared(gw: &TestGateway, provider: i64, want: i64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let view = rollout(gw, provider).await;
        if view["shadow"]["compared"].as_i64() >= Some(want) {
            return view;
        }
        assert!(
            Instant::now() < deadline,
            "not compared yet: {view}\n{}",
            gw.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What the gateway's SQLite database holds of shadow mode: verdict rows,
/// agreeing verdict rows, totals rows.
async fn stored_shadow_rows(gw: &TestGateway) -> (i64, i64, i64) {
    use sea_orm::{ConnectionTrait, Database, Statement};
    let url = format!(
        "sqlite://{}?mode=rw",
        gw.data_dir().join("ai-proxy.db").display()
    );
    let db = Database::connect(&url).await.unwrap();
    let count = |sql: &'static str| {
        let db = &db;
        async move {
            let row = db
                .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<i64>(0).unwrap()
        }
    };
    let counts = (
        count("SELECT COUNT(*) FROM shadow_verdicts").await,
        count("SELECT COUNT(*) FROM shadow_verdicts WHERE agree").await,
        count("SELECT COUNT(*) FROM shadow_totals").await,
    );
    db.close().await.unwrap();
    counts
}

#[tokio::test]
async fn a_shadow_candidate_changes_no_answer_and_its_disagreements_are_listed() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::start().await;
    let key = gw.client_key_for("openai", &mock.base_url(), "sk-up").await;
    let provider = gw.provider_id("openai").await;
    const ROUNDS: usize = 3;
    let before = traffic(&gw, &key, ROUNDS).await;

    let candidate = upload(&gw, openai_miscount_wasm()).await;
    let (status, refused) = gw
        .admin(
            Method::POST,
            &format!("/api/providers/{provider}/rollout/shadow"),
            Some(json!({"plugin_id": candidate, "sample": 1.5})),
        )
        .await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (400, Some("bad_request"))
    );
    let view = gw
        .admin_ok(
            Method::POST,
            &format!("/api/providers/{provider}/rollout/shadow"),
            Some(json!({"plugin_id": candidate, "sample": 1.0})),
        )
        .await;
    assert_eq!(view["candidate"]["stage"], "shadow", "{view}");
    assert_eq!(view["candidate"]["version"], "0.3.0");
    assert_eq!(
        view["serving_version"], "0.1.0",
        "the provider stays on what served"
    );

    let after = traffic(&gw, &key, ROUNDS).await;
    for (at, (status, body, _)) in &before {
        let (status_after, body_after, _) = &after[at];
        assert_eq!(status, status_after, "{at:?}");
        assert!(
            body == body_after,
            "{at:?}: the answer changed under shadow"
        );
    }
    // Every shadowed request was served by 0.1.0.
    let (_, _, some_rid) = &after[&(0, "Json".to_owned())];
    let trace = gw.trace_by_request_id(some_rid).await;
    assert_eq!(trace["plugin_version"], "0.1.0");

    let total = (ROUNDS * KINDS.len()) as i64;
    let view = compared(&gw, provider, total).await;
    let shadow = &view["shadow"];
    assert_eq!(shadow["compared"], total, "{view}");
    // Every answer with usage reads differently (the gateway asks for a
    // stream's usage chunk on every client's behalf); error answers agree.
    let disagreeing = (ROUNDS * 3) as i64;
    assert_eq!(shadow["agreeing"], total - disagreeing, "{view}");
    assert!(
        shadow["cost_difference_usd"].as_f64().unwrap() > 0.0,
        "forgetting the cache costs more: {view}"
    );
    let listed = shadow["disagreements"].as_array().unwrap();
    assert_eq!(listed.len() as i64, disagreeing);
    // An agreeing comparison is counted, not stored: rows only for the
    // disagreements, and one row of totals for the candidate.
    assert_eq!(
        stored_shadow_rows(&gw).await,
        (disagreeing, 0, 1),
        "shadow_verdicts rows, agreeing ones among them, shadow_totals rows"
    );
    let expected_ids: Vec<&String> = after
        .iter()
        .filter(|((_, kind), _)| kind != "Error")
        .map(|(_, (_, _, rid))| rid)
        .collect();
    for d in listed {
        assert!(
            expected_ids
                .iter()
                .any(|rid| d["request_id"] == rid.as_str()),
            "{d}"
        );
        assert_eq!(d["serving"]["usage"]["cached_input_tokens"], 13, "{d}");
        assert_eq!(d["candidate"]["usage"]["cached_input_tokens"], 0, "{d}");
        assert_eq!(
            d["serving"]["usage"]["input_tokens"],
            d["candidate"]["usage"]["input_tokens"]
        );
        assert_eq!(d["serving"]["model"], "gpt-4o-mini");
        assert!(
            d["candidate"]["cost_nanos"].as_u64() > d["serving"]["cost_nanos"].as_u64(),
            "{d}"
        );
        assert_eq!(
            (
                d["serving_version"].as_str(),
                d["candidate_version"].as_str()
            ),
            (Some("0.1.0"), Some("0.3.0"))
        );
    }
    let metrics = gw.admin_ok(Method::GET, "/metrics", None).await;
    let metrics = metrics.as_str().unwrap();
    assert!(
        metrics.contains(&format!("ai_proxy_shadow_compared_total {total}")),
        "{metrics}"
    );
    assert!(
        metrics.contains("ai_proxy_shadow_dropped_total{reason=\"queue_full\"} 0"),
        "{metrics}"
    );
    let audit = gw
        .admin_ok(Method::GET, "/api/audit?resource=provider", None)
        .await;
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "rollout.shadow"),
        "{audit}"
    );
}

#[tokio::test]
async fn a_shadow_candidate_that_traps_fails_only_its_comparison() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::start().await;
    let key = gw.client_key_for("openai", &mock.base_url(), "sk-up").await;
    let provider = gw.provider_id("openai").await;
    let candidate = upload(&gw, openai_next_wasm()).await;
    gw.admin_ok(
        Method::POST,
        &format!("/api/providers/{provider}/rollout/shadow"),
        Some(json!({"plugin_id": candidate})),
    )
    .await;
    // `openai-next` traps in `inspect` on this marker; 0.1.0 serves it.
    let (status, body, rid) = exchange(&gw.proxy_url, &key, Kind::Json, "openai-next-trap").await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let view = compared(&gw, provider, 1).await;
    let listed = &view["shadow"]["disagreements"][0];
    assert_eq!(listed["request_id"], rid.as_str());
    assert!(listed["candidate"]["failure"].as_str().is_some(), "{view}");
    assert_eq!(listed["serving"]["usage"]["input_tokens"], 37, "{view}");
    // Still serving everyone, and the next request is fine.
    let (status, _, _) = exchange(&gw.proxy_url, &key, Kind::Json, "hi").await;
    assert_eq!(status, 200);
}

/// The version that prepared each marked request, from what reached the
/// upstream (`openai-next` marks its requests).
fn versions_by_marker(mock: &MockUpstream) -> BTreeMap<String, String> {
    mock.requests()
        .iter()
        .filter_map(|r| {
            let marker = r.json()?["user"].as_str()?.to_owned();
            let version = r.header("x-plugin-version").unwrap_or("0.1.0").to_owned();
            Some((marker, version))
        })
        .collect()
}

async fn marked(gw: &TestGateway, key: &str, marker: &str) {
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", gw.proxy_url))
        .bearer_auth(key)
        .json(&json!({"model": "gpt-4o-mini", "user": marker, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

/// The version that served each key on each instance, one request each.
async fn sides(
    mock: &MockUpstream,
    instances: [&TestGateway; 2],
    keys: &[String],
    phase: &str,
) -> Vec<(String, String)> {
    mock.clear();
    for (k, key) in keys.iter().enumerate() {
        for (i, gw) in instances.iter().enumerate() {
            marked(gw, key, &format!("{phase}-{k}-{i}")).await;
        }
    }
    let seen = versions_by_marker(mock);
    (0..keys.len())
        .map(|k| {
            let a = seen[&format!("{phase}-{k}-0")].clone();
            let b = seen[&format!("{phase}-{k}-1")].clone();
            (a, b)
        })
        .collect()
}

/// The side of each key, the same on both instances.
async fn settled_sides(
    mock: &MockUpstream,
    instances: [&TestGateway; 2],
    keys: &[String],
    phase: &str,
) -> Vec<String> {
    let got = sides(mock, instances, keys, phase).await;
    got.into_iter()
        .enumerate()
        .map(|(k, (a, b))| {
            assert_eq!(
                a, b,
                "{phase}: key {k} served differently by the two instances"
            );
            a
        })
        .collect()
}

/// Polls until every key is on `version` on both instances (bounded).
async fn until_all(
    mock: &MockUpstream,
    instances: [&TestGateway; 2],
    keys: &[String],
    version: &str,
) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut round = 0;
    loop {
        round += 1;
        let got = sides(mock, instances, keys, &format!("wait{round}")).await;
        if got.iter().all(|(a, b)| a == version && b == version) {
            return;
        }
        assert!(Instant::now() < deadline, "not all on {version}: {got:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_canary_is_sticky_per_key_on_every_instance_then_rolled_back_or_promoted() {
    let Some(db) = TempDatabase::create("rollout_canary").await else {
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
    let one = first
        .client_key_for("openai", &mock.base_url(), "sk-up")
        .await;
    let provider = first.provider_id("openai").await;
    let upstream_key = first
        .admin_ok(Method::GET, "/api/upstream-keys", None)
        .await[0]["id"]
        .clone();
    let mut keys = vec![one];
    for i in 1..16 {
        let created = first
            .admin_ok(
                Method::POST,
                "/api/client-keys",
                Some(json!({"name": format!("c{i}"), "provider_id": provider, "upstream_key_ids": [upstream_key]})),
            )
            .await;
        keys.push(created["key"].as_str().unwrap().to_owned());
    }
    let candidate = upload(&first, openai_next_wasm()).await;
    let base = format!("/api/providers/{provider}/rollout");
    let path = |step: &str| format!("{base}/{step}");
    let (status, refused) = first
        .admin(
            Method::POST,
            &path("canary"),
            Some(json!({"plugin_id": candidate, "percent": 101})),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    first
        .admin_ok(
            Method::POST,
            &path("canary"),
            Some(json!({"plugin_id": candidate, "percent": 50})),
        )
        .await;
    // The second instance follows within its poll (once it compiled the
    // upload); from then on each key stays on one side, the same on both
    // instances, and both sides serve.
    let deadline = Instant::now() + Duration::from_secs(30);
    while second.admin_ok(Method::GET, &base, None).await["candidate"]["active"] != true {
        assert!(
            Instant::now() < deadline,
            "the second instance never loaded the canary"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let split = settled_sides(&mock, [&first, &second], &keys, "split").await;
    let again = settled_sides(&mock, [&first, &second], &keys, "again").await;
    assert_eq!(split, again, "sticky per key");
    let on_candidate = split.iter().filter(|v| v.as_str() == "0.2.0").count();
    assert!(
        (3..=13).contains(&on_candidate),
        "about half the keys on the canary: {split:?}"
    );

    second.admin_ok(Method::POST, &path("rollback"), None).await;
    until_all(&mock, [&first, &second], &keys, "0.1.0").await;
    let (status, _) = first.admin(Method::POST, &path("rollback"), None).await;
    assert_eq!(status, 409, "nothing left to roll back");

    first
        .admin_ok(
            Method::POST,
            &path("canary"),
            Some(json!({"plugin_id": candidate, "percent": 10})),
        )
        .await;
    second
        .admin_ok(Method::POST, &path("promote"), Some(json!({})))
        .await;
    until_all(&mock, [&first, &second], &keys, "0.2.0").await;
    let view = first.admin_ok(Method::GET, &base, None).await;
    assert_eq!(view["candidate"], Value::Null, "{view}");
    assert_eq!(view["serving_version"], "0.2.0");

    let audit = first
        .admin_ok(
            Method::GET,
            "/api/audit?resource=provider&page_size=50",
            None,
        )
        .await;
    let steps: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .filter(|a| a.starts_with("rollout."))
        .collect();
    assert_eq!(
        steps,
        [
            "rollout.promote",
            "rollout.canary",
            "rollout.rollback",
            "rollout.canary"
        ],
        "every step audited, newest first"
    );
    drop((first, second));
    db.drop_database().await;
}
