//! Deployment (issue 16, items 2 and 3): the image built from the gateway
//! binary under test runs as a non-root user with nothing else inside and
//! serves an official-SDK request; the Kubernetes manifests render with
//! `kubectl kustomize` and the rendered pod runs under `podman kube play`;
//! the compose file runs two replicas on the machine's PostgreSQL and Redis.
//! Each test is skipped with a printed reason where its tool cannot run,
//! unless `AI_PROXY_REQUIRE_SERVICES=1`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;
use std::time::{Duration, Instant};

use ai_proxy_tests::gateway::{ADMIN_PASSWORD, free_port, two_free_ports};
use ai_proxy_tests::mock::{COMPLETION_TOKENS, MockUpstream};
use ai_proxy_tests::podman::{
    Running, image, openai_client_key, present, repo_root, run, run_ok, sdk_shaped_stream, usable,
    wait_ready,
};
use ai_proxy_tests::postgres::TempDatabase;

/// A master key for the containerised gateways (base64 of 32 bytes).
const MASTER_KEY: &str = "ZGVwbG95LWUyZS1tYXN0ZXIta2V5LTMyLWJ5dGVzISE=";

fn podman_usable(test: &str) -> bool {
    usable(
        test,
        "podman",
        &["info", "--format", "{{.Host.OCIRuntime.Name}}"],
    )
}

fn logs(name: &str) -> String {
    let out = run("podman", &["logs", name]);
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test]
async fn the_image_serves_an_sdk_request_as_a_non_root_user_and_stops_cleanly() {
    if !podman_usable("the_image_serves_an_sdk_request") {
        return;
    }
    let mock = MockUpstream::start().await;
    let image = tokio::task::spawn_blocking(image).await.unwrap();
    eprintln!("image {}: {} MiB", image.tag, image.bytes >> 20);
    let (proxy, admin) = two_free_ports();
    let name = format!("aip-e2e-{}-image", std::process::id());
    let env = [
        format!("AI_PROXY_PROXY_ADDR=127.0.0.1:{proxy}"),
        format!("AI_PROXY_ADMIN_ADDR=127.0.0.1:{admin}"),
        format!("AI_PROXY_ADMIN_PASSWORD={ADMIN_PASSWORD}"),
        "AI_PROXY_EGRESS_ALLOW=127.0.0.0/8".to_owned(),
        "AI_PROXY_HEALTH_INTERVAL_SECS=0".to_owned(),
    ];
    let mut args = vec!["run", "-d", "--name", name.as_str(), "--network", "host"];
    for e in &env {
        args.extend(["-e", e.as_str()]);
    }
    args.push(&image.tag);
    run_ok("podman", &args);
    let _container = Running::new(
        &name,
        vec![vec![
            "podman".into(),
            "rm".into(),
            "--force".into(),
            "--volumes".into(),
            name.clone(),
        ]],
    );
    let admin_url = format!("http://127.0.0.1:{admin}");
    let proxy_url = format!("http://127.0.0.1:{proxy}");
    wait_ready(&admin_url, || logs(&name)).await;

    // The process runs as the image's user, not root.
    let pid = run_ok("podman", &["inspect", "--format", "{{.State.Pid}}", &name]);
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid.trim())).unwrap();
    let uid = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    assert!(
        uid.split_whitespace().skip(1).all(|u| u == "10001"),
        "{uid}"
    );
    // Nothing to run but the gateway: there is no shell in the image.
    let shell = run(
        "podman",
        &[
            "run",
            "--rm",
            "--network",
            "host",
            "--entrypoint",
            "/bin/sh",
            &image.tag,
            "-c",
            "true",
        ],
    );
    assert!(!shell.status.success(), "the image has a shell");

    let key = openai_client_key(&admin_url, &mock.base_url()).await;
    let base_url = proxy_url.clone();
    let sdk = tokio::task::spawn_blocking(move || {
        Command::new(repo_root().join("tests/python/run.sh"))
            .args([
                "-q",
                "-k",
                "test_openai_chat_completion_returns_text_and_usage or test_openai_chat_stream_with_include_usage",
            ])
            .env("AI_PROXY_BASE_URL", base_url)
            .env("AI_PROXY_OPENAI_KEY", key)
            .output()
            .expect("tests/python/run.sh")
    })
    .await
    .unwrap();
    let said = String::from_utf8_lossy(&sdk.stdout);
    assert!(
        sdk.status.success(),
        "{said}\n{}",
        String::from_utf8_lossy(&sdk.stderr)
    );
    assert!(said.contains("2 passed"), "{said}");
    let traces = ai_proxy_tests::podman::traces_once_written(&admin_url, 2).await;
    assert_eq!(traces["total"], 2, "{traces}");

    // SIGTERM with nothing open: the container exits 0 at once.
    let stopping = Instant::now();
    run_ok("podman", &["stop", "--time", "60", &name]);
    assert!(
        stopping.elapsed() < Duration::from_secs(20),
        "{:?}",
        stopping.elapsed()
    );
    let code = run_ok(
        "podman",
        &["inspect", "--format", "{{.State.ExitCode}}", &name],
    );
    assert_eq!(code.trim(), "0", "{}", logs(&name));
}

/// A kustomize overlay of the repository's manifests for one pod on the
/// host network, on loopback ports, without the Secret (podman 4.3's
/// `kube play` cannot read a Secret back; containers/podman#17071), whose
/// values it sets as plain environment instead, and without the container
/// ports (podman maps them, which host networking forbids).
fn podman_overlay(dir: &std::path::Path, image: &str, ports: (u16, u16), suffix: &str) {
    let (repo, tag) = image.rsplit_once(':').unwrap();
    // Kustomize takes bases by relative path only.
    let up = "../".repeat(dir.components().count().saturating_sub(1));
    let base = format!(
        "{up}{}",
        repo_root()
            .join("deploy/kubernetes")
            .display()
            .to_string()
            .trim_start_matches('/')
    );
    let kustomization = format!(
        r#"apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - {base}
nameSuffix: "-{suffix}"
images:
  - name: localhost/ai-proxy
    newName: {repo}
    newTag: "{tag}"
replicas:
  - name: ai-proxy
    count: 1
patches:
  - patch: |-
      $patch: delete
      apiVersion: v1
      kind: Secret
      metadata:
        name: ai-proxy-secrets
  - target:
      kind: Deployment
      name: ai-proxy
    patch: |-
      - op: remove
        path: /spec/template/spec/containers/0/envFrom
      - op: remove
        path: /spec/template/spec/containers/0/ports
  - patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: ai-proxy
      spec:
        template:
          spec:
            hostNetwork: true
            containers:
              - name: ai-proxy
                env:
                  - name: AI_PROXY_PROXY_ADDR
                    value: "127.0.0.1:{proxy}"
                  - name: AI_PROXY_ADMIN_ADDR
                    value: "127.0.0.1:{admin}"
                  - name: AI_PROXY_SHUTDOWN_DELAY_SECS
                    value: "0"
                  - name: AI_PROXY_MASTER_KEY
                    value: "{MASTER_KEY}"
                  - name: AI_PROXY_ADMIN_PASSWORD
                    value: "{ADMIN_PASSWORD}"
                  - name: AI_PROXY_EGRESS_ALLOW
                    value: "127.0.0.0/8"
                  - name: AI_PROXY_HEALTH_INTERVAL_SECS
                    value: "0"
"#,
        proxy = ports.0,
        admin = ports.1,
    );
    std::fs::write(dir.join("kustomization.yaml"), kustomization).unwrap();
}

#[tokio::test]
async fn the_kubernetes_manifests_render_and_their_pod_runs_under_podman_kube_play() {
    let test = "the_kubernetes_manifests_render";
    if !present(test, "kubectl", &["version", "--client"]) || !podman_usable(test) {
        return;
    }
    let base = run_ok(
        "kubectl",
        &[
            "kustomize",
            repo_root().join("deploy/kubernetes").to_str().unwrap(),
        ],
    );
    for needed in [
        "kind: Deployment",
        "kind: PodDisruptionBudget",
        "kind: Secret",
        "name: ai-proxy-admin",
        "type: ExternalName",
        "path: /api/ready",
        "path: /api/health",
        "replicas: 3",
        "runAsNonRoot: true",
        "memory: 256Mi",
        "terminationGracePeriodSeconds: 330",
    ] {
        assert!(
            base.contains(needed),
            "rendered manifests lack {needed:?}:\n{base}"
        );
    }

    let mock = MockUpstream::start().await;
    let image = tokio::task::spawn_blocking(image).await.unwrap();
    let dir = std::env::temp_dir().join(format!("aip-kube-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ports = two_free_ports();
    let suffix = format!("e2e{}", std::process::id());
    podman_overlay(&dir, &image.tag, ports, &suffix);
    let rendered = run_ok("kubectl", &["kustomize", dir.to_str().unwrap()]);
    let file = dir.join("rendered.yaml");
    std::fs::write(&file, &rendered).unwrap();
    let file_arg = file.to_str().unwrap().to_owned();
    let pod = format!("ai-proxy-{suffix}-pod-0");
    let _pod = Running::new(
        &pod,
        vec![
            vec![
                "podman".into(),
                "kube".into(),
                "down".into(),
                file_arg.clone(),
            ],
            vec![
                "podman".into(),
                "pod".into(),
                "rm".into(),
                "--force".into(),
                pod.clone(),
            ],
            vec!["rm".into(), "-rf".into(), dir.display().to_string()],
        ],
    );
    run_ok("podman", &["kube", "play", &file_arg]);
    let container = format!("{pod}-ai-proxy");
    let admin_url = format!("http://127.0.0.1:{}", ports.1);
    wait_ready(&admin_url, || logs(&container)).await;

    let key = openai_client_key(&admin_url, &mock.base_url()).await;
    let body = sdk_shaped_stream(&format!("http://127.0.0.1:{}", ports.0), &key).await;
    assert!(
        body.contains(&format!("\"completion_tokens\":{COMPLETION_TOKENS}")),
        "{body}"
    );
    assert!(body.trim_end().ends_with("data: [DONE]"), "{body}");
}

/// `deploy/compose.sh -p PROJECT ARGS…` with this run's settings.
fn compose(project: &str, env: &[(&str, String)], args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(repo_root().join("deploy/compose.sh"));
    cmd.args(["-p", project]).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("deploy/compose.sh")
}

#[tokio::test]
async fn compose_runs_two_replicas_that_share_postgres_and_redis() {
    let test = "compose_runs_two_replicas";
    if !usable(test, "python3", &["-m", "venv", "--help"]) || !podman_usable(test) {
        return;
    }
    let Some(db) = TempDatabase::create(test).await else {
        return;
    };
    let Some((redis_url, prefix)) = ai_proxy_tests::redis::shared(test) else {
        db.drop_database().await;
        return;
    };
    let mock = MockUpstream::start().await;
    let image = tokio::task::spawn_blocking(image).await.unwrap();
    let ports = [free_port(), free_port(), free_port(), free_port()];
    let project = format!("aip-e2e-{}", std::process::id());
    let env = vec![
        ("AI_PROXY_IMAGE", image.tag.clone()),
        ("AI_PROXY_A_PROXY_PORT", ports[0].to_string()),
        ("AI_PROXY_A_ADMIN_PORT", ports[1].to_string()),
        ("AI_PROXY_B_PROXY_PORT", ports[2].to_string()),
        ("AI_PROXY_B_ADMIN_PORT", ports[3].to_string()),
        ("DATABASE_URL", db.url.clone()),
        ("REDIS_URL", redis_url),
        ("AI_PROXY_REDIS_PREFIX", prefix.clone()),
        ("AI_PROXY_MASTER_KEY", MASTER_KEY.to_owned()),
        ("AI_PROXY_ADMIN_PASSWORD", ADMIN_PASSWORD.to_owned()),
        ("AI_PROXY_EGRESS_ALLOW", "127.0.0.0/8".to_owned()),
        ("AI_PROXY_SHUTDOWN_GRACE_SECS", "10".to_owned()),
    ];
    let up = compose(&project, &env, &["up", "-d"]);
    let _stack = Running::new(
        &project,
        vec![
            vec![
                repo_root().join("deploy/compose.sh").display().to_string(),
                "-p".into(),
                project.clone(),
                "down".into(),
                "-v".into(),
            ],
            // Without this run's variables `down` cannot read the file.
            vec![
                "podman".into(),
                "rm".into(),
                "--force".into(),
                format!("{project}_gateway-a_1"),
                format!("{project}_gateway-b_1"),
            ],
            vec![
                "podman".into(),
                "volume".into(),
                "rm".into(),
                "--force".into(),
                format!("{project}_ai-proxy-data-a"),
                format!("{project}_ai-proxy-data-b"),
            ],
        ],
    );
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    let container = |name: &str| format!("{project}_{name}_1");
    let (a_admin, b_admin) = (
        format!("http://127.0.0.1:{}", ports[1]),
        format!("http://127.0.0.1:{}", ports[3]),
    );
    wait_ready(&a_admin, || logs(&container("gateway-a"))).await;
    wait_ready(&b_admin, || logs(&container("gateway-b"))).await;

    // A key made on replica a works on replica b: both read one database.
    let key = openai_client_key(&a_admin, &mock.base_url()).await;
    let b_proxy = format!("http://127.0.0.1:{}", ports[2]);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let resp = reqwest::Client::new()
            .post(format!("{b_proxy}/v1/chat/completions"))
            .bearer_auth(&key)
            .json(&serde_json::json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .unwrap();
        if resp.status() == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "replica b never took a's key: {}",
            resp.status()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let down = compose(&project, &env, &["down", "-v"]);
    assert!(
        down.status.success(),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
    ai_proxy_tests::redis::delete_prefix(&prefix);
    db.drop_database().await;
}
