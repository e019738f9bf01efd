//! A provider plugin for Azure OpenAI (`{resource}.openai.azure.com`),
//! written only against the public `ai-proxy-sdk`: the gateway's core knows
//! nothing about Azure.
//!
//! What differs from OpenAI, and lives here:
//! - the credential goes in the `api-key` header;
//! - requests name a deployment, not a model:
//!   `/openai/deployments/{deployment}/chat/completions?api-version=...`
//!   (the deployment is the request's model, and an `api-version` is added
//!   when the client sent none), or the newer v1 API
//!   `/openai/v1/chat/completions` with the model in the body. Plain OpenAI
//!   paths (`/v1/...`, as the OpenAI SDKs call them) are rewritten to the v1
//!   API, so either kind of client works;
//! - error bodies and codes (`content_filter`, `DeploymentNotFound`, 429
//!   messages that say how long to wait).
//!
//! Usage, the stream-usage opt-in and cost are the OpenAI format's, taken
//! from [`ai_proxy_sdk::openai`] and [`ai_proxy_sdk::price`].

mod errors;
mod prices;
mod request;

use ai_proxy_sdk::endpoints::Endpoint;
use ai_proxy_sdk::{
    CredentialStyle, EndReason, ErrorClass, Header, HealthProbe, OutboundRequest, PluginError,
    Price, Provider, ProviderInfo, RequestFacts, RequestHead, SseEvent, StreamState, Usage, openai,
    stream_end,
};

/// The Azure OpenAI provider.
pub struct AzureOpenAi;

/// The header Azure reads the resource key from.
pub const KEY_HEADER: &str = "api-key";

impl Provider for AzureOpenAi {
    fn endpoints() -> Vec<Endpoint> {
        request::endpoints()
    }

    fn info() -> ProviderInfo {
        ProviderInfo {
            name: "azure-openai".to_owned(),
            version: "0.1.0".to_owned(),
            // Every Azure resource has its own host: operators set the
            // provider's base URL to theirs.
            default_base_url: "https://YOUR-RESOURCE.openai.azure.com".to_owned(),
            credential: CredentialStyle::Header(KEY_HEADER.to_owned()),
            health_probe: Some(HealthProbe {
                method: "GET".to_owned(),
                path: request::V1_MODELS.to_owned(),
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
        openai::usage_from_body(body)
    }

    fn stream_event(event: &SseEvent, usage: &mut Option<Usage>) {
        openai::usage_from_event(event, usage);
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

ai_proxy_sdk::export_provider!(AzureOpenAi);

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;
    use ai_proxy_sdk::testing::assert_stream_usage;

    const CHAT: &[u8] = include_bytes!("../fixtures/chat_completion.json");
    const CHAT_STREAM: &[u8] = include_bytes!("../fixtures/chat_stream.sse");
    const CONTENT_FILTER: &[u8] = include_bytes!("../fixtures/error_content_filter.json");

    fn usage(input: u64, output: u64, cached: u64, reasoning: u64) -> Usage {
        Usage {
            input_tokens: input,
            output_tokens: output,
            cached_input_tokens: cached,
            cache_write_tokens: 0,
            reasoning_tokens: reasoning,
        }
    }

    #[test]
    fn info_names_azure_with_api_key_header_and_models_probe() {
        let info = AzureOpenAi::info();
        assert_eq!(info.name, "azure-openai");
        assert_eq!(
            info.credential,
            CredentialStyle::Header("api-key".to_owned())
        );
        let probe = info.health_probe.expect("a health probe");
        assert_eq!(
            (probe.method.as_str(), probe.path.as_str()),
            ("GET", "/openai/v1/models")
        );
        assert!(info.oauth.is_none());
    }

    #[test]
    fn chat_body_with_content_filter_results_reports_usage() {
        assert_eq!(
            AzureOpenAi::body_usage(CHAT),
            Some(usage(1218, 41, 1024, 0))
        );
    }

    #[test]
    fn error_body_has_no_usage() {
        assert_eq!(AzureOpenAi::body_usage(CONTENT_FILTER), None);
    }

    #[test]
    fn chat_stream_with_filter_chunks_reports_final_usage_in_any_split() {
        assert_stream_usage::<AzureOpenAi>(CHAT_STREAM, Some(usage(27, 9, 0, 0)));
    }

    #[test]
    fn stream_without_usage_chunk_reports_none() {
        let stream = b"data: {\"choices\":[],\"prompt_filter_results\":[]}\n\ndata: [DONE]\n\n";
        assert_stream_usage::<AzureOpenAi>(stream, None);
    }

    #[test]
    fn cost_of_a_deployment_named_after_its_model_uses_the_model_price() {
        // gpt-4o-mini: $0.15 in, $0.075 cached, $0.60 out per Mtok.
        let got = AzureOpenAi::cost(
            "gpt-4o-mini",
            &usage(1000, 100, 400, 0),
            &AzureOpenAi::default_prices(),
        );
        assert_eq!(got, Some(600 * 150 + 400 * 75 + 100 * 600));
        assert_eq!(
            AzureOpenAi::cost("my-deployment", &usage(1, 1, 0, 0), &prices::list()),
            None
        );
    }
}
