//! Azure OpenAI (`{resource}.openai.azure.com`): OpenAI's chat wire format on Azure's
//! paths, with the key in `api-key`.
//!
//! - `POST /openai/deployments/{deployment}/chat/completions?api-version=...`: answers
//!   like OpenAI's `POST /v1/chat/completions`, echoing the body's `model` (what the
//!   Azure SDKs send) or else the deployment. Without `api-version` it answers 404, as
//!   Azure does.
//! - `POST /openai/v1/chat/completions`: the v1 API, model in the body.
//! - `GET /openai/v1/models`: OpenAI's model list.
//!
//! Every route wants the key in `api-key`: a request without one is refused with a 401
//! even if it carries `Authorization`, so a test sees which header the gateway used.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value;

use super::errors::error_response;
use super::openai::{chat_completion, chat_events, models_body};
use super::provider::{Provider, query_param};
use super::switches;
use super::wire::{json_response, json_string, sse_response};

const PROVIDER: Provider = Provider::Azure;

/// `POST /openai/deployments/{deployment}/chat/completions`.
pub(crate) async fn deployment_chat(
    Path(deployment): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let has_version = query
        .as_deref()
        .and_then(|query| query_param(query, "api-version"))
        .is_some_and(|version| !version.is_empty());
    if !has_version {
        return error_response(PROVIDER, StatusCode::NOT_FOUND);
    }
    chat(&headers, &body, Some(&deployment)).await
}

/// `POST /openai/v1/chat/completions`.
pub(crate) async fn v1_chat(headers: HeaderMap, body: Bytes) -> Response {
    chat(&headers, &body, None).await
}

/// `GET /openai/v1/models`.
pub(crate) async fn v1_models(headers: HeaderMap) -> Response {
    if let Err(status) = check(&headers).await {
        return error_response(PROVIDER, status);
    }
    json_response(PROVIDER, models_body())
}

/// A chat completion, JSON or streamed, for the body's model or `deployment`.
async fn chat(headers: &HeaderMap, body: &[u8], deployment: Option<&str>) -> Response {
    let pacing = match check(headers).await {
        Ok(pacing) => pacing,
        Err(status) => return error_response(PROVIDER, status),
    };
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return error_response(PROVIDER, StatusCode::BAD_REQUEST);
    };
    let Some(model) = request["model"].as_str().or(deployment) else {
        return error_response(PROVIDER, StatusCode::BAD_REQUEST);
    };
    let model = json_string(model);
    if request["stream"] == true {
        let include_usage = request["stream_options"]["include_usage"] == true;
        sse_response(PROVIDER, chat_events(&model, include_usage), pacing)
    } else {
        json_response(PROVIDER, chat_completion(&model))
    }
}

/// The switches, after insisting on an `api-key`.
async fn check(headers: &HeaderMap) -> Result<switches::Pacing, StatusCode> {
    if PROVIDER.credential(headers, None).is_none() {
        return Err(StatusCode::UNAUTHORIZED);
    }
    switches::apply(PROVIDER, headers, None).await
}
