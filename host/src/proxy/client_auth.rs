//! Finding and checking the client's gateway key.
//!
//! SDKs put keys in different places: OpenAI's in `Authorization: Bearer`,
//! Anthropic's in `x-api-key` (and sometimes `Authorization`), Gemini's in
//! `x-goog-api-key` or `?key=`, Azure OpenAI's in `api-key`. The first one
//! present is the client's key.

use std::sync::Arc;

use chrono::Utc;
use pingora::http::RequestHeader;

use super::error::ProxyError;
use super::jwt::{JwtVerifier, looks_like_jwt};
use super::oauth::{TokenIssuer, is_gateway_token};
use crate::catalog::{Catalog, ClientKey};
use crate::secrets::hash_client_key;

/// The client's key as sent, if any.
pub fn presented_key(req: &RequestHeader) -> Option<String> {
    let header = |name: &str| {
        req.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    if let Some(auth) = header("authorization") {
        let (scheme, token) = auth.split_once(' ').unwrap_or((auth, ""));
        let token = if scheme.eq_ignore_ascii_case("bearer") {
            token.trim()
        } else {
            auth
        };
        if token.is_empty() || token.eq_ignore_ascii_case("bearer") {
            return None;
        }
        return Some(token.to_owned());
    }
    if let Some(key) = header("x-api-key")
        .or_else(|| header("x-goog-api-key"))
        .or_else(|| header("api-key"))
    {
        return Some(key.to_owned());
    }
    req.uri.query().and_then(|q| {
        q.split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == "key")
            .map(|(_, v)| v.to_owned())
            .filter(|v| !v.is_empty())
    })
}

/// The client key an OAuth token names, if its client is still enabled,
/// still bound to that key, and not disabled since the token was issued.
fn oauth_client_key<'c>(
    token: &str,
    catalog: &'c Catalog,
    tokens: &TokenIssuer,
) -> Result<&'c Arc<ClientKey>, ProxyError> {
    let subject = tokens
        .verify(token)
        .map_err(|e| ProxyError::InvalidToken(e.to_string()))?;
    let client = catalog
        .oauth_clients
        .get(&subject.oauth_client_id)
        .filter(|c| {
            c.enabled
                && c.client_key_id == subject.client_key_id
                && c.token_generation == subject.generation
        })
        .ok_or_else(|| {
            ProxyError::InvalidToken(
                "its OAuth client is disabled, gone, or was disabled since".into(),
            )
        })?;
    catalog
        .client_keys_by_id
        .get(&client.client_key_id)
        .ok_or(ProxyError::UnknownKey)
}

/// The client key the request carries (itself, or named by a valid JWT or
/// OAuth token), if it is known, enabled and current.
pub fn authenticate(
    req: &RequestHeader,
    catalog: &Catalog,
    jwt: &JwtVerifier,
    tokens: &TokenIssuer,
) -> Result<Arc<ClientKey>, ProxyError> {
    let key = presented_key(req).ok_or(ProxyError::MissingKey)?;
    let client = if looks_like_jwt(&key) && is_gateway_token(&key) {
        oauth_client_key(&key, catalog, tokens)?
    } else if jwt.enabled() && looks_like_jwt(&key) {
        let id = jwt
            .verify(&key)
            .map_err(|e| ProxyError::InvalidToken(e.to_string()))?;
        catalog
            .client_keys_by_id
            .get(&id)
            .ok_or(ProxyError::UnknownKey)?
    } else {
        catalog
            .client_keys
            .get(&hash_client_key(&key))
            .ok_or(ProxyError::UnknownKey)?
    };
    if !client.enabled {
        return Err(ProxyError::DisabledKey);
    }
    if client.expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(ProxyError::ExpiredKey);
    }
    Ok(client.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(path: &str, headers: &[(&'static str, &str)]) -> RequestHeader {
        let mut r = RequestHeader::build("POST", path.as_bytes(), None).expect("build");
        for (k, v) in headers {
            r.insert_header(*k, v.to_string()).expect("header");
        }
        r
    }

    #[test]
    fn key_is_found_in_all_four_places() {
        assert_eq!(
            presented_key(&req("/", &[("authorization", "Bearer k1")])).as_deref(),
            Some("k1")
        );
        assert_eq!(
            presented_key(&req("/", &[("x-api-key", "k2")])).as_deref(),
            Some("k2")
        );
        assert_eq!(
            presented_key(&req("/", &[("x-goog-api-key", "k3")])).as_deref(),
            Some("k3")
        );
        assert_eq!(
            presented_key(&req("/", &[("api-key", "k5")])).as_deref(),
            Some("k5")
        );
        assert_eq!(
            presented_key(&req("/v1/x?alt=sse&key=k4", &[])).as_deref(),
            Some("k4")
        );
        assert_eq!(presented_key(&req("/v1/x?keyx=1", &[])), None);
        assert_eq!(
            presented_key(&req("/", &[("authorization", "Bearer ")])),
            None
        );
    }

    #[test]
    fn unknown_key_is_refused() {
        let catalog = Catalog::default();
        let tokens = TokenIssuer::new(&[1; 32], std::time::Duration::from_secs(60));
        let r = req("/", &[("authorization", "Bearer nope")]);
        assert!(matches!(
            authenticate(&r, &catalog, &JwtVerifier::default(), &tokens),
            Err(ProxyError::UnknownKey)
        ));
        assert!(matches!(
            authenticate(&req("/", &[]), &catalog, &JwtVerifier::default(), &tokens),
            Err(ProxyError::MissingKey)
        ));
    }
}
