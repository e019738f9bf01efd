//! Dashboard statistics and key trends from real traffic, on SQLite and
//! on PostgreSQL (the per-day grouping is written for each).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ai_proxy_tests::gateway::TestGateway;
use ai_proxy_tests::mock::{MockUpstream, OPENAI_TOTAL_TOKENS};
use ai_proxy_tests::postgres::TempDatabase;
use reqwest::Method;
use serde_json::json;

async fn suite(database_url: Option<String>) {
    let mock = MockUpstream::start().await;
    let env: Vec<(&str, String)> = database_url
        .into_iter()
        .map(|u| ("DATABASE_URL", u))
        .collect();
    let gw = TestGateway::in_process_with(&env).await;
    let key = gw.client_key_for("openai", &mock.base_url(), "sk-up").await;
    let client = reqwest::Client::new();
    let send = |model: &'static str, status: Option<&'static str>| {
        let mut req = client
            .post(format!("{}/v1/chat/completions", gw.proxy_url))
            .bearer_auth(&key)
            .json(&json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}));
        if let Some(s) = status {
            req = req.header("x-mock-status", s);
        }
        req.send()
    };
    for _ in 0..3 {
        assert_eq!(send("gpt-4o-mini", None).await.unwrap().status(), 200);
    }
    assert_eq!(send("gpt-4o", None).await.unwrap().status(), 200);
    assert_eq!(send("gpt-4o", Some("500")).await.unwrap().status(), 500);
    gw.traces(5).await;

    let series = gw
        .admin_ok(Method::GET, "/api/stats/timeseries?days=7", None)
        .await;
    let series = series.as_array().unwrap();
    assert_eq!(series.len(), 7);
    let today = series.last().unwrap();
    assert_eq!(
        today["date"],
        chrono::Utc::now().format("%Y-%m-%d").to_string()
    );
    assert_eq!(today["requests"], 5);
    assert_eq!(today["errors"], 1);
    assert_eq!(today["tokens"], 4 * OPENAI_TOTAL_TOKENS);
    assert!(series[..6].iter().all(|d| d["requests"] == 0));

    let overview = gw
        .admin_ok(Method::GET, "/api/stats/overview?days=1", None)
        .await;
    assert_eq!(overview["requests"], 5);
    assert!((overview["error_rate"].as_f64().unwrap() - 0.2).abs() < 1e-9);
    assert_eq!(overview["top_models"][0]["name"], "gpt-4o-mini");
    assert_eq!(overview["top_models"][0]["requests"], 3);
    assert_eq!(overview["top_models"][1]["name"], "gpt-4o");
    assert_eq!(overview["top_client_keys"][0]["name"], "openai-client");
    assert!(overview["cost_nanos"].as_i64().unwrap() > 0);

    let upstream_key = gw.admin_ok(Method::GET, "/api/upstream-keys", None).await[0]["id"].clone();
    let trends = gw
        .admin_ok(
            Method::GET,
            &format!("/api/upstream-keys/{upstream_key}/trends?days=7"),
            None,
        )
        .await;
    assert_eq!(trends.as_array().unwrap().len(), 7);
    assert_eq!(trends[6]["requests"], 5);
    let stats = gw
        .admin_ok(
            Method::GET,
            &format!("/api/upstream-keys/{upstream_key}/stats"),
            None,
        )
        .await;
    assert_eq!(stats["overview"]["requests_30d"], 5);
    assert_eq!(stats["usage"]["today"]["errors"], 1);

    let client_key = gw.admin_ok(Method::GET, "/api/client-keys", None).await[0]["id"].clone();
    let trends = gw
        .admin_ok(
            Method::GET,
            &format!("/api/client-keys/{client_key}/trends?days=1"),
            None,
        )
        .await;
    assert_eq!(trends[0]["tokens"], 4 * OPENAI_TOTAL_TOKENS);

    for days in [0, 367] {
        let (status, _) = gw
            .admin(
                Method::GET,
                &format!("/api/stats/timeseries?days={days}"),
                None,
            )
            .await;
        assert_eq!(status, 400, "days={days}");
    }
    let (status, _) = gw
        .admin(Method::GET, "/api/stats/timeseries?days=366", None)
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn statistics_from_real_traffic_on_sqlite() {
    suite(None).await;
}

#[tokio::test]
async fn statistics_from_real_traffic_on_postgres() {
    let Some(db) = TempDatabase::create("stats_e2e").await else {
        return;
    };
    suite(Some(db.url.clone())).await;
    db.drop_database().await;
}
