//! The plugin runtime's bounds: time and memory per call, instances alive
//! at once, component size, extra components loaded at start, and when a
//! failing plugin version (or a client provoking failures) is stopped.

use std::path::PathBuf;
use std::time::Duration;

use crate::plugins::{DEFAULT_KEEP_RESIDENT_BYTES, DEFAULT_MAX_PLUGIN_BYTES};

use super::env::{ConfigError, Env};

/// Default time one plugin call may run before it is interrupted.
pub const DEFAULT_PLUGIN_CALL_TIMEOUT: Duration = Duration::from_millis(500);
/// Shortest plugin call timeout.
pub const MIN_PLUGIN_CALL_TIMEOUT: Duration = Duration::from_millis(1);
/// Default linear-memory cap of one plugin instance.
pub const DEFAULT_PLUGIN_MEMORY_BYTES: usize = 64 * 1024 * 1024;
/// Smallest and largest memory cap an operator may set.
pub const MIN_PLUGIN_MEMORY_BYTES: usize = 1024 * 1024;
pub const MAX_PLUGIN_MEMORY_BYTES: usize = 4 * 1024 * 1024 * 1024;
/// Default number of plugin instances alive at once.
pub const DEFAULT_PLUGIN_INSTANCES: u32 = 1000;
/// Smallest and largest plugin size an operator may allow.
pub const MIN_PLUGIN_BYTES_LIMIT: usize = 1024;
pub const MAX_PLUGIN_BYTES_LIMIT: usize = 256 * 1024 * 1024;
/// Default failures of a plugin version within the window that disable it.
pub const DEFAULT_PLUGIN_FAILURE_LIMIT: usize = 20;
/// Default window for counting plugin failures.
pub const DEFAULT_PLUGIN_FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// Shortest failure window.
pub const MIN_PLUGIN_FAILURE_WINDOW: Duration = Duration::from_secs(1);
/// Default number of client keys a version's failures must come from
/// before it is disabled.
pub const DEFAULT_PLUGIN_FAILURE_SOURCES: usize = 3;
/// Default number of plugin failures one client key may provoke within
/// the window.
pub const DEFAULT_PLUGIN_FAILURES_PER_CLIENT: usize = 5;

/// The plugin settings.
#[derive(Debug, Clone)]
pub struct PluginsConfig {
    /// `AI_PROXY_PLUGIN_TIMEOUT_MS`.
    pub call_timeout: Duration,
    /// `AI_PROXY_PLUGIN_MEMORY_MIB`, in bytes.
    pub memory_bytes: usize,
    /// Plugin memory kept mapped per pooled slot between requests, where
    /// the kernel supports it; zero returns it after every request
    /// (`AI_PROXY_PLUGIN_KEEP_RESIDENT_MIB`, in bytes).
    pub keep_resident_bytes: usize,
    /// Instances alive at once (`AI_PROXY_PLUGIN_INSTANCES`).
    pub instances: u32,
    /// Extra plugin components loaded at start (`AI_PROXY_PLUGIN_FILES`,
    /// comma-separated paths).
    pub files: Vec<PathBuf>,
    /// Largest plugin component accepted (`AI_PROXY_PLUGIN_MAX_BYTES`).
    pub max_bytes: usize,
    /// Failures (traps, timeouts, memory denials) within the window after
    /// which a plugin version is disabled; zero never disables
    /// (`AI_PROXY_PLUGIN_FAILURE_LIMIT`, `_WINDOW_SECS`).
    pub failure_limit: usize,
    pub failure_window: Duration,
    /// Distinct client keys the failures must come from before a version
    /// is disabled, so one client cannot disable it for everyone
    /// (`AI_PROXY_PLUGIN_FAILURE_SOURCES`).
    pub failure_sources: usize,
    /// Plugin failures a client key's requests may provoke within the
    /// window before its requests are refused (429) until the window moves
    /// on; zero never refuses (`AI_PROXY_PLUGIN_FAILURES_PER_CLIENT`).
    pub failures_per_client: usize,
}

impl PluginsConfig {
    pub(crate) fn read(env: &Env) -> Result<PluginsConfig, ConfigError> {
        Ok(PluginsConfig {
            call_timeout: env
                .millis("AI_PROXY_PLUGIN_TIMEOUT_MS")
                .range(MIN_PLUGIN_CALL_TIMEOUT..)
                .default(DEFAULT_PLUGIN_CALL_TIMEOUT)?,
            memory_bytes: env
                .mib("AI_PROXY_PLUGIN_MEMORY_MIB")
                .range(MIN_PLUGIN_MEMORY_BYTES..=MAX_PLUGIN_MEMORY_BYTES)
                .default(DEFAULT_PLUGIN_MEMORY_BYTES)?,
            keep_resident_bytes: env
                .mib("AI_PROXY_PLUGIN_KEEP_RESIDENT_MIB")
                .default(DEFAULT_KEEP_RESIDENT_BYTES)?,
            instances: env
                .num("AI_PROXY_PLUGIN_INSTANCES")
                .range(1..)
                .default(DEFAULT_PLUGIN_INSTANCES)?,
            files: env.list("AI_PROXY_PLUGIN_FILES", "a comma-separated list of paths")?,
            max_bytes: env
                .num("AI_PROXY_PLUGIN_MAX_BYTES")
                .range(MIN_PLUGIN_BYTES_LIMIT..=MAX_PLUGIN_BYTES_LIMIT)
                .default(DEFAULT_MAX_PLUGIN_BYTES)?,
            failure_limit: env
                .num("AI_PROXY_PLUGIN_FAILURE_LIMIT")
                .default(DEFAULT_PLUGIN_FAILURE_LIMIT)?,
            failure_window: env
                .secs("AI_PROXY_PLUGIN_FAILURE_WINDOW_SECS")
                .range(MIN_PLUGIN_FAILURE_WINDOW..)
                .default(DEFAULT_PLUGIN_FAILURE_WINDOW)?,
            failure_sources: env
                .num("AI_PROXY_PLUGIN_FAILURE_SOURCES")
                .range(1..)
                .default(DEFAULT_PLUGIN_FAILURE_SOURCES)?,
            failures_per_client: env
                .num("AI_PROXY_PLUGIN_FAILURES_PER_CLIENT")
                .default(DEFAULT_PLUGIN_FAILURES_PER_CLIENT)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::env::pairs;
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<PluginsConfig, ConfigError> {
        PluginsConfig::read(&pairs(vars))
    }

    fn accepts(name: &str, value: &str) -> bool {
        read(&[(name, value)]).is_ok()
    }

    #[test]
    fn defaults_are_the_named_ones() {
        let c = read(&[]).expect("defaults");
        assert_eq!(c.call_timeout, DEFAULT_PLUGIN_CALL_TIMEOUT);
        assert_eq!(c.memory_bytes, DEFAULT_PLUGIN_MEMORY_BYTES);
        assert_eq!(c.keep_resident_bytes, DEFAULT_KEEP_RESIDENT_BYTES);
        assert_eq!(c.max_bytes, DEFAULT_MAX_PLUGIN_BYTES);
        assert!(c.files.is_empty());
    }

    #[test]
    fn plugin_memory_cap_boundaries() {
        for (value, ok) in [
            ("0", false),
            ("1", true),
            ("4096", true),
            ("4097", false),
            ("64M", false),
        ] {
            assert_eq!(accepts("AI_PROXY_PLUGIN_MEMORY_MIB", value), ok, "{value}");
        }
        let c = read(&[("AI_PROXY_PLUGIN_MEMORY_MIB", "2")]).expect("2");
        assert_eq!(c.memory_bytes, 2 << 20);
        let err = read(&[("AI_PROXY_PLUGIN_MEMORY_MIB", "0")]).expect_err("0");
        assert!(
            err.to_string()
                .ends_with("a number of MiB between 1 and 4096"),
            "{err}"
        );
    }

    #[test]
    fn keep_resident_zero_returns_memory_every_request() {
        let c = read(&[("AI_PROXY_PLUGIN_KEEP_RESIDENT_MIB", "0")]).expect("0");
        assert_eq!(c.keep_resident_bytes, 0);
        assert!(!accepts("AI_PROXY_PLUGIN_KEEP_RESIDENT_MIB", "-1"));
    }

    #[test]
    fn sizes_timeouts_and_failure_settings_are_bounded() {
        let max = MAX_PLUGIN_BYTES_LIMIT.to_string();
        let over = (MAX_PLUGIN_BYTES_LIMIT + 1).to_string();
        for (name, value, ok) in [
            ("AI_PROXY_PLUGIN_MAX_BYTES", "1023", false),
            ("AI_PROXY_PLUGIN_MAX_BYTES", "1024", true),
            ("AI_PROXY_PLUGIN_MAX_BYTES", max.as_str(), true),
            ("AI_PROXY_PLUGIN_MAX_BYTES", over.as_str(), false),
            ("AI_PROXY_PLUGIN_TIMEOUT_MS", "0", false),
            ("AI_PROXY_PLUGIN_TIMEOUT_MS", "1", true),
            ("AI_PROXY_PLUGIN_INSTANCES", "0", false),
            ("AI_PROXY_PLUGIN_INSTANCES", "1", true),
            ("AI_PROXY_PLUGIN_INSTANCES", "4294967296", false),
            ("AI_PROXY_PLUGIN_FAILURE_LIMIT", "0", true),
            ("AI_PROXY_PLUGIN_FAILURE_LIMIT", "x", false),
            ("AI_PROXY_PLUGIN_FAILURE_WINDOW_SECS", "0", false),
            ("AI_PROXY_PLUGIN_FAILURE_WINDOW_SECS", "1", true),
            ("AI_PROXY_PLUGIN_FAILURE_SOURCES", "0", false),
            ("AI_PROXY_PLUGIN_FAILURE_SOURCES", "1", true),
            ("AI_PROXY_PLUGIN_FAILURES_PER_CLIENT", "0", true),
        ] {
            assert_eq!(accepts(name, value), ok, "{name}={value}");
        }
    }

    #[test]
    fn plugin_files_are_a_comma_separated_list() {
        let c = read(&[("AI_PROXY_PLUGIN_FILES", "/a.wasm, ,/b.wasm")]).expect("files");
        assert_eq!(
            c.files,
            vec![PathBuf::from("/a.wasm"), PathBuf::from("/b.wasm")]
        );
    }
}
