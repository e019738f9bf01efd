//! Placing the credential where [`ProviderInfo::credential`](crate::ProviderInfo)
//! says, so a plugin declares its credential style once (in `info()`) and
//! `prepare` follows it instead of repeating it by hand.
//!
//! The WIT calls `credential-style` informational because the host never
//! places the key itself: `prepare` must. These helpers close that gap
//! without changing the contract.

use crate::{CredentialStyle, Header, OutboundRequest, RequestHead, http};

/// The `authorization` value prefix of [`CredentialStyle::Bearer`].
pub const BEARER_PREFIX: &str = "Bearer ";

/// Puts `credential` into `headers` or `path` as `style` says, replacing
/// any value the client sent under the same name; returns the path.
///
/// `Query` expects `credential` to be URL-safe, which the host's
/// placeholder is.
pub fn place(
    style: &CredentialStyle,
    path: String,
    headers: &mut Vec<Header>,
    credential: &str,
) -> String {
    match style {
        CredentialStyle::Bearer => {
            http::set_header(
                headers,
                "authorization",
                format!("{BEARER_PREFIX}{credential}"),
            );
            path
        }
        CredentialStyle::Header(name) => {
            http::set_header(headers, name, credential);
            path
        }
        CredentialStyle::Query(name) => http::set_query_param(&path, name, credential),
    }
}

/// The upstream request for `head` with `credential` placed as `style`
/// says and `body` as the replacement body (`None` sends the client's).
/// Enough for `prepare` of a provider that needs no path rewriting.
pub fn outbound(
    style: &CredentialStyle,
    head: RequestHead,
    credential: &str,
    body: Option<Vec<u8>>,
) -> OutboundRequest {
    let mut headers = head.headers;
    let path = place(style, head.path, &mut headers, credential);
    OutboundRequest {
        path,
        headers,
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(path: &str, headers: &[(&str, &str)]) -> RequestHead {
        RequestHead {
            method: "POST".into(),
            path: path.into(),
            headers: headers
                .iter()
                .map(|(n, v)| Header {
                    name: (*n).into(),
                    value: (*v).into(),
                })
                .collect(),
        }
    }

    #[test]
    fn bearer_replaces_a_client_authorization() {
        let out = outbound(
            &CredentialStyle::Bearer,
            head("/v2/chat", &[("Authorization", "Bearer client-sent")]),
            "PLACEHOLDER",
            None,
        );
        assert_eq!(out.headers.len(), 1);
        assert_eq!(
            http::header(&out.headers, "authorization"),
            Some("Bearer PLACEHOLDER")
        );
        assert_eq!(out.path, "/v2/chat");
    }

    #[test]
    fn a_named_header_holds_the_bare_credential() {
        let out = outbound(
            &CredentialStyle::Header("x-api-key".into()),
            head(
                "/v1/messages",
                &[("x-api-key", "client"), ("accept", "*/*")],
            ),
            "PLACEHOLDER",
            Some(b"{}".to_vec()),
        );
        assert_eq!(http::header(&out.headers, "x-api-key"), Some("PLACEHOLDER"));
        assert_eq!(http::header(&out.headers, "accept"), Some("*/*"));
        assert_eq!(out.body.as_deref(), Some(&b"{}"[..]));
    }

    #[test]
    fn a_query_parameter_replaces_the_clients_one() {
        let out = outbound(
            &CredentialStyle::Query("key".into()),
            head("/v1beta/models/x:generateContent?alt=sse&key=client", &[]),
            "PLACEHOLDER",
            None,
        );
        assert_eq!(
            out.path,
            "/v1beta/models/x:generateContent?alt=sse&key=PLACEHOLDER"
        );
        assert!(out.headers.is_empty());
    }
}
