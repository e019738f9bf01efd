//! OAuth 2.0 client credentials (RFC 6749 §4.4) on the proxy port.
//!
//! An application holding a client id and secret (managed through the
//! admin API) trades them at `POST /oauth/token` for a short-lived bearer
//! token, which the proxy then accepts wherever a key may stand. The token
//! is a JWT the gateway signs with a key derived from the master key (so
//! every instance sharing the master key accepts it) and marked with its
//! own `kid`; it names the client key whose identity and limits it carries
//! and the OAuth client it was issued to, which must still exist and be
//! enabled when the token is used: disabling a client ends its tokens.
//! Each token also carries the client's token generation, which disabling
//! the client advances, so re-enabling it does not revive the tokens issued
//! before. Time claims follow [`super::token_time`], with the configured
//! token lifetime as the longest one accepted.

mod endpoint;

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use endpoint::{TOKEN_PATH, serve_token_request};

use super::jwt::JwtError;
use super::token_time::TimeClaims;
use crate::catalog::OAuthClient;
use crate::config::TimeRules;

/// `kid` of every token this gateway issues; other tokens go to the
/// operator-configured verifier.
pub const TOKEN_KID: &str = "ai-proxy-oauth-v1";
/// `iss` of the tokens this gateway issues.
pub const TOKEN_ISSUER: &str = "ai-proxy";

#[derive(Debug, Serialize, Deserialize)]
struct TokenClaims {
    iss: String,
    /// The client key id, in decimal.
    sub: String,
    /// The OAuth client id the token was issued to.
    cid: String,
    /// The client's token generation at issue (absent in tokens from
    /// before generations existed: generation 0).
    #[serde(default)]
    r#gen: i64,
    iat: i64,
    exp: i64,
}

/// What a valid token names.
#[derive(Debug, PartialEq, Eq)]
pub struct TokenSubject {
    pub client_key_id: i32,
    pub oauth_client_id: String,
    /// The client's token generation when the token was issued.
    pub generation: i64,
}

/// Signs and checks the gateway's own client tokens.
pub struct TokenIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// While the master key is rotated: tokens signed under the previous
    /// one are still accepted until they expire; none is signed with it.
    previous: Option<DecodingKey>,
    ttl: Duration,
    leeway: Duration,
}

impl TokenIssuer {
    pub fn new(master_key: &[u8; 32], ttl: Duration) -> TokenIssuer {
        let secret = signing_secret(master_key);
        TokenIssuer {
            encoding: EncodingKey::from_secret(&secret),
            decoding: DecodingKey::from_secret(&secret),
            previous: None,
            ttl,
            leeway: Duration::ZERO,
        }
    }

    /// Also accepts tokens signed under `previous`, the master key being
    /// rotated away from (`AI_PROXY_MASTER_KEY_PREVIOUS`), so clients
    /// holding one keep working through the rotation.
    pub fn with_previous_key(self, previous: Option<&[u8; 32]>) -> TokenIssuer {
        let previous = previous.map(|key| DecodingKey::from_secret(&signing_secret(key)));
        TokenIssuer { previous, ..self }
    }

    /// Accepts `iat` up to `leeway` in the future (clock skew between
    /// instances sharing the master key).
    pub fn with_leeway(self, leeway: Duration) -> TokenIssuer {
        TokenIssuer { leeway, ..self }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A token for `client`, valid for the configured lifetime.
    pub fn issue(&self, client: &OAuthClient) -> Result<String, jsonwebtoken::errors::Error> {
        let now = chrono::Utc::now().timestamp();
        let claims = TokenClaims {
            iss: TOKEN_ISSUER.to_owned(),
            sub: client.client_key_id.to_string(),
            cid: client.client_id.clone(),
            r#gen: client.token_generation,
            iat: now,
            exp: now + i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX / 2),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(TOKEN_KID.to_owned());
        encode(&header, &claims, &self.encoding)
    }

    /// What a token names, if this gateway signed it and it is current.
    pub fn verify(&self, token: &str) -> Result<TokenSubject, JwtError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_issuer(&[TOKEN_ISSUER]);
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        let decoded = match (
            decode::<TokenClaims>(token, &self.decoding, &validation),
            &self.previous,
        ) {
            (Err(_), Some(previous)) => decode::<TokenClaims>(token, previous, &validation),
            (decoded, _) => decoded,
        };
        let claims = decoded
            .map_err(|e| JwtError::Invalid(e.to_string()))?
            .claims;
        let rules = TimeRules {
            leeway: self.leeway,
            max_lifetime: self.ttl,
        };
        let time = TimeClaims {
            exp: claims.exp as f64,
            nbf: None,
            iat: Some(claims.iat as f64),
        };
        rules.check(&time, chrono::Utc::now().timestamp())?;
        Ok(TokenSubject {
            client_key_id: claims.sub.parse().map_err(|_| JwtError::Subject)?,
            oauth_client_id: claims.cid,
            generation: claims.r#gen,
        })
    }
}

/// The HMAC key of client tokens, derived from `master_key`.
fn signing_secret(master_key: &[u8; 32]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"ai-proxy oauth client token signing key v1");
    hasher.update(master_key);
    hasher.finalize().into()
}

/// Whether a token's header names this gateway's key.
pub fn is_gateway_token(token: &str) -> bool {
    jsonwebtoken::decode_header(token).is_ok_and(|h| h.kid.as_deref() == Some(TOKEN_KID))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DEFAULT_TOKEN_TTL;

    fn client() -> OAuthClient {
        OAuthClient {
            id: 1,
            client_id: "aipc-test".into(),
            secret_hash: [0; 32],
            client_key_id: 42,
            enabled: true,
            token_generation: 3,
        }
    }

    #[test]
    fn issued_tokens_verify_and_name_their_client() {
        let issuer = TokenIssuer::new(&[7; 32], DEFAULT_TOKEN_TTL);
        let token = issuer.issue(&client()).expect("issue");
        assert!(is_gateway_token(&token));
        assert_eq!(
            issuer.verify(&token),
            Ok(TokenSubject {
                client_key_id: 42,
                oauth_client_id: "aipc-test".into(),
                generation: 3,
            })
        );
    }

    #[test]
    fn tokens_living_longer_than_the_configured_lifetime_are_refused() {
        let long = TokenIssuer::new(&[7; 32], Duration::from_secs(7200))
            .issue(&client())
            .expect("issue");
        assert!(
            TokenIssuer::new(&[7; 32], Duration::from_secs(7200))
                .verify(&long)
                .is_ok()
        );
        assert!(
            TokenIssuer::new(&[7; 32], Duration::from_secs(7199))
                .verify(&long)
                .is_err(),
            "a lifetime lowered since issue ends the longer tokens"
        );
    }

    #[test]
    fn while_rotating_tokens_of_the_previous_key_verify_and_new_ones_use_the_current() {
        let (old, new) = ([7; 32], [8; 32]);
        let before = TokenIssuer::new(&old, DEFAULT_TOKEN_TTL)
            .issue(&client())
            .expect("issue");
        let rotating = TokenIssuer::new(&new, DEFAULT_TOKEN_TTL).with_previous_key(Some(&old));
        assert!(
            rotating.verify(&before).is_ok(),
            "issued before the rotation"
        );
        let after = rotating.issue(&client()).expect("issue");
        assert!(
            TokenIssuer::new(&new, DEFAULT_TOKEN_TTL)
                .verify(&after)
                .is_ok()
        );
        assert!(
            TokenIssuer::new(&old, DEFAULT_TOKEN_TTL)
                .verify(&after)
                .is_err(),
            "never signed with the previous key"
        );
        let third = TokenIssuer::new(&[9; 32], DEFAULT_TOKEN_TTL)
            .issue(&client())
            .expect("issue");
        assert!(rotating.verify(&third).is_err());
        let dropped = TokenIssuer::new(&new, DEFAULT_TOKEN_TTL).with_previous_key(None);
        assert!(dropped.verify(&before).is_err(), "previous key dropped");
    }

    #[test]
    fn tokens_of_another_master_key_or_expired_are_refused() {
        let token = TokenIssuer::new(&[7; 32], DEFAULT_TOKEN_TTL)
            .issue(&client())
            .expect("issue");
        assert!(
            TokenIssuer::new(&[8; 32], DEFAULT_TOKEN_TTL)
                .verify(&token)
                .is_err()
        );
        let expired = TokenIssuer::new(&[7; 32], Duration::ZERO)
            .issue(&client())
            .expect("issue");
        std::thread::sleep(Duration::from_millis(1100));
        assert!(
            TokenIssuer::new(&[7; 32], DEFAULT_TOKEN_TTL)
                .verify(&expired)
                .is_err()
        );
    }
}
