//! The gateway's one validated configuration, read from the environment.
//!
//! Every limit is a named default here; [`Config::from_env`] checks values
//! before anything starts serving, so a typo fails the start with a message
//! instead of surfacing as odd behaviour later.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use chrono::FixedOffset;

use crate::admin::MIN_METRICS_TOKEN_BYTES;
use crate::egress::{Cidr, EgressPolicy};
use crate::limits::{FailurePolicy, LeaseConfig, parse_offset};
use crate::plugins::{DEFAULT_KEEP_RESIDENT_BYTES, DEFAULT_MAX_PLUGIN_BYTES};
use crate::proxy::{
    DEFAULT_JWT_LEEWAY, DEFAULT_JWT_MAX_LIFETIME, MAX_JWT_LEEWAY, MAX_JWT_MAX_LIFETIME,
    MIN_JWT_MAX_LIFETIME, TimeRules,
};
use crate::proxy::{DEFAULT_TOKEN_TTL, EdgeLimits, HeadLimits, JwtConfig};
use crate::secrets::Secret;
use crate::shutdown::{
    DEFAULT_SHUTDOWN_GRACE, MAX_SHUTDOWN_DELAY, MAX_SHUTDOWN_GRACE, ShutdownTimes,
};
use crate::tls::TlsFiles;
use crate::trace::otlp::{DEFAULT_EXPORT_INTERVAL, DEFAULT_EXPORT_QUEUE, Endpoint};
use crate::trace::retention::{
    DEFAULT_RETENTION_DAYS, DEFAULT_RETENTION_INTERVAL, MAX_RETENTION_DAYS,
};

/// Largest client request body accepted by default (413 above it).
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// Default time one plugin call may run before it is interrupted.
pub const DEFAULT_PLUGIN_CALL_TIMEOUT: Duration = Duration::from_millis(500);
/// Default linear-memory cap of one plugin instance.
pub const DEFAULT_PLUGIN_MEMORY_BYTES: usize = 64 * 1024 * 1024;
/// Default number of plugin instances alive at once (one per in-flight request).
pub const DEFAULT_PLUGIN_INSTANCES: u32 = 1000;
/// Default number of trace rows written per database round trip.
pub const DEFAULT_TRACE_BATCH: usize = 256;
/// Default longest wait before a partial trace batch is written.
pub const DEFAULT_TRACE_FLUSH: Duration = Duration::from_millis(200);
/// Default number of trace rows that may wait for the writer; beyond it
/// rows are dropped (and counted) rather than slowing the proxy down.
pub const DEFAULT_TRACE_QUEUE: usize = 16_384;

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub proxy_addr: SocketAddr,
    pub admin_addr: SocketAddr,
    /// Certificate chain and key (PEM) for HTTPS on both ports
    /// (`AI_PROXY_TLS_CERT`, `AI_PROXY_TLS_KEY`: both or neither).
    pub tls: Option<TlsFiles>,
    /// Reverse proxies whose `X-Forwarded-Proto` and `X-Forwarded-For` the
    /// admin port believes (`AI_PROXY_TRUSTED_PROXIES`, comma-separated CIDRs).
    pub trusted_proxies: Vec<Cidr>,
    pub data_dir: PathBuf,
    pub database_url: String,
    /// Password for the bootstrapped `admin` account; generated and printed
    /// once when unset at first start.
    pub admin_password: Option<String>,
    /// Base64 or hex 32-byte key; a key file under `data_dir` otherwise.
    pub master_key: Option<String>,
    /// The key being rotated away from (`AI_PROXY_MASTER_KEY_PREVIOUS`),
    /// read but never written; a `master.key.previous` file otherwise.
    pub master_key_previous: Option<Secret>,
    /// Token a scraper may send for `/metrics` instead of admin credentials
    /// (`AI_PROXY_METRICS_TOKEN`, at least 32 bytes).
    pub metrics_token: Option<Secret>,
    pub max_body_bytes: usize,
    pub plugin_call_timeout: Duration,
    pub plugin_memory_bytes: usize,
    /// Plugin memory kept mapped per pooled slot between requests, where
    /// the kernel supports it; zero returns it after every request
    /// (`AI_PROXY_PLUGIN_KEEP_RESIDENT_MIB`).
    pub plugin_keep_resident_bytes: usize,
    pub plugin_instances: u32,
    pub proxy_threads: usize,
    pub trace_batch: usize,
    pub trace_flush: Duration,
    pub trace_queue: usize,
    /// Extra plugin components loaded at start (`AI_PROXY_PLUGIN_FILES`,
    /// comma-separated paths).
    pub plugin_files: Vec<PathBuf>,
    /// Address blocks upstreams may be in although they are loopback,
    /// private or link-local (`AI_PROXY_EGRESS_ALLOW`, comma-separated CIDRs).
    pub egress: EgressPolicy,
    /// Keys and claims for client JWTs (`AI_PROXY_JWT_*`).
    pub jwt: JwtConfig,
    /// Lifetime of tokens from `POST /oauth/token`.
    pub oauth_token_ttl: Duration,
    /// Most upstream keys tried for one request (`AI_PROXY_MAX_ATTEMPTS`).
    pub max_attempts: usize,
    /// Redis for limits shared across instances (`REDIS_URL`); in-process
    /// counters when unset.
    pub redis_url: Option<Secret>,
    /// Prefix of every Redis key (`AI_PROXY_REDIS_PREFIX`).
    pub redis_prefix: String,
    /// What limits do while Redis cannot answer (`AI_PROXY_REDIS_FAILURE`:
    /// `open` admits, `closed` refuses with 503).
    pub redis_failure: FailurePolicy,
    /// Share of each limit an instance leases from Redis at a time, and
    /// for how long (`AI_PROXY_QUOTA_LEASE`, `AI_PROXY_QUOTA_LEASE_MS`).
    pub quota_lease: LeaseConfig,
    /// Where days begin for daily limits (`AI_PROXY_LIMITS_TZ`: `UTC` or
    /// an offset such as `+08:00`).
    pub limits_day_offset: FixedOffset,
    /// Time between active health checks of each key; zero turns them off
    /// (`AI_PROXY_HEALTH_INTERVAL_SECS`).
    pub health_interval: Duration,
    /// Largest plugin component accepted (`AI_PROXY_PLUGIN_MAX_BYTES`).
    pub plugin_max_bytes: usize,
    /// Failures (traps, timeouts, memory denials) within the window after
    /// which a plugin version is disabled; zero never disables
    /// (`AI_PROXY_PLUGIN_FAILURE_LIMIT`, `_WINDOW_SECS`).
    pub plugin_failure_limit: usize,
    pub plugin_failure_window: Duration,
    /// Distinct client keys the failures must come from before a version
    /// is disabled, so one client cannot disable it for everyone
    /// (`AI_PROXY_PLUGIN_FAILURE_SOURCES`).
    pub plugin_failure_sources: usize,
    /// Plugin failures a client key's requests may provoke within the
    /// window before its requests are refused (429) until the window moves
    /// on; zero never refuses (`AI_PROXY_PLUGIN_FAILURES_PER_CLIENT`).
    pub plugin_failures_per_client: usize,
    /// How often to look for configuration changes made by other instances
    /// on the same database; zero never looks (`AI_PROXY_CONFIG_POLL_MS`).
    pub config_poll: Duration,
    /// A directory holding a built web UI to serve at `/` on the admin
    /// port instead of the copy embedded in the binary (`AI_PROXY_WEB_DIR`).
    pub web_dir: Option<PathBuf>,
    /// After SIGTERM: how long the instance is not-ready before its
    /// listener closes, and how long open requests then have to finish
    /// (`AI_PROXY_SHUTDOWN_DELAY_SECS`, `AI_PROXY_SHUTDOWN_GRACE_SECS`).
    pub shutdown: ShutdownTimes,
    /// The Unix socket over which the proxy's listening socket is handed to
    /// a new process on an upgrade (`AI_PROXY_UPGRADE_SOCK`, default
    /// `upgrade.sock` in the data directory).
    pub upgrade_sock: PathBuf,
    /// Upstream OAuth keys are refreshed this long before their tokens
    /// expire; zero refreshes only on demand
    /// (`AI_PROXY_OAUTH_REFRESH_MARGIN_SECS`).
    pub oauth_refresh_margin: Duration,
    /// Up to this much earlier, spread per key
    /// (`AI_PROXY_OAUTH_REFRESH_JITTER_SECS`).
    pub oauth_refresh_jitter: Duration,
    /// How long an authorization may take from authorize to exchange
    /// (`AI_PROXY_OAUTH_SESSION_TTL_SECS`, 1 to 86400).
    pub oauth_session_ttl: Duration,
    /// How often expired authorizations are deleted
    /// (`AI_PROXY_OAUTH_CLEANUP_SECS`, at least 1).
    pub oauth_cleanup: Duration,
    /// What a client connection to the proxy port must respect
    /// (`AI_PROXY_MAX_HEADERS`, `_MAX_HEADER_BYTES`, `_MAX_REQUEST_LINE_BYTES`,
    /// `_HEADERS_WITH_UNDERSCORES`, `_HEAD_TIMEOUT_MS`, `_WRITE_TIMEOUT_MS`,
    /// `_MAX_CONNECTIONS`, `_MAX_IN_FLIGHT`).
    pub edge: EdgeLimits,
    /// OpenTelemetry export of request spans (`AI_PROXY_OTLP_ENDPOINT`);
    /// none when unset.
    pub otlp: Option<OtlpSettings>,
    /// Whole UTC days raw traces are kept, 0 for ever
    /// (`AI_PROXY_TRACE_RETENTION_DAYS`, at most 36500).
    pub trace_retention_days: u32,
    /// Time between retention runs (`AI_PROXY_TRACE_RETENTION_INTERVAL_SECS`).
    pub trace_retention_interval: Duration,
}

/// Where and how request spans are exported.
#[derive(Debug, Clone)]
pub struct OtlpSettings {
    pub endpoint: Endpoint,
    /// `service.name` of the spans (`OTEL_SERVICE_NAME`, default `ai-proxy`).
    pub service_name: String,
    /// Time between exports (`AI_PROXY_OTLP_INTERVAL_MS`).
    pub interval: Duration,
    /// Requests whose spans may wait for export (`AI_PROXY_OTLP_QUEUE`).
    pub queue: usize,
}

/// A configuration value that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {name}={value:?}: {reason}")]
pub struct ConfigError {
    name: &'static str,
    value: String,
    reason: &'static str,
}

impl Config {
    /// Reads and validates the configuration from environment variables
    /// (see the README for the list).
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`Config::from_env`], from any name → value lookup.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let data_dir = PathBuf::from(get("AI_PROXY_DATA_DIR").unwrap_or_else(|| "data".into()));
        let upgrade_sock = upgrade_socket(&get, &data_dir)?;
        let database_url = get("DATABASE_URL").unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                data_dir.join("ai-proxy.db").display()
            )
        });
        if !(database_url.starts_with("sqlite:") || database_url.starts_with("postgres")) {
            return Err(ConfigError {
                name: "DATABASE_URL",
                value: redact_url(&database_url),
                reason: "must be a sqlite: or postgres:// URL",
            });
        }
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let config = Config {
            proxy_addr: parse(&get, "AI_PROXY_PROXY_ADDR", "0.0.0.0:8080".parse().ok())?,
            admin_addr: parse(&get, "AI_PROXY_ADMIN_ADDR", "0.0.0.0:9090".parse().ok())?,
            tls: match (
                get("AI_PROXY_TLS_CERT").filter(|p| !p.is_empty()),
                get("AI_PROXY_TLS_KEY").filter(|p| !p.is_empty()),
            ) {
                (Some(cert), Some(key)) => Some(TlsFiles {
                    cert: PathBuf::from(cert),
                    key: PathBuf::from(key),
                }),
                (None, None) => None,
                (cert, _) => {
                    return Err(ConfigError {
                        name: if cert.is_some() {
                            "AI_PROXY_TLS_KEY"
                        } else {
                            "AI_PROXY_TLS_CERT"
                        },
                        value: String::new(),
                        reason: "is required when the other TLS file is set",
                    });
                }
            },
            trusted_proxies: match get("AI_PROXY_TRUSTED_PROXIES") {
                Some(list) => list
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::parse)
                    .collect::<Result<_, _>>()
                    .map_err(|_| ConfigError {
                        name: "AI_PROXY_TRUSTED_PROXIES",
                        value: list.clone(),
                        reason: "must be a comma-separated list of CIDR blocks",
                    })?,
                None => Vec::new(),
            },
            data_dir,
            database_url,
            admin_password: get("AI_PROXY_ADMIN_PASSWORD").filter(|p| !p.is_empty()),
            master_key: get("AI_PROXY_MASTER_KEY").filter(|k| !k.is_empty()),
            master_key_previous: get("AI_PROXY_MASTER_KEY_PREVIOUS")
                .filter(|k| !k.is_empty())
                .map(Secret::new),
            metrics_token: match get("AI_PROXY_METRICS_TOKEN").filter(|t| !t.is_empty()) {
                Some(t) if t.len() < MIN_METRICS_TOKEN_BYTES => {
                    return Err(ConfigError {
                        name: "AI_PROXY_METRICS_TOKEN",
                        value: "[REDACTED]".into(),
                        reason: "must be at least 32 bytes",
                    });
                }
                token => token.map(Secret::new),
            },
            max_body_bytes: parse(
                &get,
                "AI_PROXY_MAX_BODY_BYTES",
                Some(DEFAULT_MAX_BODY_BYTES),
            )?,
            plugin_call_timeout: Duration::from_millis(parse(
                &get,
                "AI_PROXY_PLUGIN_TIMEOUT_MS",
                Some(DEFAULT_PLUGIN_CALL_TIMEOUT.as_millis() as u64),
            )?),
            plugin_memory_bytes: parse::<usize>(
                &get,
                "AI_PROXY_PLUGIN_MEMORY_MIB",
                Some(DEFAULT_PLUGIN_MEMORY_BYTES >> 20),
            )? << 20,
            plugin_keep_resident_bytes: parse::<usize>(
                &get,
                "AI_PROXY_PLUGIN_KEEP_RESIDENT_MIB",
                Some(DEFAULT_KEEP_RESIDENT_BYTES >> 20),
            )?
            .saturating_mul(1 << 20),
            plugin_instances: parse(
                &get,
                "AI_PROXY_PLUGIN_INSTANCES",
                Some(DEFAULT_PLUGIN_INSTANCES),
            )?,
            proxy_threads: parse(&get, "AI_PROXY_PROXY_THREADS", Some(cpus))?,
            trace_batch: parse(&get, "AI_PROXY_TRACE_BATCH", Some(DEFAULT_TRACE_BATCH))?,
            trace_flush: Duration::from_millis(parse(
                &get,
                "AI_PROXY_TRACE_FLUSH_MS",
                Some(DEFAULT_TRACE_FLUSH.as_millis() as u64),
            )?),
            trace_queue: parse(&get, "AI_PROXY_TRACE_QUEUE", Some(DEFAULT_TRACE_QUEUE))?,
            plugin_files: get("AI_PROXY_PLUGIN_FILES")
                .map(|v| {
                    v.split(',')
                        .map(str::trim)
                        .filter(|p| !p.is_empty())
                        .map(PathBuf::from)
                        .collect()
                })
                .unwrap_or_default(),
            egress: match get("AI_PROXY_EGRESS_ALLOW") {
                Some(list) => EgressPolicy::parse(&list).map_err(|_| ConfigError {
                    name: "AI_PROXY_EGRESS_ALLOW",
                    value: list,
                    reason: "must be a comma-separated list of CIDR blocks",
                })?,
                None => EgressPolicy::default(),
            },
            jwt: jwt_config(&get)?,
            oauth_token_ttl: Duration::from_secs(parse(
                &get,
                "AI_PROXY_OAUTH_TOKEN_TTL_SECS",
                Some(DEFAULT_TOKEN_TTL.as_secs()),
            )?),
            max_attempts: parse(&get, "AI_PROXY_MAX_ATTEMPTS", Some(DEFAULT_MAX_ATTEMPTS))?,
            redis_url: get("REDIS_URL").filter(|u| !u.is_empty()).map(Secret::new),
            redis_prefix: get("AI_PROXY_REDIS_PREFIX").unwrap_or_else(|| "aip:".into()),
            redis_failure: match get("AI_PROXY_REDIS_FAILURE").as_deref() {
                None | Some("open") => FailurePolicy::Open,
                Some("closed") => FailurePolicy::Closed,
                Some(other) => {
                    return Err(ConfigError {
                        name: "AI_PROXY_REDIS_FAILURE",
                        value: other.to_owned(),
                        reason: "must be open or closed",
                    });
                }
            },
            quota_lease: LeaseConfig::from_lookup(&get).map_err(|e| ConfigError {
                name: e.name,
                value: e.value,
                reason: e.reason,
            })?,
            limits_day_offset: {
                let value = get("AI_PROXY_LIMITS_TZ").unwrap_or_else(|| "UTC".into());
                parse_offset(&value).ok_or(ConfigError {
                    name: "AI_PROXY_LIMITS_TZ",
                    value,
                    reason: "must be UTC or an offset such as +08:00",
                })?
            },
            health_interval: Duration::from_secs(parse(
                &get,
                "AI_PROXY_HEALTH_INTERVAL_SECS",
                Some(DEFAULT_HEALTH_INTERVAL.as_secs()),
            )?),
            plugin_max_bytes: parse(
                &get,
                "AI_PROXY_PLUGIN_MAX_BYTES",
                Some(DEFAULT_MAX_PLUGIN_BYTES),
            )?,
            plugin_failure_limit: parse(
                &get,
                "AI_PROXY_PLUGIN_FAILURE_LIMIT",
                Some(DEFAULT_PLUGIN_FAILURE_LIMIT),
            )?,
            plugin_failure_window: Duration::from_secs(parse(
                &get,
                "AI_PROXY_PLUGIN_FAILURE_WINDOW_SECS",
                Some(DEFAULT_PLUGIN_FAILURE_WINDOW.as_secs()),
            )?),
            plugin_failure_sources: parse(
                &get,
                "AI_PROXY_PLUGIN_FAILURE_SOURCES",
                Some(DEFAULT_PLUGIN_FAILURE_SOURCES),
            )?,
            plugin_failures_per_client: parse(
                &get,
                "AI_PROXY_PLUGIN_FAILURES_PER_CLIENT",
                Some(DEFAULT_PLUGIN_FAILURES_PER_CLIENT),
            )?,
            config_poll: Duration::from_millis(parse(
                &get,
                "AI_PROXY_CONFIG_POLL_MS",
                Some(DEFAULT_CONFIG_POLL.as_millis() as u64),
            )?),
            oauth_refresh_margin: Duration::from_secs(parse(
                &get,
                "AI_PROXY_OAUTH_REFRESH_MARGIN_SECS",
                Some(DEFAULT_OAUTH_REFRESH_MARGIN.as_secs()),
            )?),
            oauth_refresh_jitter: Duration::from_secs(parse(
                &get,
                "AI_PROXY_OAUTH_REFRESH_JITTER_SECS",
                Some(DEFAULT_OAUTH_REFRESH_JITTER.as_secs()),
            )?),
            oauth_session_ttl: {
                let secs: u64 = parse(
                    &get,
                    "AI_PROXY_OAUTH_SESSION_TTL_SECS",
                    Some(DEFAULT_OAUTH_SESSION_TTL.as_secs()),
                )?;
                if !(1..=MAX_OAUTH_SESSION_TTL.as_secs()).contains(&secs) {
                    return Err(ConfigError {
                        name: "AI_PROXY_OAUTH_SESSION_TTL_SECS",
                        value: secs.to_string(),
                        reason: "must be between 1 and 86400",
                    });
                }
                Duration::from_secs(secs)
            },
            oauth_cleanup: {
                let secs: u64 = parse(
                    &get,
                    "AI_PROXY_OAUTH_CLEANUP_SECS",
                    Some(DEFAULT_OAUTH_CLEANUP.as_secs()),
                )?;
                if secs == 0 {
                    return Err(ConfigError {
                        name: "AI_PROXY_OAUTH_CLEANUP_SECS",
                        value: secs.to_string(),
                        reason: "must be at least 1",
                    });
                }
                Duration::from_secs(secs)
            },
            edge: edge_limits(&get)?,
            web_dir: get("AI_PROXY_WEB_DIR")
                .filter(|d| !d.is_empty())
                .map(PathBuf::from),
            shutdown: shutdown_times(&get)?,
            upgrade_sock,
            otlp: otlp_settings(&get)?,
            trace_retention_days: parse(
                &get,
                "AI_PROXY_TRACE_RETENTION_DAYS",
                Some(DEFAULT_RETENTION_DAYS),
            )?,
            trace_retention_interval: Duration::from_secs(parse(
                &get,
                "AI_PROXY_TRACE_RETENTION_INTERVAL_SECS",
                Some(DEFAULT_RETENTION_INTERVAL.as_secs()),
            )?),
        };
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let checks: [(&'static str, u64, bool, &'static str); 13] = [
            (
                "AI_PROXY_TRACE_RETENTION_DAYS",
                u64::from(self.trace_retention_days),
                self.trace_retention_days <= MAX_RETENTION_DAYS,
                "must be at most 36500 (0 keeps traces for ever)",
            ),
            (
                "AI_PROXY_TRACE_RETENTION_INTERVAL_SECS",
                self.trace_retention_interval.as_secs(),
                !self.trace_retention_interval.is_zero(),
                "must be above 0",
            ),
            (
                "AI_PROXY_MAX_BODY_BYTES",
                self.max_body_bytes as u64,
                self.max_body_bytes > 0,
                "must be above 0",
            ),
            (
                "AI_PROXY_PLUGIN_TIMEOUT_MS",
                self.plugin_call_timeout.as_millis() as u64,
                !self.plugin_call_timeout.is_zero(),
                "must be above 0",
            ),
            (
                "AI_PROXY_PLUGIN_MEMORY_MIB",
                (self.plugin_memory_bytes >> 20) as u64,
                self.plugin_memory_bytes >= 1 << 20 && self.plugin_memory_bytes <= 4 << 30,
                "must be between 1 and 4096",
            ),
            (
                "AI_PROXY_PLUGIN_INSTANCES",
                u64::from(self.plugin_instances),
                self.plugin_instances > 0,
                "must be above 0",
            ),
            (
                "AI_PROXY_PROXY_THREADS",
                self.proxy_threads as u64,
                self.proxy_threads > 0,
                "must be above 0",
            ),
            (
                "AI_PROXY_TRACE_BATCH",
                self.trace_batch as u64,
                self.trace_batch > 0 && self.trace_queue >= self.trace_batch,
                "must be above 0 and at most AI_PROXY_TRACE_QUEUE",
            ),
            (
                "AI_PROXY_OAUTH_TOKEN_TTL_SECS",
                self.oauth_token_ttl.as_secs(),
                (MIN_OAUTH_TOKEN_TTL..=MAX_OAUTH_TOKEN_TTL).contains(&self.oauth_token_ttl),
                "must be between 60 and 86400",
            ),
            (
                "AI_PROXY_MAX_ATTEMPTS",
                self.max_attempts as u64,
                (1..=MAX_ATTEMPTS_LIMIT).contains(&self.max_attempts),
                "must be between 1 and 10",
            ),
            (
                "AI_PROXY_PLUGIN_MAX_BYTES",
                self.plugin_max_bytes as u64,
                (1024..=MAX_PLUGIN_BYTES_LIMIT).contains(&self.plugin_max_bytes),
                "must be between 1024 and 268435456",
            ),
            (
                "AI_PROXY_PLUGIN_FAILURE_WINDOW_SECS",
                self.plugin_failure_window.as_secs(),
                !self.plugin_failure_window.is_zero(),
                "must be above 0",
            ),
            (
                "AI_PROXY_PLUGIN_FAILURE_SOURCES",
                self.plugin_failure_sources as u64,
                self.plugin_failure_sources >= 1,
                "must be at least 1",
            ),
        ];
        for (name, value, ok, reason) in checks {
            if !ok {
                return Err(ConfigError {
                    name,
                    value: value.to_string(),
                    reason,
                });
            }
        }
        Ok(())
    }
}

/// `AI_PROXY_SHUTDOWN_DELAY_SECS` (default 0, at most
/// [`MAX_SHUTDOWN_DELAY`]) and `AI_PROXY_SHUTDOWN_GRACE_SECS` (at most
/// [`MAX_SHUTDOWN_GRACE`]; zero cuts what is open as soon as the listener
/// is closed).
fn shutdown_times(get: &impl Fn(&str) -> Option<String>) -> Result<ShutdownTimes, ConfigError> {
    let bounded = |name: &'static str, default: u64, max: Duration, reason: &'static str| {
        let secs: u64 = parse(get, name, Some(default))?;
        if secs > max.as_secs() {
            return Err(ConfigError {
                name,
                value: secs.to_string(),
                reason,
            });
        }
        Ok(Duration::from_secs(secs))
    };
    Ok(ShutdownTimes {
        delay: bounded(
            "AI_PROXY_SHUTDOWN_DELAY_SECS",
            0,
            MAX_SHUTDOWN_DELAY,
            "must be at most 60",
        )?,
        grace: bounded(
            "AI_PROXY_SHUTDOWN_GRACE_SECS",
            DEFAULT_SHUTDOWN_GRACE.as_secs(),
            MAX_SHUTDOWN_GRACE,
            "must be at most 3600",
        )?,
    })
}

/// Longest Unix socket path the kernel accepts (`sun_path` is 108 bytes,
/// one of them the terminating zero).
pub const MAX_UNIX_SOCKET_PATH: usize = 107;

/// `AI_PROXY_UPGRADE_SOCK`, made absolute, so that an old and a new process
/// started from different directories meet on the same socket.
fn upgrade_socket(
    get: &impl Fn(&str) -> Option<String>,
    data_dir: &std::path::Path,
) -> Result<PathBuf, ConfigError> {
    let path = get("AI_PROXY_UPGRADE_SOCK")
        .filter(|p| !p.is_empty())
        .map_or_else(|| data_dir.join("upgrade.sock"), PathBuf::from);
    let path = std::path::absolute(&path).unwrap_or(path);
    if path.as_os_str().len() > MAX_UNIX_SOCKET_PATH {
        return Err(ConfigError {
            name: "AI_PROXY_UPGRADE_SOCK",
            value: path.display().to_string(),
            reason: "a Unix socket path is at most 107 bytes: set a shorter one",
        });
    }
    Ok(path)
}

fn parse<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: Option<T>,
) -> Result<T, ConfigError> {
    match get(name) {
        Some(value) => value.trim().parse().map_err(|_| ConfigError {
            name,
            value,
            reason: "cannot be parsed",
        }),
        None => default.ok_or(ConfigError {
            name,
            value: String::new(),
            reason: "is required",
        }),
    }
}

/// The OTLP exporter's settings; none without `AI_PROXY_OTLP_ENDPOINT`.
fn otlp_settings(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<OtlpSettings>, ConfigError> {
    let Some(url) = get("AI_PROXY_OTLP_ENDPOINT").filter(|u| !u.trim().is_empty()) else {
        return Ok(None);
    };
    let endpoint = Endpoint::parse(&url).map_err(|_| ConfigError {
        name: "AI_PROXY_OTLP_ENDPOINT",
        value: redact_url(&url),
        reason: "must be an http:// or https:// URL without credentials or query",
    })?;
    let interval_ms: u64 = parse(
        get,
        "AI_PROXY_OTLP_INTERVAL_MS",
        Some(DEFAULT_EXPORT_INTERVAL.as_millis() as u64),
    )?;
    let queue: usize = parse(get, "AI_PROXY_OTLP_QUEUE", Some(DEFAULT_EXPORT_QUEUE))?;
    if interval_ms == 0 || queue == 0 {
        return Err(ConfigError {
            name: if queue == 0 {
                "AI_PROXY_OTLP_QUEUE"
            } else {
                "AI_PROXY_OTLP_INTERVAL_MS"
            },
            value: "0".into(),
            reason: "must be above 0",
        });
    }
    Ok(Some(OtlpSettings {
        endpoint,
        service_name: get("OTEL_SERVICE_NAME")
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| "ai-proxy".into()),
        interval: Duration::from_millis(interval_ms),
        queue,
    }))
}

/// Default interval between checks for changes made by other instances.
pub const DEFAULT_CONFIG_POLL: Duration = Duration::from_millis(1000);

/// Largest plugin size an operator may allow.
pub const MAX_PLUGIN_BYTES_LIMIT: usize = 256 * 1024 * 1024;
/// Default failures of a plugin version within the window that disable it.
pub const DEFAULT_PLUGIN_FAILURE_LIMIT: usize = 20;
/// Default window for counting plugin failures.
pub const DEFAULT_PLUGIN_FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// Default number of client keys a version's failures must come from
/// before it is disabled.
pub const DEFAULT_PLUGIN_FAILURE_SOURCES: usize = 3;
/// Default number of plugin failures one client key may provoke within
/// the window.
pub const DEFAULT_PLUGIN_FAILURES_PER_CLIENT: usize = 5;

/// Default number of upstream keys tried for one request.
pub const DEFAULT_MAX_ATTEMPTS: usize = 3;
/// Most attempts an operator may configure.
pub const MAX_ATTEMPTS_LIMIT: usize = 10;
/// Default time between active health checks of each key.
pub const DEFAULT_HEALTH_INTERVAL: Duration = Duration::from_secs(60);

/// Default lead time of background refreshes of upstream OAuth tokens.
pub const DEFAULT_OAUTH_REFRESH_MARGIN: Duration = Duration::from_secs(300);
/// Default per-key spread of those refreshes.
pub const DEFAULT_OAUTH_REFRESH_JITTER: Duration = Duration::from_secs(30);
/// Default time an operator has to finish an authorization.
pub const DEFAULT_OAUTH_SESSION_TTL: Duration = Duration::from_secs(600);
/// Longest time an authorization may stay pending.
pub const MAX_OAUTH_SESSION_TTL: Duration = Duration::from_secs(86_400);
/// Default interval between deletions of expired authorizations.
pub const DEFAULT_OAUTH_CLEANUP: Duration = Duration::from_secs(60);

/// Shortest lifetime of an OAuth client token.
pub const MIN_OAUTH_TOKEN_TTL: Duration = Duration::from_secs(60);
/// Longest lifetime of an OAuth client token.
pub const MAX_OAUTH_TOKEN_TTL: Duration = Duration::from_secs(86_400);

/// Shortest HS256 secret accepted for client tokens.
pub const MIN_JWT_SECRET_BYTES: usize = 32;

fn jwt_config(get: &impl Fn(&str) -> Option<String>) -> Result<JwtConfig, ConfigError> {
    let hs256_secret = get("AI_PROXY_JWT_HS256_SECRET")
        .filter(|s| !s.is_empty())
        .map(String::into_bytes);
    if hs256_secret
        .as_ref()
        .is_some_and(|s| s.len() < MIN_JWT_SECRET_BYTES)
    {
        return Err(ConfigError {
            name: "AI_PROXY_JWT_HS256_SECRET",
            value: "[REDACTED]".into(),
            reason: "must be at least 32 bytes",
        });
    }
    let rs256_public_pem = match get("AI_PROXY_JWT_RS256_PUBLIC_KEY_FILE").filter(|s| !s.is_empty())
    {
        Some(path) => Some(std::fs::read(&path).map_err(|_| ConfigError {
            name: "AI_PROXY_JWT_RS256_PUBLIC_KEY_FILE",
            value: path.clone(),
            reason: "cannot be read",
        })?),
        None => None,
    };
    let config = JwtConfig {
        hs256_secret,
        rs256_public_pem,
        issuer: get("AI_PROXY_JWT_ISSUER").filter(|s| !s.is_empty()),
        audience: get("AI_PROXY_JWT_AUDIENCE").filter(|s| !s.is_empty()),
        time: jwt_time_rules(get)?,
    };
    if crate::proxy::JwtVerifier::new(&config).is_err() {
        return Err(ConfigError {
            name: "AI_PROXY_JWT_RS256_PUBLIC_KEY_FILE",
            value: String::new(),
            reason: "is not an RSA public key in PEM",
        });
    }
    Ok(config)
}

/// Most request headers an operator may allow (Pingora's own ceiling).
pub const MAX_HEADERS_LIMIT: usize = 256;
/// Largest request head an operator may allow, line and headers together
/// (Pingora's own ceiling).
pub const MAX_HEAD_BYTES_LIMIT: usize = 1_048_575;

/// The proxy port's edge limits; see `proxy::edge` for what each does.
fn edge_limits(get: &impl Fn(&str) -> Option<String>) -> Result<EdgeLimits, ConfigError> {
    use crate::proxy::edge as defaults;
    let max_headers: usize = parse(
        get,
        "AI_PROXY_MAX_HEADERS",
        Some(defaults::DEFAULT_MAX_HEADERS),
    )?;
    let max_header_bytes: usize = parse(
        get,
        "AI_PROXY_MAX_HEADER_BYTES",
        Some(defaults::DEFAULT_MAX_HEADER_BYTES),
    )?;
    let max_request_line: usize = parse(
        get,
        "AI_PROXY_MAX_REQUEST_LINE_BYTES",
        Some(defaults::DEFAULT_MAX_REQUEST_LINE_BYTES),
    )?;
    let reject_underscores = match get("AI_PROXY_HEADERS_WITH_UNDERSCORES").as_deref() {
        None | Some("reject") => true,
        Some("allow") => false,
        Some(other) => {
            return Err(ConfigError {
                name: "AI_PROXY_HEADERS_WITH_UNDERSCORES",
                value: other.to_owned(),
                reason: "must be reject or allow",
            });
        }
    };
    let head_timeout_ms: u64 = parse(
        get,
        "AI_PROXY_HEAD_TIMEOUT_MS",
        Some(defaults::DEFAULT_HEAD_TIMEOUT.as_millis() as u64),
    )?;
    let write_timeout_ms: u64 = parse(
        get,
        "AI_PROXY_WRITE_TIMEOUT_MS",
        Some(defaults::DEFAULT_WRITE_TIMEOUT.as_millis() as u64),
    )?;
    let sized =
        crate::proxy::capacity::default_in_flight(crate::proxy::capacity::open_file_limit());
    let max_connections: usize = parse(get, "AI_PROXY_MAX_CONNECTIONS", Some(sized))?;
    let max_in_flight: usize = parse(get, "AI_PROXY_MAX_IN_FLIGHT", Some(sized))?;
    let checks: [(&'static str, u64, bool, &'static str); 7] = [
        (
            "AI_PROXY_MAX_HEADERS",
            max_headers as u64,
            (1..=MAX_HEADERS_LIMIT).contains(&max_headers),
            "must be between 1 and 256",
        ),
        (
            "AI_PROXY_MAX_REQUEST_LINE_BYTES",
            max_request_line as u64,
            max_request_line >= 16,
            "must be at least 16",
        ),
        (
            "AI_PROXY_MAX_HEADER_BYTES",
            max_header_bytes as u64,
            max_header_bytes >= 2
                && max_header_bytes.saturating_add(max_request_line) < MAX_HEAD_BYTES_LIMIT,
            "must be at least 2, and with AI_PROXY_MAX_REQUEST_LINE_BYTES under 1048575",
        ),
        (
            "AI_PROXY_HEAD_TIMEOUT_MS",
            head_timeout_ms,
            head_timeout_ms > 0,
            "must be above 0",
        ),
        (
            "AI_PROXY_WRITE_TIMEOUT_MS",
            write_timeout_ms,
            write_timeout_ms > 0,
            "must be above 0",
        ),
        (
            "AI_PROXY_MAX_CONNECTIONS",
            max_connections as u64,
            (1..=tokio::sync::Semaphore::MAX_PERMITS).contains(&max_connections),
            "must be above 0",
        ),
        (
            "AI_PROXY_MAX_IN_FLIGHT",
            max_in_flight as u64,
            max_in_flight > 0,
            "must be above 0",
        ),
    ];
    for (name, value, ok, reason) in checks {
        if !ok {
            return Err(ConfigError {
                name,
                value: value.to_string(),
                reason,
            });
        }
    }
    Ok(EdgeLimits {
        head: HeadLimits {
            max_request_line,
            max_header_bytes,
            max_headers,
            reject_underscores,
        },
        head_timeout: Duration::from_millis(head_timeout_ms),
        write_timeout: Duration::from_millis(write_timeout_ms),
        max_connections,
        max_in_flight,
    })
}

/// Clock-skew leeway for `nbf`/`iat` and the longest token lifetime.
fn jwt_time_rules(get: &impl Fn(&str) -> Option<String>) -> Result<TimeRules, ConfigError> {
    let leeway: u64 = parse(
        get,
        "AI_PROXY_JWT_LEEWAY_SECS",
        Some(DEFAULT_JWT_LEEWAY.as_secs()),
    )?;
    if leeway > MAX_JWT_LEEWAY.as_secs() {
        return Err(ConfigError {
            name: "AI_PROXY_JWT_LEEWAY_SECS",
            value: leeway.to_string(),
            reason: "must be between 0 and 300",
        });
    }
    let max_lifetime: u64 = parse(
        get,
        "AI_PROXY_JWT_MAX_LIFETIME_SECS",
        Some(DEFAULT_JWT_MAX_LIFETIME.as_secs()),
    )?;
    if !(MIN_JWT_MAX_LIFETIME.as_secs()..=MAX_JWT_MAX_LIFETIME.as_secs()).contains(&max_lifetime) {
        return Err(ConfigError {
            name: "AI_PROXY_JWT_MAX_LIFETIME_SECS",
            value: max_lifetime.to_string(),
            reason: "must be between 60 and 2592000",
        });
    }
    Ok(TimeRules {
        leeway: Duration::from_secs(leeway),
        max_lifetime: Duration::from_secs(max_lifetime),
    })
}

/// A database URL with any password replaced, for error messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}://{user}:***@{}", &url[..scheme_end], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn trace_retention_and_otlp_settings_are_validated() {
        let c = config(&[]).expect("defaults");
        assert_eq!(c.trace_retention_days, DEFAULT_RETENTION_DAYS);
        assert!(c.otlp.is_none());
        for (value, ok) in [
            ("0", true),
            ("36500", true),
            ("36501", false),
            ("-1", false),
        ] {
            let result = config(&[("AI_PROXY_TRACE_RETENTION_DAYS", value)]);
            assert_eq!(result.is_ok(), ok, "retention {value}");
        }
        assert!(config(&[("AI_PROXY_TRACE_RETENTION_INTERVAL_SECS", "0")]).is_err());
        let c = config(&[("AI_PROXY_OTLP_ENDPOINT", "http://127.0.0.1:4318")]).expect("otlp");
        let otlp = c.otlp.expect("set");
        assert_eq!(otlp.endpoint.path, "/v1/traces");
        assert_eq!(otlp.service_name, "ai-proxy");
        let err = config(&[("AI_PROXY_OTLP_ENDPOINT", "http://user:hunter2@c:4318")])
            .expect_err("credentials");
        assert!(!err.to_string().contains("hunter2"), "{err}");
        for (name, value) in [
            ("AI_PROXY_OTLP_INTERVAL_MS", "0"),
            ("AI_PROXY_OTLP_QUEUE", "0"),
        ] {
            let result = config(&[("AI_PROXY_OTLP_ENDPOINT", "http://c:4318"), (name, value)]);
            assert!(result.is_err(), "{name}={value}");
        }
    }

    #[test]
    fn defaults_are_valid_and_use_sqlite_under_data() {
        let c = config(&[]).expect("defaults");
        assert_eq!(c.proxy_addr.port(), 8080);
        assert_eq!(c.admin_addr.port(), 9090);
        assert_eq!(c.database_url, "sqlite://data/ai-proxy.db?mode=rwc");
        assert_eq!(c.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
    }

    #[test]
    fn oauth_token_lifetime_is_bounded_at_both_ends() {
        for (value, ok) in [
            ("59", false),
            ("60", true),
            ("86400", true),
            ("86401", false),
        ] {
            let result = config(&[("AI_PROXY_OAUTH_TOKEN_TTL_SECS", value)]);
            assert_eq!(result.is_ok(), ok, "{value}");
        }
    }

    #[test]
    fn upstream_oauth_session_lifetime_and_cleanup_are_bounded() {
        for (value, ok) in [("0", false), ("1", true), ("86400", true), ("86401", false)] {
            let result = config(&[("AI_PROXY_OAUTH_SESSION_TTL_SECS", value)]);
            assert_eq!(result.is_ok(), ok, "session ttl {value}");
        }
        for (value, ok) in [("0", false), ("1", true)] {
            let result = config(&[("AI_PROXY_OAUTH_CLEANUP_SECS", value)]);
            assert_eq!(result.is_ok(), ok, "cleanup {value}");
        }
        let c = config(&[]).expect("defaults");
        assert_eq!(c.plugin_keep_resident_bytes, DEFAULT_KEEP_RESIDENT_BYTES);
        let c = config(&[("AI_PROXY_PLUGIN_KEEP_RESIDENT_MIB", "0")]).expect("0");
        assert_eq!(
            c.plugin_keep_resident_bytes, 0,
            "zero returns plugin memory every request"
        );
        let c = config(&[("AI_PROXY_OAUTH_REFRESH_MARGIN_SECS", "0")]).expect("margin 0");
        assert!(
            c.oauth_refresh_margin.is_zero(),
            "zero turns background refresh off"
        );
    }

    #[test]
    fn attempts_redis_policy_and_day_offset_are_validated() {
        for (value, ok) in [("0", false), ("1", true), ("10", true), ("11", false)] {
            assert_eq!(
                config(&[("AI_PROXY_MAX_ATTEMPTS", value)]).is_ok(),
                ok,
                "{value}"
            );
        }
        assert!(config(&[("AI_PROXY_REDIS_FAILURE", "closed")]).is_ok());
        assert!(config(&[("AI_PROXY_REDIS_FAILURE", "maybe")]).is_err());
        let c = config(&[("AI_PROXY_LIMITS_TZ", "+08:00")]).expect("offset");
        assert_eq!(c.limits_day_offset.local_minus_utc(), 8 * 3600);
        assert!(config(&[("AI_PROXY_LIMITS_TZ", "Asia/Shanghai")]).is_err());
        let redis = config(&[("REDIS_URL", "redis://:pw@127.0.0.1:6379")]).expect("redis");
        assert!(
            !format!("{redis:?}").contains("pw@"),
            "the Redis password is not printed"
        );
    }

    #[test]
    fn web_dir_defaults_to_the_embedded_console_and_follows_its_variable() {
        assert_eq!(config(&[]).expect("defaults").web_dir, None);
        let c = config(&[("AI_PROXY_WEB_DIR", "/srv/console")]).expect("set");
        assert_eq!(c.web_dir, Some(PathBuf::from("/srv/console")));
        let empty = config(&[("AI_PROXY_WEB_DIR", "")]).expect("empty");
        assert_eq!(empty.web_dir, None);
    }

    #[test]
    fn the_upgrade_socket_defaults_to_the_data_directory_and_fits_a_socket_address() {
        let c = config(&[("AI_PROXY_DATA_DIR", "/var/lib/ai-proxy")]).expect("defaults");
        assert_eq!(
            c.upgrade_sock,
            PathBuf::from("/var/lib/ai-proxy/upgrade.sock")
        );
        let relative = config(&[("AI_PROXY_UPGRADE_SOCK", "x.sock")]).expect("relative");
        assert!(relative.upgrade_sock.is_absolute());
        let at_limit = format!("/{}", "s".repeat(MAX_UNIX_SOCKET_PATH - 1));
        let c = config(&[("AI_PROXY_UPGRADE_SOCK", at_limit.as_str())]).expect("at the limit");
        assert_eq!(c.upgrade_sock.as_os_str().len(), MAX_UNIX_SOCKET_PATH);
        let over = format!("/{}", "s".repeat(MAX_UNIX_SOCKET_PATH));
        let err = config(&[("AI_PROXY_UPGRADE_SOCK", over.as_str())]).unwrap_err();
        assert!(err.to_string().contains("AI_PROXY_UPGRADE_SOCK"), "{err}");
    }

    #[test]
    fn shutdown_times_default_to_minutes_of_grace_and_stop_at_their_maximum() {
        let times = config(&[]).expect("defaults").shutdown;
        assert_eq!(times.grace, DEFAULT_SHUTDOWN_GRACE);
        assert!(
            times.grace >= Duration::from_secs(120),
            "LLM streams run for minutes"
        );
        assert!(times.delay.is_zero());
        for (name, max) in [
            ("AI_PROXY_SHUTDOWN_GRACE_SECS", MAX_SHUTDOWN_GRACE),
            ("AI_PROXY_SHUTDOWN_DELAY_SECS", MAX_SHUTDOWN_DELAY),
        ] {
            let at = max.as_secs().to_string();
            let c = config(&[(name, at.as_str())]).expect("max");
            assert!(c.shutdown.grace == max || c.shutdown.delay == max, "{name}");
            let over = (max.as_secs() + 1).to_string();
            let err = config(&[(name, over.as_str())]).expect_err("over");
            assert!(err.to_string().contains(name));
        }
        let zero = config(&[("AI_PROXY_SHUTDOWN_GRACE_SECS", "0")]).expect("zero");
        assert!(zero.shutdown.grace.is_zero());
    }

    #[test]
    fn zero_body_limit_is_refused() {
        let err = config(&[("AI_PROXY_MAX_BODY_BYTES", "0")]).expect_err("zero");
        assert!(err.to_string().contains("AI_PROXY_MAX_BODY_BYTES"));
    }

    #[test]
    fn unknown_database_scheme_is_refused_without_echoing_the_password() {
        let err = config(&[("DATABASE_URL", "mysql://u:hunter2@db/x")]).expect_err("mysql");
        assert!(!err.to_string().contains("hunter2"));
    }

    #[test]
    fn egress_allow_list_must_be_cidrs() {
        assert!(config(&[("AI_PROXY_EGRESS_ALLOW", "127.0.0.0/8,10.0.0.0/16")]).is_ok());
        assert!(config(&[("AI_PROXY_EGRESS_ALLOW", "localhost")]).is_err());
    }

    #[test]
    fn jwt_secret_must_be_at_least_32_bytes_and_is_never_echoed() {
        let short = "x".repeat(MIN_JWT_SECRET_BYTES - 1);
        let err = config(&[("AI_PROXY_JWT_HS256_SECRET", short.as_str())]).expect_err("short");
        assert!(!err.to_string().contains(&short));
        let exact = "x".repeat(MIN_JWT_SECRET_BYTES);
        assert!(config(&[("AI_PROXY_JWT_HS256_SECRET", exact.as_str())]).is_ok());
        assert!(config(&[("AI_PROXY_JWT_RS256_PUBLIC_KEY_FILE", "/nonexistent.pem")]).is_err());
    }

    #[test]
    fn edge_limits_default_and_are_bounded() {
        let c = config(&[]).expect("defaults");
        assert_eq!(c.edge, EdgeLimits::default());
        assert_eq!(c.edge.head.max_headers, 100);
        assert_eq!(c.edge.head.max_header_bytes, 64 * 1024);
        assert_eq!(c.edge.head.max_request_line, 8 * 1024);
        assert!(c.edge.head.reject_underscores);
        assert_eq!(c.edge.head_timeout, Duration::from_secs(15));
        assert_eq!(c.edge.write_timeout, Duration::from_secs(60));
        for (name, value, ok) in [
            ("AI_PROXY_MAX_HEADERS", "0", false),
            ("AI_PROXY_MAX_HEADERS", "1", true),
            ("AI_PROXY_MAX_HEADERS", "256", true),
            ("AI_PROXY_MAX_HEADERS", "257", false),
            ("AI_PROXY_MAX_HEADER_BYTES", "1", false),
            ("AI_PROXY_MAX_HEADER_BYTES", "1040000", true),
            ("AI_PROXY_MAX_HEADER_BYTES", "1048000", false),
            ("AI_PROXY_MAX_REQUEST_LINE_BYTES", "15", false),
            ("AI_PROXY_HEAD_TIMEOUT_MS", "0", false),
            ("AI_PROXY_HEAD_TIMEOUT_MS", "1", true),
            ("AI_PROXY_WRITE_TIMEOUT_MS", "0", false),
            ("AI_PROXY_MAX_CONNECTIONS", "0", false),
            ("AI_PROXY_MAX_CONNECTIONS", "1", true),
            ("AI_PROXY_MAX_IN_FLIGHT", "0", false),
            ("AI_PROXY_MAX_IN_FLIGHT", "1", true),
            ("AI_PROXY_HEADERS_WITH_UNDERSCORES", "allow", true),
            ("AI_PROXY_HEADERS_WITH_UNDERSCORES", "drop", false),
        ] {
            assert_eq!(config(&[(name, value)]).is_ok(), ok, "{name}={value}");
        }
        let allow = config(&[("AI_PROXY_HEADERS_WITH_UNDERSCORES", "allow")]).expect("allow");
        assert!(!allow.edge.head.reject_underscores);
    }

    #[test]
    fn jwt_leeway_and_max_lifetime_are_bounded_at_both_ends() {
        let c = config(&[]).expect("defaults");
        assert_eq!(c.jwt.time.leeway, DEFAULT_JWT_LEEWAY);
        assert_eq!(c.jwt.time.max_lifetime, DEFAULT_JWT_MAX_LIFETIME);
        for (value, ok) in [("0", true), ("300", true), ("301", false), ("-1", false)] {
            let result = config(&[("AI_PROXY_JWT_LEEWAY_SECS", value)]);
            assert_eq!(result.is_ok(), ok, "leeway {value}");
        }
        for (value, ok) in [
            ("59", false),
            ("60", true),
            ("2592000", true),
            ("2592001", false),
        ] {
            let result = config(&[("AI_PROXY_JWT_MAX_LIFETIME_SECS", value)]);
            assert_eq!(result.is_ok(), ok, "max lifetime {value}");
        }
    }

    #[test]
    fn metrics_token_is_at_least_32_bytes_and_never_echoed() {
        let short = "m".repeat(MIN_METRICS_TOKEN_BYTES - 1);
        let err = config(&[("AI_PROXY_METRICS_TOKEN", short.as_str())]).expect_err("short");
        assert!(!err.to_string().contains(&short));
        let exact = "m".repeat(MIN_METRICS_TOKEN_BYTES);
        let c = config(&[("AI_PROXY_METRICS_TOKEN", exact.as_str())]).expect("exact");
        assert!(
            !format!("{c:?}").contains(&exact),
            "the token is not printed"
        );
        assert!(config(&[]).expect("defaults").metrics_token.is_none());
    }

    #[test]
    fn tls_needs_both_files_and_trusted_proxies_are_cidrs() {
        assert!(config(&[]).expect("defaults").tls.is_none());
        let both = config(&[
            ("AI_PROXY_TLS_CERT", "/c.pem"),
            ("AI_PROXY_TLS_KEY", "/k.pem"),
        ])
        .expect("both");
        assert_eq!(both.tls.map(|t| t.key), Some(PathBuf::from("/k.pem")));
        assert!(config(&[("AI_PROXY_TLS_CERT", "/c.pem")]).is_err());
        assert!(config(&[("AI_PROXY_TLS_KEY", "/k.pem")]).is_err());
        let c = config(&[("AI_PROXY_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1")]).expect("cidrs");
        assert_eq!(c.trusted_proxies.len(), 2);
        assert!(config(&[("AI_PROXY_TRUSTED_PROXIES", "proxy.internal")]).is_err());
    }

    #[test]
    fn plugin_memory_cap_boundaries() {
        assert!(config(&[("AI_PROXY_PLUGIN_MEMORY_MIB", "1")]).is_ok());
        assert!(config(&[("AI_PROXY_PLUGIN_MEMORY_MIB", "4096")]).is_ok());
        assert!(config(&[("AI_PROXY_PLUGIN_MEMORY_MIB", "0")]).is_err());
        assert!(config(&[("AI_PROXY_PLUGIN_MEMORY_MIB", "4097")]).is_err());
    }
}
