//! Admin changes race safely (issue 14's one write path): two admins who
//! demote each other at the same moment cannot leave the gateway without
//! an admin, on SQLite and on PostgreSQL, and each change that went through
//! is in the audit log exactly once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ai_proxy_tests::gateway::{ADMIN_PASSWORD, TestGateway};
use ai_proxy_tests::postgres::TempDatabase;
use reqwest::Method;
use serde_json::{Value, json};

/// Rounds of the race: each starts from two enabled admins.
const ROUNDS: usize = 6;

#[tokio::test]
async fn admins_demoting_each_other_at_once_leave_one_admin_on_sqlite() {
    let gw = TestGateway::in_process().await;
    race_demotions(&gw).await;
}

#[tokio::test]
async fn admins_demoting_each_other_at_once_leave_one_admin_on_postgres() {
    let Some(db) = TempDatabase::create("admin_write_race").await else {
        return;
    };
    let gw = TestGateway::in_process_with(&[("DATABASE_URL", db.url.clone())]).await;
    race_demotions(&gw).await;
    drop(gw);
    db.drop_database().await;
}

async fn race_demotions(gw: &TestGateway) {
    let http = reqwest::Client::new();
    let admin_id = me(gw, &http, "admin", ADMIN_PASSWORD).await;
    let password = "second-admin-password-1";
    let second = gw
        .admin_ok(
            Method::POST,
            "/api/users",
            Some(json!({"username": "second", "password": password, "role": "admin"})),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    for round in 0..ROUNDS {
        // Each admin demotes the other, at once.
        let demote = |who: &'static str, pass: &'static str, target: i64| {
            let http = http.clone();
            let url = format!("{}/api/users/{target}", gw.admin_url);
            async move {
                http.put(url)
                    .basic_auth(who, Some(pass))
                    .json(&json!({"role": "user"}))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }
        };
        let (a, b) = tokio::join!(
            demote("admin", ADMIN_PASSWORD, second),
            demote("second", password, admin_id),
        );
        let admins = enabled_admins(
            gw,
            &http,
            &[("admin", ADMIN_PASSWORD), ("second", password)],
        )
        .await;
        assert_eq!(
            admins, 1,
            "round {round}: answers {a} and {b} left {admins} enabled admins"
        );
        assert!(
            [a, b].contains(&200),
            "round {round}: one demotion goes through ({a}, {b})"
        );
        // Put the demoted one back for the next round.
        let demoted = if a == 200 { second } else { admin_id };
        let restorer = if a == 200 { "admin" } else { "second" };
        let restorer_pass = if a == 200 { ADMIN_PASSWORD } else { password };
        let status = http
            .put(format!("{}/api/users/{demoted}", gw.admin_url))
            .basic_auth(restorer, Some(restorer_pass))
            .json(&json!({"role": "admin"}))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 200);
    }
    // Every demotion and restoration that went through is audited once.
    let log = gw
        .admin_ok(Method::GET, "/api/audit?resource=user&page_size=200", None)
        .await;
    let updates = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "update")
        .count();
    assert_eq!(updates, 2 * ROUNDS, "{log}");
}

async fn me(gw: &TestGateway, http: &reqwest::Client, user: &str, pass: &str) -> i64 {
    let body: Value = http
        .get(format!("{}/api/auth/me", gw.admin_url))
        .basic_auth(user, Some(pass))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["id"].as_i64().unwrap()
}

/// Enabled admins, as listed to the first of `accounts` still allowed to
/// list users (0 when none is).
async fn enabled_admins(
    gw: &TestGateway,
    http: &reqwest::Client,
    accounts: &[(&str, &str)],
) -> usize {
    for (user, pass) in accounts {
        let resp = http
            .get(format!("{}/api/users", gw.admin_url))
            .basic_auth(user, Some(pass))
            .send()
            .await
            .unwrap();
        if resp.status() != 200 {
            continue;
        }
        let users: Value = resp.json().await.unwrap();
        return users
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["role"] == "admin" && u["enabled"] == true)
            .count();
    }
    0
}
