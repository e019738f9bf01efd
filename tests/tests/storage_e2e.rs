//! What the real gateway leaves on disk: a data directory and files only
//! its user can read, and upstream secrets that an attacker who can write
//! the database cannot move from one row to another.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use ai_proxy_tests::gateway::TestGateway;
use ai_proxy_tests::mock::MockUpstream;
use reqwest::Method;
use sea_orm::{ConnectionTrait, Database};
use serde_json::json;

/// A file's permission bits, in octal.
fn mode(path: &Path) -> String {
    let mode = std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode();
    format!("{:o}", mode & 0o777)
}

#[tokio::test]
async fn data_dir_database_key_and_plugin_cache_are_private_after_start() {
    let gw = TestGateway::in_process().await;
    let dir = gw.data_dir();
    assert_eq!(mode(dir), "700", "data directory");
    for file in [
        "ai-proxy.db",
        "ai-proxy.db-wal",
        "ai-proxy.db-shm",
        "master.key",
    ] {
        assert_eq!(mode(&dir.join(file)), "600", "{file}");
    }
    // The built-in plugins' artifacts are written in the background.
    let cache = dir.join("plugin-cache");
    let deadline = Instant::now() + Duration::from_secs(30);
    let artifacts = loop {
        let found: Vec<_> = std::fs::read_dir(&cache)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        if found
            .iter()
            .any(|p| p.extension().is_some_and(|e| e == "cwasm"))
        {
            break found;
        }
        assert!(
            Instant::now() < deadline,
            "no artifact in {}",
            cache.display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(mode(&cache), "700", "plugin cache");
    for artifact in artifacts
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
    {
        assert_eq!(mode(artifact), "600", "{}", artifact.display());
    }
}

/// Sends one chat request with `key`; returns the status.
async fn chat(gw: &TestGateway, key: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", gw.proxy_url))
        .bearer_auth(key)
        .json(&json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

#[tokio::test]
async fn upstream_key_ciphertext_copied_into_another_row_does_not_decrypt() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::in_process().await;
    let client = gw
        .client_key_for("openai", &mock.base_url(), "sk-victim-row-b")
        .await;
    let provider = gw.provider_id("openai").await;
    let other = gw
        .admin_ok(
            Method::POST,
            "/api/upstream-keys",
            Some(json!({"provider_id": provider, "name": "other-tenant", "secret": "sk-other-tenant-a", "enabled": false})),
        )
        .await;
    let other_id = other["id"].as_i64().expect("id");
    assert_eq!(chat(&gw, &client).await, 200);

    // Someone with write access to the database, but not the master key,
    // copies the other tenant's ciphertext into the row this client uses.
    let url = format!(
        "sqlite://{}?mode=rw",
        gw.data_dir().join("ai-proxy.db").display()
    );
    let db = Database::connect(url)
        .await
        .expect("open the gateway's database");
    db.execute_unprepared(&format!(
        "UPDATE provider_keys SET secret_ciphertext = \
         (SELECT secret_ciphertext FROM provider_keys WHERE id = {other_id}) \
         WHERE id <> {other_id}"
    ))
    .await
    .expect("copy the ciphertext");
    db.close().await.expect("close");
    // Any change through the admin API reloads the catalog from the database.
    gw.admin_ok(
        Method::PUT,
        &format!("/api/upstream-keys/{other_id}"),
        Some(json!({"weight": 2})),
    )
    .await;

    mock.clear();
    let status = chat(&gw, &client).await;
    let leaked = mock.requests().iter().any(|r| {
        r.headers
            .iter()
            .any(|(_, v)| v.contains("sk-other-tenant-a"))
    });
    assert!(
        !leaked,
        "the moved ciphertext decrypted and reached the upstream"
    );
    assert_ne!(status, 200, "served with a secret that is not this row's");
}
