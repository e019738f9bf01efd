//! Recently verified HTTP Basic credentials of the admin API, so scripts
//! calling it with Basic auth do not pay for an argon2 hash (tens of MiB
//! and milliseconds) on every request. Entries are keyed by a digest of
//! name and password, never the password itself, and live for
//! [`BASIC_CACHE_TTL`]; the account is still re-read on every request.

use std::time::Instant;

/// How long a verified Basic credential is remembered.
pub const BASIC_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// Recently verified Basic credentials, by a digest of name and password
/// (never the password itself), with the account and its password version.
#[derive(Default)]
pub struct BasicAuthCache {
    entries: std::sync::Mutex<std::collections::HashMap<[u8; 32], (i32, String, Instant)>>,
}

impl BasicAuthCache {
    fn digest(name: &str, password: &str) -> [u8; 32] {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(name.as_bytes());
        h.update([0u8]);
        h.update(password.as_bytes());
        h.finalize().into()
    }

    pub fn get(&self, name: &str, password: &str) -> Option<(i32, String)> {
        let map = self.entries.lock().ok()?;
        let (id, pwv, at) = map.get(&Self::digest(name, password))?;
        (at.elapsed() < BASIC_CACHE_TTL).then(|| (*id, pwv.clone()))
    }

    pub fn put(&self, name: &str, password: &str, id: i32, pwv: String) {
        if let Ok(mut map) = self.entries.lock() {
            map.retain(|_, (_, _, at)| at.elapsed() < BASIC_CACHE_TTL);
            map.insert(Self::digest(name, password), (id, pwv, Instant::now()));
        }
    }
}
