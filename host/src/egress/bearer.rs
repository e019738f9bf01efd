//! Where an OAuth access token goes in an upstream request: `Authorization:
//! Bearer` (RFC 6750), whatever header or query parameter the plugin uses
//! for API keys. Part of the one upstream call ([`super::call`]).

use crate::plugins::types::{Header, OutboundRequest};

/// Moves the credential placeholder the plugin placed into an
/// `authorization: Bearer` header: headers and query parameters carrying it
/// are dropped, other headers are kept, and `extra` headers (the provider's
/// OAuth `request_headers`) replace any of the same name.
pub fn as_bearer(
    mut out: OutboundRequest,
    placeholder: &str,
    extra: &[(String, String)],
) -> OutboundRequest {
    out.headers.retain(|h| {
        !extra
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case(&h.name))
    });
    out.headers.extend(extra.iter().map(|(name, value)| Header {
        name: name.to_ascii_lowercase(),
        value: value.clone(),
    }));
    out.headers.retain(|h| {
        !h.value.contains(placeholder) && !h.name.eq_ignore_ascii_case("authorization")
    });
    out.headers.push(Header {
        name: "authorization".into(),
        value: format!("Bearer {placeholder}"),
    });
    if let Some((path, query)) = out.path.split_once('?') {
        let kept: Vec<&str> = query
            .split('&')
            .filter(|pair| !pair.contains(placeholder))
            .collect();
        out.path = if kept.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{}", kept.join("&"))
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(path: &str, headers: &[(&str, &str)]) -> OutboundRequest {
        OutboundRequest {
            path: path.into(),
            headers: headers
                .iter()
                .map(|(n, v)| Header {
                    name: (*n).into(),
                    value: (*v).into(),
                })
                .collect(),
            body: None,
        }
    }

    fn header<'a>(o: &'a OutboundRequest, name: &str) -> Vec<&'a str> {
        o.headers
            .iter()
            .filter(|h| h.name == name)
            .map(|h| h.value.as_str())
            .collect()
    }

    #[test]
    fn an_api_key_header_becomes_a_bearer_token() {
        let o = as_bearer(
            out(
                "/v1/messages",
                &[("x-api-key", "PH"), ("anthropic-version", "2023-06-01")],
            ),
            "PH",
            &[("Anthropic-Beta".into(), "oauth-2025-04-20".into())],
        );
        assert_eq!(header(&o, "anthropic-beta"), ["oauth-2025-04-20"]);
        assert!(header(&o, "x-api-key").is_empty());
        assert_eq!(header(&o, "authorization"), ["Bearer PH"]);
        assert_eq!(header(&o, "anthropic-version"), ["2023-06-01"]);
    }

    #[test]
    fn a_bearer_placement_stays_one_header() {
        let o = as_bearer(
            out("/v1/chat", &[("authorization", "Bearer PH")]),
            "PH",
            &[],
        );
        assert_eq!(header(&o, "authorization"), ["Bearer PH"]);
    }

    #[test]
    fn a_query_key_leaves_the_query() {
        let o = as_bearer(out("/v1beta/m:gen?key=PH&alt=sse", &[]), "PH", &[]);
        assert_eq!(o.path, "/v1beta/m:gen?alt=sse");
        let o = as_bearer(out("/v1beta/m:gen?key=PH", &[]), "PH", &[]);
        assert_eq!(o.path, "/v1beta/m:gen");
        assert_eq!(header(&o, "authorization"), ["Bearer PH"]);
    }
}
