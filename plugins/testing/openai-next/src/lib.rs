//! A test fixture, never to be deployed: the built-in OpenAI provider
//! published as version 0.2.0 of plugin `openai`, so the gateway's tests
//! can upload a second version of a real plugin. It differs in two ways:
//!
//! - `prepare` adds `x-plugin-version: 0.2.0` to the upstream request, so
//!   a test can see which version prepared each request;
//! - `inspect` traps when the body contains [`TRAP_MARKER`], so a test can
//!   make this version fail on demand.

use ai_proxy_sdk::{
    ErrorClass, Header, OutboundRequest, PluginError, Price, Provider, ProviderInfo, RequestFacts,
    RequestHead, SseEvent, Usage,
};
use plugin_openai::OpenAi;

/// The version this fixture reports.
pub const VERSION: &str = "0.2.0";
/// A request body containing this makes `inspect` trap.
pub const TRAP_MARKER: &str = "openai-next-trap";

pub struct OpenAiNext;

impl Provider for OpenAiNext {
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
        if body
            .windows(TRAP_MARKER.len())
            .any(|w| w == TRAP_MARKER.as_bytes())
        {
            std::process::abort();
        }
        OpenAi::inspect(head, body)
    }

    fn prepare(
        head: RequestHead,
        body: Vec<u8>,
        credential: &str,
    ) -> Result<OutboundRequest, PluginError> {
        let mut out = OpenAi::prepare(head, body, credential)?;
        out.headers.push(Header {
            name: "x-plugin-version".to_owned(),
            value: VERSION.to_owned(),
        });
        Ok(out)
    }

    fn body_usage(body: &[u8]) -> Option<Usage> {
        OpenAi::body_usage(body)
    }

    fn stream_event(event: &SseEvent, usage: &mut Option<Usage>) {
        OpenAi::stream_event(event, usage);
    }

    fn generated_bytes(event: &SseEvent) -> usize {
        OpenAi::generated_bytes(event)
    }

    fn terminal_event(
        stream: &ai_proxy_sdk::StreamState,
        reason: ai_proxy_sdk::EndReason,
    ) -> Vec<u8> {
        OpenAi::terminal_event(stream, reason)
    }

    fn default_prices() -> Vec<Price> {
        OpenAi::default_prices()
    }

    fn classify(status: u16, headers: &[Header], body: &[u8]) -> ErrorClass {
        OpenAi::classify(status, headers, body)
    }
}

ai_proxy_sdk::export_provider!(OpenAiNext);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_is_openai_at_the_next_version_and_marks_what_it_prepares() {
        let info = OpenAiNext::info();
        assert_eq!(
            (info.name.as_str(), info.version.as_str()),
            ("openai", VERSION)
        );
        let head = RequestHead {
            method: "POST".into(),
            path: "/v1/chat/completions".into(),
            headers: vec![],
        };
        let out = OpenAiNext::prepare(head, br#"{"model":"m","messages":[]}"#.to_vec(), "KEY")
            .expect("prepare");
        assert!(
            out.headers
                .iter()
                .any(|h| h.name == "x-plugin-version" && h.value == VERSION)
        );
    }
}
