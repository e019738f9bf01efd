//! Signed admin session tokens: HS256 JWTs with an expiry, keyed by a
//! secret derived from the master key (so every instance sharing the
//! master key accepts them). A token names the account and a fingerprint of
//! its password hash, so changing the password ends every older session;
//! logout revokes the token's id until it expires, on this instance at once
//! and on the others through the database (`revoked_sessions`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::secrets::random_hex;

/// How long a session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// Name of the session cookie the web UI uses.
pub const SESSION_COOKIE: &str = "aip_session";

/// What a session token says.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// Account id.
    pub sub: i32,
    pub name: String,
    pub role: String,
    /// Fingerprint of the password hash the session was opened with.
    pub pwv: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
}

/// Issues and checks session tokens.
pub struct SessionSigner {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// While the master key is rotated: sessions signed under the previous
    /// one stay valid until they expire; none is signed with it.
    previous: Option<DecodingKey>,
    revoked: Mutex<HashMap<String, i64>>,
}

/// A fingerprint of a password hash, for [`Claims::pwv`].
pub fn password_version(password_hash: &str) -> String {
    hex::encode(&Sha256::digest(password_hash.as_bytes())[..8])
}

impl SessionSigner {
    pub fn new(master_key: &[u8; 32]) -> SessionSigner {
        let secret = signing_secret(master_key);
        SessionSigner {
            encoding: EncodingKey::from_secret(&secret),
            decoding: DecodingKey::from_secret(&secret),
            previous: None,
            revoked: Mutex::new(HashMap::new()),
        }
    }

    /// Also accepts sessions signed under `previous`, the master key being
    /// rotated away from, so a rolling restart signs nobody out.
    pub fn with_previous_key(self, previous: Option<&[u8; 32]>) -> SessionSigner {
        let previous = previous.map(|key| DecodingKey::from_secret(&signing_secret(key)));
        SessionSigner { previous, ..self }
    }

    /// A token for this account, valid for [`SESSION_TTL`].
    pub fn issue(
        &self,
        id: i32,
        name: &str,
        role: &str,
        password_hash: &str,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: id,
            name: name.to_owned(),
            role: role.to_owned(),
            pwv: password_version(password_hash),
            iat: now,
            exp: now + SESSION_TTL.as_secs() as i64,
            jti: random_hex(12),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// The claims of a valid, unexpired, unrevoked token.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        let decoded = match (
            decode::<Claims>(token, &self.decoding, &validation),
            &self.previous,
        ) {
            (Err(_), Some(previous)) => decode::<Claims>(token, previous, &validation),
            (decoded, _) => decoded,
        };
        let claims = decoded.ok()?.claims;
        let revoked = self.revoked.lock().ok()?.contains_key(&claims.jti);
        (!revoked).then_some(claims)
    }

    /// Ends a session before its expiry.
    pub fn revoke(&self, claims: &Claims) {
        self.revoke_id(&claims.jti, claims.exp);
    }

    /// Ends the session with token id `jti` (valid until `exp`).
    pub fn revoke_id(&self, jti: &str, exp: i64) {
        if let Ok(mut revoked) = self.revoked.lock() {
            let now = chrono::Utc::now().timestamp();
            revoked.retain(|_, exp| *exp > now);
            revoked.insert(jti.to_owned(), exp);
        }
    }
}

/// The HMAC key of sessions, derived from `master_key`.
fn signing_secret(master_key: &[u8; 32]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"ai-proxy admin session signing key v1");
    hasher.update(master_key);
    hasher.finalize().into()
}

/// Loads the revocations stored by any instance (and forgets expired ones).
pub async fn load_revocations(
    db: &sea_orm::DatabaseConnection,
    signer: &SessionSigner,
) -> Result<(), sea_orm::DbErr> {
    let now = chrono::Utc::now().timestamp();
    for (jti, expires_at) in crate::store::revoked_sessions::live(db, now).await? {
        signer.revoke_id(&jti, expires_at);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_verify_and_revoked_ones_do_not() {
        let signer = SessionSigner::new(&[1; 32]);
        let token = signer
            .issue(7, "ada", "admin", "$argon2id$x")
            .expect("token");
        let claims = signer.verify(&token).expect("valid");
        assert_eq!((claims.sub, claims.role.as_str()), (7, "admin"));
        signer.revoke(&claims);
        assert!(signer.verify(&token).is_none());
    }

    #[test]
    fn while_rotating_sessions_of_the_previous_key_verify_until_revoked() {
        let old = SessionSigner::new(&[1; 32]);
        let token = old.issue(7, "ada", "admin", "h").expect("token");
        let rotating = SessionSigner::new(&[2; 32]).with_previous_key(Some(&[1; 32]));
        let claims = rotating.verify(&token).expect("signed before the rotation");
        let fresh = rotating.issue(7, "ada", "admin", "h").expect("token");
        assert!(
            old.verify(&fresh).is_none(),
            "never signed with the previous key"
        );
        assert!(SessionSigner::new(&[2; 32]).verify(&token).is_none());
        rotating.revoke(&claims);
        assert!(rotating.verify(&token).is_none(), "revocation still holds");
    }

    #[test]
    fn tokens_from_another_key_or_tampered_are_refused() {
        let a = SessionSigner::new(&[1; 32]);
        let b = SessionSigner::new(&[2; 32]);
        let token = a.issue(1, "x", "user", "h").expect("token");
        assert!(b.verify(&token).is_none());
        let mut tampered = token.clone();
        tampered.pop();
        assert!(a.verify(&tampered).is_none());
        // alg=none is never accepted.
        let parts: Vec<&str> = token.split('.').collect();
        let none_header = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            br#"{"alg":"none","typ":"JWT"}"#,
        );
        assert!(a.verify(&format!("{none_header}.{}.", parts[1])).is_none());
    }
}
