//! The proxy port's request handling: body cap, worker threads, attempts
//! per request, and the edge limits every client connection meets
//! (read in [`super::edge`]).

use super::edge::{self, EdgeLimits};
use super::env::{ConfigError, Env};

/// Largest client request body accepted by default (413 above it).
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// Default number of upstream keys tried for one request.
pub const DEFAULT_MAX_ATTEMPTS: usize = 3;
/// Most attempts an operator may configure.
pub const MAX_ATTEMPTS_LIMIT: usize = 10;

/// The proxy settings.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    /// `AI_PROXY_MAX_BODY_BYTES`, at least 1.
    pub max_body_bytes: usize,
    /// Worker threads (`AI_PROXY_PROXY_THREADS`, default the CPU count).
    pub threads: usize,
    /// Most upstream keys tried for one request (`AI_PROXY_MAX_ATTEMPTS`).
    pub max_attempts: usize,
    /// What a client connection to the proxy port must respect
    /// (`AI_PROXY_MAX_HEADERS`, `_MAX_HEADER_BYTES`, `_MAX_REQUEST_LINE_BYTES`,
    /// `_HEADERS_WITH_UNDERSCORES`, `_HEAD_TIMEOUT_MS`, `_WRITE_TIMEOUT_MS`,
    /// `_MAX_CONNECTIONS`, `_MAX_IN_FLIGHT`).
    pub edge: EdgeLimits,
}

impl ProxyConfig {
    pub(crate) fn read(env: &Env) -> Result<ProxyConfig, ConfigError> {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(ProxyConfig {
            max_body_bytes: env
                .num("AI_PROXY_MAX_BODY_BYTES")
                .range(1..)
                .default(DEFAULT_MAX_BODY_BYTES)?,
            threads: env.num("AI_PROXY_PROXY_THREADS").range(1..).default(cpus)?,
            max_attempts: env
                .num("AI_PROXY_MAX_ATTEMPTS")
                .range(1..=MAX_ATTEMPTS_LIMIT)
                .default(DEFAULT_MAX_ATTEMPTS)?,
            edge: edge::read(env)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::env::pairs;
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<ProxyConfig, ConfigError> {
        ProxyConfig::read(&pairs(vars))
    }

    #[test]
    fn defaults_are_valid() {
        let c = read(&[]).expect("defaults");
        assert_eq!(c.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
        assert_eq!(c.max_attempts, DEFAULT_MAX_ATTEMPTS);
        assert!(c.threads >= 1);
    }

    #[test]
    fn attempts_are_bounded_at_both_ends() {
        let over = (MAX_ATTEMPTS_LIMIT + 1).to_string();
        let max = MAX_ATTEMPTS_LIMIT.to_string();
        for (value, ok) in [
            ("0", false),
            ("1", true),
            (max.as_str(), true),
            (over.as_str(), false),
            ("x", false),
        ] {
            let result = read(&[("AI_PROXY_MAX_ATTEMPTS", value)]);
            assert_eq!(result.is_ok(), ok, "{value}");
        }
    }

    #[test]
    fn zero_body_limit_and_zero_threads_are_refused() {
        let err = read(&[("AI_PROXY_MAX_BODY_BYTES", "0")]).expect_err("zero");
        assert!(err.to_string().contains("AI_PROXY_MAX_BODY_BYTES"), "{err}");
        assert_eq!(
            read(&[("AI_PROXY_MAX_BODY_BYTES", "1")])
                .map(|c| c.max_body_bytes)
                .ok(),
            Some(1)
        );
        assert!(read(&[("AI_PROXY_PROXY_THREADS", "0")]).is_err());
        assert!(read(&[("AI_PROXY_PROXY_THREADS", "1")]).is_ok());
        assert!(read(&[("AI_PROXY_PROXY_THREADS", "many")]).is_err());
    }
}
