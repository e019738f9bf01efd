//! A test fixture, never to be deployed: the built-in Anthropic provider
//! published as version 0.2.0 of plugin `anthropic`, with the bug every
//! peer gateway has shipped once: it ignores `cache_read_input_tokens`,
//! so prompt-cache reads are neither counted as input nor billed at the
//! cache rate. Everything else is the real plugin. The conformance
//! vectors of `plugins/anthropic/vectors` must refuse it at upload and
//! name `usage.cached_input_tokens`.

use ai_proxy_sdk::endpoints::Endpoint;
use ai_proxy_sdk::{
    EndReason, ErrorClass, Header, OutboundRequest, PluginError, Price, Provider, ProviderInfo,
    RequestFacts, RequestHead, SseEvent, StreamState, Usage,
};
use plugin_anthropic::Anthropic;

/// The version this fixture reports.
pub const VERSION: &str = "0.2.0";

pub struct AnthropicNoCache;

/// `usage` as a parser that never read `cache_read_input_tokens` sees it.
fn drop_cache_reads(usage: Option<Usage>) -> Option<Usage> {
    usage.map(|u| Usage {
        input_tokens: u.input_tokens - u.cached_input_tokens.min(u.input_tokens),
        cached_input_tokens: 0,
        ..u
    })
}

impl Provider for AnthropicNoCache {
    fn endpoints() -> Vec<Endpoint> {
        Anthropic::endpoints()
    }

    fn info() -> ProviderInfo {
        ProviderInfo {
            version: VERSION.to_owned(),
            ..Anthropic::info()
        }
    }

    fn inspect(head: &RequestHead, body: &[u8]) -> Result<RequestFacts, PluginError> {
        Anthropic::inspect(head, body)
    }

    fn prepare(
        head: RequestHead,
        body: Vec<u8>,
        credential: &str,
    ) -> Result<OutboundRequest, PluginError> {
        Anthropic::prepare(head, body, credential)
    }

    fn body_usage(body: &[u8]) -> Option<Usage> {
        drop_cache_reads(Anthropic::body_usage(body))
    }

    fn stream_event(event: &SseEvent, usage: &mut Option<Usage>) {
        Anthropic::stream_event(event, usage);
        *usage = drop_cache_reads(usage.take());
    }

    fn generated_bytes(event: &SseEvent) -> usize {
        Anthropic::generated_bytes(event)
    }

    fn terminal_event(stream: &StreamState, reason: EndReason) -> Vec<u8> {
        Anthropic::terminal_event(stream, reason)
    }

    fn default_prices() -> Vec<Price> {
        Anthropic::default_prices()
    }

    fn classify(status: u16, headers: &[Header], body: &[u8]) -> ErrorClass {
        Anthropic::classify(status, headers, body)
    }
}

ai_proxy_sdk::export_provider!(AnthropicNoCache);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_is_anthropic_at_the_next_version_without_cache_reads() {
        let info = AnthropicNoCache::info();
        assert_eq!(
            (info.name.as_str(), info.version.as_str()),
            ("anthropic", VERSION)
        );
        let body =
            br#"{"usage":{"input_tokens":12,"cache_read_input_tokens":8000,"output_tokens":5}}"#;
        let usage =
            AnthropicNoCache::body_usage(body).map(|u| (u.input_tokens, u.cached_input_tokens));
        assert_eq!(usage, Some((12, 0)));
    }
}
