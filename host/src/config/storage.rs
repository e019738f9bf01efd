//! Where the gateway keeps its state: the data directory, the database and
//! how often an instance looks there for changes made by another.

use std::path::PathBuf;
use std::time::Duration;

use super::env::{ConfigError, Env};

/// Default data directory, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = "data";
/// The SQLite file under the data directory used without `DATABASE_URL`.
pub const DEFAULT_SQLITE_FILE: &str = "ai-proxy.db";
/// Default interval between checks for changes made by other instances.
pub const DEFAULT_CONFIG_POLL: Duration = Duration::from_millis(1000);

/// The storage settings.
#[derive(Debug, Clone)]
pub struct StorageConfig {
    /// SQLite database, master key file and plugin cache
    /// (`AI_PROXY_DATA_DIR`).
    pub data_dir: PathBuf,
    /// `sqlite:` or `postgres://` (`DATABASE_URL`); SQLite under the data
    /// directory when unset.
    pub database_url: String,
    /// How often to look for configuration changes made by other instances
    /// on the same database; zero never looks (`AI_PROXY_CONFIG_POLL_MS`).
    pub config_poll: Duration,
}

impl StorageConfig {
    pub(crate) fn read(env: &Env) -> Result<StorageConfig, ConfigError> {
        let data_dir = env
            .path("AI_PROXY_DATA_DIR")
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let database_url = env
            .url("DATABASE_URL", "a sqlite: or postgres:// URL", |url| {
                let known = url.starts_with("sqlite:") || url.starts_with("postgres");
                known.then(|| url.to_owned())
            })?
            .unwrap_or_else(|| {
                let file = data_dir.join(DEFAULT_SQLITE_FILE);
                format!("sqlite://{}?mode=rwc", file.display())
            });
        Ok(StorageConfig {
            database_url,
            data_dir,
            config_poll: env
                .millis("AI_PROXY_CONFIG_POLL_MS")
                .default(DEFAULT_CONFIG_POLL)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::env::pairs;
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<StorageConfig, ConfigError> {
        StorageConfig::read(&pairs(vars))
    }

    #[test]
    fn defaults_put_sqlite_under_the_data_directory() {
        let c = read(&[]).expect("defaults");
        assert_eq!(c.database_url, "sqlite://data/ai-proxy.db?mode=rwc");
        assert_eq!(c.config_poll, DEFAULT_CONFIG_POLL);
        let c = read(&[("AI_PROXY_DATA_DIR", "/srv/aip")]).expect("dir");
        assert_eq!(c.database_url, "sqlite:///srv/aip/ai-proxy.db?mode=rwc");
    }

    #[test]
    fn an_unknown_database_scheme_is_refused_without_echoing_the_password() {
        let err = read(&[("DATABASE_URL", "mysql://u:hunter2@db/x")]).expect_err("mysql");
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(err.to_string().contains("DATABASE_URL"), "{err}");
        assert!(read(&[("DATABASE_URL", "postgres://u@db/x")]).is_ok());
    }

    #[test]
    fn config_poll_zero_turns_it_off_and_garbage_is_refused() {
        let c = read(&[("AI_PROXY_CONFIG_POLL_MS", "0")]).expect("0");
        assert!(c.config_poll.is_zero());
        assert!(read(&[("AI_PROXY_CONFIG_POLL_MS", "soon")]).is_err());
        assert!(read(&[("AI_PROXY_CONFIG_POLL_MS", "-1")]).is_err());
    }
}
