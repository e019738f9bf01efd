//! AES-256-GCM encryption of secrets at rest, each ciphertext bound to the
//! place it is stored.
//!
//! Stored form: the 4-byte prefix `aip2`, a fresh 12-byte random nonce,
//! then ciphertext and tag. The associated data names the table, the column
//! and the row id ([`SecretColumn`]), so a ciphertext copied into another
//! row or column does not decrypt: someone who can write the database but
//! does not hold the master key cannot move one tenant's upstream key into
//! another's row.
//!
//! Gateways before this format stored the nonce and ciphertext with no
//! prefix and no associated data ("unbound"). Those are read only by
//! [`crate::store::rebind`] at start, which rewrites them bound.
//!
//! While the master key is rotated, a box also holds the previous key
//! (`AI_PROXY_MASTER_KEY_PREVIOUS`): it encrypts under the current key
//! only, and reads what either key sealed, so rows not yet re-encrypted
//! by [`crate::store::rotate`] stay usable.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;

use super::Secret;

const NONCE_BYTES: usize = 12;
/// Marks a ciphertext bound to its table, column and row.
const BOUND_PREFIX: &[u8; 4] = b"aip2";
/// Domain of the associated data.
const AAD_DOMAIN: &[u8] = b"ai-proxy stored secret v2";

/// The encrypted columns of the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretColumn {
    /// `provider_keys.secret_ciphertext`: an API key or OAuth access token.
    UpstreamKeySecret,
    /// `provider_keys.oauth_refresh_ciphertext`.
    UpstreamKeyRefreshToken,
    /// `providers.oauth_client_secret_ciphertext`.
    ProviderOAuthClientSecret,
    /// `oauth_sessions.verifier_ciphertext`: a pending PKCE verifier.
    OAuthSessionVerifier,
}

impl SecretColumn {
    /// Every encrypted column.
    pub const ALL: [SecretColumn; 4] = [
        SecretColumn::UpstreamKeySecret,
        SecretColumn::UpstreamKeyRefreshToken,
        SecretColumn::ProviderOAuthClientSecret,
        SecretColumn::OAuthSessionVerifier,
    ];

    pub fn table(self) -> &'static str {
        match self {
            SecretColumn::UpstreamKeySecret | SecretColumn::UpstreamKeyRefreshToken => {
                "provider_keys"
            }
            SecretColumn::ProviderOAuthClientSecret => "providers",
            SecretColumn::OAuthSessionVerifier => "oauth_sessions",
        }
    }

    pub fn column(self) -> &'static str {
        match self {
            SecretColumn::UpstreamKeySecret => "secret_ciphertext",
            SecretColumn::UpstreamKeyRefreshToken => "oauth_refresh_ciphertext",
            SecretColumn::ProviderOAuthClientSecret => "oauth_client_secret_ciphertext",
            SecretColumn::OAuthSessionVerifier => "verifier_ciphertext",
        }
    }

    /// The associated data of a ciphertext stored in this column of `row`.
    fn aad(self, row: i64) -> Vec<u8> {
        let mut aad = AAD_DOMAIN.to_vec();
        for part in [self.table(), self.column(), &row.to_string()] {
            aad.push(0);
            aad.extend_from_slice(part.as_bytes());
        }
        aad
    }
}

/// Encrypts and decrypts secrets under the master key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
    /// The key being rotated away from: read, never written.
    previous: Option<Aes256Gcm>,
}

/// Which master key sealed a stored secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedUnder {
    Current,
    Previous,
}

/// A stored secret that cannot be decrypted (wrong master key, corrupt
/// data, or a ciphertext that belongs to another row or column).
#[derive(Debug, thiserror::Error)]
#[error("stored secret cannot be decrypted (wrong master key or corrupt data)")]
pub struct SecretBoxError;

impl SecretBox {
    pub fn new(key: &[u8; 32]) -> SecretBox {
        SecretBox {
            cipher: Aes256Gcm::new(key.into()),
            previous: None,
        }
    }

    /// A box that encrypts under `key` and also reads what `previous`
    /// sealed.
    pub fn rotating(key: &[u8; 32], previous: &[u8; 32]) -> SecretBox {
        SecretBox {
            cipher: Aes256Gcm::new(key.into()),
            previous: Some(Aes256Gcm::new(previous.into())),
        }
    }

    /// Whether this box reads a previous key's ciphertexts.
    pub fn has_previous(&self) -> bool {
        self.previous.is_some()
    }

    /// Encrypts `secret` for `column` of row `row`.
    pub fn encrypt(&self, secret: &Secret, column: SecretColumn, row: i64) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::thread_rng().fill_bytes(&mut nonce);
        let mut out = BOUND_PREFIX.to_vec();
        out.extend_from_slice(&nonce);
        let aad = column.aad(row);
        let payload = Payload {
            msg: secret.expose().as_bytes(),
            aad: &aad,
        };
        // Encryption with a valid key and in-memory buffers cannot fail.
        if let Ok(ct) = self.cipher.encrypt(Nonce::from_slice(&nonce), payload) {
            out.extend_from_slice(&ct);
        }
        out
    }

    /// Decrypts what [`SecretBox::encrypt`] stored in `column` of `row`.
    pub fn decrypt(
        &self,
        stored: &[u8],
        column: SecretColumn,
        row: i64,
    ) -> Result<Secret, SecretBoxError> {
        self.decrypt_telling(stored, column, row)
            .map(|(secret, _)| secret)
    }

    /// Like [`SecretBox::decrypt`], and says which key sealed it: the
    /// current key is tried first, so a row re-encrypted already costs
    /// one attempt.
    pub fn decrypt_telling(
        &self,
        stored: &[u8],
        column: SecretColumn,
        row: i64,
    ) -> Result<(Secret, SealedUnder), SecretBoxError> {
        let sealed = stored.strip_prefix(BOUND_PREFIX).ok_or(SecretBoxError)?;
        self.open(sealed, &column.aad(row))
    }

    /// Decrypts the format of gateways before binding (no prefix, no
    /// associated data). Only for rewriting such rows at start.
    pub(crate) fn decrypt_unbound(&self, stored: &[u8]) -> Result<Secret, SecretBoxError> {
        self.open(stored, &[]).map(|(secret, _)| secret)
    }

    fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<(Secret, SealedUnder), SecretBoxError> {
        if let Ok(secret) = open_with(&self.cipher, sealed, aad) {
            return Ok((secret, SealedUnder::Current));
        }
        let previous = self.previous.as_ref().ok_or(SecretBoxError)?;
        open_with(previous, sealed, aad).map(|secret| (secret, SealedUnder::Previous))
    }

    /// The format of gateways before binding, for tests of the rewrite.
    #[cfg(test)]
    pub(crate) fn encrypt_unbound(&self, secret: &Secret) -> Vec<u8> {
        let nonce = [3u8; NONCE_BYTES];
        let mut out = nonce.to_vec();
        if let Ok(ct) = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), secret.expose().as_bytes())
        {
            out.extend_from_slice(&ct);
        }
        out
    }
}

/// Decrypts nonce-prefixed `sealed` with one key.
fn open_with(cipher: &Aes256Gcm, sealed: &[u8], aad: &[u8]) -> Result<Secret, SecretBoxError> {
    if sealed.len() <= NONCE_BYTES {
        return Err(SecretBoxError);
    }
    let (nonce, msg) = sealed.split_at(NONCE_BYTES);
    let plain = cipher
        .decrypt(Nonce::from_slice(nonce), Payload { msg, aad })
        .map_err(|_| SecretBoxError)?;
    String::from_utf8(plain)
        .map(Secret::new)
        .map_err(|_| SecretBoxError)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: SecretColumn = SecretColumn::UpstreamKeySecret;

    fn plain(result: Result<Secret, SecretBoxError>) -> Option<String> {
        result.ok().map(|s| s.expose().to_owned())
    }

    #[test]
    fn round_trip_and_wrong_key_fails() {
        let a = SecretBox::new(&[7u8; 32]);
        let stored = a.encrypt(&Secret::new("sk-abc"), KEY, 1);
        assert!(!stored.windows(6).any(|w| w == b"sk-abc"));
        assert_eq!(plain(a.decrypt(&stored, KEY, 1)), Some("sk-abc".into()));
        assert!(SecretBox::new(&[8u8; 32]).decrypt(&stored, KEY, 1).is_err());
        assert!(a.decrypt(&stored[..4 + NONCE_BYTES], KEY, 1).is_err());
    }

    #[test]
    fn same_secret_encrypts_differently_each_time() {
        let a = SecretBox::new(&[7u8; 32]);
        let x = Secret::new("x");
        assert_ne!(a.encrypt(&x, KEY, 1), a.encrypt(&x, KEY, 1));
    }

    #[test]
    fn ciphertext_moved_to_another_row_or_column_does_not_decrypt() {
        let a = SecretBox::new(&[7u8; 32]);
        let stored = a.encrypt(&Secret::new("sk-abc"), KEY, 41);
        assert!(a.decrypt(&stored, KEY, 42).is_err(), "another row");
        assert!(a.decrypt(&stored, KEY, -41).is_err(), "another row");
        for other in SecretColumn::ALL.into_iter().filter(|c| *c != KEY) {
            assert!(a.decrypt(&stored, other, 41).is_err(), "{other:?}");
        }
        assert!(a.decrypt_unbound(&stored).is_err());
    }

    #[test]
    fn unbound_ciphertext_is_refused_by_decrypt_and_read_by_decrypt_unbound() {
        let a = SecretBox::new(&[7u8; 32]);
        let old = a.encrypt_unbound(&Secret::new("sk-old"));
        assert!(a.decrypt(&old, KEY, 1).is_err());
        assert_eq!(plain(a.decrypt_unbound(&old)), Some("sk-old".into()));
    }

    #[test]
    fn a_rotating_box_writes_under_the_new_key_and_reads_both() {
        let (old, new) = ([1u8; 32], [2u8; 32]);
        let before = SecretBox::new(&old).encrypt(&Secret::new("sk-old"), KEY, 5);
        let rotating = SecretBox::rotating(&new, &old);
        let (secret, under) = rotating.decrypt_telling(&before, KEY, 5).expect("old");
        assert_eq!((secret.expose(), under), ("sk-old", SealedUnder::Previous));

        let after = rotating.encrypt(&Secret::new("sk-new"), KEY, 5);
        let (secret, under) = rotating.decrypt_telling(&after, KEY, 5).expect("new");
        assert_eq!((secret.expose(), under), ("sk-new", SealedUnder::Current));
        assert_eq!(
            plain(SecretBox::new(&new).decrypt(&after, KEY, 5)),
            Some("sk-new".into())
        );
        assert!(
            SecretBox::new(&old).decrypt(&after, KEY, 5).is_err(),
            "never written under the old key"
        );
        assert!(SecretBox::new(&new).decrypt(&before, KEY, 5).is_err());
    }

    #[test]
    fn a_rotating_box_still_refuses_a_third_key_and_a_moved_ciphertext() {
        let (old, new) = ([1u8; 32], [2u8; 32]);
        let rotating = SecretBox::rotating(&new, &old);
        let foreign = SecretBox::new(&[3u8; 32]).encrypt(&Secret::new("x"), KEY, 5);
        assert!(rotating.decrypt(&foreign, KEY, 5).is_err());
        let before = SecretBox::new(&old).encrypt(&Secret::new("x"), KEY, 5);
        assert!(rotating.decrypt(&before, KEY, 6).is_err(), "another row");
        assert!(!SecretBox::new(&new).has_previous() && rotating.has_previous());
    }

    #[test]
    fn every_column_names_a_distinct_place() {
        let places: std::collections::HashSet<_> = SecretColumn::ALL
            .iter()
            .map(|c| (c.table(), c.column()))
            .collect();
        assert_eq!(places.len(), SecretColumn::ALL.len());
    }
}
