//! The client's request as plugins see it: the body read in full (up to
//! the limit) and the head stripped of the client's key and identity.

use bytes::{Bytes, BytesMut};
use pingora::http::RequestHeader;
use pingora::proxy::Session;

use super::error::ProxyError;
use crate::egress::request::HOP_BY_HOP;
use crate::plugins::types::{Header, RequestHead};

/// Headers never forwarded upstream: the client's credentials, anything
/// identifying the client, the framing, and `accept-encoding` (the
/// gateway must read the answer to count tokens, so it asks for identity);
/// hop-by-hop headers ([`HOP_BY_HOP`]) go too.
const STRIPPED_HEADERS: &[&str] = &[
    "authorization",
    "x-api-key",
    "x-goog-api-key",
    "api-key",
    "cookie",
    "forwarded",
    "x-real-ip",
    "true-client-ip",
    "cf-connecting-ip",
    "x-client-ip",
    "x-cluster-client-ip",
    "via",
    "host",
    "content-length",
    "transfer-encoding",
    "proxy-authorization",
    "expect",
    "accept-encoding",
];

/// Headers by which a client could choose which organisation, project or
/// billing account an upstream key is charged to; dropped unless the
/// provider allows them ([`crate::catalog::Provider::allow_billing_headers`]).
pub const BILLING_HEADERS: &[&str] = &[
    "openai-organization",
    "openai-project",
    "x-goog-user-project",
];

fn is_stripped(name: &str) -> bool {
    STRIPPED_HEADERS.contains(&name)
        || HOP_BY_HOP.contains(&name)
        || name.starts_with("x-forwarded-")
}

/// Reads the whole request body, refusing more than `limit` bytes.
pub async fn read_body(session: &mut Session, limit: usize) -> Result<Bytes, ProxyError> {
    let declared = session
        .req_header()
        .headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(ProxyError::BodyTooLarge { limit });
    }
    if expects_continue(session.req_header()) && !session.is_body_done() {
        // The client waits for this before it sends the body. Sending it
        // must not by itself make the connection close after the answer.
        session.set_close_on_response_before_downstream_finish(false);
        let sent = session.write_continue_response().await;
        session.set_close_on_response_before_downstream_finish(true);
        sent.map_err(|_| ProxyError::BodyRead)?;
    }
    let mut body = BytesMut::with_capacity(declared.unwrap_or(0));
    while let Some(chunk) = session
        .read_request_body()
        .await
        .map_err(|_| ProxyError::BodyRead)?
    {
        if body.len() + chunk.len() > limit {
            return Err(ProxyError::BodyTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Whether an HTTP/1.1 client waits for `100 Continue` before its body.
fn expects_continue(req: &RequestHeader) -> bool {
    req.version == http::Version::HTTP_11
        && req
            .headers
            .get(http::header::EXPECT)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"))
}

/// The head handed to the plugin: method, path (without a `key` query
/// parameter) and every header but the stripped ones (and the billing
/// ones unless `keep_billing`), names lower-case.
pub fn plugin_head(req: &RequestHeader, keep_billing: bool) -> RequestHead {
    let connection_listed: Vec<String> = req
        .headers
        .get_all("connection")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(',').map(|s| s.trim().to_ascii_lowercase()))
        .collect();
    let headers = req
        .headers
        .iter()
        .filter(|(name, _)| {
            !is_stripped(name.as_str())
                && (keep_billing || !BILLING_HEADERS.contains(&name.as_str()))
                && !connection_listed.iter().any(|c| c == name.as_str())
        })
        .filter_map(|(name, value)| {
            Some(Header {
                name: name.as_str().to_owned(),
                value: value.to_str().ok()?.to_owned(),
            })
        })
        .collect();
    RequestHead {
        method: req.method.as_str().to_owned(),
        path: path_without_key(&req.uri),
        headers,
    }
}

/// The request's path and query as the plugin gets it (`key=` removed),
/// not yet normalised.
pub fn request_path(req: &RequestHeader) -> String {
    path_without_key(&req.uri)
}

fn path_without_key(uri: &http::Uri) -> String {
    let path = uri.path();
    match uri.query() {
        None => path.to_owned(),
        Some(query) => {
            let kept: Vec<&str> = query
                .split('&')
                .filter(|p| !p.is_empty() && *p != "key" && !p.starts_with("key="))
                .collect();
            if kept.is_empty() {
                path.to_owned()
            } else {
                format!("{path}?{}", kept.join("&"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_identity_and_credentials_are_stripped() {
        let mut r = RequestHeader::build(
            "POST",
            b"/v1beta/models/g:generateContent?key=secret&alt=sse",
            None,
        )
        .expect("req");
        for (k, v) in [
            ("authorization", "Bearer client"),
            ("x-api-key", "client"),
            ("x-goog-api-key", "client"),
            ("api-key", "client"),
            ("x-forwarded-for", "10.0.0.1"),
            ("x-forwarded-proto", "https"),
            ("x-real-ip", "10.0.0.1"),
            ("true-client-ip", "10.0.0.1"),
            ("cf-connecting-ip", "10.0.0.1"),
            ("x-client-ip", "10.0.0.1"),
            ("x-cluster-client-ip", "10.0.0.1"),
            ("forwarded", "for=10.0.0.1"),
            ("cookie", "a=b"),
            ("via", "1.1 x"),
            ("connection", "x-custom-hop"),
            ("x-custom-hop", "1"),
            ("anthropic-version", "2023-06-01"),
            ("content-type", "application/json"),
        ] {
            r.append_header(k, v).expect("header");
        }
        let head = plugin_head(&r, false);
        let names: Vec<&str> = head.headers.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["anthropic-version", "content-type"]);
        assert_eq!(head.path, "/v1beta/models/g:generateContent?alt=sse");
    }

    #[test]
    fn billing_headers_are_dropped_unless_the_provider_allows_them() {
        let mut r = RequestHeader::build("POST", b"/v1/chat/completions", None).expect("req");
        for name in BILLING_HEADERS {
            r.append_header(*name, "org-client-choice").expect("header");
        }
        r.append_header("content-type", "application/json")
            .expect("header");
        let names = |head: RequestHead| -> Vec<String> {
            head.headers.into_iter().map(|h| h.name).collect()
        };
        assert_eq!(names(plugin_head(&r, false)), ["content-type"]);
        let kept = names(plugin_head(&r, true));
        for name in BILLING_HEADERS {
            assert!(kept.iter().any(|k| k == name), "{name} kept when allowed");
        }
    }

    #[test]
    fn key_only_query_leaves_a_bare_path() {
        let uri: http::Uri = "/v1/x?key=abc".parse().expect("uri");
        assert_eq!(path_without_key(&uri), "/v1/x");
    }
}
