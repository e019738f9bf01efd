//! AES-256-GCM encryption of upstream secrets at rest.
//!
//! Stored form: a fresh 12-byte random nonce followed by ciphertext and tag.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;

use super::Secret;

const NONCE_BYTES: usize = 12;

/// Encrypts and decrypts secrets under the master key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

/// A stored secret that cannot be decrypted (wrong master key or corrupt row).
#[derive(Debug, thiserror::Error)]
#[error("stored secret cannot be decrypted (wrong master key or corrupt data)")]
pub struct SecretBoxError;

impl SecretBox {
    pub fn new(key: &[u8; 32]) -> SecretBox {
        SecretBox {
            cipher: Aes256Gcm::new(key.into()),
        }
    }

    pub fn encrypt(&self, secret: &Secret) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::thread_rng().fill_bytes(&mut nonce);
        let mut out = nonce.to_vec();
        // Encryption with a valid key and in-memory buffers cannot fail.
        if let Ok(ct) = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), secret.expose().as_bytes())
        {
            out.extend_from_slice(&ct);
        }
        out
    }

    pub fn decrypt(&self, stored: &[u8]) -> Result<Secret, SecretBoxError> {
        if stored.len() <= NONCE_BYTES {
            return Err(SecretBoxError);
        }
        let (nonce, ct) = stored.split_at(NONCE_BYTES);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), ct)
            .map_err(|_| SecretBoxError)?;
        String::from_utf8(plain)
            .map(Secret::new)
            .map_err(|_| SecretBoxError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_wrong_key_fails() {
        let a = SecretBox::new(&[7u8; 32]);
        let stored = a.encrypt(&Secret::new("sk-abc"));
        assert!(!stored.windows(6).any(|w| w == b"sk-abc"));
        assert_eq!(
            a.decrypt(&stored).map(|s| s.expose().to_owned()).ok(),
            Some("sk-abc".into())
        );
        assert!(SecretBox::new(&[8u8; 32]).decrypt(&stored).is_err());
        assert!(a.decrypt(&stored[..NONCE_BYTES]).is_err());
    }

    #[test]
    fn same_secret_encrypts_differently_each_time() {
        let a = SecretBox::new(&[7u8; 32]);
        assert_ne!(a.encrypt(&Secret::new("x")), a.encrypt(&Secret::new("x")));
    }
}
