//! The admin API against its own OpenAPI document, on the real gateway:
//! the document is served without authentication, every documented
//! operation is routed (and nothing else on those paths), and schemathesis
//! (`tests/schemathesis/run.sh`) feeds every operation generated valid and
//! invalid requests, failing on any 5xx or on an answer the document does
//! not describe.
//!
//! The virtualenv is created on first use; when it cannot be, the test is
//! skipped with a printed reason, unless `AI_PROXY_REQUIRE_SERVICES=1`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Instant;

use ai_proxy_tests::gateway::{ADMIN_PASSWORD, TestGateway};
use reqwest::Method;
use serde_json::{Value, json};

/// Seed of every schemathesis run, so CI sees the same requests each time.
const SEED: &str = "20261126";
/// Generated test cases per operation and phase.
const MAX_EXAMPLES: &str = "25";
/// Checks applied to every answer.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance";
/// Operations that authenticate with a password: fuzzed last, because their
/// failures lock the client address out of password checks for a while.
const PASSWORD_OPERATIONS: [&str; 2] = ["/api/auth/login", "/api/auth/password"];
/// `run.sh`'s exit status when the virtualenv cannot be created.
const SETUP_FAILED: i32 = 3;

fn run_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemathesis/run.sh")
}

fn required() -> bool {
    std::env::var("AI_PROXY_REQUIRE_SERVICES").as_deref() == Ok("1")
}

async fn run(args: Vec<String>, env: Vec<(&'static str, String)>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(run_script())
            .args(args)
            .envs(env)
            .output()
            .expect("run tests/schemathesis/run.sh")
    })
    .await
    .expect("join")
}

fn show(output: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

async fn document(gw: &TestGateway) -> Value {
    let resp = reqwest::get(format!("{}/api/openapi.json", gw.admin_url))
        .await
        .expect("openapi.json");
    assert_eq!(resp.status(), 200, "served without credentials");
    assert_eq!(
        resp.headers()["content-type"],
        "application/json",
        "content type"
    );
    resp.json().await.expect("JSON document")
}

#[tokio::test]
async fn openapi_document_is_public_and_matches_the_routes() {
    let gw = TestGateway::start().await;
    let doc = document(&gw).await;
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1"))
    );
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 25, "only {} paths", paths.len());

    // Every documented method is routed and every other one is 405, on
    // ids that do not exist (so nothing is changed).
    for (path, item) in paths {
        let concrete = path.replace("{id}", "999999");
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::PATCH,
        ] {
            let documented = item.get(method.as_str().to_lowercase()).is_some();
            let (status, body) = gw.admin(method.clone(), &concrete, None).await;
            if documented {
                assert!(
                    status != 405 && body["error"]["message"] != "route not found",
                    "{method} {path} is documented but not routed: {status} {body}"
                );
            } else {
                assert_eq!(status, 405, "{method} {path} is routed but not documented");
            }
        }
    }
}

/// What fuzzing found, each once: these used to be a 500, a dropped
/// connection (an overflow panic) or a plain-text 400.
#[tokio::test]
async fn fuzzing_findings_are_json_client_errors() {
    let gw = TestGateway::start().await;
    let error = |status: u16, body: &Value| (status, body["error"]["code"].clone());

    let bob = gw
        .admin_ok(
            Method::POST,
            "/api/users",
            Some(json!({"username": "bob", "password": "bob-password"})),
        )
        .await;
    gw.admin_ok(
        Method::POST,
        "/api/users",
        Some(json!({"username": "carol", "password": "carol-password"})),
    )
    .await;
    let (status, body) = gw
        .admin(
            Method::PUT,
            &format!("/api/users/{}", bob["id"]),
            Some(json!({"username": "carol"})),
        )
        .await;
    assert_eq!(error(status, &body), (409, json!("conflict")), "{body}");

    let openai = gw.provider_id("openai").await;
    let (status, body) = gw
        .admin(
            Method::PUT,
            &format!("/api/providers/{openai}"),
            Some(json!({"name": "anthropic"})),
        )
        .await;
    assert_eq!(error(status, &body), (409, json!("conflict")), "{body}");
    // Keeping its own name is no conflict.
    gw.admin_ok(
        Method::PUT,
        &format!("/api/providers/{openai}"),
        Some(json!({"name": "openai"})),
    )
    .await;

    for path in [
        "/api/providers/abc",
        "/api/providers/99999999999",
        "/api/stats/overview?days=x",
        "/api/logs/traces?page=18446744073709551615",
        "/api/logs/traces?page=1000001",
        "/api/audit?page=18446744073709551615",
    ] {
        let (status, body) = gw.admin(Method::GET, path, None).await;
        assert_eq!(
            error(status, &body),
            (400, json!("bad_request")),
            "{path}: {body}"
        );
    }
    let (status, _) = gw
        .admin(Method::GET, "/api/logs/traces?page=1000000", None)
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn schemathesis_finds_no_server_errors_and_no_undocumented_answers() {
    let setup = run(vec!["--setup-only".into()], vec![]).await;
    if setup.status.code() == Some(SETUP_FAILED) && !required() {
        eprintln!(
            "SKIPPED schemathesis: no virtualenv could be created\n{}",
            show(&setup)
        );
        return;
    }
    assert!(
        setup.status.success(),
        "setting up schemathesis failed:\n{}",
        show(&setup)
    );

    let gw = TestGateway::start().await;
    let me = gw.admin_ok(Method::GET, "/api/auth/me", None).await;
    let env = vec![
        ("AI_PROXY_ADMIN_URL", gw.admin_url.clone()),
        ("AI_PROXY_ADMIN_AUTH", format!("admin:{ADMIN_PASSWORD}")),
        ("AI_PROXY_FUZZ_USER_ID", me["id"].to_string()),
    ];
    let common = [
        "--checks",
        CHECKS,
        "--max-examples",
        MAX_EXAMPLES,
        "--seed",
        SEED,
        "--workers",
        "1",
        "--request-timeout",
        "10",
    ];
    let mut everything_else: Vec<String> = common.iter().map(|s| (*s).to_owned()).collect();
    let mut password_ones = everything_else.clone();
    for path in PASSWORD_OPERATIONS {
        everything_else.extend(["--exclude-path".to_owned(), path.to_owned()]);
        password_ones.extend(["--include-path".to_owned(), path.to_owned()]);
    }

    let started = Instant::now();
    let output = run(everything_else, env.clone()).await;
    println!("{}", show(&output));
    assert!(
        output.status.success(),
        "schemathesis failed:\n{}",
        show(&output)
    );
    // The run must not have locked itself out part way.
    let (status, body) = gw.admin(Method::GET, "/api/auth/me", None).await;
    assert_eq!(status, 200, "the fuzzing account lost access: {body}");

    let output = run(password_ones, env).await;
    println!("{}", show(&output));
    assert!(
        output.status.success(),
        "schemathesis failed:\n{}",
        show(&output)
    );
    println!("schemathesis took {:?}", started.elapsed());

    let log = gw.log();
    assert!(!log.contains("panicked"), "the gateway panicked:\n{log}");
    assert!(
        !log.contains("admin request failed"),
        "an internal error was logged:\n{log}"
    );
}
