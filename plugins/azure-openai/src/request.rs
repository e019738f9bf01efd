//! `inspect` and `prepare`: Azure's paths, the deployment as the model, and
//! the key in `api-key`.
//!
//! Three path families reach this plugin:
//! - deployment paths, `/openai/deployments/{deployment}/{operation}`: the
//!   deployment names the model, and Azure refuses them without an
//!   `api-version` query parameter, so [`DEFAULT_API_VERSION`] is added when
//!   the client sent none;
//! - the v1 API, `/openai/v1/{operation}`: the model is in the body and no
//!   `api-version` is needed;
//! - plain OpenAI paths, `/v1/{operation}` (what an OpenAI SDK pointed at the
//!   gateway calls): rewritten to the v1 API.
//!
//! Streamed completions get `stream_options.include_usage` (Azure honours it
//! since API version 2024-09-01-preview) so every stream can be counted.

use ai_proxy_sdk::endpoints::{Endpoint, EndpointClass};
use ai_proxy_sdk::{OutboundRequest, PluginError, RequestFacts, RequestHead, http, openai};

use crate::KEY_HEADER;

/// The newest generally available data-plane API version, sent when a
/// deployment request names none.
pub const DEFAULT_API_VERSION: &str = "2024-10-21";

/// The v1 API's model list, used as the health probe.
pub const V1_MODELS: &str = "/openai/v1/models";

const DEPLOYMENTS_PREFIX: &str = "/openai/deployments/";
const V1_PREFIX: &str = "/openai/v1/";
const OPENAI_PREFIX: &str = "/v1/";

/// Azure OpenAI's endpoints and their classes: deployment paths, the v1
/// API under `/openai/v1/`, and OpenAI's own paths (served on the v1 API).
pub fn endpoints() -> Vec<Endpoint> {
    use EndpointClass::*;
    let mut table = Vec::new();
    for (path, class) in [
        ("chat/completions", Inference),
        ("completions", Inference),
        ("embeddings", Embeddings),
        ("images/generations", Inference),
        ("audio/speech", Inference),
        ("audio/transcriptions", Inference),
        ("audio/translations", Inference),
    ] {
        table.push(Endpoint::new(
            "POST",
            &format!("{DEPLOYMENTS_PREFIX}*/{path}"),
            class,
        ));
    }
    for endpoint in openai::endpoints() {
        let v1 = endpoint.path.replacen(OPENAI_PREFIX, V1_PREFIX, 1);
        table.push(Endpoint::new(&endpoint.method, &v1, endpoint.class));
        table.push(endpoint);
    }
    table.push(Endpoint::new("GET", "/openai/models", Models));
    table.push(Endpoint::new("*", "/openai/files/**", Files));
    table.push(Endpoint::new("*", "/openai/batches/**", Batches));
    table.push(Endpoint::new("*", "/openai/fine_tuning/**", FineTuning));
    table
}

/// The model (the deployment, on deployment paths; the body's `model`
/// otherwise) and the stream flag.
pub fn inspect(head: &RequestHead, body: &[u8]) -> Result<RequestFacts, PluginError> {
    let mut facts = openai::inspect(head, body)?;
    if let Some(deployment) = deployment(&head.path)? {
        facts.model = Some(deployment.to_owned());
    }
    Ok(facts)
}

/// The upstream request: the key in `api-key`, the path on Azure's API,
/// and usage asked for on streamed completions.
pub fn prepare(
    head: RequestHead,
    body: &[u8],
    credential: &str,
) -> Result<OutboundRequest, PluginError> {
    let new_body = openai::ask_for_stream_usage(&head, body)?;
    let path = upstream_path(&head.path)?;
    let RequestHead { mut headers, .. } = head;
    http::remove_header(&mut headers, "authorization");
    http::set_header(&mut headers, KEY_HEADER, credential);
    Ok(OutboundRequest {
        path,
        headers,
        body: new_body,
    })
}

/// The deployment named by a deployment path; `None` on other paths, an
/// error when the name is missing.
fn deployment(path: &str) -> Result<Option<&str>, PluginError> {
    let Some(rest) = http::path_only(path).strip_prefix(DEPLOYMENTS_PREFIX) else {
        return Ok(None);
    };
    match rest.split('/').next() {
        Some(name) if !name.is_empty() => Ok(Some(name)),
        _ => Err(PluginError::BadRequest(
            "the path names no deployment: use /openai/deployments/{deployment}/...".to_owned(),
        )),
    }
}

/// The path to request from Azure for the client's `path`.
fn upstream_path(path: &str) -> Result<String, PluginError> {
    if deployment(path)?.is_some() {
        return Ok(match http::query_param(path, "api-version") {
            Some(version) if !version.is_empty() => path.to_owned(),
            _ => http::set_query_param(path, "api-version", DEFAULT_API_VERSION),
        });
    }
    if path.starts_with(V1_PREFIX) {
        return Ok(path.to_owned());
    }
    if let Some(rest) = path.strip_prefix(OPENAI_PREFIX) {
        return Ok(format!("{V1_PREFIX}{rest}"));
    }
    Err(PluginError::Unsupported(format!(
        "Azure OpenAI serves /openai/deployments/..., /openai/v1/... and /v1/... paths, not {}",
        http::path_only(path)
    )))
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;
    use ai_proxy_sdk::{Header, json};

    fn head(method: &str, path: &str, headers: &[(&str, &str)]) -> RequestHead {
        RequestHead {
            method: method.to_owned(),
            path: path.to_owned(),
            headers: headers
                .iter()
                .map(|(name, value)| Header {
                    name: (*name).to_owned(),
                    value: (*value).to_owned(),
                })
                .collect(),
        }
    }

    fn post(path: &str) -> RequestHead {
        head("POST", path, &[("content-type", "application/json")])
    }

    fn facts(model: Option<&str>, stream: bool) -> RequestFacts {
        RequestFacts {
            model: model.map(str::to_owned),
            stream,
        }
    }

    const DEPLOYMENT_CHAT: &str =
        "/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21";

    #[test]
    fn inspect_deployment_path_takes_the_model_from_the_path() {
        let body = br#"{"messages":[],"stream":true}"#;
        assert_eq!(
            inspect(&post(DEPLOYMENT_CHAT), body),
            Ok(facts(Some("gpt-4o-prod"), true))
        );
    }

    #[test]
    fn inspect_deployment_path_prefers_the_deployment_over_the_body_model() {
        // The AzureOpenAI SDKs repeat the deployment as `model`; Azure routes
        // by the path whatever the body says.
        let body = br#"{"model":"gpt-4o","messages":[]}"#;
        assert_eq!(
            inspect(&post(DEPLOYMENT_CHAT), body),
            Ok(facts(Some("gpt-4o-prod"), false))
        );
    }

    #[test]
    fn inspect_v1_and_openai_paths_take_the_model_from_the_body() {
        let body = br#"{"model":"gpt-4.1-mini","stream":false}"#;
        for path in ["/openai/v1/chat/completions", "/v1/chat/completions"] {
            assert_eq!(
                inspect(&post(path), body),
                Ok(facts(Some("gpt-4.1-mini"), false)),
                "{path}"
            );
        }
    }

    #[test]
    fn inspect_deployment_path_without_a_name_is_bad_request() {
        let got = inspect(&post("/openai/deployments//chat/completions"), b"{}");
        assert!(matches!(got, Err(PluginError::BadRequest(_))), "{got:?}");
    }

    #[test]
    fn inspect_invalid_json_is_bad_request() {
        let got = inspect(&post(DEPLOYMENT_CHAT), b"{\"messages\":");
        assert!(matches!(got, Err(PluginError::BadRequest(_))), "{got:?}");
    }

    #[test]
    fn prepare_puts_the_key_in_api_key_and_drops_authorization() {
        let head = head(
            "POST",
            DEPLOYMENT_CHAT,
            &[
                ("content-type", "application/json"),
                ("Authorization", "Bearer client"),
                ("API-Key", "client-key"),
            ],
        );
        let out = prepare(head, br#"{"messages":[]}"#, "PLACEHOLDER").expect("prepared");
        assert_eq!(http::header(&out.headers, "api-key"), Some("PLACEHOLDER"));
        assert_eq!(
            out.headers
                .iter()
                .filter(|h| h.name.eq_ignore_ascii_case("api-key"))
                .count(),
            1
        );
        assert_eq!(http::header(&out.headers, "authorization"), None);
        assert_eq!(
            http::header(&out.headers, "content-type"),
            Some("application/json")
        );
        assert_eq!(out.path, DEPLOYMENT_CHAT);
        assert_eq!(out.body, None);
    }

    #[test]
    fn prepare_deployment_path_without_api_version_gets_the_default() {
        let out = prepare(
            post("/openai/deployments/d/embeddings?user=x"),
            br#"{"input":"hi"}"#,
            "K",
        )
        .expect("prepared");
        assert_eq!(
            out.path,
            "/openai/deployments/d/embeddings?user=x&api-version=2024-10-21"
        );
        let out = prepare(
            post("/openai/deployments/d/chat/completions?api-version="),
            b"{}",
            "K",
        )
        .expect("prepared");
        assert_eq!(
            out.path,
            "/openai/deployments/d/chat/completions?api-version=2024-10-21"
        );
    }

    #[test]
    fn prepare_keeps_the_clients_api_version() {
        let path = "/openai/deployments/d/chat/completions?api-version=2025-04-01-preview";
        let out = prepare(post(path), b"{}", "K").expect("prepared");
        assert_eq!(out.path, path);
    }

    #[test]
    fn prepare_rewrites_openai_paths_to_the_v1_api() {
        let out = prepare(post("/v1/chat/completions?x=1"), b"{}", "K").expect("prepared");
        assert_eq!(out.path, "/openai/v1/chat/completions?x=1");
        let out = prepare(post("/openai/v1/responses"), b"{}", "K").expect("prepared");
        assert_eq!(out.path, "/openai/v1/responses");
    }

    #[test]
    fn prepare_unknown_path_is_unsupported() {
        let got = prepare(post("/v1beta/models/x:generateContent"), b"{}", "K");
        assert!(matches!(got, Err(PluginError::Unsupported(_))), "{got:?}");
    }

    #[test]
    fn prepare_streamed_chat_asks_for_usage_on_both_path_kinds() {
        let body = br#"{"model":"gpt-4o","stream":true,"messages":[]}"#;
        for path in [DEPLOYMENT_CHAT, "/openai/v1/chat/completions"] {
            let out = prepare(post(path), body, "K").expect("prepared");
            let value = json::parse(out.body.as_deref().expect("a rewritten body")).expect("JSON");
            assert!(
                json::bool_at(&value, &["stream_options", "include_usage"]),
                "{path}"
            );
            assert_eq!(json::str_at(&value, &["model"]), Some("gpt-4o"));
        }
    }

    #[test]
    fn prepare_probe_path_is_kept() {
        let out = prepare(head("GET", V1_MODELS, &[]), b"", "K").expect("prepared");
        assert_eq!(out.path, V1_MODELS);
        assert_eq!(
            out.headers,
            vec![Header {
                name: "api-key".into(),
                value: "K".into()
            }]
        );
    }
}
