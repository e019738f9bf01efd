//! First start on PostgreSQL works exactly as on SQLite (issue 20): the
//! data directory for the generated master key is created, private.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ai_proxy_tests::gateway::TestGateway;
use ai_proxy_tests::mock::MockUpstream;
use ai_proxy_tests::postgres::TempDatabase;

#[tokio::test]
async fn first_start_on_postgres_in_an_empty_directory_creates_its_data_directory() {
    let Some(db) = TempDatabase::create("first_start").await else {
        return;
    };
    let fresh = std::env::temp_dir().join(format!(
        "aip-first-start-{}-{}",
        std::process::id(),
        ai_proxy_tests::gateway::free_port()
    ));
    let data_dir = fresh.join("data");
    assert!(!data_dir.exists());
    let gw = TestGateway::start_with(&[
        ("DATABASE_URL", db.url.clone()),
        ("AI_PROXY_DATA_DIR", data_dir.display().to_string()),
    ])
    .await;
    let key_file = data_dir.join("master.key");
    assert!(key_file.exists(), "{}", gw.log());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&data_dir), 0o700);
        assert_eq!(mode(&key_file), 0o600);
    }
    // And it serves: an upstream key encrypted under that key works.
    let mock = MockUpstream::start().await;
    let key = gw.client_key_for("openai", &mock.base_url(), "sk-up").await;
    assert_eq!(gw.chat(&key).await.0, 200);
    drop(gw);
    let _ = std::fs::remove_dir_all(&fresh);
    db.drop_database().await;
}
