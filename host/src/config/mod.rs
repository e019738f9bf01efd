//! The gateway's one validated configuration, read from the environment
//! before anything starts serving, so a typo fails the start with a message
//! instead of surfacing as odd behaviour later.
//!
//! [`Config`] is made of one part per area, each read and checked in its
//! own file by the same typed reader ([`env::Env`]): every variable has a
//! named default, numbers a named range, and every refusal is a
//! [`ConfigError`] naming the variable and what it must be (never a
//! secret's value). Blank variables count as unset. The README's table of
//! variables lists every one read here (a test checks it).

pub mod admin;
pub mod auth;
pub mod edge;
pub mod env;
pub mod jwt;
pub mod limits;
pub mod listen;
pub mod plugins;
pub mod proxy;
pub mod secrets;
pub mod shutdown;
pub mod storage;
pub mod trace;
pub mod upstream;

pub use admin::{AdminConfig, MIN_METRICS_TOKEN_BYTES};
pub use auth::{ClientAuthConfig, MAX_OAUTH_TOKEN_TTL, MIN_JWT_SECRET_BYTES, MIN_OAUTH_TOKEN_TTL};
pub use edge::{
    DEFAULT_HEAD_TIMEOUT, DEFAULT_MAX_HEADER_BYTES, DEFAULT_MAX_HEADERS,
    DEFAULT_MAX_REQUEST_LINE_BYTES, DEFAULT_WRITE_TIMEOUT, EdgeLimits, HeadLimits,
    MAX_HEAD_BYTES_LIMIT, MAX_HEADERS_LIMIT,
};
pub use env::{Allowed, ConfigError, Problem};
pub use jwt::{
    DEFAULT_JWT_LEEWAY, DEFAULT_JWT_MAX_LIFETIME, DEFAULT_TOKEN_TTL, JwtConfig, MAX_JWT_LEEWAY,
    MAX_JWT_MAX_LIFETIME, MIN_JWT_MAX_LIFETIME, TimeRules,
};
pub use limits::LimitsConfig;
pub use listen::ListenConfig;
pub use plugins::{
    DEFAULT_PLUGIN_CALL_TIMEOUT, DEFAULT_PLUGIN_INSTANCES, DEFAULT_PLUGIN_MEMORY_BYTES,
    MAX_PLUGIN_BYTES_LIMIT, PluginsConfig,
};
pub use proxy::{DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_BODY_BYTES, MAX_ATTEMPTS_LIMIT, ProxyConfig};
pub use secrets::SecretsConfig;
pub use shutdown::{MAX_UNIX_SOCKET_PATH, ShutdownConfig};
pub use storage::{DEFAULT_CONFIG_POLL, StorageConfig};
pub use trace::{
    DEFAULT_TRACE_BATCH, DEFAULT_TRACE_FLUSH, DEFAULT_TRACE_QUEUE, OtlpSettings, TraceConfig,
};
pub use upstream::{UpstreamConfig, UpstreamOAuthConfig};

use env::Env;

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen addresses, TLS and trusted reverse proxies.
    pub listen: ListenConfig,
    /// Data directory, database and cross-instance change polling.
    pub storage: StorageConfig,
    /// The master key and the one being rotated away from.
    pub secrets: SecretsConfig,
    /// Admin password, metrics token, console directory.
    pub admin: AdminConfig,
    /// Body cap, threads, attempts and edge limits of the proxy port.
    pub proxy: ProxyConfig,
    /// Client JWTs and issued OAuth tokens.
    pub client_auth: ClientAuthConfig,
    /// Plugin runtime bounds and the failure guard.
    pub plugins: PluginsConfig,
    /// Where limits are counted, and where days begin.
    pub limits: LimitsConfig,
    /// Egress allow-list, key health checks and upstream OAuth.
    pub upstream: UpstreamConfig,
    /// Trace writer, retention and OTLP export.
    pub trace: TraceConfig,
    /// Drain pacing and the upgrade socket.
    pub shutdown: ShutdownConfig,
}

impl Config {
    /// Reads and validates the configuration from environment variables
    /// (see the README for the list).
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`Config::from_env`], from any name → value lookup.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let env = Env::new(get);
        let storage = StorageConfig::read(&env)?;
        Ok(Config {
            listen: ListenConfig::read(&env)?,
            shutdown: ShutdownConfig::read(&env, &storage.data_dir)?,
            storage,
            secrets: SecretsConfig::read(&env)?,
            admin: AdminConfig::read(&env)?,
            proxy: ProxyConfig::read(&env)?,
            client_auth: ClientAuthConfig::read(&env)?,
            plugins: PluginsConfig::read(&env)?,
            limits: LimitsConfig::read(&env)?,
            upstream: UpstreamConfig::read(&env)?,
            trace: TraceConfig::read(&env)?,
        })
    }

    /// Where the previous master key comes from (its variable, else its
    /// file in the data directory), for `store::keyring::open_keys`.
    pub fn previous_key_source(&self) -> crate::store::keyring::PreviousKeySource<'_> {
        crate::store::keyring::PreviousKeySource {
            configured: self
                .secrets
                .master_key_previous
                .as_ref()
                .map(|s| s.expose()),
            data_dir: &self.storage.data_dir,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::{BTreeSet, HashMap};

    /// Every variable a configuration reads given `vars`.
    fn names_read(vars: &[(&str, &str)]) -> BTreeSet<String> {
        let vars: HashMap<&str, &str> = vars.iter().copied().collect();
        let read = RefCell::new(BTreeSet::new());
        let config = Config::from_lookup(|name| {
            read.borrow_mut().insert(name.to_owned());
            vars.get(name).map(|v| (*v).to_owned())
        });
        assert!(config.is_ok(), "{config:?}");
        read.into_inner()
    }

    /// The names a README table row's first cell gives: whole names, and
    /// `_SUFFIX` shorthands standing for the first name's stem plus it.
    fn row_names(cell: &str) -> Vec<(String, Vec<String>)> {
        let ticked: Vec<&str> = cell.split('`').skip(1).step_by(2).collect();
        let Some(first) = ticked.first().filter(|t| !t.starts_with('_')) else {
            return Vec::new();
        };
        let suffixes = ticked[1..].iter().filter(|t| t.starts_with('_'));
        vec![(
            (*first).to_owned(),
            suffixes.map(|s| (*s).to_owned()).collect(),
        )]
    }

    fn documented(readme: &str, name: &str) -> bool {
        let rows = readme.lines().filter(|l| l.starts_with("| `"));
        let cells = rows.filter_map(|l| l.split('|').nth(1));
        cells.flat_map(row_names).any(|(first, suffixes)| {
            first == name
                || suffixes.iter().any(|suffix| {
                    name.strip_suffix(suffix.as_str())
                        .is_some_and(|stem| first.starts_with(&format!("{stem}_")))
                })
        })
    }

    #[test]
    fn the_readme_table_names_every_variable_the_config_reads() {
        let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"));
        let mut read = names_read(&[]);
        read.extend(names_read(&[(
            "AI_PROXY_OTLP_ENDPOINT",
            "http://127.0.0.1:4318",
        )]));
        assert!(read.len() > 50, "the reader saw {} names", read.len());
        let missing: Vec<&String> = read.iter().filter(|n| !documented(readme, n)).collect();
        assert!(missing.is_empty(), "not in the README's table: {missing:?}");
        assert!(
            !documented(readme, "AI_PROXY_NOT_A_SETTING"),
            "the check can fail"
        );
        assert!(
            !documented(readme, "AI_PROXY_OTLP_FLUSH_MS"),
            "shorthands keep their stem"
        );
    }

    #[test]
    fn defaults_are_valid_and_secrets_are_never_printed() {
        let secret_vars = [
            ("AI_PROXY_MASTER_KEY", "master-key-material"),
            ("AI_PROXY_MASTER_KEY_PREVIOUS", "previous-key-material"),
            ("AI_PROXY_ADMIN_PASSWORD", "admin-password-material"),
            (
                "AI_PROXY_METRICS_TOKEN",
                "metrics-token-material-of-32-bytes!",
            ),
            (
                "AI_PROXY_JWT_HS256_SECRET",
                "jwt-secret-material-of-32-bytes!!",
            ),
            (
                "REDIS_URL",
                "redis://:redis-password-material@127.0.0.1:6379",
            ),
        ];
        let vars: HashMap<&str, &str> = secret_vars.iter().copied().collect();
        let config = Config::from_lookup(|n| vars.get(n).map(|v| (*v).to_owned())).expect("valid");
        let printed = format!("{config:?}");
        assert!(!printed.contains("material"), "{printed}");
        let defaults = Config::from_lookup(|_| None).expect("defaults");
        assert_eq!(defaults.listen.proxy_addr.port(), 8080);
        assert_eq!(
            defaults.storage.database_url,
            "sqlite://data/ai-proxy.db?mode=rwc"
        );
    }

    #[test]
    fn the_first_refused_variable_is_named_in_the_error() {
        let err = Config::from_lookup(|n| (n == "AI_PROXY_MAX_HEADERS").then(|| "0".into()))
            .expect_err("refused");
        assert_eq!(err.name(), "AI_PROXY_MAX_HEADERS");
        assert!(
            err.to_string()
                .starts_with("invalid configuration: AI_PROXY_MAX_HEADERS=\"0\""),
            "{err}"
        );
    }
}
