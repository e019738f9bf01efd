//! Which provider's dialect an answer is written in.
//!
//! The dialect decides where the credential is read from, what an error body looks like
//! and which headers ride along with every answer.

use axum::http::HeaderMap;

/// A provider whose wire format the mock speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    /// api.openai.com: `Authorization: Bearer`, `{"error":{...}}` errors.
    OpenAi,
    /// api.anthropic.com: `x-api-key` (or `Authorization: Bearer`), `{"type":"error",...}` errors.
    Anthropic,
    /// generativelanguage.googleapis.com: `x-goog-api-key` (or `?key=`), Google RPC errors.
    Gemini,
    /// {resource}.openai.azure.com: `api-key`, `{"error":{"code","message"}}` errors.
    Azure,
}

impl Provider {
    /// The credential the client presented the way this provider expects it, if any.
    ///
    /// Anthropic accepts both headers: its Python SDK sends the API key as a bearer token.
    pub(crate) fn credential<'a>(
        self,
        headers: &'a HeaderMap,
        query: Option<&'a str>,
    ) -> Option<&'a str> {
        match self {
            Provider::OpenAi => bearer(headers),
            Provider::Anthropic => header(headers, "x-api-key").or_else(|| bearer(headers)),
            Provider::Gemini => {
                header(headers, "x-goog-api-key").or_else(|| query_param(query?, "key"))
            }
            Provider::Azure => header(headers, "api-key"),
        }
    }

    /// The request-id header this provider stamps on every answer.
    pub(crate) fn request_id_header(self) -> &'static str {
        match self {
            Provider::OpenAi | Provider::Azure => "x-request-id",
            Provider::Anthropic => "request-id",
            Provider::Gemini => "x-goog-request-id",
        }
    }

    /// `Content-Type` of a JSON answer.
    pub(crate) fn json_content_type(self) -> &'static str {
        match self {
            Provider::OpenAi | Provider::Anthropic | Provider::Azure => "application/json",
            Provider::Gemini => "application/json; charset=UTF-8",
        }
    }

    /// `Content-Type` of a server-sent-events answer.
    pub(crate) fn sse_content_type(self) -> &'static str {
        match self {
            Provider::OpenAi | Provider::Anthropic | Provider::Azure => {
                "text/event-stream; charset=utf-8"
            }
            Provider::Gemini => "text/event-stream",
        }
    }
}

/// The value of `name`, when it is valid visible ASCII.
pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name)?.to_str().ok()
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = header(headers, "authorization")?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The raw (not percent-decoded) value of `name` in a query string.
pub(crate) fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find_map(|(key, value)| (key == name).then_some(value))
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderName, HeaderValue};

    use super::{Provider, query_param};

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                (
                    HeaderName::from_static(name),
                    HeaderValue::from_static(value),
                )
            })
            .collect()
    }

    #[test]
    fn openai_credential_is_the_bearer_token_whatever_the_scheme_case() {
        let sent = headers(&[("authorization", "bearer sk-1")]);

        assert_eq!(Provider::OpenAi.credential(&sent, None), Some("sk-1"));
    }

    #[test]
    fn anthropic_credential_prefers_x_api_key_over_bearer() {
        let both = headers(&[("authorization", "Bearer b"), ("x-api-key", "a")]);
        let bearer_only = headers(&[("authorization", "Bearer b")]);

        assert_eq!(Provider::Anthropic.credential(&both, None), Some("a"));
        assert_eq!(
            Provider::Anthropic.credential(&bearer_only, None),
            Some("b")
        );
    }

    #[test]
    fn gemini_credential_falls_back_to_the_key_query_parameter() {
        let none = HeaderMap::new();

        assert_eq!(
            Provider::Gemini.credential(&none, Some("alt=sse&key=k1")),
            Some("k1")
        );
        assert_eq!(Provider::Gemini.credential(&none, Some("alt=sse")), None);
    }

    #[test]
    fn azure_credential_is_api_key_only() {
        let bearer_only = headers(&[("authorization", "Bearer b")]);
        let api_key = headers(&[("api-key", "a")]);

        assert_eq!(Provider::Azure.credential(&bearer_only, None), None);
        assert_eq!(Provider::Azure.credential(&api_key, None), Some("a"));
    }

    #[test]
    fn query_param_matches_whole_names_only() {
        assert_eq!(query_param("xalt=json&alt=sse", "alt"), Some("sse"));
        assert_eq!(query_param("flag&alt", "alt"), None);
    }
}
