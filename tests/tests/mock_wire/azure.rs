//! Azure OpenAI: OpenAI's chat format on deployment and v1 paths, key in `api-key`.

use ai_proxy_tests::mock::{self, Endpoint, MockUpstream, Provider};
use reqwest::StatusCode;
use serde_json::json;

use super::{get, post};

const KEY: (&str, &str) = ("api-key", "azure-test-key");
const DEPLOYMENT_CHAT: &str = "/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21";

#[tokio::test]
async fn deployment_chat_echoes_the_body_model_or_else_the_deployment() {
    let mock = MockUpstream::start().await;

    let named = post(
        &mock,
        DEPLOYMENT_CHAT,
        &[KEY],
        &json!({"model": "gpt-x", "messages": []}),
    )
    .await;
    let unnamed = post(&mock, DEPLOYMENT_CHAT, &[KEY], &json!({"messages": []})).await;

    let expected = |model| {
        mock::expected_body(
            Endpoint::ChatCompletions {
                include_usage: false,
            },
            model,
            false,
        )
    };
    assert_eq!(named.status, 200);
    assert_eq!(named.header("content-type"), Some("application/json"));
    assert_eq!(named.body, expected("gpt-x"));
    assert_eq!(unnamed.body, expected("prod-4o"));
}

#[tokio::test]
async fn v1_chat_streams_like_openai_with_usage_when_asked() {
    let mock = MockUpstream::start().await;
    let body = json!({"model": "gpt-x", "stream": true, "stream_options": {"include_usage": true}});

    let answer = post(&mock, "/openai/v1/chat/completions", &[KEY], &body).await;

    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.body,
        mock::expected_body(
            Endpoint::ChatCompletions {
                include_usage: true
            },
            "gpt-x",
            true
        )
    );
}

#[tokio::test]
async fn requests_without_api_key_are_refused_even_with_a_bearer_token() {
    let mock = MockUpstream::start().await;
    let bearer = [("authorization", "Bearer azure-test-key")];

    let chat = post(&mock, DEPLOYMENT_CHAT, &bearer, &json!({"model": "m"})).await;
    let models = get(&mock, "/openai/v1/models", &bearer).await;

    assert_eq!(chat.status, 401);
    assert_eq!(
        chat.body,
        mock::error_body(Provider::Azure, StatusCode::UNAUTHORIZED).into_bytes()
    );
    assert_eq!(models.status, 401);
}

#[tokio::test]
async fn deployment_path_without_api_version_is_not_found() {
    let mock = MockUpstream::start().await;

    let answer = post(
        &mock,
        "/openai/deployments/prod-4o/chat/completions",
        &[KEY],
        &json!({"model": "m"}),
    )
    .await;

    assert_eq!(answer.status, 404);
}

#[tokio::test]
async fn key_prefix_switch_answers_azure_429_with_retry_after() {
    let mock = MockUpstream::start().await;

    let answer = post(
        &mock,
        DEPLOYMENT_CHAT,
        &[("api-key", "mock-429")],
        &json!({"model": "m"}),
    )
    .await;

    assert_eq!(answer.status, 429);
    assert_eq!(answer.header("retry-after"), Some("3"));
    assert_eq!(answer.json()["error"]["code"], "429");
}

#[tokio::test]
async fn v1_models_lists_openai_models() {
    let mock = MockUpstream::start().await;

    let answer = get(&mock, "/openai/v1/models", &[KEY]).await;

    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, mock::expected_models_body(Provider::Azure));
}
