//! `inspect` and `prepare`: the model and stream flag from the JSON body,
//! the credential in `x-api-key`.
//!
//! `anthropic-version` and `anthropic-beta` pass through as the client sent
//! them (they change the wire format the client expects back); a request
//! without `anthropic-version` gets [`DEFAULT_API_VERSION`], which Anthropic
//! otherwise refuses.

use ai_proxy_sdk::endpoints::{Endpoint, EndpointClass};
use ai_proxy_sdk::{OutboundRequest, PluginError, RequestFacts, RequestHead, http};

use crate::DEFAULT_API_VERSION;

/// The model and stream flag of a request; bodies that are not JSON are
/// refused only when the client said they were JSON.
pub fn inspect(head: &RequestHead, body: &[u8]) -> Result<RequestFacts, PluginError> {
    ai_proxy_sdk::inspect::json_body(head, body)
}

/// Anthropic's endpoints and their classes.
pub fn endpoints() -> Vec<Endpoint> {
    use EndpointClass::*;
    vec![
        Endpoint::new("POST", "/v1/messages", Inference),
        Endpoint::new("POST", "/v1/messages/count_tokens", TokenCounting),
        Endpoint::new("*", "/v1/messages/batches/**", Batches),
        Endpoint::new("POST", "/v1/complete", Inference),
        Endpoint::new("GET", "/v1/models", Models),
        Endpoint::new("GET", "/v1/models/*", Models),
        Endpoint::new("*", "/v1/files/**", Files),
    ]
}

/// The client's request with `x-api-key` set and no `authorization`.
pub fn prepare(head: RequestHead, credential: &str) -> OutboundRequest {
    let RequestHead {
        path, mut headers, ..
    } = head;
    http::remove_header(&mut headers, "authorization");
    http::set_header(&mut headers, "x-api-key", credential);
    if http::header(&headers, "anthropic-version").is_none() {
        http::set_header(&mut headers, "anthropic-version", DEFAULT_API_VERSION);
    }
    OutboundRequest {
        path,
        headers,
        body: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ai_proxy_sdk::Header;

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
        head(
            "POST",
            path,
            &[
                ("content-type", "application/json"),
                ("anthropic-version", "2023-06-01"),
            ],
        )
    }

    fn facts(model: Option<&str>, stream: bool) -> RequestFacts {
        RequestFacts {
            model: model.map(str::to_owned),
            stream,
        }
    }

    #[test]
    fn inspect_messages_reads_model_and_stream() {
        let body = br#"{"model":"claude-sonnet-4-5-20250929","max_tokens":1024,"stream":true,"messages":[{"role":"user","content":"Hello"}]}"#;
        assert_eq!(
            inspect(&post("/v1/messages"), body),
            Ok(facts(Some("claude-sonnet-4-5-20250929"), true))
        );
    }

    #[test]
    fn inspect_count_tokens_is_not_streamed() {
        let body = br#"{"model":"claude-opus-4-1","messages":[{"role":"user","content":"Hi"}]}"#;
        assert_eq!(
            inspect(&post("/v1/messages/count_tokens"), body),
            Ok(facts(Some("claude-opus-4-1"), false))
        );
    }

    #[test]
    fn inspect_get_without_body_has_no_model() {
        assert_eq!(
            inspect(&head("GET", "/v1/models?limit=20", &[]), b""),
            Ok(facts(None, false))
        );
    }

    #[test]
    fn inspect_invalid_json_with_json_content_type_is_bad_request() {
        let expected = PluginError::BadRequest("request body is not valid JSON".to_owned());
        assert_eq!(
            inspect(&post("/v1/messages"), b"{\"model\": \"claude"),
            Err(expected)
        );
    }

    #[test]
    fn inspect_non_json_without_json_content_type_has_no_model() {
        let upload = head(
            "POST",
            "/v1/files",
            &[("content-type", "multipart/form-data; boundary=b")],
        );
        assert_eq!(inspect(&upload, b"--b\r\n"), Ok(facts(None, false)));
    }

    #[test]
    fn inspect_non_string_model_is_bad_request() {
        assert!(matches!(
            inspect(&post("/v1/messages"), br#"{"model":["a"]}"#),
            Err(PluginError::BadRequest(_))
        ));
    }

    #[test]
    fn prepare_sets_x_api_key_and_drops_authorization() {
        let client = head(
            "POST",
            "/v1/messages?beta=true",
            &[
                ("Authorization", "Bearer client-token"),
                ("content-type", "application/json"),
                ("anthropic-version", "2023-06-01"),
                (
                    "anthropic-beta",
                    "prompt-caching-2024-07-31,output-128k-2025-02-19",
                ),
            ],
        );
        let out = prepare(client, "PLACEHOLDER");
        assert_eq!(out.path, "/v1/messages?beta=true");
        assert_eq!(out.body, None);
        assert_eq!(http::header(&out.headers, "authorization"), None);
        assert_eq!(http::header(&out.headers, "x-api-key"), Some("PLACEHOLDER"));
        assert_eq!(
            http::header(&out.headers, "anthropic-version"),
            Some("2023-06-01")
        );
        assert_eq!(
            http::header(&out.headers, "anthropic-beta"),
            Some("prompt-caching-2024-07-31,output-128k-2025-02-19")
        );
        assert_eq!(
            http::header(&out.headers, "content-type"),
            Some("application/json")
        );
    }

    #[test]
    fn prepare_replaces_a_client_x_api_key() {
        let out = prepare(
            head("POST", "/v1/messages", &[("X-Api-Key", "client")]),
            "K",
        );
        let keys: Vec<&str> = out
            .headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case("x-api-key"))
            .map(|h| h.value.as_str())
            .collect();
        assert_eq!(keys, ["K"]);
    }

    #[test]
    fn prepare_adds_default_version_when_missing() {
        let out = prepare(head("GET", "/v1/models", &[]), "K");
        assert_eq!(
            http::header(&out.headers, "anthropic-version"),
            Some(DEFAULT_API_VERSION)
        );
    }

    #[test]
    fn prepare_keeps_a_client_version_as_sent() {
        let out = prepare(
            head(
                "POST",
                "/v1/messages",
                &[("Anthropic-Version", "2024-01-01")],
            ),
            "K",
        );
        let versions: Vec<&str> = out
            .headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case("anthropic-version"))
            .map(|h| h.value.as_str())
            .collect();
        assert_eq!(versions, ["2024-01-01"]);
    }
}
