//! Client keys: `aip-` plus 40 random base62 characters; stored as SHA-256.
//!
//! The keys carry 238 bits of entropy, so a fast hash is enough: nobody can
//! brute-force them, and lookups stay at memory speed.

use rand::Rng;
use sha2::{Digest, Sha256};

/// Prefix of every client key the gateway issues.
pub const CLIENT_KEY_PREFIX: &str = "aip-";
const RANDOM_CHARS: usize = 40;
/// Characters of a key kept for display.
pub const DISPLAY_PREFIX_CHARS: usize = 12;

/// SHA-256 of a client key.
pub type ClientKeyHash = [u8; 32];

/// Prefix of OAuth client ids.
pub const OAUTH_CLIENT_ID_PREFIX: &str = "aipc-";
/// Prefix of OAuth client secrets.
pub const OAUTH_CLIENT_SECRET_PREFIX: &str = "aips-";
const CLIENT_ID_RANDOM_CHARS: usize = 24;

/// `prefix` and `len` random base62 characters.
fn random_token(prefix: &str, len: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::thread_rng();
    let random: String = (0..len)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect();
    format!("{prefix}{random}")
}

/// A new random client key.
pub fn generate_client_key() -> String {
    random_token(CLIENT_KEY_PREFIX, RANDOM_CHARS)
}

/// A new OAuth client id (public) and secret (as strong as a client key,
/// stored the same way: hashed).
pub fn generate_oauth_client() -> (String, String) {
    (
        random_token(OAUTH_CLIENT_ID_PREFIX, CLIENT_ID_RANDOM_CHARS),
        random_token(OAUTH_CLIENT_SECRET_PREFIX, RANDOM_CHARS),
    )
}

pub fn hash_client_key(key: &str) -> ClientKeyHash {
    Sha256::digest(key.as_bytes()).into()
}

/// A display form that shows only the start and the last four characters.
pub fn mask(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() <= 8 {
        return "****".into();
    }
    let head: String = chars[..3.min(chars.len())].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_well_formed() {
        let a = generate_client_key();
        assert!(a.starts_with(CLIENT_KEY_PREFIX));
        assert_eq!(a.len(), CLIENT_KEY_PREFIX.len() + RANDOM_CHARS);
        assert_ne!(a, generate_client_key());
        assert_eq!(hash_client_key(&a), hash_client_key(&a));
    }

    #[test]
    fn mask_hides_the_middle() {
        assert_eq!(mask("sk-1234567890abcd"), "sk-…abcd");
        assert_eq!(mask("short"), "****");
    }
}
