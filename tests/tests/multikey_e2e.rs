//! One client key, several providers, against the real gateway and the
//! mock upstream: a request reaches the provider its address picks (API
//! shape, path prefix, model prefix), which the test reads from the
//! upstream credential that crossed the wire and from the trace; sets of
//! providers a request could reach two of are refused by the admin API
//! with a 422 naming them; a request no provider of the key serves is a
//! 403 that reaches no upstream; a key cannot reach a provider it was not
//! given, whatever the path says; and the key's limits hold across all
//! its providers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ai_proxy_tests::gateway::TestGateway;
use ai_proxy_tests::mock::MockUpstream;
use ai_proxy_tests::multikey::{Providers, put_routes, reached};
use reqwest::Method;
use serde_json::{Value, json};

/// A request through the proxy: status, body and `x-request-id`.
async fn send(gw: &TestGateway, key: &str, path: &str, body: Value) -> (u16, Value, String) {
    let resp = reqwest::Client::new()
        .post(format!("{}{path}", gw.proxy_url))
        .bearer_auth(key)
        .header("x-api-key", key)
        .header("anthropic-version", "2023-06-01")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let id = resp
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, resp.json().await.unwrap_or(Value::Null), id)
}

fn chat(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "hi"}]})
}

fn message(model: &str) -> Value {
    json!({"model": model, "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]})
}

fn gemini() -> Value {
    json!({"contents": [{"parts": [{"text": "hi"}]}]})
}

const GEMINI_PATH: &str = "/v1beta/models/gemini-2.5-flash:generateContent";

/// Sends one request that must succeed; returns the provider the mock saw
/// and the provider the trace names.
async fn reaches(
    gw: &TestGateway,
    mock: &MockUpstream,
    key: &str,
    path: &str,
    body: Value,
) -> (String, String, String) {
    let before = mock.requests().len();
    let (status, answer, id) = send(gw, key, path, body).await;
    assert_eq!(status, 200, "{path}: {answer}");
    let requests = mock.requests();
    assert_eq!(requests.len(), before + 1, "{path}: one upstream request");
    let last = requests.last().unwrap();
    let upstream = reached(last).unwrap_or("nobody").to_owned();
    let trace = gw.trace_by_request_id(&id).await;
    let traced = trace["provider_name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (upstream, traced, last.path_and_query.clone())
}

async fn start() -> (TestGateway, MockUpstream, Providers) {
    let gw = TestGateway::in_process().await;
    let mock = MockUpstream::start().await;
    let providers = Providers::set_up(&gw, &mock).await;
    (gw, mock, providers)
}

#[tokio::test]
async fn one_key_reaches_each_provider_by_shape_path_prefix_and_model_prefix() {
    let (gw, mock, p) = start().await;
    let (id, key) = p.client_key(&gw, "multi", "openai").await;
    let routes = json!([
        p.route("openai", json!({})),
        p.route("anthropic", json!({"model_prefixes": ["claude-"]})),
        p.route("gemini", json!({"model_prefixes": ["gemini-"]})),
        p.route("deepseek", json!({"path_prefix": "/deepseek/"})),
    ]);
    let (status, stored) = put_routes(&gw, id, routes).await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(
        stored["providers"][3]["path_prefix"], "deepseek",
        "stored as one segment"
    );

    let cases = [
        (
            "/v1/chat/completions",
            chat("gpt-4o-mini"),
            "openai",
            "/v1/chat/completions",
        ),
        (
            "/v1/messages",
            message("claude-sonnet-4-6"),
            "anthropic",
            "/v1/messages",
        ),
        (GEMINI_PATH, gemini(), "gemini", GEMINI_PATH),
        (
            "/deepseek/v1/chat/completions",
            chat("deepseek-chat"),
            "deepseek",
            "/v1/chat/completions",
        ),
    ];
    for (path, body, provider, upstream_path) in cases {
        let (upstream, traced, sent) = reaches(&gw, &mock, &key, path, body).await;
        assert_eq!(
            upstream, provider,
            "{path} reached the provider's upstream key"
        );
        assert_eq!(
            traced, provider,
            "{path}: the trace names the provider used"
        );
        assert!(
            sent.starts_with(upstream_path),
            "{path} went upstream as {sent}"
        );
    }
    // A single-provider key made the old way still works unchanged.
    let (_, single) = p.client_key(&gw, "single", "openai").await;
    let (upstream, _, _) = reaches(&gw, &mock, &single, "/v1/chat/completions", chat("x")).await;
    assert_eq!(upstream, "openai");
}

#[tokio::test]
async fn model_prefixes_pick_among_providers_of_one_shape() {
    let (gw, mock, p) = start().await;
    let (id, key) = p.client_key(&gw, "models", "openai").await;
    let routes = json!([
        p.route("openai", json!({})),
        p.route("deepseek", json!({"model_prefixes": ["deepseek-"]})),
    ]);
    let (status, body) = put_routes(&gw, id, routes).await;
    assert_eq!(status, 200, "{body}");
    for (model, provider) in [
        ("deepseek-chat", "deepseek"),
        ("deepseek-reasoner", "deepseek"),
        ("gpt-4o-mini", "openai"),
        ("deepseek", "openai"),
    ] {
        let path = "/v1/chat/completions";
        let (upstream, traced, _) = reaches(&gw, &mock, &key, path, chat(model)).await;
        assert_eq!(
            (upstream.as_str(), traced.as_str()),
            (provider, provider),
            "{model}"
        );
    }
    // With rules on both sides, a model neither claims is refused, not guessed.
    let routes = json!([
        p.route("openai", json!({"model_prefixes": ["gpt-"]})),
        p.route("deepseek", json!({"model_prefixes": ["deepseek-"]})),
    ]);
    assert_eq!(put_routes(&gw, id, routes).await.0, 200);
    let before = mock.requests().len();
    let (status, body, _) = send(&gw, &key, "/v1/chat/completions", chat("mistral-large")).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "no_provider_for_request", "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("mistral-large"), "{message}");
    assert_eq!(mock.requests().len(), before, "nothing went upstream");
}

#[tokio::test]
async fn ambiguous_providers_are_refused_at_configuration_naming_the_conflict() {
    let (gw, _mock, p) = start().await;
    let (id, _) = p.client_key(&gw, "amb", "openai").await;
    let good = json!([
        p.route("openai", json!({})),
        p.route("gemini", json!({"model_prefixes": ["gemini-"]}))
    ]);
    assert_eq!(put_routes(&gw, id, good).await.0, 200);

    let refusals = [
        (
            json!([p.route("openai", json!({})), p.route("deepseek", json!({}))]),
            vec!["openai", "deepseek", "POST /v1/chat/completions"],
        ),
        (
            json!([
                p.route("openai", json!({})),
                p.route("anthropic", json!({}))
            ]),
            vec!["openai", "anthropic", "GET /v1/models"],
        ),
        (
            json!([
                p.route("openai", json!({"model_prefixes": ["gpt-"]})),
                p.route("deepseek", json!({"model_prefixes": ["gpt-4"]})),
            ]),
            vec!["gpt-", "gpt-4", "openai", "deepseek"],
        ),
        (
            json!([
                p.route("openai", json!({})),
                p.route("deepseek", json!({"path_prefix": "v1"}))
            ]),
            vec!["'v1'", "deepseek"],
        ),
        (
            json!([
                p.route("openai", json!({"path_prefix": "same"})),
                p.route("deepseek", json!({"path_prefix": "same"})),
            ]),
            vec!["same", "openai", "deepseek"],
        ),
    ];
    for (routes, named) in refusals {
        let (status, body) = put_routes(&gw, id, routes.clone()).await;
        assert_eq!(status, 422, "{routes}: {body}");
        assert_eq!(body["error"]["code"], "ambiguous_providers", "{body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        for word in named {
            assert!(message.contains(word), "{message} names {word}");
        }
    }
    // Refused changes changed nothing.
    let (_, stored) = gw
        .admin(
            Method::GET,
            &format!("/api/client-keys/{id}/providers"),
            None,
        )
        .await;
    let providers = stored["providers"].as_array().unwrap();
    assert_eq!(providers.len(), 2, "{stored}");
    assert_eq!(providers[1]["provider_id"], p.ids[2]);
    // Malformed input is a 400.
    let bad = json!([p.route("openai", json!({"path_prefix": "a/b"}))]);
    assert_eq!(put_routes(&gw, id, bad).await.0, 400);
    let foreign = json!([{"provider_id": p.ids[0], "upstream_key_ids": [p.keys[2]]}]);
    let (status, body) = put_routes(&gw, id, foreign).await;
    assert_eq!(status, 400, "a pool holds only its provider's keys: {body}");
}

#[tokio::test]
async fn a_request_no_provider_of_the_key_serves_is_refused_before_any_upstream() {
    let (gw, mock, p) = start().await;
    let (id, key) = p.client_key(&gw, "two", "openai").await;
    let routes = json!([
        p.route("openai", json!({})),
        p.route("anthropic", json!({"model_prefixes": ["claude-"]}))
    ]);
    assert_eq!(put_routes(&gw, id, routes).await.0, 200);
    for path in [GEMINI_PATH, "/deepseek/v1/chat/completions", "/v1/unknown"] {
        let (status, body, id) = send(&gw, &key, path, gemini()).await;
        assert_eq!(status, 403, "{path}: {body}");
        assert_eq!(body["error"]["code"], "no_provider_for_request", "{body}");
        assert_eq!(body["error"]["type"], "authentication_error", "{body}");
        let trace = gw.trace_by_request_id(&id).await;
        assert_eq!(trace["status_code"], 403, "{trace}");
    }
    assert!(mock.requests().is_empty(), "nothing reached an upstream");
}

#[tokio::test]
async fn a_hostile_key_cannot_reach_a_provider_it_was_not_given() {
    let (gw, mock, p) = start().await;
    // The victim's key uses gemini and deepseek; the attacker's only openai
    // and anthropic, with deepseek's path prefix taken by nobody.
    let (victim_id, _) = p.client_key(&gw, "victim", "gemini").await;
    let victim = json!([
        p.route("gemini", json!({})),
        p.route("deepseek", json!({"path_prefix": "deepseek"}))
    ]);
    assert_eq!(put_routes(&gw, victim_id, victim).await.0, 200);
    let (id, key) = p.client_key(&gw, "attacker", "openai").await;
    let routes = json!([
        p.route("openai", json!({})),
        p.route("anthropic", json!({"model_prefixes": ["claude-"]}))
    ]);
    assert_eq!(put_routes(&gw, id, routes).await.0, 200);

    let attempts = [
        (GEMINI_PATH, gemini()),
        ("/v1/models/gemini-2.5-flash:generateContent", gemini()),
        ("/deepseek/v1/chat/completions", chat("deepseek-chat")),
        ("/v1/../deepseek/v1/chat/completions", chat("deepseek-chat")),
        ("/x/../v1beta/models/g:generateContent", gemini()),
        ("/v1beta%2fmodels/g:generateContent", gemini()),
    ];
    for (path, body) in attempts {
        let (status, answer, _) = send(&gw, &key, path, body).await;
        assert!(
            status == 403 || status == 400,
            "{path}: refused, got {status} {answer}"
        );
    }
    // A model name of another provider on a shape the key has goes to the
    // key's own provider of that shape, with the key's own upstream key.
    let (status, _, _) = send(&gw, &key, "/v1/chat/completions", chat("deepseek-chat")).await;
    assert_eq!(status, 200);
    let requests = mock.requests();
    assert_eq!(requests.len(), 1, "only the allowed request went upstream");
    assert_eq!(reached(&requests[0]), Some("openai"));
    assert!(
        requests
            .iter()
            .all(|r| !matches!(reached(r), Some("gemini" | "deepseek"))),
        "the victim's providers were never called with the attacker's key"
    );
}

#[tokio::test]
async fn the_keys_limits_hold_across_all_its_providers() {
    let (gw, mock, p) = start().await;
    let (id, key) = p.client_key(&gw, "limited", "openai").await;
    gw.admin_ok(
        Method::PUT,
        &format!("/api/client-keys/{id}"),
        Some(json!({"limits": {"requests_per_minute": 2}})),
    )
    .await;
    let routes = json!([
        p.route("openai", json!({})),
        p.route("anthropic", json!({"model_prefixes": ["claude-"]})),
        p.route("gemini", json!({"model_prefixes": ["gemini-"]})),
    ]);
    assert_eq!(put_routes(&gw, id, routes).await.0, 200);
    let (a, _, _) = send(&gw, &key, "/v1/chat/completions", chat("gpt-4o-mini")).await;
    let (b, _, _) = send(&gw, &key, "/v1/messages", message("claude-sonnet-4-6")).await;
    let (c, body, _) = send(&gw, &key, GEMINI_PATH, gemini()).await;
    assert_eq!((a, b), (200, 200));
    assert_eq!(
        c, 429,
        "the third request of the minute, on a third provider: {body}"
    );
    assert_eq!(body["error"]["param"], "requests_per_minute", "{body}");
    assert_eq!(mock.requests().len(), 2);
}
