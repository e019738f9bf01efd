//! Starting the real `ai-proxy` binary for a test, and driving its admin API.
//!
//! Each [`TestGateway`] is its own process with its own data directory and
//! ports, so tests never see each other's state. The process is killed and
//! its directory removed on drop; its log is printed when a test fails.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The admin password every test gateway is started with.
pub const ADMIN_PASSWORD: &str = "test-admin-password";
/// How long a gateway may take to start.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Path of the gateway binary built next to the test executables.
pub fn gateway_binary() -> PathBuf {
    if let Ok(path) = std::env::var("AI_PROXY_BIN") {
        return PathBuf::from(path);
    }
    // <target>/<profile>/deps/<test binary> -> <target>/<profile>/ai-proxy
    let exe = std::env::current_exe().expect("current exe");
    let profile_dir = exe.parent().and_then(|d| d.parent()).expect("profile dir");
    profile_dir.join("ai-proxy")
}

/// Path of the misbehaving test plugin component.
pub fn misbehave_wasm() -> PathBuf {
    PathBuf::from(env!("MISBEHAVE_WASM"))
}

/// The test plugin that is version 0.2.0 of `openai` (see `tests/build.rs`).
pub fn openai_next_wasm() -> PathBuf {
    PathBuf::from(env!("OPENAI_NEXT_WASM"))
}

/// The test plugin that is version 0.3.0 of `openai` and forgets cached
/// prompt tokens (see `tests/build.rs`).
pub fn openai_miscount_wasm() -> PathBuf {
    PathBuf::from(env!("OPENAI_MISCOUNT_WASM"))
}

/// Path of the Azure OpenAI plugin component: built by `tests/build.rs`,
/// never into the gateway, so tests load it as an operator would.
pub fn azure_openai_wasm() -> PathBuf {
    PathBuf::from(env!("AZURE_OPENAI_WASM"))
}

/// The Anthropic plugin with a cache-read bug, as version 0.2.0 of
/// `anthropic` (see `plugins/testing/anthropic-nocache`).
pub fn anthropic_nocache_wasm() -> PathBuf {
    PathBuf::from(env!("ANTHROPIC_NOCACHE_WASM"))
}

/// A free loopback port (bound then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A running gateway process.
pub struct TestGateway {
    child: Child,
    pub proxy_url: String,
    pub admin_url: String,
    data_dir: PathBuf,
    log_path: PathBuf,
    /// Proxy and admin ports.
    ports: (u16, u16),
    /// The extra environment it was started with.
    env: Vec<(String, String)>,
    /// Whether it runs in its data directory rather than the test's.
    in_data_dir: bool,
    http: reqwest::Client,
}

/// Starts the gateway process; its output is appended to `log_path`.
fn spawn(
    data_dir: &std::path::Path,
    log_path: &std::path::Path,
    (proxy_port, admin_port): (u16, u16),
    env: &[(String, String)],
    in_data_dir: bool,
    args: &[&str],
) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_path)
        .expect("log file");
    let mut cmd = Command::new(gateway_binary());
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AI_PROXY_PROXY_ADDR", format!("127.0.0.1:{proxy_port}"))
        .env("AI_PROXY_ADMIN_ADDR", format!("127.0.0.1:{admin_port}"))
        .env("AI_PROXY_DATA_DIR", data_dir)
        .env("AI_PROXY_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("AI_PROXY_PROXY_THREADS", "2")
        .env("AI_PROXY_PLUGIN_INSTANCES", "64")
        .env("AI_PROXY_TRACE_FLUSH_MS", "20")
        // Background probes would add requests to the mock's count; tests of health
        // checks turn them on.
        .env("AI_PROXY_HEALTH_INTERVAL_SECS", "0")
        // The mock upstream is on loopback, which the gateway refuses unless allow-listed.
        .env("AI_PROXY_EGRESS_ALLOW", "127.0.0.0/8")
        .env("RUST_LOG", "info,pingora=warn")
        .stdout(log.try_clone().expect("log"))
        .stderr(log);
    for (k, v) in env {
        cmd.env(k, v);
    }
    if in_data_dir {
        cmd.current_dir(data_dir);
    }
    cmd.spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", gateway_binary().display()))
}

impl TestGateway {
    /// Starts a gateway on SQLite in a fresh directory.
    pub async fn start() -> TestGateway {
        Self::start_with(&[]).await
    }

    /// Starts a gateway with extra environment variables (`DATABASE_URL`,
    /// limits, plugin files, ...).
    pub async fn start_with(env: &[(&str, String)]) -> TestGateway {
        Self::start_in(env, false).await
    }

    /// Starts a gateway whose working directory is its own data directory,
    /// far from the repository (and its `web/dist`).
    pub async fn start_elsewhere(env: &[(&str, String)]) -> TestGateway {
        Self::start_in(env, true).await
    }

    async fn start_in(env: &[(&str, String)], in_data_dir: bool) -> TestGateway {
        let data_dir =
            std::env::temp_dir().join(format!("aip-test-{}-{}", std::process::id(), free_port()));
        std::fs::create_dir_all(&data_dir).expect("data dir");
        let log_path = data_dir.join("gateway.log");
        let (proxy_port, admin_port) = (free_port(), free_port());
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        let child = spawn(
            &data_dir,
            &log_path,
            (proxy_port, admin_port),
            &env,
            in_data_dir,
            &[],
        );
        // With a certificate both ports speak HTTPS only.
        let scheme = if env.iter().any(|(k, _)| k == "AI_PROXY_TLS_CERT") {
            "https"
        } else {
            "http"
        };
        let gateway = TestGateway {
            child,
            proxy_url: format!("{scheme}://127.0.0.1:{proxy_port}"),
            admin_url: format!("{scheme}://127.0.0.1:{admin_port}"),
            data_dir,
            log_path,
            ports: (proxy_port, admin_port),
            env,
            in_data_dir,
            http: reqwest::Client::new(),
        };
        gateway.wait_ready().await;
        gateway
    }

    /// Stops the process and starts it again on the same data directory,
    /// ports and settings (its log goes on in the same file).
    pub async fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = spawn(
            &self.data_dir,
            &self.log_path,
            self.ports,
            &self.env,
            self.in_data_dir,
            &[],
        );
        self.wait_ready().await;
    }

    /// Upgrades in place as an operator would: starts a new process with
    /// `serve --upgrade` on the same settings, sends the running one SIGQUIT
    /// once the new one waits on the upgrade socket, and waits until the new
    /// one serves. Returns the old process (still finishing what it had).
    pub async fn upgrade(&mut self) -> Child {
        let socket = self.data_dir.join("upgrade.sock");
        let _ = std::fs::remove_file(&socket);
        let successor = spawn(
            &self.data_dir,
            &self.log_path,
            self.ports,
            &self.env,
            self.in_data_dir,
            &["serve", "--upgrade"],
        );
        let old = std::mem::replace(&mut self.child, successor);
        let deadline = Instant::now() + START_TIMEOUT;
        while !socket.exists() {
            assert!(
                Instant::now() < deadline,
                "the new process never waited on {}:\n{}",
                socket.display(),
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let status = Command::new("kill")
            .args(["-s", "QUIT", &old.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success(), "kill -s QUIT failed");
        self.wait_ready().await;
        old
    }

    /// Sends a signal (`TERM`, `INT`, ...) to the gateway process.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args(["-s", name, &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success(), "kill -s {name} failed");
    }

    /// Waits up to `limit` for the process to exit; its status, or `None`
    /// while it still runs.
    pub async fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn wait_ready(&self) {
        let deadline = Instant::now() + START_TIMEOUT;
        let address = |url: &str| url.split_once("://").map_or(url, |(_, a)| a).to_owned();
        loop {
            let admin_ready = if self.admin_url.starts_with("https://") {
                // This client speaks no TLS: an open port is the sign.
                tokio::net::TcpStream::connect(address(&self.admin_url))
                    .await
                    .is_ok()
            } else {
                self.http
                    .get(format!("{}/api/health", self.admin_url))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
            };
            let proxy = tokio::net::TcpStream::connect(address(&self.proxy_url)).await;
            if admin_ready && proxy.is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "gateway did not start:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sets an environment variable for the next [`TestGateway::restart`].
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_owned(), value.to_owned()));
    }

    /// The gateway's data directory (its SQLite database, master key file
    /// and plugin cache).
    pub fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }

    /// The gateway's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// An admin API call with Basic auth; returns status and JSON body.
    pub async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.admin_url))
            .basic_auth("admin", Some(ADMIN_PASSWORD));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("admin request");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// An admin call that must succeed.
    pub async fn admin_ok(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let (status, value) = self.admin(method.clone(), path, body).await;
        assert!(
            (200..300).contains(&status),
            "{method} {path} -> {status}: {value}"
        );
        value
    }

    /// The id of the provider named `name`.
    pub async fn provider_id(&self, name: &str) -> i64 {
        let list = self
            .admin_ok(reqwest::Method::GET, "/api/providers", None)
            .await;
        list.as_array()
            .expect("list")
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["id"].as_i64().expect("id"))
            .expect("provider")
    }

    /// Points provider `name` at `base_url`, adds an upstream key with
    /// `secret` and a client key using it; returns the client key.
    pub async fn client_key_for(&self, name: &str, base_url: &str, secret: &str) -> String {
        let id = self.provider_id(name).await;
        self.admin_ok(
            reqwest::Method::PUT,
            &format!("/api/providers/{id}"),
            Some(json!({"base_url": base_url})),
        )
        .await;
        let key = self
            .admin_ok(
                reqwest::Method::POST,
                "/api/provider-keys/keys",
                Some(json!({"provider_id": id, "name": format!("{name}-upstream"), "secret": secret})),
            )
            .await;
        let client = self
            .admin_ok(
                reqwest::Method::POST,
                "/api/user-service/keys",
                Some(json!({"name": format!("{name}-client"), "provider_id": id, "provider_key_ids": [key["id"]]})),
            )
            .await;
        client["key"].as_str().expect("client key").to_owned()
    }

    /// Waits until at least `count` traces exist; returns their details, newest first.
    pub async fn traces(&self, count: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let list = self
                .admin_ok(reqwest::Method::GET, "/api/logs/traces?page_size=200", None)
                .await;
            let items = list["items"].as_array().cloned().unwrap_or_default();
            if items.len() >= count {
                let mut out = Vec::new();
                for item in items {
                    out.push(
                        self.admin_ok(
                            reqwest::Method::GET,
                            &format!("/api/logs/traces/{}", item["id"]),
                            None,
                        )
                        .await,
                    );
                }
                return out;
            }
            assert!(
                Instant::now() < deadline,
                "expected {count} traces, have {}",
                items.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The detail of the trace with this `x-request-id`.
    pub async fn trace_by_request_id(&self, request_id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let list = self
                .admin_ok(
                    reqwest::Method::GET,
                    &format!("/api/logs/traces?q={request_id}"),
                    None,
                )
                .await;
            if let Some(item) = list["items"].as_array().and_then(|a| a.first()) {
                return self
                    .admin_ok(
                        reqwest::Method::GET,
                        &format!("/api/logs/traces/{}", item["id"]),
                        None,
                    )
                    .await;
            }
            assert!(
                Instant::now() < deadline,
                "no trace for {request_id}\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for TestGateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("---- gateway log ----\n{}", self.log());
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}
