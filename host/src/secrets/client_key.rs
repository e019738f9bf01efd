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

/// A new random client key.
pub fn generate_client_key() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::thread_rng();
    let random: String = (0..RANDOM_CHARS)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect();
    format!("{CLIENT_KEY_PREFIX}{random}")
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
