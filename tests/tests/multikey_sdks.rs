//! The official Python SDKs (`openai`, `anthropic`, `google-genai`) with
//! ONE client key that uses three providers: the OpenAI and Gemini SDKs
//! reach their providers by the API shape they speak, the Anthropic SDK
//! under the path prefix its provider was given (both it and the OpenAI
//! SDK list models at `GET /v1/models`, which only a prefix or a model
//! can tell apart). Each SDK call must reach its own provider with that
//! provider's upstream key, and the traces must name it.
//!
//! The virtual environment is created by `tests/python/run.sh` on first use.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use ai_proxy_tests::gateway::TestGateway;
use ai_proxy_tests::mock::MockUpstream;
use ai_proxy_tests::multikey::{Providers, put_routes, reached};
use serde_json::json;

#[tokio::test]
async fn official_python_sdks_share_one_client_key_across_three_providers() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::start().await;
    let p = Providers::set_up(&gw, &mock).await;
    let (id, key) = p.client_key(&gw, "one-key", "openai").await;
    let routes = json!([
        p.route("openai", json!({})),
        p.route("gemini", json!({"model_prefixes": ["gemini-"]})),
        p.route("anthropic", json!({"path_prefix": "anthropic"})),
    ]);
    let (status, body) = put_routes(&gw, id, routes).await;
    assert_eq!(status, 200, "{body}");

    let proxy_url = gw.proxy_url.clone();
    let run = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/run.sh");
    let output = tokio::task::spawn_blocking(move || {
        Command::new(run)
            // The AzureOpenAI cases need the azure-openai plugin loaded: azure_e2e runs them.
            .args(["-q", "-rs", "-k", "not azure"])
            .env("AI_PROXY_BASE_URL", &proxy_url)
            .env(
                "AI_PROXY_ANTHROPIC_BASE_URL",
                format!("{proxy_url}/anthropic"),
            )
            .env("AI_PROXY_OPENAI_KEY", &key)
            .env("AI_PROXY_ANTHROPIC_KEY", &key)
            .env("AI_PROXY_GEMINI_KEY", &key)
            .env("AI_PROXY_EXPECT_INJECTED_USAGE", "1")
            .output()
    })
    .await
    .expect("join")
    .expect("run tests/python/run.sh");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}\n{stderr}");
    assert!(
        output.status.success(),
        "Python SDK suite failed with one key:\n{stdout}\n{stderr}"
    );
    assert!(
        !stdout.contains("skipped"),
        "no SDK test may be skipped:\n{stdout}"
    );

    // Each SDK's requests reached its own provider's upstream key, and only it.
    let mut by_provider: BTreeMap<&str, usize> = BTreeMap::new();
    for request in mock.requests() {
        let provider = reached(&request).unwrap_or("nobody");
        let expected = if request.path_and_query.starts_with("/v1/messages")
            || request.header("anthropic-version").is_some()
        {
            "anthropic"
        } else if request.path_and_query.contains("enerateContent")
            || request.path_and_query.starts_with("/v1beta")
        {
            "gemini"
        } else {
            "openai"
        };
        assert_eq!(
            provider, expected,
            "{} {} reached {provider}",
            request.method, request.path_and_query
        );
        *by_provider.entry(provider).or_default() += 1;
    }
    for provider in ["openai", "anthropic", "gemini"] {
        let count = by_provider.get(provider).copied().unwrap_or(0);
        assert!(
            count >= 3,
            "{provider}: only {count} requests: {by_provider:?}"
        );
    }
    let upstream_calls = mock.requests().len();
    let traces = gw.traces(upstream_calls).await;
    for provider in ["openai", "anthropic", "gemini"] {
        let costed = traces
            .iter()
            .filter(|t| {
                t["client_key_id"] == id
                    && t["provider_name"] == provider
                    && t["status_code"] == 200
                    && t["cost_nanos"].as_u64().is_some_and(|c| c > 0)
            })
            .count();
        assert!(
            costed >= 2,
            "{provider}: only {costed} costed traces of the one key"
        );
    }
}
