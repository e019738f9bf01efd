//! The proxy port's edge limits: request head sizes, head and write
//! timeouts, connections and requests in flight, with their defaults.
//! See `proxy::edge` for what each does.

use std::time::Duration;

use crate::limits::{default_in_flight, open_file_limit};

use super::env::{ConfigError, Env};

/// Default most request headers (431 above).
pub const DEFAULT_MAX_HEADERS: usize = 100;
/// Default largest header section (431 above).
pub const DEFAULT_MAX_HEADER_BYTES: usize = 64 * 1024;
/// Default longest request line (414 above).
pub const DEFAULT_MAX_REQUEST_LINE_BYTES: usize = 8 * 1024;
/// Default time a whole request head may take from its first byte (408).
pub const DEFAULT_HEAD_TIMEOUT: Duration = Duration::from_secs(15);
/// Default time a response write may wait for the client to read.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(60);

/// The edge's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EdgeLimits {
    pub head: HeadLimits,
    pub head_timeout: Duration,
    pub write_timeout: Duration,
    /// Most client connections at once (503 past it); by default as many
    /// as the open-file limit leaves for proxied requests (see `limits::in_flight`).
    pub max_connections: usize,
    /// Most requests in flight at once (503 `overloaded` past it); the
    /// same default.
    pub max_in_flight: usize,
}

impl Default for EdgeLimits {
    fn default() -> Self {
        EdgeLimits {
            head: HeadLimits {
                max_request_line: DEFAULT_MAX_REQUEST_LINE_BYTES,
                max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
                max_headers: DEFAULT_MAX_HEADERS,
                reject_underscores: true,
            },
            head_timeout: DEFAULT_HEAD_TIMEOUT,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            max_connections: default_in_flight(open_file_limit()),
            max_in_flight: default_in_flight(open_file_limit()),
        }
    }
}

/// The limits a head is held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadLimits {
    pub max_request_line: usize,
    pub max_header_bytes: usize,
    pub max_headers: usize,
    /// Refuse header names containing `_` (which some servers read as `-`).
    pub reject_underscores: bool,
}

/// Most request headers an operator may allow (Pingora's own ceiling).
pub const MAX_HEADERS_LIMIT: usize = 256;
/// Largest request head an operator may allow, line and headers together
/// (Pingora's own ceiling), exclusive.
pub const MAX_HEAD_BYTES_LIMIT: usize = 1_048_575;
/// Shortest request line accepted as a limit.
pub const MIN_REQUEST_LINE_BYTES: usize = 16;
/// Smallest header section accepted as a limit (the empty line).
pub const MIN_HEADER_BYTES: usize = 2;
/// Shortest head or write timeout.
pub const MIN_TIMEOUT: Duration = Duration::from_millis(1);

/// Reads the edge limits.
pub(crate) fn read(env: &Env) -> Result<EdgeLimits, ConfigError> {
    // The line and the header section share the head's ceiling.
    let head_room = MAX_HEAD_BYTES_LIMIT - 1;
    let max_request_line = env
        .num("AI_PROXY_MAX_REQUEST_LINE_BYTES")
        .range(MIN_REQUEST_LINE_BYTES..=head_room - MIN_HEADER_BYTES)
        .default(DEFAULT_MAX_REQUEST_LINE_BYTES)?;
    let head = HeadLimits {
        max_request_line,
        max_header_bytes: env
            .num("AI_PROXY_MAX_HEADER_BYTES")
            .range(MIN_HEADER_BYTES..=head_room - max_request_line)
            .default(DEFAULT_MAX_HEADER_BYTES)?,
        max_headers: env
            .num("AI_PROXY_MAX_HEADERS")
            .range(1..=MAX_HEADERS_LIMIT)
            .default(DEFAULT_MAX_HEADERS)?,
        reject_underscores: env.choice(
            "AI_PROXY_HEADERS_WITH_UNDERSCORES",
            &[("reject", true), ("allow", false)],
            true,
        )?,
    };
    let sized = default_in_flight(open_file_limit());
    Ok(EdgeLimits {
        head,
        head_timeout: env
            .millis("AI_PROXY_HEAD_TIMEOUT_MS")
            .range(MIN_TIMEOUT..)
            .default(DEFAULT_HEAD_TIMEOUT)?,
        write_timeout: env
            .millis("AI_PROXY_WRITE_TIMEOUT_MS")
            .range(MIN_TIMEOUT..)
            .default(DEFAULT_WRITE_TIMEOUT)?,
        max_connections: env
            .num("AI_PROXY_MAX_CONNECTIONS")
            .range(1..=tokio::sync::Semaphore::MAX_PERMITS)
            .default(sized)?,
        max_in_flight: env
            .num("AI_PROXY_MAX_IN_FLIGHT")
            .range(1..)
            .default(sized)?,
    })
}

#[cfg(test)]
mod tests {
    use super::super::env::pairs;
    use super::*;

    fn read_with(vars: &[(&str, &str)]) -> Result<EdgeLimits, ConfigError> {
        read(&pairs(vars))
    }

    #[test]
    fn edge_limits_default_to_the_proxys_own() {
        let c = read_with(&[]).expect("defaults");
        assert_eq!(c, EdgeLimits::default());
        assert_eq!(c.head.max_headers, 100);
        assert_eq!(c.head.max_header_bytes, 64 * 1024);
        assert_eq!(c.head.max_request_line, 8 * 1024);
        assert!(c.head.reject_underscores);
        assert_eq!(c.head_timeout, Duration::from_secs(15));
        assert_eq!(c.write_timeout, Duration::from_secs(60));
    }

    #[test]
    fn edge_limits_are_bounded_exactly() {
        // With the default 8192-byte request line, the header section may
        // take the rest of the head's ceiling and not one byte more.
        let header_max = (MAX_HEAD_BYTES_LIMIT - 1 - DEFAULT_MAX_REQUEST_LINE_BYTES).to_string();
        let header_over = (MAX_HEAD_BYTES_LIMIT - DEFAULT_MAX_REQUEST_LINE_BYTES).to_string();
        let permits = tokio::sync::Semaphore::MAX_PERMITS;
        let (conn_max, conn_over) = (permits.to_string(), (permits + 1).to_string());
        for (name, value, ok) in [
            ("AI_PROXY_MAX_HEADERS", "0", false),
            ("AI_PROXY_MAX_HEADERS", "1", true),
            ("AI_PROXY_MAX_HEADERS", "256", true),
            ("AI_PROXY_MAX_HEADERS", "257", false),
            ("AI_PROXY_MAX_HEADERS", "many", false),
            ("AI_PROXY_MAX_HEADER_BYTES", "1", false),
            ("AI_PROXY_MAX_HEADER_BYTES", "2", true),
            ("AI_PROXY_MAX_HEADER_BYTES", header_max.as_str(), true),
            ("AI_PROXY_MAX_HEADER_BYTES", header_over.as_str(), false),
            ("AI_PROXY_MAX_REQUEST_LINE_BYTES", "15", false),
            ("AI_PROXY_MAX_REQUEST_LINE_BYTES", "16", true),
            ("AI_PROXY_HEAD_TIMEOUT_MS", "0", false),
            ("AI_PROXY_HEAD_TIMEOUT_MS", "1", true),
            ("AI_PROXY_WRITE_TIMEOUT_MS", "0", false),
            ("AI_PROXY_WRITE_TIMEOUT_MS", "1", true),
            ("AI_PROXY_MAX_CONNECTIONS", "0", false),
            ("AI_PROXY_MAX_CONNECTIONS", "1", true),
            ("AI_PROXY_MAX_CONNECTIONS", conn_max.as_str(), true),
            ("AI_PROXY_MAX_CONNECTIONS", conn_over.as_str(), false),
            ("AI_PROXY_MAX_IN_FLIGHT", "0", false),
            ("AI_PROXY_MAX_IN_FLIGHT", "1", true),
            ("AI_PROXY_HEADERS_WITH_UNDERSCORES", "allow", true),
            ("AI_PROXY_HEADERS_WITH_UNDERSCORES", "drop", false),
        ] {
            assert_eq!(read_with(&[(name, value)]).is_ok(), ok, "{name}={value}");
        }
        let allow = read_with(&[("AI_PROXY_HEADERS_WITH_UNDERSCORES", "allow")]).expect("allow");
        assert!(!allow.head.reject_underscores);
    }

    #[test]
    fn a_longer_request_line_leaves_less_room_for_headers() {
        let line = (MAX_HEAD_BYTES_LIMIT - 1 - MIN_HEADER_BYTES).to_string();
        let c = read_with(&[
            ("AI_PROXY_MAX_REQUEST_LINE_BYTES", line.as_str()),
            ("AI_PROXY_MAX_HEADER_BYTES", "2"),
        ]);
        assert!(c.is_ok(), "{c:?}");
        let err = read_with(&[("AI_PROXY_MAX_REQUEST_LINE_BYTES", line.as_str())])
            .expect_err("default headers");
        assert_eq!(err.name(), "AI_PROXY_MAX_HEADER_BYTES");
        assert!(err.to_string().ends_with("between 2 and 2"), "{err}");
    }
}
