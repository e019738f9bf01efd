//! Where rate limits and quotas are counted: in-process, or in Redis shared
//! by every instance (with the share of each limit an instance leases and
//! what happens while Redis cannot answer), and where days begin.

use chrono::{FixedOffset, Offset, Utc};

use crate::limits::{
    DEFAULT_LEASE_FRACTION, DEFAULT_LEASE_TIME, FailurePolicy, LeaseConfig, MAX_LEASE_FRACTION,
    MAX_LEASE_TIME, MIN_LEASE_TIME, parse_offset,
};
use crate::secrets::Secret;

use super::env::{ConfigError, Env};

/// Default prefix of every Redis key the gateway writes.
pub const DEFAULT_REDIS_PREFIX: &str = "aip:";

/// The limits settings.
#[derive(Debug, Clone)]
pub struct LimitsConfig {
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
    pub day_offset: FixedOffset,
}

impl LimitsConfig {
    pub(crate) fn read(env: &Env) -> Result<LimitsConfig, ConfigError> {
        Ok(LimitsConfig {
            redis_url: env.secret("REDIS_URL", 0)?,
            redis_prefix: env
                .text("AI_PROXY_REDIS_PREFIX")
                .unwrap_or_else(|| DEFAULT_REDIS_PREFIX.into()),
            redis_failure: env.choice(
                "AI_PROXY_REDIS_FAILURE",
                &[
                    ("open", FailurePolicy::Open),
                    ("closed", FailurePolicy::Closed),
                ],
                FailurePolicy::Open,
            )?,
            quota_lease: LeaseConfig {
                fraction: env
                    .num("AI_PROXY_QUOTA_LEASE")
                    .range(0.0..=MAX_LEASE_FRACTION)
                    .default(DEFAULT_LEASE_FRACTION)?,
                time: env
                    .millis("AI_PROXY_QUOTA_LEASE_MS")
                    .range(MIN_LEASE_TIME..=MAX_LEASE_TIME)
                    .default(DEFAULT_LEASE_TIME)?,
            },
            day_offset: env
                .parsed(
                    "AI_PROXY_LIMITS_TZ",
                    "UTC or an offset such as +08:00",
                    parse_offset,
                )?
                .unwrap_or_else(|| Utc.fix()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::env::pairs;
    use super::*;
    use std::time::Duration;

    fn read(vars: &[(&str, &str)]) -> Result<LimitsConfig, ConfigError> {
        LimitsConfig::read(&pairs(vars))
    }

    #[test]
    fn defaults_are_in_process_open_and_utc() {
        let c = read(&[]).expect("defaults");
        assert!(c.redis_url.is_none());
        assert_eq!(c.redis_prefix, DEFAULT_REDIS_PREFIX);
        assert_eq!(c.redis_failure, FailurePolicy::Open);
        assert_eq!(c.quota_lease, LeaseConfig::default());
        assert_eq!(c.day_offset.local_minus_utc(), 0);
    }

    #[test]
    fn the_redis_policy_and_day_offset_are_validated() {
        let closed = read(&[("AI_PROXY_REDIS_FAILURE", "closed")]).expect("closed");
        assert_eq!(closed.redis_failure, FailurePolicy::Closed);
        assert!(read(&[("AI_PROXY_REDIS_FAILURE", "maybe")]).is_err());
        let c = read(&[("AI_PROXY_LIMITS_TZ", "+08:00")]).expect("offset");
        assert_eq!(c.day_offset.local_minus_utc(), 8 * 3600);
        assert!(read(&[("AI_PROXY_LIMITS_TZ", "Asia/Shanghai")]).is_err());
        let redis = read(&[("REDIS_URL", "redis://:pw@127.0.0.1:6379")]).expect("redis");
        assert!(
            !format!("{redis:?}").contains("pw@"),
            "the Redis password is not printed"
        );
    }

    #[test]
    fn lease_settings_are_read_within_their_bounds_only() {
        let set = read(&[
            ("AI_PROXY_QUOTA_LEASE", "0.5"),
            ("AI_PROXY_QUOTA_LEASE_MS", "50"),
        ])
        .expect("the bounds are accepted");
        assert_eq!(
            (set.quota_lease.fraction, set.quota_lease.time),
            (0.5, MIN_LEASE_TIME)
        );
        let off = read(&[("AI_PROXY_QUOTA_LEASE", "0")]).expect("0");
        assert!(!off.quota_lease.enabled());
        let longest = read(&[("AI_PROXY_QUOTA_LEASE_MS", "60000")]).expect("max");
        assert_eq!(longest.quota_lease.time, MAX_LEASE_TIME);
        assert_eq!(MAX_LEASE_TIME, Duration::from_millis(60_000));
        for (name, bad) in [
            ("AI_PROXY_QUOTA_LEASE", "0.51"),
            ("AI_PROXY_QUOTA_LEASE", "-0.01"),
            ("AI_PROXY_QUOTA_LEASE", "NaN"),
            ("AI_PROXY_QUOTA_LEASE", "1%"),
            ("AI_PROXY_QUOTA_LEASE_MS", "49"),
            ("AI_PROXY_QUOTA_LEASE_MS", "60001"),
            ("AI_PROXY_QUOTA_LEASE_MS", "-1"),
        ] {
            let error = read(&[(name, bad)]).expect_err(bad);
            assert_eq!(error.name(), name);
        }
        let err = read(&[("AI_PROXY_QUOTA_LEASE", "0.51")]).expect_err("over");
        assert!(
            err.to_string().ends_with("a number between 0 and 0.5"),
            "{err}"
        );
    }
}
