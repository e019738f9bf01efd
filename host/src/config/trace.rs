//! Request traces: how the background writer batches them, how long raw
//! rows are kept, and whether spans are also exported over OTLP.

use std::time::Duration;

use crate::trace::otlp::{DEFAULT_EXPORT_INTERVAL, DEFAULT_EXPORT_QUEUE, Endpoint};
use crate::trace::retention::{
    DEFAULT_RETENTION_DAYS, DEFAULT_RETENTION_INTERVAL, MAX_RETENTION_DAYS,
};

use super::env::{ConfigError, Env};

/// Default number of trace rows written per database round trip.
pub const DEFAULT_TRACE_BATCH: usize = 256;
/// Default longest wait before a partial trace batch is written.
pub const DEFAULT_TRACE_FLUSH: Duration = Duration::from_millis(200);
/// Default number of trace rows that may wait for the writer; beyond it
/// rows are dropped (and counted) rather than slowing the proxy down.
pub const DEFAULT_TRACE_QUEUE: usize = 16_384;
/// Shortest time between retention runs.
pub const MIN_RETENTION_INTERVAL: Duration = Duration::from_secs(1);
/// Shortest time between OTLP exports.
pub const MIN_EXPORT_INTERVAL: Duration = Duration::from_millis(1);
/// `service.name` of exported spans without `OTEL_SERVICE_NAME`.
pub const DEFAULT_SERVICE_NAME: &str = "ai-proxy";

/// The trace settings.
#[derive(Debug, Clone)]
pub struct TraceConfig {
    /// Rows per write (`AI_PROXY_TRACE_BATCH`, at most the queue).
    pub batch: usize,
    /// Longest wait of a partial batch (`AI_PROXY_TRACE_FLUSH_MS`).
    pub flush: Duration,
    /// Rows that may wait for the writer (`AI_PROXY_TRACE_QUEUE`).
    pub queue: usize,
    /// Whole UTC days raw traces are kept, 0 for ever
    /// (`AI_PROXY_TRACE_RETENTION_DAYS`).
    pub retention_days: u32,
    /// Time between retention runs (`AI_PROXY_TRACE_RETENTION_INTERVAL_SECS`).
    pub retention_interval: Duration,
    /// OpenTelemetry export of request spans (`AI_PROXY_OTLP_ENDPOINT`);
    /// none when unset.
    pub otlp: Option<OtlpSettings>,
}

/// Where and how request spans are exported.
#[derive(Debug, Clone)]
pub struct OtlpSettings {
    pub endpoint: Endpoint,
    /// `service.name` of the spans (`OTEL_SERVICE_NAME`).
    pub service_name: String,
    /// Time between exports (`AI_PROXY_OTLP_INTERVAL_MS`).
    pub interval: Duration,
    /// Requests whose spans may wait for export (`AI_PROXY_OTLP_QUEUE`).
    pub queue: usize,
}

impl TraceConfig {
    pub(crate) fn read(env: &Env) -> Result<TraceConfig, ConfigError> {
        let queue = env
            .num("AI_PROXY_TRACE_QUEUE")
            .range(1..)
            .default(DEFAULT_TRACE_QUEUE)?;
        Ok(TraceConfig {
            batch: env
                .num("AI_PROXY_TRACE_BATCH")
                .range(1..=queue)
                .default(DEFAULT_TRACE_BATCH.min(queue))?,
            flush: env
                .millis("AI_PROXY_TRACE_FLUSH_MS")
                .default(DEFAULT_TRACE_FLUSH)?,
            queue,
            retention_days: env
                .num("AI_PROXY_TRACE_RETENTION_DAYS")
                .range(..=MAX_RETENTION_DAYS)
                .default(DEFAULT_RETENTION_DAYS)?,
            retention_interval: env
                .secs("AI_PROXY_TRACE_RETENTION_INTERVAL_SECS")
                .range(MIN_RETENTION_INTERVAL..)
                .default(DEFAULT_RETENTION_INTERVAL)?,
            otlp: otlp_settings(env)?,
        })
    }
}

/// The OTLP exporter's settings; none without `AI_PROXY_OTLP_ENDPOINT`.
fn otlp_settings(env: &Env) -> Result<Option<OtlpSettings>, ConfigError> {
    let form = "an http:// or https:// URL without credentials or query";
    let Some(endpoint) = env.url("AI_PROXY_OTLP_ENDPOINT", form, |u| Endpoint::parse(u).ok())?
    else {
        return Ok(None);
    };
    Ok(Some(OtlpSettings {
        endpoint,
        service_name: env
            .text("OTEL_SERVICE_NAME")
            .unwrap_or_else(|| DEFAULT_SERVICE_NAME.into()),
        interval: env
            .millis("AI_PROXY_OTLP_INTERVAL_MS")
            .range(MIN_EXPORT_INTERVAL..)
            .default(DEFAULT_EXPORT_INTERVAL)?,
        queue: env
            .num("AI_PROXY_OTLP_QUEUE")
            .range(1..)
            .default(DEFAULT_EXPORT_QUEUE)?,
    }))
}

#[cfg(test)]
mod tests {
    use super::super::env::pairs;
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<TraceConfig, ConfigError> {
        TraceConfig::read(&pairs(vars))
    }

    #[test]
    fn retention_is_bounded_and_its_interval_above_zero() {
        let c = read(&[]).expect("defaults");
        assert_eq!(c.retention_days, DEFAULT_RETENTION_DAYS);
        assert!(c.otlp.is_none());
        for (value, ok) in [
            ("0", true),
            ("36500", true),
            ("36501", false),
            ("-1", false),
        ] {
            let result = read(&[("AI_PROXY_TRACE_RETENTION_DAYS", value)]);
            assert_eq!(result.is_ok(), ok, "retention {value}");
        }
        assert!(read(&[("AI_PROXY_TRACE_RETENTION_INTERVAL_SECS", "0")]).is_err());
        assert!(read(&[("AI_PROXY_TRACE_RETENTION_INTERVAL_SECS", "1")]).is_ok());
    }

    #[test]
    fn a_batch_is_at_least_one_row_and_at_most_the_queue() {
        for (batch, queue, ok) in [
            ("0", "8", false),
            ("1", "8", true),
            ("8", "8", true),
            ("9", "8", false),
        ] {
            let result = read(&[
                ("AI_PROXY_TRACE_BATCH", batch),
                ("AI_PROXY_TRACE_QUEUE", queue),
            ]);
            assert_eq!(result.is_ok(), ok, "batch {batch} queue {queue}");
        }
        assert!(read(&[("AI_PROXY_TRACE_QUEUE", "0")]).is_err());
        let small =
            read(&[("AI_PROXY_TRACE_QUEUE", "10")]).expect("a queue under the default batch");
        assert_eq!(small.batch, 10);
    }

    #[test]
    fn otlp_settings_are_validated_without_echoing_credentials() {
        let c = read(&[("AI_PROXY_OTLP_ENDPOINT", "http://127.0.0.1:4318")]).expect("otlp");
        let otlp = c.otlp.expect("set");
        assert_eq!(otlp.endpoint.path, "/v1/traces");
        assert_eq!(otlp.service_name, DEFAULT_SERVICE_NAME);
        let err = read(&[("AI_PROXY_OTLP_ENDPOINT", "http://user:hunter2@c:4318")])
            .expect_err("credentials");
        assert!(!err.to_string().contains("hunter2"), "{err}");
        for (name, value, ok) in [
            ("AI_PROXY_OTLP_INTERVAL_MS", "0", false),
            ("AI_PROXY_OTLP_INTERVAL_MS", "1", true),
            ("AI_PROXY_OTLP_QUEUE", "0", false),
            ("AI_PROXY_OTLP_QUEUE", "1", true),
        ] {
            let result = read(&[("AI_PROXY_OTLP_ENDPOINT", "http://c:4318"), (name, value)]);
            assert_eq!(result.is_ok(), ok, "{name}={value}");
        }
    }
}
