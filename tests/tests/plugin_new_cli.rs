//! `ai-proxy plugin new`, as a plugin author meets it: the walkthrough of
//! `sdk/README.md` (generate, unit-test, build for `wasm32-wasip2`,
//! `plugin check` with the generated samples, upload, create a provider
//! and keys, call it through the proxy) is extracted from the README and
//! run command by command against a real gateway and the mock upstream;
//! then one expectation is changed and the check must fail naming the
//! field. The other templates (Anthropic-like, Gemini-like, JavaScript)
//! must build and pass their own samples as generated.
//!
//! Plugin builds share `<target>/wasm-plugins` with `tests/build.rs`
//! (`CARGO_TARGET_DIR`), so the SDK and its dependencies compile once and
//! only the generated crate is rebuilt on later runs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ai_proxy_tests::gateway::{ADMIN_PASSWORD, TestGateway, gateway_binary};
use ai_proxy_tests::mock::MockUpstream;

/// Marks the README's walkthrough: every `sh` block between them is run.
const WALKTHROUGH_START: &str = "<!-- walkthrough: run by tests/tests/plugin_new_cli.rs -->";
const WALKTHROUGH_END: &str = "<!-- /walkthrough -->";
/// The upstream key the walkthrough registers (the mock accepts any).
const UPSTREAM_SECRET: &str = "sk-acme-upstream-walkthrough";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// `<target>`, from `<target>/<profile>/deps/<this test>`.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().to_owned()
}

/// A fresh folder under `<target>/plugin-new`, and a `bin/` in it holding
/// `ai-proxy` (the binary under test) for the commands' `PATH`.
fn workspace(name: &str) -> (PathBuf, PathBuf) {
    let dir = target_dir().join("plugin-new").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(gateway_binary(), bin.join("ai-proxy")).unwrap();
    (dir, bin)
}

/// Runs `script` in bash (`-euo pipefail`, echoing each command) in `dir`.
fn bash(dir: &Path, bin: &Path, env: &[(&str, String)], script: &str) -> Output {
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("bash");
    cmd.args(["-euxo", "pipefail", "-c", script])
        .current_dir(dir)
        .env("PATH", path)
        .env(
            "CARGO_TARGET_DIR",
            target_dir().join("wasm-plugins").display().to_string(),
        );
    // The outer cargo's settings are for this test binary, not the plugin.
    for (key, _) in std::env::vars() {
        let keep = matches!(
            key.as_str(),
            "CARGO_HOME" | "CARGO_TARGET_DIR" | "CARGO_NET_OFFLINE"
        );
        if key.starts_with("CARGO_") && !keep {
            cmd.env_remove(key);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// The commands of the README's walkthrough, in order.
fn walkthrough() -> String {
    let readme = std::fs::read_to_string(repo_root().join("sdk/README.md")).unwrap();
    let start = readme.find(WALKTHROUGH_START).expect("walkthrough start");
    let end = readme.find(WALKTHROUGH_END).expect("walkthrough end");
    let mut script = String::new();
    let mut in_block = false;
    for line in readme[start..end].lines() {
        match line.trim() {
            "```sh" => in_block = true,
            "```" => in_block = false,
            _ if in_block => {
                script.push_str(line);
                script.push('\n');
            }
            _ => {}
        }
    }
    assert!(script.contains("plugin new"), "{script}");
    script
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_walkthrough_takes_a_new_plugin_to_a_serving_provider() {
    let upstream = MockUpstream::start().await;
    let gw = TestGateway::start().await;
    let (dir, bin) = workspace("walkthrough");
    let env = vec![
        ("ADMIN", gw.admin_url.clone()),
        ("PROXY", gw.proxy_url.clone()),
        ("UPSTREAM", upstream.base_url()),
        ("AI_PROXY_ADMIN_PASSWORD", ADMIN_PASSWORD.to_owned()),
        ("ACME_API_KEY", UPSTREAM_SECRET.to_owned()),
    ];
    let script = walkthrough();
    let (run_dir, run_bin) = (dir.clone(), bin.clone());
    let out = tokio::task::spawn_blocking(move || bash(&run_dir, &run_bin, &env, &script))
        .await
        .unwrap();
    let log = text(&out);
    assert!(
        out.status.success(),
        "walkthrough failed:\n{log}\n{}",
        gw.log()
    );
    for expected in [
        "test result: ok",
        "expect          met",
        "terminal event  after byte",
        "probe prepared  GET /v1/models, credential in header authorization",
        "all 3 samples ran without a difference",
        "\"object\":\"chat.completion\"",
    ] {
        assert!(log.contains(expected), "missing {expected:?} in:\n{log}");
    }
    // The provider served: the upstream got the real key where the plugin put it.
    let seen = upstream.requests();
    let chat = seen
        .iter()
        .find(|r| r.path_and_query == "/v1/chat/completions")
        .expect("the upstream saw the chat request");
    assert!(
        chat.headers
            .iter()
            .any(|(n, v)| n == "authorization" && v == &format!("Bearer {UPSTREAM_SECRET}")),
        "{:?}",
        chat.headers
    );
    let trace = &gw.traces(1).await[0];
    assert!(
        trace.to_string().contains("acme"),
        "the trace names the provider: {trace}"
    );

    // One expectation changed: the check fails and names the field.
    let case = dir.join("acme/samples/chat.json");
    let original = std::fs::read_to_string(&case).unwrap();
    let changed = original.replace(r#""output_tokens": 9,"#, r#""output_tokens": 10,"#);
    assert_ne!(original, changed, "the sample states output_tokens 9");
    std::fs::write(&case, changed).unwrap();
    let check = "ai-proxy plugin check ${CARGO_TARGET_DIR}/wasm32-wasip2/wasm-plugin/plugin_acme.wasm --samples samples";
    let (run_dir, run_bin) = (dir.join("acme"), bin.clone());
    let out = tokio::task::spawn_blocking(move || bash(&run_dir, &run_bin, &[], check))
        .await
        .unwrap();
    let log = text(&out);
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(
        log.contains("DIFFERS         usage.output_tokens: expected 10, got 9"),
        "{log}"
    );
    assert!(log.contains("FAILED: 1 problem(s)"), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Generates `name` with `flags`, runs its unit tests, builds it and
/// checks it against its own samples.
fn generated_rust_plugin_passes(name: &str, flags: &str) {
    let (dir, bin) = workspace(name);
    let script = format!(
        "ai-proxy plugin new {name} {flags}\ncd {name}\ncargo test --quiet\n\
         cargo build --quiet --profile wasm-plugin --target wasm32-wasip2\n\
         ai-proxy plugin check $CARGO_TARGET_DIR/wasm32-wasip2/wasm-plugin/plugin_{file}.wasm --samples samples\n",
        file = name.replace('-', "_")
    );
    let out = bash(&dir, &bin, &[], &script);
    let log = text(&out);
    assert!(out.status.success(), "{name}:\n{log}");
    assert!(
        log.contains("all 3 samples ran without a difference"),
        "{log}"
    );
    assert_eq!(log.matches("expect          met").count(), 3, "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_anthropic_and_gemini_templates_pass_their_own_samples() {
    generated_rust_plugin_passes("claudish", "--like anthropic");
    generated_rust_plugin_passes("geminish", "--like gemini");
}

#[test]
fn javascript_plugins_are_generated_built_and_checked() {
    let (dir, bin) = workspace("js");
    for like in ["openai", "anthropic", "gemini"] {
        let name = format!("js{like}");
        let script = format!(
            "ai-proxy plugin new {name} --lang js --like {like}\ncd {name}\n\
             npm install --no-audit --no-fund --loglevel=error\nnpm test\nnpm run build\n\
             ai-proxy plugin check dist/{name}.wasm --samples samples\n"
        );
        let out = bash(&dir, &bin, &[], &script);
        let log = text(&out);
        assert!(out.status.success(), "{like}: {log}");
        assert!(
            log.contains("all 3 samples ran without a difference"),
            "{log}"
        );
        assert_eq!(log.matches("expect          met").count(), 3, "{log}");
        // No stream-control in the JavaScript world: said, not failed.
        assert!(log.contains("terminal event  not exported"), "{log}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn new_refuses_a_bad_name_and_an_existing_project() {
    let (dir, bin) = workspace("refusals");
    let out = bash(
        &dir,
        &bin,
        &[],
        "ai-proxy plugin new ../evil || echo exit=$?",
    );
    assert!(text(&out).contains("exit=2"), "{}", text(&out));
    assert!(
        text(&out).contains("plugin name \"../evil\""),
        "{}",
        text(&out)
    );
    let out = bash(
        &dir,
        &bin,
        &[],
        "ai-proxy plugin new twice >/dev/null\nai-proxy plugin new twice || echo exit=$?",
    );
    assert!(
        text(&out).contains("exists and is not empty"),
        "{}",
        text(&out)
    );
    let out = bash(&dir, &bin, &[], "ai-proxy plugin check --help");
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("Samples and expectations"),
        "{}",
        text(&out)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
