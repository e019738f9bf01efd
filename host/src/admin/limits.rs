//! The `limits` object of client keys and upstream keys, as the API reads
//! and shows it. A `limits` object given on update replaces every limit of
//! the key; a limit left out (or `null`) is unlimited.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ApiError;
use crate::limits::{ClientLimits, KeyLimits};

/// Largest count accepted for any limit.
pub const MAX_LIMIT: i64 = 1_000_000_000_000_000;
/// Largest daily cost limit, in USD.
pub const MAX_COST_PER_DAY_USD: f64 = 1_000_000_000.0;
const NANOS_PER_USD: f64 = 1e9;

/// Limits of a client key; a limit left out or `null` is unlimited.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientLimitsInput {
    #[schema(minimum = 0, maximum = 1_000_000_000_000_000_i64)]
    pub requests_per_second: Option<i64>,
    #[schema(minimum = 0, maximum = 1_000_000_000_000_000_i64)]
    pub requests_per_minute: Option<i64>,
    #[schema(minimum = 0, maximum = 1_000_000_000_000_000_i64)]
    pub requests_per_day: Option<i64>,
    #[schema(minimum = 0, maximum = 1_000_000_000_000_000_i64)]
    pub tokens_per_day: Option<i64>,
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    pub cost_per_day_usd: Option<f64>,
}

/// Limits of an upstream key; a limit left out or `null` is unlimited.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyLimitsInput {
    #[schema(minimum = 0, maximum = 1_000_000_000_000_000_i64)]
    pub requests_per_second: Option<i64>,
    #[schema(minimum = 0, maximum = 1_000_000_000_000_000_i64)]
    pub tokens_per_day: Option<i64>,
}

fn count(name: &str, value: Option<i64>) -> Result<Option<i64>, ApiError> {
    match value {
        Some(v) if !(0..=MAX_LIMIT).contains(&v) => Err(ApiError::BadRequest(format!(
            "limits.{name} must be between 0 and {MAX_LIMIT}, or null for no limit"
        ))),
        other => Ok(other),
    }
}

impl ClientLimitsInput {
    pub fn validate(&self) -> Result<ClientLimits, ApiError> {
        let cost = match self.cost_per_day_usd {
            Some(usd) if !(usd.is_finite() && (0.0..=MAX_COST_PER_DAY_USD).contains(&usd)) => {
                return Err(ApiError::BadRequest(format!(
                    "limits.cost_per_day_usd must be between 0 and {MAX_COST_PER_DAY_USD}"
                )));
            }
            Some(usd) => Some((usd * NANOS_PER_USD).round() as i64),
            None => None,
        };
        Ok(ClientLimits {
            requests_per_second: count("requests_per_second", self.requests_per_second)?,
            requests_per_minute: count("requests_per_minute", self.requests_per_minute)?,
            requests_per_day: count("requests_per_day", self.requests_per_day)?,
            tokens_per_day: count("tokens_per_day", self.tokens_per_day)?,
            cost_per_day: cost,
        })
    }

    pub fn view(limits: &ClientLimits) -> ClientLimitsInput {
        ClientLimitsInput {
            requests_per_second: limits.requests_per_second,
            requests_per_minute: limits.requests_per_minute,
            requests_per_day: limits.requests_per_day,
            tokens_per_day: limits.tokens_per_day,
            cost_per_day_usd: limits.cost_per_day.map(|n| n as f64 / NANOS_PER_USD),
        }
    }
}

impl KeyLimitsInput {
    pub fn validate(&self) -> Result<KeyLimits, ApiError> {
        Ok(KeyLimits {
            requests_per_second: count("requests_per_second", self.requests_per_second)?,
            tokens_per_day: count("tokens_per_day", self.tokens_per_day)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_bounded_at_both_ends() {
        let ok = |v| {
            ClientLimitsInput {
                requests_per_minute: Some(v),
                ..Default::default()
            }
            .validate()
            .is_ok()
        };
        assert!(ok(0) && ok(MAX_LIMIT));
        assert!(!ok(-1) && !ok(MAX_LIMIT + 1));
        let cost = |usd| {
            ClientLimitsInput {
                cost_per_day_usd: Some(usd),
                ..Default::default()
            }
            .validate()
        };
        assert_eq!(
            cost(1.5).ok().and_then(|l| l.cost_per_day),
            Some(1_500_000_000)
        );
        assert!(
            cost(f64::NAN).is_err()
                && cost(-0.01).is_err()
                && cost(MAX_COST_PER_DAY_USD * 2.0).is_err()
        );
    }
}
