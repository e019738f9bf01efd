//! The built-in provider plugin for the OpenAI API (`api.openai.com`).
//!
//! It serves the chat completions, legacy completions, Responses and
//! embeddings endpoints (and passes any other path through untouched). The
//! model and the stream flag come from the JSON body; the credential goes in
//! `authorization: Bearer`. Streamed chat completions are rewritten to ask
//! for a final usage chunk, so every stream the gateway forwards can be
//! counted.
//!
//! Built as a WebAssembly component for the gateway and as a plain library
//! for the native unit tests next to each module.

mod errors;
mod prices;
mod request;
mod usage;

use ai_proxy_sdk::endpoints::Endpoint;
use ai_proxy_sdk::{
    CredentialStyle, EndReason, ErrorClass, Header, HealthProbe, OutboundRequest, PluginError,
    Price, Provider, ProviderInfo, RequestFacts, RequestHead, SseEvent, StreamState, Usage,
    stream_end,
};

/// The OpenAI provider.
pub struct OpenAi;

impl Provider for OpenAi {
    fn endpoints() -> Vec<Endpoint> {
        ai_proxy_sdk::openai::endpoints()
    }

    fn info() -> ProviderInfo {
        ProviderInfo {
            name: "openai".to_owned(),
            version: "0.1.0".to_owned(),
            default_base_url: "https://api.openai.com".to_owned(),
            credential: CredentialStyle::Bearer,
            health_probe: Some(HealthProbe {
                method: "GET".to_owned(),
                path: "/v1/models".to_owned(),
                headers: Vec::new(),
                body: Vec::new(),
            }),
            oauth: None,
        }
    }

    fn inspect(head: &RequestHead, body: &[u8]) -> Result<RequestFacts, PluginError> {
        request::inspect(head, body)
    }

    fn prepare(
        head: RequestHead,
        body: Vec<u8>,
        credential: &str,
    ) -> Result<OutboundRequest, PluginError> {
        request::prepare(head, &body, credential)
    }

    fn body_usage(body: &[u8]) -> Option<Usage> {
        usage::from_body(body)
    }

    fn stream_event(event: &SseEvent, usage: &mut Option<Usage>) {
        usage::from_event(event, usage);
    }

    fn generated_bytes(event: &SseEvent) -> usize {
        stream_end::openai_generated_bytes(event)
    }

    fn terminal_event(stream: &StreamState, reason: EndReason) -> Vec<u8> {
        stream_end::openai_terminal_event(stream, reason)
    }

    fn default_prices() -> Vec<Price> {
        prices::list()
    }

    fn classify(status: u16, headers: &[Header], body: &[u8]) -> ErrorClass {
        errors::classify(status, headers, body)
    }
}

#[cfg(feature = "export")]
ai_proxy_sdk::export_provider!(OpenAi);

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn info_names_openai_with_bearer_and_models_probe() {
        let info = OpenAi::info();
        assert_eq!(info.name, "openai");
        assert_eq!(info.version, "0.1.0");
        assert_eq!(info.default_base_url, "https://api.openai.com");
        assert_eq!(info.credential, CredentialStyle::Bearer);
        let probe = info.health_probe.expect("a health probe");
        assert_eq!(
            (probe.method.as_str(), probe.path.as_str()),
            ("GET", "/v1/models")
        );
        assert!(probe.body.is_empty());
        assert!(info.oauth.is_none());
    }
}
