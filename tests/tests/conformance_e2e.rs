//! Conformance vectors (issue 15): every plugin this repository ships
//! meets its `plugins/*/vectors` (Rust, JavaScript and the fixtures that
//! claim a built-in's name), with every stream fed whole, split at every
//! byte, one byte at a time, at random cuts, and through `stream-state`;
//! a plugin that drops `cache_read_input_tokens` fails them, naming the
//! field; and at upload through the admin API such a version is refused
//! (nothing stored) unless forced, which is stored and audited, while a
//! re-check against vectors an operator added stops a version serving.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ai_proxy::conformance::{Plan, Report, builtin, run_all, samples};
use ai_proxy::plugins::{BUILTIN_PLUGINS, LoadedPlugin, PluginEngine, PluginLimits};
use ai_proxy_tests::gateway::{
    TestGateway, anthropic_nocache_wasm, azure_openai_wasm, openai_next_wasm,
};
use reqwest::Method;
use serde_json::{Value, json};

const ADMIN_PASSWORD: &str = ai_proxy_tests::gateway::ADMIN_PASSWORD;

/// Generous: every run is bounded by the engine's own limits too.
const RUN_LIMIT: Duration = Duration::from_secs(120);

async fn load(bytes: Vec<u8>) -> Arc<LoadedPlugin> {
    let engine = PluginEngine::new(PluginLimits {
        call_timeout: Duration::from_secs(5),
        memory_bytes: 64 << 20,
        instances: 16,
    })
    .unwrap();
    LoadedPlugin::load(&engine, bytes).await.unwrap()
}

/// The vectors of `dir` (below `plugins/`), read from the folder itself.
fn vectors_of(dir: &str) -> Vec<samples::Sample> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../plugins")
        .join(dir)
        .join("vectors");
    samples::from_dir(&path).unwrap()
}

async fn run(plugin: &Arc<LoadedPlugin>, dir: &str, plan: Plan) -> Report {
    let vectors = vectors_of(dir);
    let started = Instant::now();
    let report = run_all(plugin, &vectors, plan, RUN_LIMIT).await;
    println!(
        "{} {}: {} vectors from plugins/{dir}/vectors in {} ms, stream-state {}",
        plugin.name,
        plugin.version,
        report.cases,
        started.elapsed().as_millis(),
        plugin.keeps_stream_state()
    );
    report
}

fn deepseek_wasm() -> Option<PathBuf> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../plugins/js/deepseek/dist/deepseek.wasm");
    if path.is_file() {
        return Some(path);
    }
    let reason = format!(
        "{} is missing: run plugins/js/build.sh (scripts/test.sh does)",
        path.display()
    );
    assert!(
        std::env::var("AI_PROXY_REQUIRE_SERVICES").as_deref() != Ok("1"),
        "{reason}"
    );
    println!("skipped the JavaScript plugin: {reason}");
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_shipped_plugin_meets_its_vectors() {
    let mut plugins: Vec<(Vec<u8>, &str)> = BUILTIN_PLUGINS
        .iter()
        .map(|(name, bytes)| (bytes.to_vec(), *name))
        .collect();
    plugins.push((std::fs::read(azure_openai_wasm()).unwrap(), "azure-openai"));
    // A fixture claiming the name `openai` must meet OpenAI's vectors.
    plugins.push((std::fs::read(openai_next_wasm()).unwrap(), "openai"));
    if let Some(path) = deepseek_wasm() {
        plugins.push((std::fs::read(path).unwrap(), "js/deepseek"));
    }
    for (bytes, dir) in plugins {
        let plugin = load(bytes).await;
        if !dir.starts_with("js/") {
            assert!(
                plugin.keeps_stream_state(),
                "{dir}: Rust plugins export stream-state, so the saved-state path is exercised"
            );
        }
        let report = run(&plugin, dir, Plan::THOROUGH).await;
        assert!(report.cases >= 9, "{dir}: {} vectors", report.cases);
        assert!(report.passed(), "{dir}: {}", report.lines().join("\n"));
        let embedded = builtin::for_plugin(&plugin.name).unwrap();
        assert_eq!(
            embedded.len(),
            report.cases,
            "{dir}: the gateway embeds the same vectors"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_that_drops_cache_reads_fails_naming_the_field_and_cost() {
    let plugin = load(std::fs::read(anthropic_nocache_wasm()).unwrap()).await;
    let report = run(&plugin, "anthropic", Plan::AT_UPLOAD).await;
    let lines = report.lines();
    let has = |needle: &str| lines.iter().any(|l| l.contains(needle));
    assert!(
        has(
            "message (JSON): cache read and cache write: usage.cached_input_tokens: expected 8000, got 0"
        ),
        "{lines:#?}"
    );
    assert!(
        has("usage.input_tokens: expected 8012, got 12"),
        "{lines:#?}"
    );
    assert!(
        has(
            "stream: prompt counts in message_start, output in message_delta: usage.cached_input_tokens: expected 2048, got 0"
        ),
        "{lines:#?}"
    );
    assert!(has("cost_nano_usd: expected"), "{lines:#?}");
    // Only the vectors with cache reads differ: the error classes, the
    // cache write and the streams without reads still pass.
    let failed: Vec<&str> = report.failed.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(failed.len(), 3, "{failed:?}");
}

async fn upload(gw: &TestGateway, bytes: Vec<u8>, query: &str) -> (u16, Value) {
    let part = reqwest::multipart::Part::bytes(bytes).file_name("plugin.wasm");
    let resp = reqwest::Client::new()
        .post(format!("{}/api/plugins{query}", gw.admin_url))
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn versions(gw: &TestGateway, name: &str) -> Vec<Value> {
    let all = gw.admin_ok(Method::GET, "/api/plugins", None).await;
    all.as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"] == name)
        .cloned()
        .collect()
}

#[tokio::test]
async fn an_upload_that_drops_cache_reads_is_refused_unless_forced_and_audited() {
    let gw = TestGateway::in_process().await;
    let wrong = std::fs::read(anthropic_nocache_wasm()).unwrap();
    let (status, body) = upload(&gw, wrong.clone(), "").await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "conformance_failed", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("usage.cached_input_tokens: expected 8000, got 0"),
        "{message}"
    );
    assert!(message.contains("fails 3 of 13"), "{message}");
    assert!(
        !message.contains("sk-sample"),
        "no stand-in secret: {message}"
    );
    assert_eq!(versions(&gw, "anthropic").await.len(), 1, "nothing stored");

    let (status, forced) = upload(&gw, wrong, "?force=true").await;
    assert_eq!(status, 201, "{forced}");
    let id = forced["id"].as_i64().unwrap();
    let result = gw
        .admin_ok(Method::GET, &format!("/api/plugins/{id}/conformance"), None)
        .await;
    assert_eq!(result["checked"], true);
    assert_eq!(result["passed"], false);
    assert_eq!(result["forced"], true);
    assert_eq!(result["forced_by"], "admin");
    assert_eq!(result["servable"], true);
    assert_eq!(result["cases"], 13);
    let differences = result["failed"].to_string();
    assert!(
        differences.contains("usage.cached_input_tokens"),
        "{differences}"
    );
    let audit = gw
        .admin_ok(Method::GET, "/api/audit?resource=plugin", None)
        .await;
    let entries = audit["items"].as_array().unwrap();
    let force = entries
        .iter()
        .find(|e| {
            e["action"] == "force" && e["resource_id"].as_str() == Some(id.to_string().as_str())
        })
        .unwrap_or_else(|| panic!("the force is audited: {audit}"));
    assert!(
        force["after"]
            .to_string()
            .contains("usage.cached_input_tokens"),
        "{force}"
    );
    // The forced version serves: the provider follows the newest version.
    let serving = versions(&gw, "anthropic").await;
    let forced_row = serving.iter().find(|p| p["id"] == id).unwrap();
    assert_eq!(forced_row["serving"], json!(["anthropic"]), "{forced_row}");
}

/// An operator's vector no shipped version meets: their provider bills a
/// negotiated model the plugin does not price.
fn negotiated_model_vector() -> Value {
    json!({
        "name": "negotiated model is priced",
        "method": "POST", "path": "/v1/chat/completions",
        "headers": [["content-type", "application/json"]],
        "body": {"model": "acme-negotiated", "messages": []},
        "response": {"status": 200, "headers": [["content-type", "application/json"]],
            "body": {"usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}},
        "expect": {"model": "acme-negotiated", "cost_nano_usd": 42}
    })
}

#[tokio::test]
async fn a_recheck_against_an_operators_vector_stops_a_version_until_forced() {
    let gw = TestGateway::in_process().await;
    let (status, next) = upload(&gw, std::fs::read(openai_next_wasm()).unwrap(), "").await;
    assert_eq!(status, 201, "{next}");
    let id = next["id"].as_i64().unwrap();
    let result = gw
        .admin_ok(Method::GET, &format!("/api/plugins/{id}/conformance"), None)
        .await;
    assert_eq!(
        (result["passed"].clone(), result["cases"].clone()),
        (json!(true), json!(16))
    );

    // The operator's provider bills a negotiated model the plugin does not
    // price: a vector that says so fails every version.
    let provider = gw.provider_id("openai").await;
    let vector = negotiated_model_vector();
    let path = format!("/api/providers/{provider}/vectors");
    let added = gw.admin_ok(Method::POST, &path, Some(vector.clone())).await;
    assert_eq!(added["name"], "negotiated model is priced");
    let (status, _) = gw.admin(Method::POST, &path, Some(vector)).await;
    assert_eq!(status, 409, "names are unique per provider");
    let (status, bad) = gw
        .admin(
            Method::POST,
            &path,
            Some(json!({"name": "x", "method": "GET", "path": "/", "expect": {"modle": 1}})),
        )
        .await;
    assert_eq!(status, 400, "{bad}");
    assert_eq!(
        gw.admin_ok(Method::GET, &path, None)
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let recheck = format!("/api/plugins/{id}/conformance");
    let failed = gw.admin_ok(Method::POST, &recheck, Some(json!({}))).await;
    assert_eq!(
        (failed["passed"].clone(), failed["servable"].clone()),
        (json!(false), json!(false))
    );
    assert!(
        failed["failed"]
            .to_string()
            .contains("cost_nano_usd: expected 42, got null"),
        "{failed}"
    );
    let rows = versions(&gw, "openai").await;
    let next_row = rows.iter().find(|p| p["id"] == id).unwrap();
    assert_eq!(
        next_row["serving"],
        json!([]),
        "a failed version does not serve: {next_row}"
    );
    let builtin_row = rows.iter().find(|p| p["version"] == "0.1.0").unwrap();
    assert_eq!(
        builtin_row["serving"],
        json!(["openai"]),
        "the provider falls back"
    );

    let forced = gw
        .admin_ok(Method::POST, &recheck, Some(json!({"force": true})))
        .await;
    assert_eq!(
        (forced["forced"].clone(), forced["servable"].clone()),
        (json!(true), json!(true))
    );
    let rows = versions(&gw, "openai").await;
    let next_row = rows.iter().find(|p| p["id"] == id).unwrap();
    assert_eq!(next_row["serving"], json!(["openai"]), "{next_row}");
}

/// A version its vectors stopped is left out of the catalog, so a shadow or
/// canary of it would silently do nothing: the rollout step is refused
/// (nothing changes) unless forced, and the force is recorded on the
/// version's result and in the step's audit entry.
#[tokio::test]
async fn a_rollout_of_a_version_its_vectors_stopped_is_refused_unless_forced() {
    let gw = TestGateway::in_process().await;
    let (status, next) = upload(&gw, std::fs::read(openai_next_wasm()).unwrap(), "").await;
    assert_eq!(status, 201, "{next}");
    let id = next["id"].as_i64().unwrap();
    let provider = gw.provider_id("openai").await;
    let vector = negotiated_model_vector();
    gw.admin_ok(
        Method::POST,
        &format!("/api/providers/{provider}/vectors"),
        Some(vector),
    )
    .await;
    let conformance = format!("/api/plugins/{id}/conformance");
    let stopped = gw
        .admin_ok(Method::POST, &conformance, Some(json!({})))
        .await;
    assert_eq!(stopped["servable"], json!(false), "{stopped}");

    let rollout = |step: &str| format!("/api/providers/{provider}/rollout/{step}");
    for (step, body) in [
        ("shadow", json!({"plugin_id": id, "sample": 0.5})),
        ("canary", json!({"plugin_id": id, "percent": 10})),
    ] {
        let (status, refused) = gw.admin(Method::POST, &rollout(step), Some(body)).await;
        assert_eq!(status, 409, "{step}: {refused}");
        assert!(refused.to_string().contains("conformance"), "{refused}");
    }
    let (_, nothing) = gw
        .admin(
            Method::GET,
            &format!("/api/providers/{provider}/rollout"),
            None,
        )
        .await;
    assert!(
        nothing["candidate"].is_null(),
        "a refused step changes nothing: {nothing}"
    );

    let shadowed = gw
        .admin_ok(
            Method::POST,
            &rollout("shadow"),
            Some(json!({"plugin_id": id, "sample": 0.5, "force": true})),
        )
        .await;
    assert_eq!(
        (
            shadowed["candidate"]["stage"].clone(),
            shadowed["candidate"]["active"].clone()
        ),
        (json!("shadow"), json!(true)),
        "the forced candidate is loaded and sees its sample: {shadowed}"
    );
    let result = gw.admin_ok(Method::GET, &conformance, None).await;
    assert_eq!(
        (result["forced"].clone(), result["servable"].clone()),
        (json!(true), json!(true)),
        "{result}"
    );
    let audit = gw
        .admin_ok(Method::GET, "/api/audit?resource=provider", None)
        .await;
    let step = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "rollout.shadow")
        .unwrap_or_else(|| panic!("the step is audited: {audit}"));
    assert!(step["after"].to_string().contains("forced"), "{step}");
    // The provider stays on the version that served before the step.
    let rows = versions(&gw, "openai").await;
    let builtin = rows.iter().find(|p| p["version"] == "0.1.0").unwrap();
    assert_eq!(builtin["serving"], json!(["openai"]), "{builtin}");
}
