//! The built-in provider plugin for the Anthropic Messages API
//! (`api.anthropic.com`).
//!
//! The model and the stream flag come from the JSON body of `/v1/messages`
//! (and `/v1/messages/count_tokens`); the credential goes in `x-api-key`,
//! with an `anthropic-version` header added when the client sent none.
//! Anthropic reports cache reads and cache writes apart from `input_tokens`;
//! this plugin folds cache reads into the gateway's input count and keeps
//! cache writes apart, as the `usage` contract wants.
//!
//! Built as a WebAssembly component for the gateway and as a plain library
//! for the native unit tests next to each module.

mod errors;
mod prices;
mod request;
mod stream_end;
mod usage;

use ai_proxy_sdk::endpoints::Endpoint;
use ai_proxy_sdk::{
    CredentialStyle, EndReason, ErrorClass, Header, HealthProbe, OauthEndpoints, OutboundRequest,
    PluginError, Price, Provider, ProviderInfo, RequestFacts, RequestHead, SseEvent, StreamState,
    Usage,
};

/// The API version sent when the client names none, and by the health probe.
pub const DEFAULT_API_VERSION: &str = "2023-06-01";

/// The Anthropic provider.
pub struct Anthropic;

impl Provider for Anthropic {
    fn endpoints() -> Vec<Endpoint> {
        request::endpoints()
    }

    fn info() -> ProviderInfo {
        ProviderInfo {
            name: "anthropic".to_owned(),
            version: "0.1.0".to_owned(),
            default_base_url: "https://api.anthropic.com".to_owned(),
            credential: CredentialStyle::Header("x-api-key".to_owned()),
            health_probe: Some(HealthProbe {
                method: "GET".to_owned(),
                path: "/v1/models".to_owned(),
                headers: vec![Header {
                    name: "anthropic-version".to_owned(),
                    value: DEFAULT_API_VERSION.to_owned(),
                }],
                body: Vec::new(),
            }),
            oauth: Some(OauthEndpoints {
                authorize_url: "https://claude.ai/oauth/authorize".to_owned(),
                token_url: "https://console.anthropic.com/v1/oauth/token".to_owned(),
                client_id: "9d1c250a-e61b-44d9-88ed-5944d1962f5e".to_owned(),
                scopes: ["org:create_api_key", "user:profile", "user:inference"]
                    .map(str::to_owned)
                    .to_vec(),
                extra_params: vec![("code".to_owned(), "true".to_owned())],
            }),
        }
    }

    fn inspect(head: &RequestHead, body: &[u8]) -> Result<RequestFacts, PluginError> {
        request::inspect(head, body)
    }

    fn prepare(
        head: RequestHead,
        _body: Vec<u8>,
        credential: &str,
    ) -> Result<OutboundRequest, PluginError> {
        Ok(request::prepare(head, credential))
    }

    fn body_usage(body: &[u8]) -> Option<Usage> {
        usage::from_body(body)
    }

    fn stream_event(event: &SseEvent, usage: &mut Option<Usage>) {
        usage::from_event(event, usage);
    }

    fn generated_bytes(event: &SseEvent) -> usize {
        stream_end::generated_bytes(event)
    }

    fn terminal_event(stream: &StreamState, reason: EndReason) -> Vec<u8> {
        stream_end::terminal_event(stream, reason)
    }

    fn default_prices() -> Vec<Price> {
        prices::list()
    }

    fn classify(status: u16, headers: &[Header], body: &[u8]) -> ErrorClass {
        errors::classify(status, headers, body)
    }
}

#[cfg(feature = "export")]
ai_proxy_sdk::export_provider!(Anthropic);

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn info_names_anthropic_with_x_api_key_and_versioned_probe() {
        let info = Anthropic::info();
        assert_eq!(info.name, "anthropic");
        assert_eq!(info.default_base_url, "https://api.anthropic.com");
        assert_eq!(
            info.credential,
            CredentialStyle::Header("x-api-key".to_owned())
        );
        let probe = info.health_probe.expect("a health probe");
        assert_eq!(
            (probe.method.as_str(), probe.path.as_str()),
            ("GET", "/v1/models")
        );
        assert_eq!(
            probe.headers,
            vec![Header {
                name: "anthropic-version".into(),
                value: "2023-06-01".into()
            }]
        );
    }

    #[test]
    fn info_oauth_uses_claude_endpoints_with_code_param() {
        let oauth = Anthropic::info().oauth.expect("oauth endpoints");
        assert_eq!(oauth.authorize_url, "https://claude.ai/oauth/authorize");
        assert_eq!(
            oauth.token_url,
            "https://console.anthropic.com/v1/oauth/token"
        );
        assert_eq!(oauth.client_id, "9d1c250a-e61b-44d9-88ed-5944d1962f5e");
        assert_eq!(
            oauth.scopes,
            ["org:create_api_key", "user:profile", "user:inference"]
        );
        assert_eq!(oauth.extra_params, [("code".to_owned(), "true".to_owned())]);
    }
}
