//! Podman for the deployment tests (issue 16): the gateway image built by
//! `deploy/image.sh` from the binary under test, containers and pods on the
//! host network (the gateway listens on loopback only), removed when their
//! handles drop. Skipped with a printed reason where podman cannot run,
//! unless `AI_PROXY_REQUIRE_SERVICES=1`.

#![allow(clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::gateway::{ADMIN_PASSWORD, gateway_binary};

/// Tag prefix of the images this suite builds; the rest is the test
/// process id, so runs side by side never share (or delete) an image.
const IMAGE_PREFIX: &str = "localhost/ai-proxy:e2e-";
/// How long a containerised gateway may take to answer.
const START_TIMEOUT: Duration = Duration::from_secs(90);

/// The repository's root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repository root")
        .to_owned()
}

/// The project's podman settings (runc, cgroupfs, file limits).
pub fn containers_conf() -> PathBuf {
    repo_root().join("deploy/podman/containers.conf")
}

/// `program args…` with the project's podman settings; its output.
pub fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .env("CONTAINERS_CONF", containers_conf())
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"))
}

/// `run` that must succeed; its standard output.
pub fn run_ok(program: &str, args: &[&str]) -> String {
    let out = run(program, args);
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether `program` (with `args`, e.g. `--version`) runs here; when not,
/// prints why the test is skipped (or fails under AI_PROXY_REQUIRE_SERVICES=1).
pub fn usable(test: &str, program: &str, args: &[&str]) -> bool {
    match unusable(program, args) {
        None => true,
        Some(reason) => {
            assert!(
                std::env::var("AI_PROXY_REQUIRE_SERVICES").as_deref() != Ok("1"),
                "{test}: required (AI_PROXY_REQUIRE_SERVICES=1) but {reason}"
            );
            eprintln!("SKIPPED {test}: {reason}");
            false
        }
    }
}

/// Like [`usable`] for a tool no Debian package provides (`kubectl`): its
/// absence skips the test with a printed reason even when services are
/// required.
pub fn present(test: &str, program: &str, args: &[&str]) -> bool {
    match unusable(program, args) {
        None => true,
        Some(reason) => {
            eprintln!("SKIPPED {test}: {reason}");
            false
        }
    }
}

/// Why `program args…` cannot run here, if it cannot.
fn unusable(program: &str, args: &[&str]) -> Option<String> {
    let reason = match Command::new(program)
        .args(args)
        .env("CONTAINERS_CONF", containers_conf())
        .output()
    {
        Ok(out) if out.status.success() => return None,
        Ok(out) => format!(
            "`{program} {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) => format!("{program} is not installed ({e})"),
    };
    Some(reason)
}

/// The gateway image of this test process, built on first use.
pub struct Image {
    pub tag: String,
    pub bytes: u64,
}

/// Builds the image once per test process (after deleting images left by
/// runs that are gone).
pub fn image() -> &'static Image {
    static IMAGE: OnceLock<Image> = OnceLock::new();
    IMAGE.get_or_init(|| {
        remove_stale_images();
        let tag = format!("{IMAGE_PREFIX}{}", std::process::id());
        let binary = gateway_binary();
        let script = repo_root().join("deploy/image.sh");
        let said = run_ok(
            script.to_str().expect("path"),
            &[binary.to_str().expect("path"), &tag],
        );
        eprintln!("{}", said.trim());
        let bytes = run_ok(
            "podman",
            &["image", "inspect", "--format", "{{.Size}}", &tag],
        )
        .trim()
        .parse()
        .expect("size");
        Image { tag, bytes }
    })
}

/// Images of earlier runs whose process is gone (a run cannot delete its
/// own image at exit: the handle is static).
fn remove_stale_images() {
    let list = run_ok(
        "podman",
        &["images", "--format", "{{.Repository}}:{{.Tag}}"],
    );
    for name in list.lines() {
        let Some(pid) = name.strip_prefix(IMAGE_PREFIX) else {
            continue;
        };
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = run("podman", &["rmi", "--force", name]);
        }
    }
}

/// Something podman runs, removed on drop by `cleanup` (`podman …` args).
pub struct Running {
    pub name: String,
    cleanup: Vec<Vec<String>>,
}

impl Running {
    pub fn new(name: &str, cleanup: Vec<Vec<String>>) -> Running {
        Running {
            name: name.to_owned(),
            cleanup,
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        for args in &self.cleanup {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let _ = run(args[0], &args[1..]);
        }
    }
}

/// Waits until `GET {admin_url}/api/ready` answers 200; `logs` says why not.
pub async fn wait_ready(admin_url: &str, logs: impl Fn() -> String) {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        let ok = reqwest::get(format!("{admin_url}/api/ready"))
            .await
            .is_ok_and(|r| r.status() == 200);
        if ok {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the gateway at {admin_url} did not become ready:\n{}",
            logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Admin call with the test password; the JSON answer (must succeed).
pub async fn admin(admin_url: &str, method: reqwest::Method, path: &str, body: Value) -> Value {
    let mut req = reqwest::Client::new()
        .request(method.clone(), format!("{admin_url}{path}"))
        .basic_auth("admin", Some(ADMIN_PASSWORD));
    if !body.is_null() {
        req = req.json(&body);
    }
    let resp = req.send().await.expect("admin call");
    let status = resp.status();
    let value: Value = resp.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{method} {path} -> {status}: {value}");
    value
}

/// How long the trace writer may take to store a request's trace (it
/// writes in the background, a batch at a time).
const TRACES_WITHIN: Duration = Duration::from_secs(10);

/// The request log's first page once it counts `count` traces (the writer
/// stores them in the background, so right after the requests it may not
/// have yet); the last page read when [`TRACES_WITHIN`] ran out first.
pub async fn traces_once_written(admin_url: &str, count: u64) -> Value {
    let deadline = Instant::now() + TRACES_WITHIN;
    loop {
        let page = admin(
            admin_url,
            reqwest::Method::GET,
            "/api/logs/traces",
            Value::Null,
        )
        .await;
        if page["total"].as_u64() >= Some(count) || Instant::now() >= deadline {
            return page;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Points OpenAI at `base_url` with one upstream key; a client key for it.
pub async fn openai_client_key(admin_url: &str, base_url: &str) -> String {
    use reqwest::Method;
    let providers = admin(admin_url, Method::GET, "/api/providers", Value::Null).await;
    let id = providers
        .as_array()
        .and_then(|l| l.iter().find(|p| p["name"] == "openai"))
        .map(|p| p["id"].clone())
        .expect("openai provider");
    let path = format!("/api/providers/{id}");
    admin(admin_url, Method::PUT, &path, json!({"base_url": base_url})).await;
    let key = admin(
        admin_url,
        Method::POST,
        "/api/upstream-keys",
        json!({"provider_id": id, "name": "upstream", "secret": "sk-upstream"}),
    )
    .await;
    let client = admin(
        admin_url,
        Method::POST,
        "/api/client-keys",
        json!({"name": "client", "provider_id": id, "upstream_key_ids": [key["id"]]}),
    )
    .await;
    client["key"].as_str().expect("client key").to_owned()
}

/// A streamed chat completion shaped as the OpenAI SDK sends it; the body.
pub async fn sdk_shaped_stream(proxy_url: &str, key: &str) -> String {
    let resp = reqwest::Client::new()
        .post(format!("{proxy_url}/v1/chat/completions"))
        .bearer_auth(key)
        .header("user-agent", "OpenAI/Python 1.0 (deploy e2e)")
        .header("x-stainless-lang", "python")
        .json(&json!({
            "model": "gpt-4o-mini",
            "stream": true,
            "stream_options": {"include_usage": true},
            "messages": [{"role": "user", "content": "hi"}],
        }))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 200);
    resp.text().await.expect("body")
}
