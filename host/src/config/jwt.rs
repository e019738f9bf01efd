//! The settings of client tokens on the proxy port: the operator's JWT
//! keys and claims, the time rules every client token is judged by
//! (`proxy::token_time` applies them), and the lifetime of the tokens the
//! gateway issues from `POST /oauth/token`.

use std::time::Duration;

/// Default lifetime of an issued token.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(3600);

/// Default clock-skew allowance for `nbf` and `iat`.
pub const DEFAULT_JWT_LEEWAY: Duration = Duration::from_secs(5);
/// Largest leeway an operator may configure.
pub const MAX_JWT_LEEWAY: Duration = Duration::from_secs(300);
/// Default longest lifetime of a client token.
pub const DEFAULT_JWT_MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// Bounds of the configurable maximum lifetime.
pub const MIN_JWT_MAX_LIFETIME: Duration = Duration::from_secs(60);
pub const MAX_JWT_MAX_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

/// How time claims are judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRules {
    /// How far `nbf` and `iat` may lie in the future.
    pub leeway: Duration,
    /// Longest `exp - iat` (or `exp - now`) accepted.
    pub max_lifetime: Duration,
}

impl Default for TimeRules {
    fn default() -> Self {
        TimeRules {
            leeway: DEFAULT_JWT_LEEWAY,
            max_lifetime: DEFAULT_JWT_MAX_LIFETIME,
        }
    }
}

/// The operator's token settings.
#[derive(Clone, Default)]
pub struct JwtConfig {
    pub hs256_secret: Option<Vec<u8>>,
    pub rs256_public_pem: Option<Vec<u8>>,
    pub issuer: Option<String>,
    pub audience: Option<String>,
    /// Clock-skew allowance and longest lifetime
    /// (`AI_PROXY_JWT_LEEWAY_SECS`, `AI_PROXY_JWT_MAX_LIFETIME_SECS`).
    pub time: TimeRules,
}

impl std::fmt::Debug for JwtConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtConfig")
            .field(
                "hs256_secret",
                &self.hs256_secret.as_ref().map(|_| "[REDACTED]"),
            )
            .field("rs256_public_pem", &self.rs256_public_pem.is_some())
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("time", &self.time)
            .finish()
    }
}
