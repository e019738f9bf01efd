//! Client authentication by JSON Web Token.
//!
//! Besides API keys, clients may present a JWT (in any place a key may
//! stand) signed with a key the operator configured: an HS256 secret, an
//! RS256 public key, or both. The token's `sub` is the id of the client key
//! whose identity, pool and limits it carries; `exp` is required, `nbf` and
//! `iat` are checked and the lifetime is bounded ([`super::token_time`]),
//! and `iss` and `aud` are checked when configured. The algorithm must be one the
//! operator configured a key for, and each algorithm only ever checks
//! against its own key: `alg: none` and HS256 tokens signed with the RSA
//! public key (algorithm confusion) are refused.

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;

use super::token_time::TimeClaims;
use crate::config::{JwtConfig, TimeRules};

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("token signing algorithm is not accepted")]
    Algorithm,
    #[error("token is invalid: {0}")]
    Invalid(String),
    #[error("token subject is not a client key id")]
    Subject,
}

/// Checks client tokens.
#[derive(Default)]
pub struct JwtVerifier {
    hs256: Option<DecodingKey>,
    rs256: Option<DecodingKey>,
    issuer: Option<String>,
    audience: Option<String>,
    time: TimeRules,
}

#[derive(Deserialize)]
struct Claims {
    /// A string, as RFC 7519 requires: the client key id in decimal.
    sub: String,
    #[serde(flatten)]
    time: TimeClaims,
}

/// Whether a presented credential looks like a JWT rather than an API key.
pub fn looks_like_jwt(credential: &str) -> bool {
    credential.starts_with("eyJ") && credential.bytes().filter(|b| *b == b'.').count() == 2
}

impl JwtVerifier {
    pub fn new(config: &JwtConfig) -> Result<JwtVerifier, jsonwebtoken::errors::Error> {
        Ok(JwtVerifier {
            hs256: config.hs256_secret.as_deref().map(DecodingKey::from_secret),
            rs256: config
                .rs256_public_pem
                .as_deref()
                .map(DecodingKey::from_rsa_pem)
                .transpose()?,
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            time: config.time,
        })
    }

    /// Whether any token key is configured.
    pub fn enabled(&self) -> bool {
        self.hs256.is_some() || self.rs256.is_some()
    }

    /// The client key id a valid token names.
    pub fn verify(&self, token: &str) -> Result<i32, JwtError> {
        let header = decode_header(token).map_err(|e| JwtError::Invalid(e.to_string()))?;
        let key = match header.alg {
            Algorithm::HS256 => self.hs256.as_ref(),
            Algorithm::RS256 => self.rs256.as_ref(),
            _ => None,
        }
        .ok_or(JwtError::Algorithm)?;
        let mut validation = Validation::new(header.alg);
        validation.leeway = 0;
        let mut required = vec!["exp", "sub"];
        match &self.issuer {
            Some(iss) => {
                validation.set_issuer(&[iss]);
                required.push("iss");
            }
            None => validation.iss = None,
        }
        match &self.audience {
            Some(aud) => {
                validation.set_audience(&[aud]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);
        let claims = decode::<Claims>(token, key, &validation)
            .map_err(|e| JwtError::Invalid(e.to_string()))?
            .claims;
        self.time
            .check(&claims.time, chrono::Utc::now().timestamp())?;
        claims.sub.parse().map_err(|_| JwtError::Subject)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header, encode};

    fn token(alg: Algorithm, secret: &[u8], claims: serde_json::Value) -> String {
        encode(
            &Header::new(alg),
            &claims,
            &EncodingKey::from_secret(secret),
        )
        .expect("encode")
    }

    fn verifier() -> JwtVerifier {
        JwtVerifier::new(&JwtConfig {
            hs256_secret: Some(b"0123456789abcdef0123456789abcdef".to_vec()),
            issuer: Some("issuer-a".into()),
            audience: Some("ai-proxy".into()),
            ..JwtConfig::default()
        })
        .expect("verifier")
    }

    fn exp(offset: i64) -> i64 {
        chrono::Utc::now().timestamp() + offset
    }

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn a_valid_token_names_its_client_key() {
        let t = token(
            Algorithm::HS256,
            SECRET,
            serde_json::json!({"sub": "42", "exp": exp(60), "iss": "issuer-a", "aud": "ai-proxy"}),
        );
        assert_eq!(verifier().verify(&t), Ok(42));
        let numeric = token(
            Algorithm::HS256,
            SECRET,
            serde_json::json!({"sub": 7, "exp": exp(60), "iss": "issuer-a", "aud": "ai-proxy"}),
        );
        assert!(
            verifier().verify(&numeric).is_err(),
            "sub must be a string (RFC 7519)"
        );
    }

    #[test]
    fn expired_wrong_audience_wrong_issuer_and_missing_claims_are_refused() {
        let v = verifier();
        for claims in [
            serde_json::json!({"sub": "1", "exp": exp(-1), "iss": "issuer-a", "aud": "ai-proxy"}),
            serde_json::json!({"sub": "1", "exp": exp(60), "iss": "issuer-a", "aud": "other"}),
            serde_json::json!({"sub": "1", "exp": exp(60), "iss": "issuer-b", "aud": "ai-proxy"}),
            serde_json::json!({"sub": "1", "iss": "issuer-a", "aud": "ai-proxy"}),
            serde_json::json!({"sub": "1", "exp": exp(60), "aud": "ai-proxy"}),
            serde_json::json!({"sub": "x", "exp": exp(60), "iss": "issuer-a", "aud": "ai-proxy"}),
        ] {
            assert!(
                v.verify(&token(Algorithm::HS256, SECRET, claims.clone()))
                    .is_err(),
                "{claims}"
            );
        }
        assert!(v.verify(&token(Algorithm::HS256, b"another-secret-another-secret-xx", serde_json::json!({"sub": "1", "exp": exp(60), "iss": "issuer-a", "aud": "ai-proxy"}))).is_err());
    }

    #[test]
    fn tokens_not_yet_valid_issued_in_the_future_or_too_long_lived_are_refused() {
        let v = verifier();
        let now = exp(0);
        let with = |extra: serde_json::Value| {
            let mut claims = serde_json::json!({"sub": "1", "exp": now + 600, "iss": "issuer-a", "aud": "ai-proxy"});
            for (k, val) in extra.as_object().expect("object") {
                claims[k] = val.clone();
            }
            token(Algorithm::HS256, SECRET, claims)
        };
        assert_eq!(
            v.verify(&with(serde_json::json!({"nbf": now, "iat": now}))),
            Ok(1)
        );
        for (case, extra) in [
            ("nbf in two minutes", serde_json::json!({"nbf": now + 120})),
            ("iat in two minutes", serde_json::json!({"iat": now + 120})),
            (
                "lives a day and a second",
                serde_json::json!({"iat": now, "exp": now + 86_401}),
            ),
            (
                "no iat, a day and a minute left",
                serde_json::json!({"exp": now + 86_460}),
            ),
        ] {
            assert!(v.verify(&with(extra)).is_err(), "{case}");
        }
    }

    #[test]
    fn unconfigured_algorithms_and_alg_none_are_refused() {
        let v = verifier();
        let hs384 = token(
            Algorithm::HS384,
            SECRET,
            serde_json::json!({"sub": "1", "exp": exp(60), "iss": "issuer-a", "aud": "ai-proxy"}),
        );
        assert_eq!(v.verify(&hs384), Err(JwtError::Algorithm));
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let none = format!(
            "{}.{}.",
            b64(r#"{"alg":"none","typ":"JWT"}"#),
            b64(&format!(r#"{{"sub":"1","exp":{}}}"#, exp(60)))
        );
        assert!(v.verify(&none).is_err());
        assert!(looks_like_jwt(&token(
            Algorithm::HS256,
            SECRET,
            serde_json::json!({"sub": "1"})
        )));
        assert!(!looks_like_jwt("aip-abc"));
    }
}
