//! The built-in provider plugin for the Google Gemini API
//! (`generativelanguage.googleapis.com`).
//!
//! Gemini names the model and the method in the path
//! (`/v1beta/models/{model}:{method}`), not the body; a request streams
//! server-sent events when the method is `streamGenerateContent` and the
//! query says `alt=sse` (without it, Gemini streams one JSON array, which the
//! gateway reads as a whole body). The credential goes in `x-goog-api-key`.
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

/// The Gemini provider.
pub struct Gemini;

impl Provider for Gemini {
    fn endpoints() -> Vec<Endpoint> {
        request::endpoints()
    }

    fn info() -> ProviderInfo {
        ProviderInfo {
            name: "gemini".to_owned(),
            version: "0.1.0".to_owned(),
            default_base_url: "https://generativelanguage.googleapis.com".to_owned(),
            credential: CredentialStyle::Header("x-goog-api-key".to_owned()),
            health_probe: Some(HealthProbe {
                method: "GET".to_owned(),
                path: "/v1beta/models".to_owned(),
                headers: Vec::new(),
                body: Vec::new(),
            }),
            oauth: Some(OauthEndpoints {
                authorize_url: "https://accounts.google.com/o/oauth2/v2/auth".to_owned(),
                token_url: "https://oauth2.googleapis.com/token".to_owned(),
                client_id:
                    "681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps.googleusercontent.com"
                        .to_owned(),
                scopes: [
                    "https://www.googleapis.com/auth/cloud-platform",
                    "https://www.googleapis.com/auth/userinfo.email",
                ]
                .map(str::to_owned)
                .to_vec(),
                extra_params: [("access_type", "offline"), ("prompt", "consent")]
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .to_vec(),
            }),
        }
    }

    fn inspect(head: &RequestHead, _body: &[u8]) -> Result<RequestFacts, PluginError> {
        Ok(request::inspect(head))
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

ai_proxy_sdk::export_provider!(Gemini);

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn info_names_gemini_with_goog_api_key_and_models_probe() {
        let info = Gemini::info();
        assert_eq!(info.name, "gemini");
        assert_eq!(
            info.default_base_url,
            "https://generativelanguage.googleapis.com"
        );
        assert_eq!(
            info.credential,
            CredentialStyle::Header("x-goog-api-key".to_owned())
        );
        let probe = info.health_probe.expect("a health probe");
        assert_eq!(
            (probe.method.as_str(), probe.path.as_str()),
            ("GET", "/v1beta/models")
        );
    }

    #[test]
    fn info_oauth_uses_google_endpoints_with_offline_consent() {
        let oauth = Gemini::info().oauth.expect("oauth endpoints");
        assert_eq!(
            oauth.authorize_url,
            "https://accounts.google.com/o/oauth2/v2/auth"
        );
        assert_eq!(oauth.token_url, "https://oauth2.googleapis.com/token");
        assert!(oauth.client_id.ends_with(".apps.googleusercontent.com"));
        assert_eq!(oauth.scopes.len(), 2);
        assert_eq!(
            oauth.extra_params,
            [
                ("access_type".to_owned(), "offline".to_owned()),
                ("prompt".to_owned(), "consent".to_owned())
            ]
        );
    }
}
