//! How the real gateway fails: every refusal is an OpenAI-shaped JSON error
//! with the right status and a trace row; a plugin that traps, loops or
//! allocates without end fails only its own request; upstream errors reach
//! the client unchanged and are classified in the trace.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ai_proxy_tests::gateway::{TestGateway, free_port, misbehave_wasm};
use ai_proxy_tests::mock::MockUpstream;
use reqwest::Method;
use serde_json::{Value, json};

async fn chat(gw: &TestGateway, key: Option<&str>, body: Value) -> (u16, Value, String) {
    let mut req = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", gw.proxy_url))
        .json(&body);
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let rid = resp
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = resp.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
        rid,
    )
}

fn hello(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "hi"}]})
}

async fn assert_error(gw: &TestGateway, got: (u16, Value, String), status: u16, code: &str) {
    let (got_status, body, rid) = got;
    assert_eq!(got_status, status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    let trace = gw.trace_by_request_id(&rid).await;
    assert_eq!(trace["status_code"], status, "{trace}");
}

#[tokio::test]
async fn refusals_are_json_errors_with_the_right_status_and_a_trace() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::start_with(&[("AI_PROXY_MAX_BODY_BYTES", "1024".into())]).await;
    let key = gw.client_key_for("openai", &mock.base_url(), "sk-up").await;

    assert_error(
        &gw,
        chat(&gw, None, hello("gpt-4o")).await,
        401,
        "missing_api_key",
    )
    .await;
    assert_error(
        &gw,
        chat(&gw, Some("aip-not-a-real-key"), hello("gpt-4o")).await,
        401,
        "invalid_api_key",
    )
    .await;

    // The body limit is inclusive: exactly 1024 bytes passes, 1025 does not.
    let pad = |len: usize| {
        let base = hello("gpt-4o-mini").to_string();
        let mut v = hello("gpt-4o-mini");
        v["pad"] = Value::String("x".repeat(len - base.len() - ",\"pad\":\"\"".len()));
        assert_eq!(v.to_string().len(), len);
        v
    };
    let (status, body, _) = chat(&gw, Some(&key), pad(1024)).await;
    assert_eq!(status, 200, "{body}");
    assert_error(
        &gw,
        chat(&gw, Some(&key), pad(1025)).await,
        413,
        "request_too_large",
    )
    .await;

    // A client key with an empty pool: 503 saying why.
    let openai = gw.provider_id("openai").await;
    let empty = gw
        .admin_ok(
            Method::POST,
            "/api/client-keys",
            Some(json!({"name": "empty", "provider_id": openai})),
        )
        .await;
    let (status, body, rid) = chat(&gw, empty["key"].as_str(), hello("gpt-4o")).await;
    assert_eq!(status, 503);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("none configured"),
        "{body}"
    );
    assert_error(&gw, (status, body, rid), 503, "no_usable_upstream_key").await;

    // Disabled client key: 403.
    let id = gw.admin_ok(Method::GET, "/api/client-keys", None).await[0]["id"].clone();
    gw.admin_ok(
        Method::PUT,
        &format!("/api/client-keys/{id}"),
        Some(json!({"enabled": false})),
    )
    .await;
    assert_error(
        &gw,
        chat(&gw, Some(&key), hello("gpt-4o")).await,
        403,
        "api_key_disabled",
    )
    .await;
    gw.admin_ok(
        Method::PUT,
        &format!("/api/client-keys/{id}"),
        Some(json!({"enabled": true})),
    )
    .await;

    // Upstream unreachable: 502.
    gw.admin_ok(
        Method::PUT,
        &format!("/api/providers/{openai}"),
        Some(json!({"base_url": format!("http://127.0.0.1:{}", free_port())})),
    )
    .await;
    assert_error(
        &gw,
        chat(&gw, Some(&key), hello("gpt-4o")).await,
        502,
        "upstream_unreachable",
    )
    .await;

    // An upstream error passes through unchanged and is classified.
    gw.admin_ok(
        Method::PUT,
        &format!("/api/providers/{openai}"),
        Some(json!({"base_url": mock.base_url()})),
    )
    .await;
    let limited = gw
        .client_key_for("openai", &mock.base_url(), "mock-429-key")
        .await;
    let (status, body, rid) = chat(&gw, Some(&limited), hello("gpt-4o")).await;
    assert_eq!(status, 429, "{body}");
    assert!(body["error"]["message"].is_string());
    let trace = gw.trace_by_request_id(&rid).await;
    assert_eq!(trace["error_class"], "rate_limited", "{trace}");

    // Nothing above leaked a secret into the log.
    let log = gw.log();
    assert!(
        !log.contains("sk-up") && !log.contains(&key),
        "secret in the gateway log"
    );
}

#[tokio::test]
async fn a_misbehaving_plugin_fails_only_its_own_request() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::start_with(&[
        (
            "AI_PROXY_PLUGIN_FILES",
            misbehave_wasm().display().to_string(),
        ),
        ("AI_PROXY_PLUGIN_TIMEOUT_MS", "100".into()),
        ("AI_PROXY_PLUGIN_MEMORY_MIB", "16".into()),
    ])
    .await;
    gw.admin_ok(
        Method::POST,
        "/api/providers",
        Some(json!({"name": "misbehave", "plugin": "misbehave", "base_url": mock.base_url()})),
    )
    .await;
    let key = gw
        .client_key_for("misbehave", &mock.base_url(), "sk-misbehave-upstream")
        .await;

    let cases = [
        ("trap", "plugin_trap"),
        ("loop", "plugin_timeout"),
        ("alloc", "plugin_out_of_memory"),
        ("leak-credential", "plugin_contract_violation"),
    ];
    for (model, code) in cases {
        let (status, body, rid) = chat(&gw, Some(&key), hello(model)).await;
        assert_eq!(status, 502, "{model}: {body}");
        assert_eq!(body["error"]["code"], code, "{model}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("misbehave"),
            "{body}"
        );
        let trace = gw.trace_by_request_id(&rid).await;
        assert_eq!(trace["status_code"], 502);
        // The gateway goes on serving, through the same plugin.
        let (status, body, _) = chat(&gw, Some(&key), hello("gpt-4o-mini")).await;
        assert_eq!(status, 200, "after {model}: {body}");
    }
    assert!(
        mock.requests()
            .iter()
            .all(|r| !r.body.windows(12).any(|w| w == b"sk-misbehave")),
        "the credential reached the upstream outside its header"
    );

    // Nothing a request leaves in the plugin's memory reaches the next one:
    // every request sees the instance's memory as it was first loaded.
    for _ in 0..3 {
        let (status, body, rid) = chat(&gw, Some(&key), hello("remember")).await;
        assert_eq!(status, 200, "{body}");
        let trace = gw.trace_by_request_id(&rid).await;
        assert_eq!(trace["model"], "remember-1", "{trace}");
    }

    // A runaway request does not hold up a well-behaved one running beside it.
    let (looping, healthy) = tokio::join!(chat(&gw, Some(&key), hello("loop")), async {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        chat(&gw, Some(&key), hello("gpt-4o-mini")).await
    });
    assert_eq!(looping.0, 502);
    assert_eq!(healthy.0, 200, "{}", healthy.1);
}

#[tokio::test]
async fn a_stream_cut_by_the_upstream_is_still_traced_and_billed_for_what_arrived() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::start().await;
    let key = gw
        .client_key_for("anthropic", &mock.base_url(), "sk-ant-up")
        .await;
    let body = json!({"model": "claude-sonnet-4-20250514", "max_tokens": 64, "stream": true,
        "messages": [{"role": "user", "content": "hi"}]});
    // The mock sends message_start (with the input usage) and more, then breaks off.
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/messages", gw.proxy_url))
        .header("x-api-key", &key)
        .header("x-mock-abort-after", "3")
        // Paced, so the first events leave the mock before it breaks off.
        .header("x-mock-delay-ms", "50")
        .json(&body)
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 200);
    let rid = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    let received = resp.bytes().await;
    assert!(
        received.is_err(),
        "the client must see the stream end abnormally"
    );

    let trace = gw.trace_by_request_id(&rid).await;
    assert_eq!(trace["status_code"], 200, "{trace}");
    assert!(
        trace["error_message"]
            .as_str()
            .is_some_and(|m| m.contains("interrupted")),
        "{trace}"
    );
    assert!(
        trace["input_tokens"].as_u64().is_some_and(|t| t > 0),
        "input usage from message_start: {trace}"
    );
    assert!(
        trace["cost_nanos"].as_u64().is_some_and(|c| c > 0),
        "{trace}"
    );
}

#[tokio::test]
async fn upstream_addresses_inside_the_network_are_refused_in_every_spelling() {
    let mock = MockUpstream::start().await;
    // No allow-list: loopback, private and metadata addresses are all refused.
    let gw = TestGateway::start_with(&[("AI_PROXY_EGRESS_ALLOW", String::new())]).await;
    let openai = gw.provider_id("openai").await;
    let port = mock.addr().port();
    for url in [
        format!("http://127.0.0.1:{port}"),
        format!("http://2130706433:{port}"),
        format!("http://0x7f.1:{port}"),
        format!("http://0177.0.0.1:{port}"),
        format!("http://[::1]:{port}"),
        format!("http://[::ffff:127.0.0.1]:{port}"),
        format!("http://localhost:{port}"),
        "http://169.254.169.254".to_owned(),
        "http://10.0.0.1".to_owned(),
    ] {
        let (status, body) = gw
            .admin(
                Method::PUT,
                &format!("/api/providers/{openai}"),
                Some(json!({"base_url": url})),
            )
            .await;
        assert_eq!(status, 400, "{url} must be refused: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("not allow-listed"),
            "{body}"
        );
    }
    drop(gw);

    // The check runs again at connection time, after resolution: a provider
    // stored while loopback was allowed cannot be reached once it is not.
    let shared = std::env::temp_dir().join(format!("aip-egress-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&shared).unwrap();
    let env = |allow: &str| {
        vec![
            (
                "DATABASE_URL",
                format!("sqlite://{}/shared.db?mode=rwc", shared.display()),
            ),
            ("AI_PROXY_MASTER_KEY", "ab".repeat(32)),
            ("AI_PROXY_EGRESS_ALLOW", allow.to_owned()),
        ]
    };
    let allowing = TestGateway::start_with(&env("127.0.0.0/8")).await;
    let key = allowing
        .client_key_for("openai", &mock.base_url(), "sk-up")
        .await;
    assert_eq!(
        chat(&allowing, Some(&key), hello("gpt-4o-mini")).await.0,
        200
    );
    drop(allowing);
    let denying = TestGateway::start_with(&env("")).await;
    let refused = chat(&denying, Some(&key), hello("gpt-4o-mini")).await;
    assert_error(&denying, refused, 502, "upstream_address_denied").await;
    drop(denying);
    let _ = std::fs::remove_dir_all(&shared);
}
