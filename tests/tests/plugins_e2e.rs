//! Plugins as uploads: validation that names its reason and changes
//! nothing on refusal; a new version taking over atomically under load
//! (every request runs on exactly one version, none fails) and rolled back
//! by binding; a version that keeps trapping disabled automatically with
//! the provider falling back; per-version metrics in the API and
//! `/metrics`; deleting only what nothing uses.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ai_proxy_tests::gateway::{TestGateway, misbehave_wasm, openai_next_wasm};
use ai_proxy_tests::mock::MockUpstream;
use reqwest::Method;
use serde_json::{Value, json};

const ADMIN_PASSWORD: &str = ai_proxy_tests::gateway::ADMIN_PASSWORD;

async fn upload(gw: &TestGateway, bytes: Vec<u8>, multipart: bool) -> (u16, Value) {
    let req = reqwest::Client::new()
        .post(format!("{}/api/plugins", gw.admin_url))
        .basic_auth("admin", Some(ADMIN_PASSWORD));
    let req = if multipart {
        let part = reqwest::multipart::Part::bytes(bytes).file_name("plugin.wasm");
        req.multipart(reqwest::multipart::Form::new().part("file", part))
    } else {
        req.header("content-type", "application/wasm").body(bytes)
    };
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A component importing one empty instance named `name`.
fn component_importing(name: &str) -> Vec<u8> {
    let mut out = b"\0asm\x0d\x00\x01\x00".to_vec();
    out.extend_from_slice(&[0x07, 0x03, 0x01, 0x42, 0x00]);
    let mut content = vec![0x01, 0x00, name.len() as u8];
    content.extend_from_slice(name.as_bytes());
    content.extend_from_slice(&[0x05, 0x00]);
    out.push(0x0a);
    out.push(content.len() as u8);
    out.extend_from_slice(&content);
    out
}

fn version_of<'a>(plugins: &'a Value, name: &str, version: &str) -> &'a Value {
    plugins
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name && p["version"] == version)
        .unwrap_or_else(|| panic!("{name} {version} not in {plugins}"))
}

#[tokio::test]
async fn uploads_are_validated_and_refusals_change_nothing() {
    let limit = 1_000_000;
    let gw = TestGateway::start_with(&[("AI_PROXY_PLUGIN_MAX_BYTES", limit.to_string())]).await;
    let before = gw.admin_ok(Method::GET, "/api/plugins", None).await;

    let mut garbage_component = b"\0asm\x0d\x00\x01\x00".to_vec();
    garbage_component.extend_from_slice(&[0xff; 64]);
    let mut huge = b"\0asm\x0d\x00\x01\x00".to_vec();
    huge.resize(limit + 1, 0);
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "a text file",
            b"hello, I am not wasm".to_vec(),
            422,
            "not_a_component",
        ),
        (
            "a core module",
            b"\0asm\x01\x00\x00\x00".to_vec(),
            422,
            "not_a_component",
        ),
        (
            "a broken component",
            garbage_component,
            422,
            "invalid_component",
        ),
        (
            "an empty component",
            b"\0asm\x0d\x00\x01\x00".to_vec(),
            422,
            "missing_export",
        ),
        (
            "a foreign import",
            component_importing("acme:vault/secrets@1.0.0"),
            422,
            "unknown_import",
        ),
        ("too large", huge, 413, "too_large"),
    ];
    for (case, bytes, status, code) in cases {
        for multipart in [true, false] {
            let (got, body) = upload(&gw, bytes.clone(), multipart).await;
            assert_eq!(got, status, "{case} (multipart {multipart}): {body}");
            assert_eq!(body["error"]["code"], code, "{case}: {body}");
            assert!(
                body["error"]["message"].as_str().unwrap().len() > 10,
                "{case}: {body}"
            );
        }
    }
    let (status, body) = upload(&gw, Vec::new(), false).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        gw.admin_ok(Method::GET, "/api/plugins", None).await,
        before,
        "nothing stored"
    );

    // Users may not upload.
    gw.admin_ok(
        Method::POST,
        "/api/users",
        Some(json!({"username": "dev", "password": "dev-password-1", "role": "user"})),
    )
    .await;
    let resp = reqwest::Client::new()
        .post(format!("{}/api/plugins", gw.admin_url))
        .basic_auth("dev", Some("dev-password-1"))
        .header("content-type", "application/wasm")
        .body(std::fs::read(misbehave_wasm()).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);

    let (status, body) = upload(&gw, std::fs::read(misbehave_wasm()).unwrap(), true).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        (body["name"].as_str(), body["builtin"].as_bool()),
        (Some("misbehave"), Some(false))
    );
    assert_eq!(body["sha256"].as_str().unwrap().len(), 64);
    let (status, body) = upload(&gw, std::fs::read(misbehave_wasm()).unwrap(), false).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("conflict")),
        "{body}"
    );
    let audit = gw
        .admin_ok(Method::GET, "/api/audit?resource=plugin", None)
        .await;
    assert_eq!(
        audit["items"].as_array().unwrap().len(),
        1,
        "one upload audited: {audit}"
    );
    // The compiled artifact is kept for the next start.
    let log = gw.log();
    assert!(!log.contains("could not cache"), "{log}");
}

/// One chat request marked with `marker`; its status and request id.
async fn marked_chat(proxy: &str, key: &str, marker: &str, stream: bool) -> (u16, String) {
    let resp = reqwest::Client::new()
        .post(format!("{proxy}/v1/chat/completions"))
        .bearer_auth(key)
        .header("x-mock-delay-ms", if stream { "15" } else { "0" })
        .json(
            &json!({"model": "gpt-4o-mini", "stream": stream, "user": marker,
                      "messages": [{"role": "user", "content": "hi"}]}),
        )
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let rid = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    let _ = resp.bytes().await;
    (status, rid)
}

#[tokio::test]
async fn a_new_version_takes_over_atomically_under_load_and_rolls_back_by_binding() {
    let mock = MockUpstream::start().await;
    let gw = Arc::new(TestGateway::start().await);
    let key = gw.client_key_for("openai", &mock.base_url(), "sk-up").await;
    let provider = gw.provider_id("openai").await;

    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (gw, key, stop) = (gw.clone(), key.clone(), stop.clone());
            tokio::spawn(async move {
                let mut done = Vec::new();
                let deadline = Instant::now() + Duration::from_secs(60);
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline && i < 200 {
                    let marker = format!("w{w}-{i}");
                    let (status, rid) = marked_chat(&gw.proxy_url, &key, &marker, i % 2 == 0).await;
                    done.push((marker, status, rid));
                    i += 1;
                }
                done
            })
        })
        .collect();

    let pause = || tokio::time::sleep(Duration::from_millis(400));
    pause().await;
    let (status, body) = upload(&gw, std::fs::read(openai_next_wasm()).unwrap(), true).await;
    assert_eq!(status, 201, "{body}");
    let serving = |gw: Arc<TestGateway>| async move {
        gw.admin_ok(Method::GET, &format!("/api/providers/{provider}"), None)
            .await["plugin_version"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        serving(gw.clone()).await,
        "0.2.0",
        "latest follows the upload"
    );
    pause().await;
    gw.admin_ok(
        Method::PUT,
        &format!("/api/providers/{provider}"),
        Some(json!({"plugin_version": "0.1.0"})),
    )
    .await;
    assert_eq!(serving(gw.clone()).await, "0.1.0", "rolled back by binding");
    pause().await;
    gw.admin_ok(
        Method::PUT,
        &format!("/api/providers/{provider}"),
        Some(json!({"plugin_version": "latest"})),
    )
    .await;
    assert_eq!(serving(gw.clone()).await, "0.2.0");
    pause().await;
    stop.store(true, Ordering::Relaxed);

    let mut results = Vec::new();
    for w in workers {
        results.extend(w.await.unwrap());
    }
    assert!(
        results.len() >= 12,
        "only {} requests under load",
        results.len()
    );
    assert!(
        results.iter().all(|(_, status, _)| *status == 200),
        "{results:?}"
    );

    // Every request ran on exactly one version: the one its trace names is
    // the one that prepared the upstream request.
    let recorded = mock.requests();
    let mut seen = std::collections::BTreeSet::new();
    for (marker, _, rid) in &results {
        let trace = gw.trace_by_request_id(rid).await;
        let version = trace["plugin_version"].as_str().unwrap().to_owned();
        let upstream = recorded
            .iter()
            .find(|r| r.json().is_some_and(|b| b["user"] == marker.as_str()))
            .unwrap_or_else(|| panic!("{marker} never reached the upstream"));
        let marked = upstream.header("x-plugin-version").map(str::to_owned);
        assert_eq!(
            marked.as_deref(),
            (version == "0.2.0").then_some("0.2.0"),
            "{marker}: {trace}"
        );
        assert!(
            trace["input_tokens"].as_u64().unwrap() > 0,
            "{marker} was metered: {trace}"
        );
        seen.insert(version);
    }
    assert_eq!(seen.len(), 2, "both versions served: {seen:?}");
}

#[tokio::test]
async fn a_version_that_keeps_trapping_is_disabled_and_the_provider_falls_back() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::start_with(&[
        ("AI_PROXY_PLUGIN_FAILURE_LIMIT", "3".into()),
        ("AI_PROXY_PLUGIN_FAILURE_WINDOW_SECS", "60".into()),
    ])
    .await;
    let key = gw.client_key_for("openai", &mock.base_url(), "sk-up").await;
    let (status, uploaded) = upload(&gw, std::fs::read(openai_next_wasm()).unwrap(), false).await;
    assert_eq!(status, 201, "{uploaded}");
    let next_id = uploaded["id"].as_i64().unwrap();
    let chat = |content: &'static str| {
        reqwest::Client::new()
            .post(format!("{}/v1/chat/completions", gw.proxy_url))
            .bearer_auth(&key)
            .json(&json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}]}))
            .send()
    };
    let ok = chat("hi").await.unwrap();
    let rid = ok.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(
        gw.trace_by_request_id(&rid).await["plugin_version"],
        "0.2.0"
    );

    // A broken version fails for many clients: one key's failures are
    // charged to that key and never disable a version for everyone.
    for _ in 0..3 {
        let other = gw.client_key_for("openai", &mock.base_url(), "sk-up").await;
        let resp = reqwest::Client::new()
            .post(format!("{}/v1/chat/completions", gw.proxy_url))
            .bearer_auth(&other)
            .json(&json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "please openai-next-trap now"}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 502);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "plugin_trap");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let next = loop {
        let plugins = gw.admin_ok(Method::GET, "/api/plugins", None).await;
        let next = version_of(&plugins, "openai", "0.2.0").clone();
        if next["enabled"] == false {
            break next;
        }
        assert!(Instant::now() < deadline, "not disabled: {next}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        next["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("disabled automatically"),
        "{next}"
    );
    assert_eq!(next["metrics"]["traps"], 3, "{next}");
    assert!(next["metrics"]["calls"].as_u64().unwrap() >= 4);

    // The provider fell back to the built-in version: the row changes
    // first, the instance's catalog on its reload right after, so on a
    // loaded machine a request may still meet 0.2.0 in between.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ok = chat("hi").await.unwrap();
        assert_eq!(ok.status(), 200);
        let rid = ok.headers()["x-request-id"].to_str().unwrap().to_owned();
        let version = gw.trace_by_request_id(&rid).await["plugin_version"].clone();
        if version == "0.1.0" {
            break;
        }
        assert!(Instant::now() < deadline, "still served by {version}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let metrics = reqwest::Client::new()
        .get(format!("{}/metrics", gw.admin_url))
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("ai_proxy_plugin_traps_total{plugin=\"openai\",version=\"0.2.0\"} 3"),
        "{metrics}"
    );
    assert!(metrics.contains(
        "ai_proxy_plugin_call_seconds{plugin=\"openai\",version=\"0.1.0\",quantile=\"0.99\"}"
    ));
    assert!(!metrics.contains("sk-up"), "no secrets in /metrics");

    // An operator re-enables it, with a tighter call limit; bad limits are refused.
    let (status, _) = gw
        .admin(
            Method::PUT,
            &format!("/api/plugins/{next_id}"),
            Some(json!({"call_timeout_ms": 0})),
        )
        .await;
    assert_eq!(status, 400);
    let updated = gw
        .admin_ok(
            Method::PUT,
            &format!("/api/plugins/{next_id}"),
            Some(json!({"enabled": true, "call_timeout_ms": 200})),
        )
        .await;
    assert_eq!(
        (
            updated["enabled"].as_bool(),
            updated["call_timeout_ms"].as_i64()
        ),
        (Some(true), Some(200))
    );
    assert_eq!(updated["disabled_reason"], Value::Null);
    assert_eq!(updated["serving"], json!(["openai"]));

    // Deleting: not what serves, not a built-in; fine once unused.
    let (status, body) = gw
        .admin(Method::DELETE, &format!("/api/plugins/{next_id}"), None)
        .await;
    assert_eq!(status, 409, "{body}");
    let builtin = version_of(
        &gw.admin_ok(Method::GET, "/api/plugins", None).await,
        "openai",
        "0.1.0",
    )["id"]
        .clone();
    let (status, _) = gw
        .admin(Method::DELETE, &format!("/api/plugins/{builtin}"), None)
        .await;
    assert_eq!(status, 409);
    let provider = gw.provider_id("openai").await;
    gw.admin_ok(
        Method::PUT,
        &format!("/api/providers/{provider}"),
        Some(json!({"plugin_version": "0.1.0"})),
    )
    .await;
    gw.admin_ok(Method::DELETE, &format!("/api/plugins/{next_id}"), None)
        .await;
    let (status, body) = gw
        .admin(
            Method::PUT,
            &format!("/api/providers/{provider}"),
            Some(json!({"plugin_version": "9.9.9"})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
}
