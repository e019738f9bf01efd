//! Starting a gateway for a test, and driving its admin API.
//!
//! Each [`TestGateway`] has its own data directory and ports, so tests never
//! see each other's state. It is either the real `ai-proxy` binary
//! ([`TestGateway::start`]: for what the process adds — signals, upgrades,
//! the CLI, its log, TLS) or the same core and ports served inside the test
//! process ([`TestGateway::in_process`], `ai_proxy::serve_in_process`) on
//! listeners the test bound itself, without a process to start. Either is
//! stopped and its directory removed on drop; a process's log is printed
//! when a test fails.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::in_process::InProcess;

use serde_json::{Value, json};

/// The admin password every test gateway is started with.
pub const ADMIN_PASSWORD: &str = "test-admin-password";
/// Set to `process` to run in-process tests against the binary.
pub const GATEWAY_MODE_VAR: &str = "AI_PROXY_TEST_GATEWAY";
/// How long a gateway may take to start.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// Fresh ports a process gateway is started on before a test gives up: a
/// port picked free may be taken by another test before the child binds it.
const PORT_ATTEMPTS: usize = 5;
/// What the gateway logs once it holds both ports (a fresh start refuses
/// ports in use), so a test never takes another test's listener for its own.
const SERVING_LINE: &str = "ai-proxy serving";

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

/// Two free loopback ports, never the same one: both are held until both
/// are picked (two `free_port` calls may get one port twice).
pub fn two_free_ports() -> (u16, u16) {
    let bind = || TcpListener::bind("127.0.0.1:0").expect("free port");
    let (a, b) = (bind(), bind());
    let port = |l: &TcpListener| l.local_addr().expect("free port").port();
    (port(&a), port(&b))
}

/// How a [`TestGateway`] runs.
enum Runner {
    Process(Child),
    InProcess(InProcess),
}

/// A fresh data directory under the system's temporary one.
fn fresh_data_dir() -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("aip-test-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("data dir");
    dir
}

/// A running gateway.
pub struct TestGateway {
    runner: Runner,
    pub proxy_url: String,
    pub admin_url: String,
    data_dir: PathBuf,
    log_path: PathBuf,
    /// Proxy and admin ports.
    ports: (u16, u16),
    /// The extra environment it was started with.
    env: Vec<(String, String)>,
    /// In-process: the listeners it serves on (kept for a restart).
    listeners: Option<(TcpListener, TcpListener)>,
    /// Whether it runs in its data directory rather than the test's.
    in_data_dir: bool,
    /// Processes started on its log so far (each logs [`SERVING_LINE`]).
    starts: usize,
    http: reqwest::Client,
}

/// Why a process gateway is not serving.
enum NotStarted {
    /// Another listener holds one of its ports: start again elsewhere.
    PortTaken,
    /// Anything else, with the log.
    Failed(String),
}

/// The settings every test gateway starts with, before a test's own.
fn base_env(
    data_dir: &std::path::Path,
    (proxy_port, admin_port): (u16, u16),
) -> Vec<(String, String)> {
    [
        ("AI_PROXY_PROXY_ADDR", format!("127.0.0.1:{proxy_port}")),
        ("AI_PROXY_ADMIN_ADDR", format!("127.0.0.1:{admin_port}")),
        ("AI_PROXY_DATA_DIR", data_dir.display().to_string()),
        ("AI_PROXY_ADMIN_PASSWORD", ADMIN_PASSWORD.to_owned()),
        ("AI_PROXY_PROXY_THREADS", "2".to_owned()),
        ("AI_PROXY_PLUGIN_INSTANCES", "64".to_owned()),
        ("AI_PROXY_TRACE_FLUSH_MS", "20".to_owned()),
        // Background probes would add requests to the mock's count; tests of health
        // checks turn them on.
        ("AI_PROXY_HEALTH_INTERVAL_SECS", "0".to_owned()),
        // The mock upstream is on loopback, which the gateway refuses unless allow-listed.
        ("AI_PROXY_EGRESS_ALLOW", "127.0.0.0/8".to_owned()),
        ("RUST_LOG", "info,pingora=warn".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
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
        .stdout(log.try_clone().expect("log"))
        .stderr(log);
    for (k, v) in base_env(data_dir, (proxy_port, admin_port))
        .iter()
        .chain(env)
    {
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
        for _ in 1..PORT_ATTEMPTS {
            match Self::try_start(env, in_data_dir).await {
                Ok(gateway) => return gateway,
                Err(NotStarted::PortTaken) => continue,
                Err(NotStarted::Failed(log)) => panic!("gateway did not start:\n{log}"),
            }
        }
        match Self::try_start(env, in_data_dir).await {
            Ok(gateway) => gateway,
            Err(NotStarted::PortTaken) => panic!("{PORT_ATTEMPTS} port pairs were all taken"),
            Err(NotStarted::Failed(log)) => panic!("gateway did not start:\n{log}"),
        }
    }

    /// One start on fresh ports.
    async fn try_start(
        env: &[(&str, String)],
        in_data_dir: bool,
    ) -> Result<TestGateway, NotStarted> {
        let data_dir = fresh_data_dir();
        let log_path = data_dir.join("gateway.log");
        let (proxy_port, admin_port) = two_free_ports();
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
        let mut gateway = TestGateway {
            runner: Runner::Process(child),
            proxy_url: format!("{scheme}://127.0.0.1:{proxy_port}"),
            admin_url: format!("{scheme}://127.0.0.1:{admin_port}"),
            data_dir,
            log_path,
            ports: (proxy_port, admin_port),
            env,
            listeners: None,
            in_data_dir,
            starts: 1,
            http: reqwest::Client::new(),
        };
        gateway.wait_serving().await?;
        Ok(gateway)
    }

    /// Starts a gateway on SQLite in a fresh directory, served in this
    /// process on listeners bound here (see the module doc).
    pub async fn in_process() -> TestGateway {
        Self::in_process_with(&[]).await
    }

    /// Like [`TestGateway::in_process`], with extra settings (the same
    /// variables [`TestGateway::start_with`] takes). With
    /// `AI_PROXY_TEST_GATEWAY=process` in the test's environment it starts
    /// the binary instead (to compare, or to read a gateway's log).
    pub async fn in_process_with(env: &[(&str, String)]) -> TestGateway {
        if std::env::var(GATEWAY_MODE_VAR).is_ok_and(|v| v == "process") {
            return Self::start_with(env).await;
        }
        let data_dir = fresh_data_dir();
        let bind = || TcpListener::bind("127.0.0.1:0").expect("bind a test listener");
        let (proxy, admin) = (bind(), bind());
        let port = |l: &TcpListener| l.local_addr().expect("bound address").port();
        let ports = (port(&proxy), port(&admin));
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        let runner = Runner::InProcess(
            InProcess::start(base_env(&data_dir, ports), &env, (&proxy, &admin)).await,
        );
        TestGateway {
            runner,
            proxy_url: format!("http://127.0.0.1:{}", ports.0),
            admin_url: format!("http://127.0.0.1:{}", ports.1),
            log_path: data_dir.join("gateway.log"),
            data_dir,
            ports,
            env,
            listeners: Some((proxy, admin)),
            in_data_dir: false,
            starts: 0,
            http: reqwest::Client::new(),
        }
    }

    /// The process, for what only a process has (signals, exit status).
    fn child(&mut self) -> &mut Child {
        match &mut self.runner {
            Runner::Process(child) => child,
            Runner::InProcess(_) => panic!("an in-process gateway has no process"),
        }
    }

    /// Stops the gateway and starts it again on the same data directory,
    /// ports and settings (a process's log goes on in the same file).
    pub async fn restart(&mut self) {
        if let Some((proxy, admin)) = &self.listeners {
            if let Runner::InProcess(running) = &mut self.runner {
                running.stop();
            }
            let base = base_env(&self.data_dir, self.ports);
            self.runner =
                Runner::InProcess(InProcess::start(base, &self.env, (proxy, admin)).await);
            return;
        }
        let child = self.child();
        let _ = child.kill();
        let _ = child.wait();
        self.runner = Runner::Process(spawn(
            &self.data_dir,
            &self.log_path,
            self.ports,
            &self.env,
            self.in_data_dir,
            &[],
        ));
        self.starts += 1;
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
        let old = std::mem::replace(self.child(), successor);
        self.starts += 1;
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
        let Runner::Process(child) = &self.runner else {
            panic!("an in-process gateway has no process to signal");
        };
        let status = Command::new("kill")
            .args(["-s", name, &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success(), "kill -s {name} failed");
    }

    /// Waits up to `limit` for the process to exit; its status, or `None`
    /// while it still runs.
    pub async fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child().try_wait().expect("try_wait") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the process serves on its own ports; panics otherwise.
    async fn wait_ready(&mut self) {
        match self.wait_serving().await {
            Ok(()) => {}
            Err(NotStarted::PortTaken) => panic!("its ports were taken:\n{}", self.log()),
            Err(NotStarted::Failed(log)) => panic!("gateway did not start:\n{log}"),
        }
    }

    /// Waits until the process has logged that it holds its ports (once per
    /// start) and both answer, or until it exits.
    async fn wait_serving(&mut self) -> Result<(), NotStarted> {
        let deadline = Instant::now() + START_TIMEOUT;
        let address = |url: &str| url.split_once("://").map_or(url, |(_, a)| a).to_owned();
        loop {
            if self.child().try_wait().expect("try_wait").is_some() {
                let log = self.log();
                return Err(if log.contains("Address already in use") {
                    NotStarted::PortTaken
                } else {
                    NotStarted::Failed(log)
                });
            }
            if self.log().matches(SERVING_LINE).count() < self.starts {
                assert!(
                    Instant::now() < deadline,
                    "gateway did not start:\n{}",
                    self.log()
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
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
                return Ok(());
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
                "/api/upstream-keys",
                Some(json!({"provider_id": id, "name": format!("{name}-upstream"), "secret": secret})),
            )
            .await;
        let client = self
            .admin_ok(
                reqwest::Method::POST,
                "/api/client-keys",
                Some(json!({"name": format!("{name}-client"), "provider_id": id, "upstream_key_ids": [key["id"]]})),
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
        match &mut self.runner {
            Runner::Process(child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
            Runner::InProcess(running) => running.stop(),
        }
        if std::thread::panicking() {
            eprintln!("---- gateway log ----\n{}", self.log());
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}
