//! Trace retention on SQLite and PostgreSQL: traces older than
//! `AI_PROXY_TRACE_RETENTION_DAYS` are rolled up into per-day aggregates
//! and deleted by the gateway's background task, and every statistic the
//! console shows (series, totals, top lists, key trends and stats) is the
//! same afterwards as before. Shadow verdicts past the same days go too,
//! while the shadow report's totals (running counts) stay the same.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use ai_proxy_tests::gateway::TestGateway;
use ai_proxy_tests::mock::MockUpstream;
use ai_proxy_tests::postgres::TempDatabase;
use chrono::{Duration as Days, Utc};
use reqwest::Method;
use sea_orm::{ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, Statement, Value};
use serde_json::{Value as Json, json};

const RETENTION_DAYS: i64 = 30;

/// One seeded trace: days ago, model, status, whether it names the client key.
const SEEDED: &[(i64, Option<&str>, i32, bool)] = &[
    (45, Some("old-model-a"), 200, true),
    (40, Some("old-model-a"), 200, true),
    (40, Some("old-model-b"), 500, true),
    (40, None, 401, false),
    (31, Some("old-model-b"), 200, true),
    (20, Some("old-model-a"), 200, true),
];
const SEEDED_TOKENS: i64 = 100;
const SEEDED_COST: i64 = 7_000;

async fn seed(db: &DatabaseConnection, client_key: i64, upstream_key: i64) {
    let backend = db.get_database_backend();
    let columns = "request_id, client_key_id, client_key_name, provider_key_id, model, method, path, \
        status_code, is_stream, attempts, attempt_log, input_tokens, output_tokens, \
        cached_input_tokens, cache_write_tokens, reasoning_tokens, total_tokens, cost_nanos, \
        duration_ms, created_at";
    let marks: Vec<String> = (1..=20)
        .map(|i| match backend {
            DatabaseBackend::Postgres => format!("${i}"),
            _ => "?".into(),
        })
        .collect();
    let sql = format!(
        "INSERT INTO proxy_tracing ({columns}) VALUES ({})",
        marks.join(", ")
    );
    let today = Utc::now()
        .date_naive()
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_utc();
    for (n, (days_ago, model, status, named)) in SEEDED.iter().enumerate() {
        let values: Vec<Value> = vec![
            format!("req_seeded_{n}").into(),
            named.then_some(client_key as i32).into(),
            named.then(|| "openai-client".to_owned()).into(),
            named.then_some(upstream_key as i32).into(),
            model.map(str::to_owned).into(),
            "POST".into(),
            "/v1/chat/completions".into(),
            (*status).into(),
            false.into(),
            1i32.into(),
            "[]".into(),
            60i64.into(),
            40i64.into(),
            0i64.into(),
            0i64.into(),
            0i64.into(),
            SEEDED_TOKENS.into(),
            Some(SEEDED_COST).into(),
            5i64.into(),
            (today - Days::days(*days_ago)).into(),
        ];
        db.execute_raw(Statement::from_sql_and_values(backend, &sql, values))
            .await
            .unwrap();
    }
}

/// Days ago of the seeded shadow verdicts (disagreements): those past the
/// retention go too.
const VERDICT_DAYS_AGO: [i64; 4] = [40, 31, 20, 0];
/// Comparisons counted in the seeded totals: the disagreements above and
/// as many agreeing ones, which the writer stores as counts only.
const COMPARED: i64 = 2 * VERDICT_DAYS_AGO.len() as i64;
/// What each seeded disagreement's candidate charged more, in nanodollars.
const CANDIDATE_EXTRA: i64 = 2;

/// Verdict rows of candidate plugin row 1 for `provider`, and the running
/// totals the shadow writer would have stored with them.
async fn seed_verdicts(db: &DatabaseConnection, provider: i32) {
    let backend = db.get_database_backend();
    let marks: Vec<String> = (1..=11)
        .map(|i| match backend {
            DatabaseBackend::Postgres => format!("${i}"),
            _ => "?".into(),
        })
        .collect();
    let sql = format!(
        "INSERT INTO shadow_verdicts (provider_id, candidate_plugin_id, request_id, \
         serving_version, candidate_version, agree, serving, candidate, serving_cost_nanos, \
         candidate_cost_nanos, created_at) VALUES ({})",
        marks.join(", ")
    );
    let now = Utc::now();
    for days_ago in VERDICT_DAYS_AGO {
        let values: Vec<Value> = vec![
            provider.into(),
            1i32.into(),
            format!("req_verdict_{days_ago}").into(),
            "1.0.0".into(),
            "1.1.0".into(),
            false.into(),
            "{}".into(),
            "{}".into(),
            Some(5i64).into(),
            Some(5 + CANDIDATE_EXTRA).into(),
            (now - Days::days(days_ago)).into(),
        ];
        db.execute_raw(Statement::from_sql_and_values(backend, &sql, values))
            .await
            .unwrap();
    }
    let totals = format!(
        "INSERT INTO shadow_totals (provider_id, candidate_plugin_id, compared, agreeing, \
         cost_difference_nanos, updated_at) VALUES ({})",
        marks[..6].join(", ")
    );
    let disagreeing = VERDICT_DAYS_AGO.len() as i64;
    let values: Vec<Value> = vec![
        provider.into(),
        1i32.into(),
        COMPARED.into(),
        (COMPARED - disagreeing).into(),
        (disagreeing * CANDIDATE_EXTRA).into(),
        now.into(),
    ];
    db.execute_raw(Statement::from_sql_and_values(backend, &totals, values))
        .await
        .unwrap();
}

/// The shadow report's totals, and the request ids of the disagreements
/// it lists (newest first).
async fn shadow_report(gw: &TestGateway, provider: i32) -> (Vec<Json>, Vec<String>) {
    let view = gw
        .admin_ok(
            Method::GET,
            &format!("/api/providers/{provider}/rollout"),
            None,
        )
        .await;
    let shadow = &view["shadow"];
    let totals = ["plugin_id", "compared", "agreeing", "cost_difference_usd"]
        .map(|field| shadow[field].clone())
        .to_vec();
    let listed = shadow["disagreements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["request_id"].as_str().unwrap().to_owned())
        .collect();
    (totals, listed)
}

async fn count(db: &DatabaseConnection, table: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

/// Everything the console's statistics show, over more days than are kept.
async fn statistics(gw: &TestGateway, client_key: i64, upstream_key: i64) -> Vec<Json> {
    let mut out = Vec::new();
    for path in [
        "/api/stats/timeseries?days=60".to_owned(),
        "/api/stats/overview?days=60".to_owned(),
        "/api/stats/overview?days=35".to_owned(),
        format!("/api/upstream-keys/{upstream_key}/trends?days=60"),
        format!("/api/upstream-keys/{upstream_key}/stats"),
        format!("/api/client-keys/{client_key}/trends?days=60"),
    ] {
        out.push(gw.admin_ok(Method::GET, &path, None).await);
    }
    out
}

async fn suite(database_url: Option<String>) {
    let mock = MockUpstream::start().await;
    let mut env = vec![
        ("AI_PROXY_TRACE_RETENTION_DAYS", RETENTION_DAYS.to_string()),
        // The first run would come after a minute: not during the first half.
        ("AI_PROXY_TRACE_RETENTION_INTERVAL_SECS", "3600".into()),
    ];
    if let Some(url) = &database_url {
        env.push(("DATABASE_URL", url.clone()));
    }
    let mut gw = TestGateway::start_with(&env).await;
    let key = gw.client_key_for("openai", &mock.base_url(), "sk-up").await;
    for _ in 0..2 {
        let r = reqwest::Client::new()
            .post(format!("{}/v1/chat/completions", gw.proxy_url))
            .bearer_auth(&key)
            .json(&json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    gw.traces(2).await;
    let client_key = gw.admin_ok(Method::GET, "/api/client-keys", None).await[0]["id"]
        .as_i64()
        .unwrap();
    let upstream_key = gw.admin_ok(Method::GET, "/api/upstream-keys", None).await[0]["id"]
        .as_i64()
        .unwrap();
    let db_url = database_url.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rw",
            gw.data_dir().join("ai-proxy.db").display()
        )
    });
    let db = Database::connect(&db_url).await.unwrap();
    seed(&db, client_key, upstream_key).await;
    let provider = gw.provider_id("openai").await as i32;
    seed_verdicts(&db, provider).await;
    let (shadow_before, listed) = shadow_report(&gw, provider).await;
    let disagreeing = VERDICT_DAYS_AGO.len() as i64;
    assert_eq!(
        shadow_before[..3],
        [json!(1), json!(COMPARED), json!(COMPARED - disagreeing)],
        "the report reads the running totals"
    );
    let usd = shadow_before[3].as_f64().unwrap();
    let want = (disagreeing * CANDIDATE_EXTRA) as f64 / 1e9;
    assert!((usd - want).abs() < 1e-15, "{usd} != {want}");
    assert_eq!(listed.len(), VERDICT_DAYS_AGO.len());

    let before = statistics(&gw, client_key, upstream_key).await;
    // The seeded days are counted from raw rows now.
    let series = before[0].as_array().unwrap();
    let day = |ago: i64| {
        let date = (Utc::now().date_naive() - Days::days(ago))
            .format("%Y-%m-%d")
            .to_string();
        series
            .iter()
            .find(|d| d["date"] == date.as_str())
            .unwrap()
            .clone()
    };
    assert_eq!(day(40)["requests"], 3);
    assert_eq!(day(40)["errors"], 2);
    assert_eq!(day(40)["tokens"], 3 * SEEDED_TOKENS);
    assert_eq!(day(45)["cost_nanos"], SEEDED_COST);
    assert_eq!(before[1]["requests"], 2 + SEEDED.len() as i64);

    gw.set_env("AI_PROXY_TRACE_RETENTION_INTERVAL_SECS", "1");
    gw.restart().await;
    let expired = SEEDED.iter().filter(|s| s.0 > RETENTION_DAYS).count() as i64;
    let deadline = Instant::now() + Duration::from_secs(30);
    let verdicts_kept = VERDICT_DAYS_AGO
        .iter()
        .filter(|d| **d < RETENTION_DAYS)
        .count() as i64;
    while count(&db, "proxy_tracing").await > 2 + SEEDED.len() as i64 - expired
        || count(&db, "shadow_verdicts").await > verdicts_kept
    {
        assert!(
            Instant::now() < deadline,
            "old traces not deleted:\n{}",
            gw.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Gone are exactly the expired rows; the 20-day-old and today's remain.
    assert_eq!(count(&db, "proxy_tracing").await, 3);
    assert!(count(&db, "proxy_tracing_daily").await >= 4);
    // Shadow verdicts follow the same days: the 20-day-old and today's remain.
    let kept = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT request_id FROM shadow_verdicts ORDER BY id",
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String>("", "request_id").unwrap())
        .collect::<Vec<_>>();
    assert_eq!(kept, ["req_verdict_20", "req_verdict_0"]);
    // The totals count the expired disagreements still; the list does not.
    let (shadow_after, listed) = shadow_report(&gw, provider).await;
    assert_eq!(
        shadow_after, shadow_before,
        "shadow totals changed when rows went"
    );
    assert_eq!(listed, ["req_verdict_0", "req_verdict_20"]);

    let after = statistics(&gw, client_key, upstream_key).await;
    assert_eq!(before, after, "statistics changed when raw rows went");
    db.close().await.unwrap();
}

#[tokio::test]
async fn expired_traces_are_deleted_and_statistics_stay_the_same_on_sqlite() {
    suite(None).await;
}

#[tokio::test]
async fn expired_traces_are_deleted_and_statistics_stay_the_same_on_postgres() {
    let Some(db) = TempDatabase::create("retention_e2e").await else {
        return;
    };
    suite(Some(db.url.clone())).await;
    db.drop_database().await;
}
