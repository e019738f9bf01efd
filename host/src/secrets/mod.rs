//! Secrets: the redacting [`Secret`] type, encryption of upstream keys at
//! rest, client key generation and hashing, admin password hashing.
//!
//! Invariant: no type here prints a secret through `Debug` or `Display`.

mod cipher;
mod client_key;
mod master_key;
mod password;
mod secret;
mod url;

pub use cipher::{SealedUnder, SecretBox, SecretBoxError, SecretColumn};
pub use client_key::{
    ClientKeyHash, DISPLAY_PREFIX_CHARS, generate_client_key, generate_oauth_client,
    hash_client_key, mask,
};
pub use master_key::{
    MasterKeyError, PREVIOUS_KEY_FILE, load_master_key, load_previous_master_key,
};
pub use password::{hash_password, verify_password};
pub use secret::Secret;
pub use url::redact_url;

/// Random bytes as lower-case hex.
pub fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    hex::encode(buf)
}
