//! A test fixture, never to be deployed: the built-in OpenAI provider
//! published as version 0.3.0 of plugin `openai` with the classic parser
//! bug: it forgets the cached prompt tokens (`prompt_tokens_details.
//! cached_tokens`), so every request with a cache hit is priced as if
//! nothing was cached. Shadow-mode tests put it beside the serving version
//! and expect the disagreement to be reported; everything else (model,
//! error classes, prepared requests) is the OpenAI plugin's.

use ai_proxy_sdk::{
    ErrorClass, Header, OutboundRequest, PluginError, Price, Provider, ProviderInfo, RequestFacts,
    RequestHead, SseEvent, Usage,
};
use plugin_openai::OpenAi;

/// The version this fixture reports.
pub const VERSION: &str = "0.3.0";

pub struct OpenAiMiscount;

/// The usage with the cached prompt tokens forgotten.
fn forget_cache(usage: Usage) -> Usage {
    Usage {
        cached_input_tokens: 0,
        ..usage
    }
}

impl Provider for OpenAiMiscount {
    fn endpoints() -> Vec<ai_proxy_sdk::endpoints::Endpoint> {
        OpenAi::endpoints()
    }

    fn info() -> ProviderInfo {
        ProviderInfo {
            version: VERSION.to_owned(),
            ..OpenAi::info()
        }
    }

    fn inspect(head: &RequestHead, body: &[u8]) -> Result<RequestFacts, PluginError> {
        OpenAi::inspect(head, body)
    }

    fn prepare(
        head: RequestHead,
        body: Vec<u8>,
        credential: &str,
    ) -> Result<OutboundRequest, PluginError> {
        OpenAi::prepare(head, body, credential)
    }

    fn body_usage(body: &[u8]) -> Option<Usage> {
        OpenAi::body_usage(body).map(forget_cache)
    }

    fn stream_event(event: &SseEvent, usage: &mut Option<Usage>) {
        OpenAi::stream_event(event, usage);
        *usage = usage.take().map(forget_cache);
    }

    fn default_prices() -> Vec<Price> {
        OpenAi::default_prices()
    }

    fn classify(status: u16, headers: &[Header], body: &[u8]) -> ErrorClass {
        OpenAi::classify(status, headers, body)
    }
}

ai_proxy_sdk::export_provider!(OpenAiMiscount);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_tokens_are_forgotten_and_nothing_else_changes() {
        let body = br#"{"usage":{"prompt_tokens":37,"completion_tokens":29,"prompt_tokens_details":{"cached_tokens":13}}}"#;
        let right = OpenAi::body_usage(body).expect("usage");
        let wrong = OpenAiMiscount::body_usage(body).expect("usage");
        assert_eq!(right.cached_input_tokens, 13);
        assert_eq!(wrong.cached_input_tokens, 0);
        assert_eq!(
            (wrong.input_tokens, wrong.output_tokens),
            (right.input_tokens, right.output_tokens)
        );
    }
}
