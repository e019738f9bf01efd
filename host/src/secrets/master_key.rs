//! The master key: from `AI_PROXY_MASTER_KEY`, else a key file created
//! with mode 0600 at first start, in a data directory created 0700 when
//! missing (and made 0600 again if found looser). An error names the
//! setting and how to make a key.
//!
//! While the key is rotated, the previous key comes from
//! `AI_PROXY_MASTER_KEY_PREVIOUS` or, for a key kept in a file, from
//! `master.key.previous` beside `master.key` (made 0600 like it). It is
//! only ever read, never generated.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use rand::RngCore;

/// Why no master key could be had.
#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error("AI_PROXY_MASTER_KEY must be 32 bytes as base64 or 64 hex characters")]
    BadValue,
    #[error(
        "AI_PROXY_MASTER_KEY_PREVIOUS (or the file {PREVIOUS_KEY_FILE}) must be 32 bytes as base64 or 64 hex characters"
    )]
    BadPrevious,
    #[error(
        "AI_PROXY_MASTER_KEY_PREVIOUS is the same key as the current one: give the new key as AI_PROXY_MASTER_KEY and the old one as AI_PROXY_MASTER_KEY_PREVIOUS"
    )]
    PreviousIsCurrent,
    #[error(
        "master key file {path}: {source}; make the data directory (AI_PROXY_DATA_DIR) writable, or give the key as AI_PROXY_MASTER_KEY: 32 random bytes in base64 (`openssl rand -base64 32`), the same on every instance sharing the database"
    )]
    File {
        path: String,
        source: std::io::Error,
    },
}

/// Loads the 32-byte master key.
pub fn load_master_key(
    configured: Option<&str>,
    data_dir: &Path,
) -> Result<[u8; 32], MasterKeyError> {
    if let Some(value) = configured {
        return decode(value).ok_or(MasterKeyError::BadValue);
    }
    let path = data_dir.join("master.key");
    let file_err = |source| MasterKeyError::File {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            // A key file left readable by others is made private again.
            crate::private_files::private_file(&path).map_err(file_err)?;
            decode(&text).ok_or(MasterKeyError::BadValue)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // On PostgreSQL nothing else has made the data directory yet.
            crate::private_files::private_dir(data_dir).map_err(file_err)?;
            let mut key = [0u8; 32];
            rand::thread_rng().fill_bytes(&mut key);
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&path).map_err(file_err)?;
            let encoded = base64::engine::general_purpose::STANDARD.encode(key);
            file.write_all(encoded.as_bytes()).map_err(file_err)?;
            Ok(key)
        }
        Err(e) => Err(file_err(e)),
    }
}

/// The previous key's file, beside `master.key` in the data directory.
pub const PREVIOUS_KEY_FILE: &str = "master.key.previous";

/// Loads the key being rotated away from, if one is given: `configured`
/// (`AI_PROXY_MASTER_KEY_PREVIOUS`), else [`PREVIOUS_KEY_FILE`] when it
/// exists. A key equal to `current` is refused: it would mean the
/// operator swapped or repeated them.
pub fn load_previous_master_key(
    configured: Option<&str>,
    data_dir: &Path,
    current: &[u8; 32],
) -> Result<Option<[u8; 32]>, MasterKeyError> {
    let previous = match configured {
        Some(value) => decode(value).ok_or(MasterKeyError::BadPrevious)?,
        None => {
            let path = data_dir.join(PREVIOUS_KEY_FILE);
            let file_err = |source| MasterKeyError::File {
                path: path.display().to_string(),
                source,
            };
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(file_err(e)),
            };
            crate::private_files::private_file(&path).map_err(file_err)?;
            decode(&text).ok_or(MasterKeyError::BadPrevious)?
        }
    };
    if &previous == current {
        return Err(MasterKeyError::PreviousIsCurrent);
    }
    Ok(Some(previous))
}

fn decode(value: &str) -> Option<[u8; 32]> {
    let value = value.trim();
    let bytes = if value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(value).ok()?
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(value)
            .ok()?
    };
    bytes.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_key_file_is_private_and_stable() {
        let dir = std::env::temp_dir().join(format!("aip-mk-{}", super::super::random_hex(6)));
        std::fs::create_dir_all(&dir).expect("dir");
        let a = load_master_key(None, &dir).expect("create");
        let b = load_master_key(None, &dir).expect("reload");
        assert_eq!(a, b);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("master.key"))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[cfg(unix)]
    #[test]
    fn a_missing_data_directory_is_created_private_for_the_key_file() {
        use std::os::unix::fs::PermissionsExt;
        let root = std::env::temp_dir().join(format!("aip-mk-{}", super::super::random_hex(6)));
        let dir = root.join("not").join("there");
        load_master_key(None, &dir).expect("created with its directory");
        let mode = std::fs::metadata(&dir).expect("dir").permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        let _ = std::fs::remove_dir_all(&root);
    }

    #[cfg(unix)]
    #[test]
    fn an_unwritable_data_directory_names_the_setting_that_replaces_the_file() {
        // A file where the directory should be: nothing can be created under it.
        let blocker = std::env::temp_dir().join(format!("aip-mk-{}", super::super::random_hex(6)));
        std::fs::write(&blocker, b"not a directory").expect("file");
        let err = load_master_key(None, &blocker.join("data")).expect_err("no directory");
        let message = err.to_string();
        assert!(message.contains("AI_PROXY_MASTER_KEY"), "{message}");
        assert!(message.contains("openssl rand -base64 32"), "{message}");
        let _ = std::fs::remove_file(&blocker);
    }

    #[cfg(unix)]
    #[test]
    fn loose_key_file_is_made_private_at_load() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("aip-mk-{}", super::super::random_hex(6)));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("master.key");
        std::fs::write(&path, "ab".repeat(32)).expect("key");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        load_master_key(None, &dir).expect("load");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_previous_key_comes_from_the_setting_else_its_file_else_none() {
        let dir = std::env::temp_dir().join(format!("aip-mk-{}", super::super::random_hex(6)));
        std::fs::create_dir_all(&dir).expect("dir");
        let current = [0xab; 32];
        let none = load_previous_master_key(None, &dir, &current).expect("none");
        assert_eq!(none, None, "no setting and no file");
        std::fs::write(dir.join(PREVIOUS_KEY_FILE), "cd".repeat(32)).expect("file");
        let from_file = load_previous_master_key(None, &dir, &current).expect("file");
        assert_eq!(from_file, Some([0xcd; 32]));
        let set = load_previous_master_key(Some(&"ef".repeat(32)), &dir, &current);
        assert_eq!(set.expect("setting"), Some([0xef; 32]), "the setting wins");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_previous_key_that_is_malformed_or_the_current_one_is_refused() {
        let dir = Path::new("/nonexistent");
        let current = [0xab; 32];
        assert!(matches!(
            load_previous_master_key(Some("short"), dir, &current),
            Err(MasterKeyError::BadPrevious)
        ));
        let same = load_previous_master_key(Some(&"ab".repeat(32)), dir, &current);
        assert!(matches!(same, Err(MasterKeyError::PreviousIsCurrent)));
        let message = MasterKeyError::BadPrevious.to_string();
        assert!(
            message.contains("AI_PROXY_MASTER_KEY_PREVIOUS"),
            "{message}"
        );
    }

    #[test]
    fn configured_key_must_be_32_bytes() {
        assert!(load_master_key(Some(&"ab".repeat(32)), Path::new("/nonexistent")).is_ok());
        assert!(matches!(
            load_master_key(Some("short"), Path::new("/x")),
            Err(MasterKeyError::BadValue)
        ));
    }
}
