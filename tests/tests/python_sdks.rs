//! The official Python SDKs (`openai`, `anthropic`, `google-genai`) as
//! clients of the real gateway, in front of the mock upstream: normal and
//! streamed calls must return the upstream's text and usage, and the
//! gateway must trace every one of them with tokens and cost.
//!
//! The virtual environment is created by `tests/python/run.sh` on first use.

use std::path::PathBuf;
use std::process::Command;

use ai_proxy_tests::gateway::TestGateway;
use ai_proxy_tests::mock::MockUpstream;

fn run_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/run.sh")
}

#[tokio::test]
async fn official_python_sdks_work_through_the_gateway() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::start().await;
    let openai = gw
        .client_key_for("openai", &mock.base_url(), "sk-up-openai")
        .await;
    let anthropic = gw
        .client_key_for("anthropic", &mock.base_url(), "sk-up-anthropic")
        .await;
    let gemini = gw
        .client_key_for("gemini", &mock.base_url(), "up-gemini")
        .await;

    let proxy_url = gw.proxy_url.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(run_script())
            // The AzureOpenAI cases need the azure-openai plugin loaded: azure_e2e runs them.
            .args(["-q", "-rs", "-k", "not azure"])
            .env("AI_PROXY_BASE_URL", proxy_url)
            .env("AI_PROXY_OPENAI_KEY", openai)
            .env("AI_PROXY_ANTHROPIC_KEY", anthropic)
            .env("AI_PROXY_GEMINI_KEY", gemini)
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
        "Python SDK suite failed:\n{stdout}\n{stderr}"
    );
    assert!(
        !stdout.contains("skipped"),
        "no SDK test may be skipped here:\n{stdout}"
    );

    // Every SDK call was traced, and the successful generations carry tokens and cost.
    let upstream_calls = mock.requests().len();
    assert!(
        upstream_calls >= 12,
        "only {upstream_calls} requests reached the upstream"
    );
    let traces = gw.traces(upstream_calls).await;
    for provider in ["openai", "anthropic", "gemini"] {
        let costed = traces
            .iter()
            .filter(|t| {
                t["provider_name"] == provider
                    && t["status_code"] == 200
                    && t["cost_nanos"].as_u64().is_some_and(|c| c > 0)
            })
            .count();
        assert!(costed >= 2, "{provider}: only {costed} costed traces");
    }
}
