//! How the gateway treats upstreams: which private addresses they may be
//! in, how often their keys are health-checked, and how upstream OAuth
//! accounts are authorized and kept fresh.

use std::time::Duration;

use crate::egress::EgressPolicy;

use super::env::{ConfigError, Env};

/// Default time between active health checks of each key.
pub const DEFAULT_HEALTH_INTERVAL: Duration = Duration::from_secs(60);
/// Default lead time of background refreshes of upstream OAuth tokens.
pub const DEFAULT_OAUTH_REFRESH_MARGIN: Duration = Duration::from_secs(300);
/// Default per-key spread of those refreshes.
pub const DEFAULT_OAUTH_REFRESH_JITTER: Duration = Duration::from_secs(30);
/// Default time an operator has to finish an authorization.
pub const DEFAULT_OAUTH_SESSION_TTL: Duration = Duration::from_secs(600);
/// Shortest and longest time an authorization may stay pending.
pub const MIN_OAUTH_SESSION_TTL: Duration = Duration::from_secs(1);
pub const MAX_OAUTH_SESSION_TTL: Duration = Duration::from_secs(86_400);
/// Default interval between deletions of expired authorizations.
pub const DEFAULT_OAUTH_CLEANUP: Duration = Duration::from_secs(60);
/// Shortest interval between those deletions.
pub const MIN_OAUTH_CLEANUP: Duration = Duration::from_secs(1);

/// The upstream settings.
#[derive(Debug, Clone)]
pub struct UpstreamConfig {
    /// Address blocks upstreams may be in although they are loopback,
    /// private or link-local (`AI_PROXY_EGRESS_ALLOW`, comma-separated CIDRs).
    pub egress: EgressPolicy,
    /// Time between active health checks of each key; zero turns them off
    /// (`AI_PROXY_HEALTH_INTERVAL_SECS`).
    pub health_interval: Duration,
    /// Upstream OAuth accounts.
    pub oauth: UpstreamOAuthConfig,
}

/// Upstream OAuth accounts: their authorization and their refresh.
#[derive(Debug, Clone, Copy)]
pub struct UpstreamOAuthConfig {
    /// Tokens are refreshed this long before they expire; zero refreshes
    /// only on demand (`AI_PROXY_OAUTH_REFRESH_MARGIN_SECS`).
    pub refresh_margin: Duration,
    /// Up to this much earlier, spread per key
    /// (`AI_PROXY_OAUTH_REFRESH_JITTER_SECS`).
    pub refresh_jitter: Duration,
    /// How long an authorization may take from authorize to exchange
    /// (`AI_PROXY_OAUTH_SESSION_TTL_SECS`).
    pub session_ttl: Duration,
    /// How often expired authorizations are deleted
    /// (`AI_PROXY_OAUTH_CLEANUP_SECS`).
    pub cleanup: Duration,
}

impl UpstreamConfig {
    pub(crate) fn read(env: &Env) -> Result<UpstreamConfig, ConfigError> {
        let cidrs = "a comma-separated list of CIDR blocks";
        Ok(UpstreamConfig {
            egress: env
                .parsed("AI_PROXY_EGRESS_ALLOW", cidrs, |v| {
                    EgressPolicy::parse(v).ok()
                })?
                .unwrap_or_default(),
            health_interval: env
                .secs("AI_PROXY_HEALTH_INTERVAL_SECS")
                .default(DEFAULT_HEALTH_INTERVAL)?,
            oauth: UpstreamOAuthConfig {
                refresh_margin: env
                    .secs("AI_PROXY_OAUTH_REFRESH_MARGIN_SECS")
                    .default(DEFAULT_OAUTH_REFRESH_MARGIN)?,
                refresh_jitter: env
                    .secs("AI_PROXY_OAUTH_REFRESH_JITTER_SECS")
                    .default(DEFAULT_OAUTH_REFRESH_JITTER)?,
                session_ttl: env
                    .secs("AI_PROXY_OAUTH_SESSION_TTL_SECS")
                    .range(MIN_OAUTH_SESSION_TTL..=MAX_OAUTH_SESSION_TTL)
                    .default(DEFAULT_OAUTH_SESSION_TTL)?,
                cleanup: env
                    .secs("AI_PROXY_OAUTH_CLEANUP_SECS")
                    .range(MIN_OAUTH_CLEANUP..)
                    .default(DEFAULT_OAUTH_CLEANUP)?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::env::pairs;
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<UpstreamConfig, ConfigError> {
        UpstreamConfig::read(&pairs(vars))
    }

    #[test]
    fn egress_allow_list_must_be_cidrs() {
        assert!(read(&[("AI_PROXY_EGRESS_ALLOW", "127.0.0.0/8,10.0.0.0/16")]).is_ok());
        assert!(read(&[("AI_PROXY_EGRESS_ALLOW", "localhost")]).is_err());
    }

    #[test]
    fn upstream_oauth_session_lifetime_and_cleanup_are_bounded() {
        for (value, ok) in [
            ("0", false),
            ("1", true),
            ("86400", true),
            ("86401", false),
            ("x", false),
        ] {
            let result = read(&[("AI_PROXY_OAUTH_SESSION_TTL_SECS", value)]);
            assert_eq!(result.is_ok(), ok, "session ttl {value}");
        }
        for (value, ok) in [("0", false), ("1", true)] {
            let result = read(&[("AI_PROXY_OAUTH_CLEANUP_SECS", value)]);
            assert_eq!(result.is_ok(), ok, "cleanup {value}");
        }
    }

    #[test]
    fn zero_turns_health_checks_and_background_refresh_off() {
        let c = read(&[
            ("AI_PROXY_HEALTH_INTERVAL_SECS", "0"),
            ("AI_PROXY_OAUTH_REFRESH_MARGIN_SECS", "0"),
        ])
        .expect("zeros");
        assert!(c.health_interval.is_zero());
        assert!(c.oauth.refresh_margin.is_zero());
        assert!(read(&[("AI_PROXY_OAUTH_REFRESH_JITTER_SECS", "-1")]).is_err());
        assert!(read(&[("AI_PROXY_HEALTH_INTERVAL_SECS", "1m")]).is_err());
    }
}
