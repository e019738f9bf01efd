//! The master key that encrypts upstream secrets at rest, and the one being
//! rotated away from. Both are [`Secret`]s: printing the configuration
//! never shows them. Their format is checked where they are loaded
//! (`secrets::load_master_key`), which also reads the key files.

use crate::secrets::Secret;

use super::env::{ConfigError, Env};

/// The master key settings.
#[derive(Debug, Clone)]
pub struct SecretsConfig {
    /// Base64 or hex 32-byte key (`AI_PROXY_MASTER_KEY`); a key file under
    /// the data directory otherwise.
    pub master_key: Option<Secret>,
    /// The key being rotated away from (`AI_PROXY_MASTER_KEY_PREVIOUS`),
    /// read but never written; a `master.key.previous` file otherwise.
    pub master_key_previous: Option<Secret>,
}

impl SecretsConfig {
    pub(crate) fn read(env: &Env) -> Result<SecretsConfig, ConfigError> {
        Ok(SecretsConfig {
            master_key: env.secret("AI_PROXY_MASTER_KEY", 0)?,
            master_key_previous: env.secret("AI_PROXY_MASTER_KEY_PREVIOUS", 0)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::env::pairs;
    use super::*;

    #[test]
    fn master_keys_are_read_and_never_printed() {
        let env = pairs(&[
            ("AI_PROXY_MASTER_KEY", "current-key-material"),
            ("AI_PROXY_MASTER_KEY_PREVIOUS", "previous-key-material"),
        ]);
        let c = SecretsConfig::read(&env).expect("set");
        assert_eq!(
            c.master_key.as_ref().map(Secret::expose),
            Some("current-key-material")
        );
        let printed = format!("{c:?}");
        assert!(!printed.contains("key-material"), "{printed}");
        let unset = SecretsConfig::read(&pairs(&[("AI_PROXY_MASTER_KEY", "")])).expect("blank");
        assert!(unset.master_key.is_none() && unset.master_key_previous.is_none());
    }
}
