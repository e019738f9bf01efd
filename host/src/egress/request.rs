//! Turning a plugin's `prepare` result into the upstream request: the
//! credential substituted for its placeholder (in header values and the
//! query only), the path under the provider's base URL, and the host the
//! operator configured, never one the plugin or the client chose.

use bytes::Bytes;
use pingora::http::RequestHeader;

use crate::catalog::UpstreamBase;
use crate::plugins::types::OutboundRequest;
use crate::plugins::{FailureKind, PluginFailure};
use crate::secrets::Secret;

/// Hop-by-hop headers: they describe one connection, never pass a proxy
/// (requests, answers), and are not a plugin's to set.
pub const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
];

/// Headers a plugin may not set beyond [`HOP_BY_HOP`]: the host sets the
/// target and the framing itself.
const HOST_OWNED_HEADERS: &[&str] = &["host", "content-length", "transfer-encoding"];

/// A fresh placeholder for the credential, unguessable by the plugin and
/// safe in a header value or a query string.
pub fn credential_placeholder() -> String {
    format!("aip-credential-{}", crate::secrets::random_hex(16))
}

/// Builds the upstream request head and body.
pub fn build_request(
    plugin: &str,
    base: &UpstreamBase,
    method: &str,
    out: OutboundRequest,
    client_body: Bytes,
    placeholder: &str,
    secret: &Secret,
) -> Result<(RequestHeader, Bytes), PluginFailure> {
    let contract = |what: &'static str| PluginFailure {
        plugin: plugin.to_owned(),
        kind: FailureKind::Contract(what),
    };
    if !out.path.starts_with('/') {
        return Err(contract("path must start with '/'"));
    }
    let mut placed = out.path.contains(placeholder);
    let path = base.join(&out.path.replace(placeholder, secret.expose()));
    let mut header = RequestHeader::build(method, path.as_bytes(), Some(out.headers.len() + 2))
        .map_err(|_| contract("path is not a valid request target"))?;
    for h in out.headers {
        let name = h.name.to_ascii_lowercase();
        if HOST_OWNED_HEADERS.contains(&name.as_str()) || HOP_BY_HOP.contains(&name.as_str()) {
            continue;
        }
        let has_credential = h.value.contains(placeholder);
        placed |= has_credential;
        let value = h.value.replace(placeholder, secret.expose());
        let mut value = http::HeaderValue::from_str(&value)
            .map_err(|_| contract("header value is not valid"))?;
        value.set_sensitive(has_credential);
        let name = http::HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| contract("header name is not valid"))?;
        header
            .append_header(name, value)
            .map_err(|_| contract("header is not valid"))?;
    }
    if !placed {
        return Err(contract(
            "the credential placeholder was not placed in a header or the path",
        ));
    }
    let body = out.body.map_or(client_body, Bytes::from);
    header
        .insert_header("host", base.authority.as_str())
        .map_err(|_| contract("host is not valid"))?;
    header
        .insert_header("content-length", body.len().to_string())
        .map_err(|_| contract("content-length is not valid"))?;
    Ok((header, body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::types::Header;

    fn out(path: &str, headers: &[(&str, &str)]) -> OutboundRequest {
        OutboundRequest {
            path: path.into(),
            headers: headers
                .iter()
                .map(|(n, v)| Header {
                    name: n.to_string(),
                    value: v.to_string(),
                })
                .collect(),
            body: None,
        }
    }

    fn base() -> UpstreamBase {
        UpstreamBase::parse("http://127.0.0.1:9/prefix").expect("base")
    }

    #[test]
    fn placeholder_in_header_is_replaced_by_the_secret() {
        let (h, body) = build_request(
            "p",
            &base(),
            "POST",
            out(
                "/v1/x",
                &[("authorization", "Bearer PH"), ("host", "evil.example")],
            ),
            Bytes::from_static(b"{}"),
            "PH",
            &Secret::new("sk-real"),
        )
        .expect("build");
        assert_eq!(
            h.headers.get("authorization").and_then(|v| v.to_str().ok()),
            Some("Bearer sk-real")
        );
        assert_eq!(
            h.headers.get("host").and_then(|v| v.to_str().ok()),
            Some("127.0.0.1:9")
        );
        assert_eq!(h.uri.path(), "/prefix/v1/x");
        assert_eq!(body.as_ref(), b"{}");
    }

    #[test]
    fn placeholder_in_query_is_replaced() {
        let (h, _) = build_request(
            "p",
            &base(),
            "GET",
            out("/v1/x?key=PH", &[]),
            Bytes::new(),
            "PH",
            &Secret::new("s"),
        )
        .expect("build");
        assert_eq!(h.uri.query(), Some("key=s"));
    }

    #[test]
    fn credential_not_placed_is_a_contract_violation() {
        let err = build_request(
            "p",
            &base(),
            "GET",
            out("/v1/x", &[]),
            Bytes::new(),
            "PH",
            &Secret::new("s"),
        )
        .expect_err("must fail");
        assert!(matches!(err.kind, FailureKind::Contract(_)));
    }

    #[test]
    fn relative_path_is_refused() {
        let err = build_request(
            "p",
            &base(),
            "GET",
            out("http://evil/x", &[("a", "PH")]),
            Bytes::new(),
            "PH",
            &Secret::new("s"),
        )
        .expect_err("must fail");
        assert!(matches!(err.kind, FailureKind::Contract(_)));
    }
}
