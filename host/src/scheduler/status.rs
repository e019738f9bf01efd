//! An upstream key's health status: what the last request or probe with it
//! found out. The board ([`super::KeyBoard`]) keeps it per key, the health
//! checker and the proxy report it, OAuth refreshes set it, and the admin
//! API shows it. It lives with the board, which owns the live state of
//! keys, so that those who report it need not import each other.

use serde::Serialize;

use crate::plugins::types::ErrorClass;

/// What the last attempt or probe found out about a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    Healthy,
    RateLimited,
    QuotaExhausted,
    AuthInvalid,
    ServerError,
    /// No answer: connection, DNS, TLS or egress policy.
    Network,
    /// The probe could not be run (no probe, no plugin, other answer).
    Unknown,
}

impl HealthStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Healthy => "healthy",
            HealthStatus::RateLimited => "rate_limited",
            HealthStatus::QuotaExhausted => "quota_exhausted",
            HealthStatus::AuthInvalid => "auth_invalid",
            HealthStatus::ServerError => "server_error",
            HealthStatus::Network => "network",
            HealthStatus::Unknown => "unknown",
        }
    }

    pub fn from_class(class: &ErrorClass) -> HealthStatus {
        match class {
            ErrorClass::RateLimited(_) => HealthStatus::RateLimited,
            ErrorClass::QuotaExhausted => HealthStatus::QuotaExhausted,
            ErrorClass::AuthInvalid => HealthStatus::AuthInvalid,
            ErrorClass::ServerError => HealthStatus::ServerError,
            ErrorClass::BadRequest | ErrorClass::Other => HealthStatus::Unknown,
        }
    }
}
