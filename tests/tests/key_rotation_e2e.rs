//! Master key rotation with two instances on one PostgreSQL database
//! (issue 20): upstream keys and an OAuth client secret stored under key
//! A; both instances restarted one after the other with B as the key and A
//! as `AI_PROXY_MASTER_KEY_PREVIOUS`, requests served all along; after the
//! background re-encryption every secret opens with B alone, instances
//! with only B serve with the same upstream keys, and one with only A
//! refuses to start.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ai_proxy_tests::gateway::{TestGateway, free_port, gateway_binary};
use ai_proxy_tests::mock::MockUpstream;
use ai_proxy_tests::pools::chat_body;
use ai_proxy_tests::postgres::TempDatabase;
use reqwest::Method;
use serde_json::{Value, json};

const KEY_A: &str = "0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a";
const KEY_B: &str = "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b";
/// Longest a test's request loop runs.
const LOAD_LIMIT: Duration = Duration::from_secs(180);

/// Chat requests sent, one after another, to whichever instances are up.
struct Load {
    targets: Arc<Mutex<Vec<String>>>,
    ok: Arc<AtomicU64>,
    failed: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Load {
    fn start(client_key: String) -> Load {
        let targets = Arc::new(Mutex::new(Vec::<String>::new()));
        let ok = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn({
            let (targets, ok, failed, stop) =
                (targets.clone(), ok.clone(), failed.clone(), stop.clone());
            async move {
                let http = reqwest::Client::new();
                let started = Instant::now();
                while !stop.load(Ordering::SeqCst) && started.elapsed() < LOAD_LIMIT {
                    let urls = targets.lock().unwrap().clone();
                    for url in urls {
                        let sent = http
                            .post(format!("{url}/v1/chat/completions"))
                            .bearer_auth(&client_key)
                            .json(&chat_body())
                            .send()
                            .await;
                        // An instance taken out of the rotation meanwhile is not a failure.
                        if !targets.lock().unwrap().contains(&url) {
                            continue;
                        }
                        match sent {
                            Ok(r) if r.status().is_success() => {
                                ok.fetch_add(1, Ordering::SeqCst);
                            }
                            Ok(r) => failed
                                .lock()
                                .unwrap()
                                .push(format!("{url}: {}", r.status())),
                            Err(e) => failed.lock().unwrap().push(format!("{url}: {e}")),
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        });
        Load {
            targets,
            ok,
            failed,
            stop,
            task,
        }
    }

    fn add(&self, gw: &TestGateway) {
        self.targets.lock().unwrap().push(gw.proxy_url.clone());
    }

    fn remove(&self, gw: &TestGateway) {
        self.targets.lock().unwrap().retain(|u| u != &gw.proxy_url);
    }

    /// Waits for `more` successful requests past the current count.
    async fn wait_for(&self, more: u64) {
        let want = self.ok.load(Ordering::SeqCst) + more;
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.ok.load(Ordering::SeqCst) < want {
            assert!(Instant::now() < deadline, "requests stalled");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn finish(self) -> (u64, Vec<String>) {
        self.stop.store(true, Ordering::SeqCst);
        self.task.await.unwrap();
        let failed = self.failed.lock().unwrap().clone();
        (self.ok.load(Ordering::SeqCst), failed)
    }
}

fn env(db: &TempDatabase, key: &str, previous: Option<&str>) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("DATABASE_URL", db.url.clone()),
        ("AI_PROXY_MASTER_KEY", key.to_owned()),
        ("AI_PROXY_CONFIG_POLL_MS", "200".to_owned()),
    ];
    if let Some(previous) = previous {
        env.push(("AI_PROXY_MASTER_KEY_PREVIOUS", previous.to_owned()));
    }
    env
}

/// Runs the gateway binary to completion with `args` and these settings.
async fn run_binary(args: &[&str], env: Vec<(&'static str, String)>) -> std::process::Output {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let data_dir =
        std::env::temp_dir().join(format!("aip-rot-{}-{}", std::process::id(), free_port()));
    let output = tokio::task::spawn_blocking({
        let data_dir = data_dir.clone();
        move || {
            let mut cmd = std::process::Command::new(gateway_binary());
            cmd.args(args)
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("AI_PROXY_DATA_DIR", &data_dir)
                .env("AI_PROXY_ADMIN_PASSWORD", "irrelevant-password")
                .env("AI_PROXY_PROXY_ADDR", format!("127.0.0.1:{}", free_port()))
                .env("AI_PROXY_ADMIN_ADDR", format!("127.0.0.1:{}", free_port()));
            for (k, v) in env {
                cmd.env(k, v);
            }
            cmd.output().expect("run the gateway")
        }
    })
    .await
    .unwrap();
    let _ = std::fs::remove_dir_all(&data_dir);
    output
}

/// Polls the rotation status until the previous key can be dropped.
async fn wait_rotated(gw: &TestGateway) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = gw
            .admin_ok(Method::GET, "/api/master-key/rotation", None)
            .await;
        if status["previous_key_can_be_dropped"] == true {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "not rotated: {status}\n{}",
            gw.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Stores secrets under the first key: upstream keys (one in a client
/// key's pool) and a provider's OAuth client secret. Returns the client
/// key and the ids of the upstream keys outside its pool.
async fn secrets_under_first_key(gw: &TestGateway, mock: &MockUpstream) -> (String, Vec<Value>) {
    let client = gw
        .client_key_for("openai", &mock.base_url(), "sk-rot-pooled")
        .await;
    let openai = gw.provider_id("openai").await;
    let mut spare = Vec::new();
    for secret in ["sk-rot-spare-1", "sk-rot-spare-2"] {
        let key = gw
            .admin_ok(
                Method::POST,
                "/api/upstream-keys",
                Some(json!({"provider_id": openai, "name": secret, "secret": secret})),
            )
            .await;
        spare.push(key["id"].clone());
    }
    let anthropic = gw.provider_id("anthropic").await;
    let view = gw
        .admin_ok(
            Method::PUT,
            &format!("/api/providers/{anthropic}"),
            Some(json!({"oauth": {
                "authorize_url": "https://auth.example.com/authorize",
                "token_url": "https://auth.example.com/token",
                "client_id": "rotation-test",
                "client_secret": "cs-rot-secret",
            }})),
        )
        .await;
    assert_eq!(view["oauth"]["has_client_secret"], true, "{view}");
    (client, spare)
}

/// An OAuth client of the first client key, and a token for it.
async fn oauth_token(gw: &TestGateway) -> String {
    let key_id = gw.admin_ok(Method::GET, "/api/client-keys", None).await[0]["id"].clone();
    let created = gw
        .admin_ok(
            Method::POST,
            "/api/oauth-clients",
            Some(json!({"name": "rotation", "client_key_id": key_id})),
        )
        .await;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", created["client_id"].as_str().unwrap()),
        ("client_secret", created["client_secret"].as_str().unwrap()),
    ];
    let resp = reqwest::Client::new()
        .post(format!("{}/oauth/token", gw.proxy_url))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = resp.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn two_instances_rotate_the_master_key_while_serving() {
    let Some(db) = TempDatabase::create("key_rotation").await else {
        return;
    };
    let mock = MockUpstream::start().await;
    let first = TestGateway::start_with(&env(&db, KEY_A, None)).await;
    let second = TestGateway::start_with(&env(&db, KEY_A, None)).await;
    let (client, spare) = secrets_under_first_key(&first, &mock).await;
    // Signed under the old key.
    let token = oauth_token(&first).await;
    let load = Load::start(client.clone());
    load.add(&first);
    // The other instance picks the new client key up by polling.
    let deadline = Instant::now() + Duration::from_secs(10);
    while second.chat(&client).await.0 != 200 {
        assert!(Instant::now() < deadline, "{}", second.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    load.add(&second);
    load.wait_for(10).await;

    // Rolling restart: the first instance comes back with B, and A as previous.
    load.remove(&first);
    drop(first);
    load.wait_for(5).await;
    let first = TestGateway::start_with(&env(&db, KEY_B, Some(KEY_A))).await;
    load.add(&first);
    let status = wait_rotated(&first).await;
    let anonymous = reqwest::get(format!("{}/api/master-key/rotation", first.admin_url))
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 401, "admins only");
    let (code, _, body) = first.chat(&token).await;
    assert_eq!(code, 200, "a token signed before the rotation: {body}");
    assert_eq!(status["state"], "rotated", "{status}");
    assert_eq!(status["secrets"]["previous"], 0, "{status}");
    assert_eq!(status["secrets"]["unreadable"], 0, "{status}");
    assert_eq!(
        status["secrets"]["current"], 4,
        "3 upstream keys, 1 client secret: {status}"
    );
    assert_eq!(status["last_pass"]["tally"]["rewritten"], 4, "{status}");
    // The instance still on A alone goes on serving from what it loaded.
    load.wait_for(10).await;

    load.remove(&second);
    drop(second);
    let second = TestGateway::start_with(&env(&db, KEY_B, Some(KEY_A))).await;
    load.add(&second);
    load.wait_for(10).await;
    let again = second
        .admin_ok(Method::GET, "/api/master-key/rotation", None)
        .await;
    assert_eq!(again["state"], "rotated", "{again}");
    assert_eq!(
        again["last_pass"]["tally"]["rewritten"], 0,
        "nothing left: {again}"
    );
    let (ok, failed) = load.finish().await;
    assert!(failed.is_empty(), "failed during the rotation: {failed:?}");
    assert!(ok >= 45, "{ok} requests");

    let log = first.log();
    assert!(log.contains("master key rotation complete"), "{log}");
    for secret in [
        KEY_A,
        KEY_B,
        "sk-rot-pooled",
        "sk-rot-spare-1",
        "cs-rot-secret",
    ] {
        assert!(!log.contains(secret), "{secret} in the log");
    }
    drop((first, second));
    after_rotation(&db, &mock, &client, &spare, &token).await;
    db.drop_database().await;
}

/// With the rotation complete: only the new key is needed, every stored
/// secret opens with it, and the old key alone is refused.
async fn after_rotation(
    db: &TempDatabase,
    mock: &MockUpstream,
    client: &str,
    spare: &[Value],
    old_token: &str,
) {
    let status = run_binary(&["master-key", "status"], env(db, KEY_B, None)).await;
    let stdout = String::from_utf8_lossy(&status.stdout);
    assert!(status.status.success(), "{stdout}");
    assert!(
        stdout.contains("secrets under the current key: 4"),
        "{stdout}"
    );
    assert!(stdout.contains("secrets neither key opens: 0"), "{stdout}");

    let old = run_binary(&["serve"], env(db, KEY_A, None)).await;
    let stderr = String::from_utf8_lossy(&old.stderr);
    assert!(!old.status.success(), "started with the old key: {stderr}");
    assert!(stderr.contains("replaced by a newer one"), "{stderr}");
    assert!(
        !stderr.contains(KEY_A) && !stderr.contains(KEY_B),
        "{stderr}"
    );

    let first = TestGateway::start_with(&env(db, KEY_B, None)).await;
    let second = TestGateway::start_with(&env(db, KEY_B, None)).await;
    mock.clear();
    assert_eq!(first.chat(client).await.0, 200, "{}", first.log());
    assert_eq!(second.chat(client).await.0, 200, "{}", second.log());
    assert_eq!(
        first.chat(old_token).await.0,
        401,
        "old key dropped, its tokens too"
    );
    let openai = first.provider_id("openai").await;
    for id in spare {
        let spare_client = first
            .admin_ok(
                Method::POST,
                "/api/client-keys",
                Some(json!({"name": format!("spare-{id}"), "provider_id": openai, "upstream_key_ids": [id]})),
            )
            .await["key"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(first.chat(&spare_client).await.0, 200, "{}", first.log());
    }
    let sent: Vec<String> = mock
        .requests()
        .iter()
        .filter_map(|r| r.header("authorization").map(str::to_owned))
        .collect();
    for secret in ["sk-rot-pooled", "sk-rot-spare-1", "sk-rot-spare-2"] {
        let bearer = format!("Bearer {secret}");
        assert!(
            sent.contains(&bearer),
            "{secret} never reached the upstream: {sent:?}"
        );
    }
    let view = first
        .admin_ok(
            Method::GET,
            &format!("/api/providers/{}", first.provider_id("anthropic").await),
            None,
        )
        .await;
    assert_eq!(view["oauth"]["has_client_secret"], true, "{view}");
}

/// On SQLite, with the gateway stopped: `ai-proxy master-key rotate`
/// re-encrypts everything, and the gateway then starts with the new key
/// alone and uses the same upstream key.
#[tokio::test]
async fn the_rotate_command_rotates_a_stopped_sqlite_gateway() {
    let dir = std::env::temp_dir().join(format!(
        "aip-rot-sqlite-{}-{}",
        std::process::id(),
        free_port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/gw.db?mode=rwc", dir.display());
    let settings = |key: &str, previous: Option<&str>| {
        let mut env = vec![
            ("DATABASE_URL", url.clone()),
            ("AI_PROXY_MASTER_KEY", key.to_owned()),
        ];
        if let Some(previous) = previous {
            env.push(("AI_PROXY_MASTER_KEY_PREVIOUS", previous.to_owned()));
        }
        env
    };
    let mock = MockUpstream::start().await;
    let gw = TestGateway::start_with(&settings(KEY_A, None)).await;
    let client = gw
        .client_key_for("openai", &mock.base_url(), "sk-rot-sqlite")
        .await;
    drop(gw);

    let rotate = run_binary(&["master-key", "rotate"], settings(KEY_B, Some(KEY_A))).await;
    let stdout = String::from_utf8_lossy(&rotate.stdout);
    assert!(
        rotate.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&rotate.stderr)
    );
    assert!(stdout.contains("rotation: rotated"), "{stdout}");
    assert!(
        stdout.contains("secrets under the current key: 1"),
        "{stdout}"
    );
    assert!(
        stdout.contains("AI_PROXY_MASTER_KEY_PREVIOUS can be removed: yes"),
        "{stdout}"
    );
    assert!(
        !stdout.contains(KEY_A) && !stdout.contains("sk-rot-sqlite"),
        "{stdout}"
    );

    let gw = TestGateway::start_with(&settings(KEY_B, None)).await;
    mock.clear();
    assert_eq!(gw.chat(&client).await.0, 200, "{}", gw.log());
    let sent = mock.requests().pop().unwrap();
    assert_eq!(sent.header("authorization"), Some("Bearer sk-rot-sqlite"));
    drop(gw);
    let _ = std::fs::remove_dir_all(&dir);
}
