//! `POST /oauth/token`: the client-credentials grant.
//!
//! The client authenticates with HTTP Basic (RFC 6749 §2.3.1, id and secret
//! form-encoded) or with `client_id` and `client_secret` in the body, never
//! both. The body is `application/x-www-form-urlencoded` as the RFC says
//! (JSON is accepted too). Errors use the RFC's shape and codes (§5.2), and
//! no answer says whether an unknown client id exists.

use base64::Engine;
use bytes::Bytes;
use chrono::Utc;
use pingora::http::ResponseHeader;
use pingora::proxy::Session;
use serde::Deserialize;

use super::super::ProxyCore;
use super::super::request::read_body;
use crate::catalog::Catalog;
use crate::secrets::hash_client_key;

/// Where the token endpoint listens on the proxy port.
pub const TOKEN_PATH: &str = "/oauth/token";
/// Largest token request body accepted.
pub const MAX_TOKEN_REQUEST_BYTES: usize = 8 * 1024;

/// An RFC 6749 §5.2 error.
#[derive(Debug, PartialEq, Eq)]
struct OAuthError {
    status: u16,
    code: &'static str,
    description: &'static str,
}

const fn error(status: u16, code: &'static str, description: &'static str) -> OAuthError {
    OAuthError {
        status,
        code,
        description,
    }
}

const BAD_CLIENT: OAuthError = error(401, "invalid_client", "client authentication failed");

#[derive(Default, Deserialize)]
struct TokenRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

fn parse_body(content_type: &str, body: &[u8]) -> Result<TokenRequest, OAuthError> {
    let malformed = error(400, "invalid_request", "the request body is malformed");
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match media.as_str() {
        "application/json" => serde_json::from_slice(body).map_err(|_| malformed),
        "application/x-www-form-urlencoded" | "" => {
            let mut request = TokenRequest::default();
            for (name, value) in form_urlencoded::parse(body) {
                let slot = match name.as_ref() {
                    "grant_type" => &mut request.grant_type,
                    "client_id" => &mut request.client_id,
                    "client_secret" => &mut request.client_secret,
                    _ => continue,
                };
                if slot.replace(value.into_owned()).is_some() {
                    // RFC 6749 §3.2: parameters must not be repeated.
                    return Err(error(400, "invalid_request", "a parameter is repeated"));
                }
            }
            Ok(request)
        }
        _ => Err(error(
            400,
            "invalid_request",
            "the body must be application/x-www-form-urlencoded",
        )),
    }
}

/// Id and secret from an `Authorization: Basic` value.
fn basic_credentials(value: &str) -> Result<(String, String), OAuthError> {
    let encoded = value
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, rest)| rest.trim())
        .ok_or(BAD_CLIENT)?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| BAD_CLIENT)?;
    let decoded = String::from_utf8(decoded).map_err(|_| BAD_CLIENT)?;
    let (id, secret) = decoded.split_once(':').ok_or(BAD_CLIENT)?;
    let unescape = |s: &str| {
        form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok((unescape(id), unescape(secret)))
}

/// The client's token, or why not.
fn grant(
    catalog: &Catalog,
    core: &ProxyCore,
    basic: Option<&str>,
    request: TokenRequest,
) -> Result<String, OAuthError> {
    let (client_id, secret) = match (basic, request.client_id, request.client_secret) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err(error(
                400,
                "invalid_request",
                "use one client authentication method, not two",
            ));
        }
        (Some(value), None, None) => basic_credentials(value)?,
        (None, Some(id), Some(secret)) => (id, secret),
        _ => return Err(BAD_CLIENT),
    };
    match request.grant_type.as_deref() {
        None => return Err(error(400, "invalid_request", "grant_type is required")),
        Some("client_credentials") => {}
        Some(_) => {
            return Err(error(
                400,
                "unsupported_grant_type",
                "only client_credentials is supported",
            ));
        }
    }
    let client = catalog.oauth_clients.get(&client_id).ok_or(BAD_CLIENT)?;
    if !client.secret_matches(&hash_client_key(&secret)) {
        return Err(BAD_CLIENT);
    }
    let key = catalog.client_keys_by_id.get(&client.client_key_id);
    let key_usable =
        key.is_some_and(|k| k.enabled && k.expires_at.is_none_or(|at| at > Utc::now()));
    if !client.enabled || !key_usable {
        return Err(error(
            400,
            "unauthorized_client",
            "this client or its key is disabled or expired",
        ));
    }
    core.tokens
        .issue(client)
        .map_err(|_| error(500, "server_error", "the token could not be signed"))
}

/// Answers a token request completely.
pub async fn serve_token_request(core: &ProxyCore, session: &mut Session) {
    let result = if session.req_header().method != http::Method::POST {
        Err(error(405, "invalid_request", "use POST"))
    } else {
        match read_body(session, MAX_TOKEN_REQUEST_BYTES).await {
            Err(_) => {
                session.set_keepalive(None);
                Err(error(
                    400,
                    "invalid_request",
                    "the request body is too large or unreadable",
                ))
            }
            Ok(body) => {
                let header = |name: &str| {
                    session
                        .req_header()
                        .headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned)
                };
                let basic = header("authorization");
                parse_body(&header("content-type").unwrap_or_default(), &body).and_then(|request| {
                    grant(&core.catalog.load(), core, basic.as_deref(), request)
                })
            }
        }
    };
    let (status, body) = match result {
        Ok(token) => (
            200,
            serde_json::json!({
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": core.tokens.ttl().as_secs(),
            }),
        ),
        Err(e) => (
            e.status,
            serde_json::json!({"error": e.code, "error_description": e.description}),
        ),
    };
    let body = Bytes::from(body.to_string());
    let Ok(mut head) = ResponseHeader::build(status, Some(5)) else {
        return;
    };
    let _ = head.insert_header("content-type", "application/json");
    let _ = head.insert_header("content-length", body.len().to_string());
    let _ = head.insert_header("cache-control", "no-store");
    if status == 401 {
        let _ = head.insert_header("www-authenticate", "Basic realm=\"ai-proxy\"");
    }
    if status == 405 {
        let _ = head.insert_header("allow", "POST");
    }
    if session
        .write_response_header(Box::new(head), false)
        .await
        .is_ok()
    {
        let _ = session.write_response_body(Some(body), true).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_bodies_parse_and_repeated_parameters_are_refused() {
        let r = parse_body(
            "application/x-www-form-urlencoded; charset=utf-8",
            b"grant_type=client_credentials&client_id=a%2Bb&client_secret=s&scope=x",
        )
        .expect("parse");
        assert_eq!(r.grant_type.as_deref(), Some("client_credentials"));
        assert_eq!(r.client_id.as_deref(), Some("a+b"));
        assert_eq!(
            parse_body("", b"grant_type=a&grant_type=b")
                .err()
                .map(|e| e.code),
            Some("invalid_request")
        );
        assert!(parse_body("text/plain", b"grant_type=a").is_err());
        assert!(parse_body("application/json", b"{").is_err());
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let value = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("id%3Ax:se%2Bcret")
        );
        assert_eq!(
            basic_credentials(&value),
            Ok(("id:x".to_owned(), "se+cret".to_owned()))
        );
        assert_eq!(basic_credentials("Bearer abc"), Err(BAD_CLIENT));
        assert_eq!(basic_credentials("Basic !!!"), Err(BAD_CLIENT));
    }
}
