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

/// An instance whose master key is not the one the database was set up
/// with refuses to start, and says why.
#[tokio::test]
async fn an_instance_with_another_master_key_refuses_to_start() {
    let Some(db) = TempDatabase::create("key_mismatch").await else {
        return;
    };
    let first = TestGateway::start_with(&[
        ("DATABASE_URL", db.url.clone()),
        ("AI_PROXY_MASTER_KEY", "a".repeat(64)),
    ])
    .await;
    let data_dir = std::env::temp_dir().join(format!(
        "aip-key-mismatch-{}-{}",
        std::process::id(),
        ai_proxy_tests::gateway::free_port()
    ));
    let output = tokio::task::spawn_blocking({
        let (url, data_dir) = (db.url.clone(), data_dir.clone());
        move || {
            std::process::Command::new(ai_proxy_tests::gateway::gateway_binary())
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("DATABASE_URL", url)
                .env("AI_PROXY_DATA_DIR", &data_dir)
                .env("AI_PROXY_MASTER_KEY", "b".repeat(64))
                .env("AI_PROXY_ADMIN_PASSWORD", "irrelevant-password")
                .env(
                    "AI_PROXY_PROXY_ADDR",
                    format!("127.0.0.1:{}", ai_proxy_tests::gateway::free_port()),
                )
                .env(
                    "AI_PROXY_ADMIN_ADDR",
                    format!("127.0.0.1:{}", ai_proxy_tests::gateway::free_port()),
                )
                .output()
                .expect("run the gateway")
        }
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "it started: {stderr}");
    assert!(
        stderr.contains("not the one this database was set up with")
            && stderr.contains("AI_PROXY_MASTER_KEY"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(&"b".repeat(64)),
        "the key is never printed"
    );
    // The first instance goes on serving.
    let mock = MockUpstream::start().await;
    let key = first
        .client_key_for("openai", &mock.base_url(), "sk-up")
        .await;
    assert_eq!(first.chat(&key).await.0, 200);
    drop(first);
    let _ = std::fs::remove_dir_all(&data_dir);
    db.drop_database().await;
}

/// A proxy port another process holds stops the start at once, naming the
/// address, before the admin port opens (Pingora alone would retry for
/// seconds, then fail in a thread of its own).
#[tokio::test]
async fn a_proxy_port_in_use_stops_the_start_at_once() {
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy = held.local_addr().unwrap();
    let admin_port = ai_proxy_tests::gateway::free_port();
    let data_dir = std::env::temp_dir().join(format!(
        "aip-port-in-use-{}-{}",
        std::process::id(),
        proxy.port()
    ));
    let mut child = std::process::Command::new(ai_proxy_tests::gateway::gateway_binary())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AI_PROXY_DATA_DIR", &data_dir)
        .env("AI_PROXY_ADMIN_PASSWORD", "irrelevant-password")
        .env("AI_PROXY_PROXY_ADDR", proxy.to_string())
        .env("AI_PROXY_ADMIN_ADDR", format!("127.0.0.1:{admin_port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run the gateway");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("still running with its proxy port taken");
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("binding the proxy to {proxy}")),
        "{stderr}"
    );
    assert!(!stderr.contains("ai-proxy serving"), "{stderr}");
    drop(held);
    let _ = std::fs::remove_dir_all(&data_dir);
}
