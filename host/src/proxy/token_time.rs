//! The time claims of client tokens (RFC 7519 §4.1.4–4.1.6), checked the
//! same way for operator-configured JWTs and the gateway's own OAuth
//! tokens.
//!
//! `exp` is required and strict: a token is expired at its `exp` second.
//! `nbf` and `iat`, when present, must not lie in the future by more than
//! the configured leeway, which only absorbs clock skew between the issuer
//! and this instance (an issuer a second ahead would otherwise have its
//! fresh tokens refused). A token may not live longer than the configured
//! maximum: `exp - iat`, or `exp - now` when it carries no `iat`, so a
//! leaked long-lived token is refused however it was minted.

use serde::Deserialize;

use super::jwt::JwtError;
use crate::config::TimeRules;

/// A token's time claims; NumericDate may be fractional (RFC 7519 §2).
#[derive(Debug, Deserialize)]
pub struct TimeClaims {
    pub exp: f64,
    pub nbf: Option<f64>,
    pub iat: Option<f64>,
}

impl TimeRules {
    /// Whether a token with these claims is usable at `now` (Unix seconds).
    pub fn check(&self, claims: &TimeClaims, now: i64) -> Result<(), JwtError> {
        let now = now as f64;
        let leeway = self.leeway.as_secs_f64();
        if claims.exp <= now {
            return Err(JwtError::Invalid("the token has expired".into()));
        }
        if claims.nbf.is_some_and(|nbf| nbf > now + leeway) {
            return Err(JwtError::Invalid("the token is not valid yet".into()));
        }
        if claims.iat.is_some_and(|iat| iat > now + leeway) {
            return Err(JwtError::Invalid(
                "the token is issued in the future".into(),
            ));
        }
        let start = claims.iat.unwrap_or(now);
        if claims.exp - start > self.max_lifetime.as_secs_f64() {
            return Err(JwtError::Invalid(format!(
                "the token lives longer than {} seconds",
                self.max_lifetime.as_secs()
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const NOW: i64 = 1_800_000_000;

    fn rules() -> TimeRules {
        TimeRules {
            leeway: Duration::from_secs(5),
            max_lifetime: Duration::from_secs(3600),
        }
    }

    fn at(exp: i64, nbf: Option<i64>, iat: Option<i64>) -> TimeClaims {
        TimeClaims {
            exp: exp as f64,
            nbf: nbf.map(|v| v as f64),
            iat: iat.map(|v| v as f64),
        }
    }

    #[test]
    fn exp_is_strict_at_its_second() {
        assert!(rules().check(&at(NOW + 1, None, None), NOW).is_ok());
        assert!(rules().check(&at(NOW, None, None), NOW).is_err());
    }

    #[test]
    fn nbf_in_the_future_is_refused_beyond_the_leeway_exactly() {
        assert!(
            rules()
                .check(&at(NOW + 60, Some(NOW + 5), None), NOW)
                .is_ok()
        );
        assert!(
            rules()
                .check(&at(NOW + 60, Some(NOW + 6), None), NOW)
                .is_err()
        );
        assert!(
            rules()
                .check(&at(NOW + 600, Some(NOW + 120), None), NOW)
                .is_err(),
            "a token valid only in two minutes"
        );
    }

    #[test]
    fn iat_in_the_future_is_refused_beyond_the_leeway_exactly() {
        assert!(
            rules()
                .check(&at(NOW + 60, None, Some(NOW + 5)), NOW)
                .is_ok()
        );
        assert!(
            rules()
                .check(&at(NOW + 60, None, Some(NOW + 6)), NOW)
                .is_err()
        );
        let strict = TimeRules {
            leeway: Duration::ZERO,
            ..rules()
        };
        assert!(strict.check(&at(NOW + 60, None, Some(NOW)), NOW).is_ok());
        assert!(
            strict
                .check(&at(NOW + 60, None, Some(NOW + 1)), NOW)
                .is_err()
        );
    }

    #[test]
    fn lifetime_is_bounded_exactly_from_iat_or_from_now() {
        assert!(rules().check(&at(NOW + 3600, None, Some(NOW)), NOW).is_ok());
        assert!(
            rules()
                .check(&at(NOW + 3601, None, Some(NOW)), NOW)
                .is_err()
        );
        // Issued long ago with a long life: refused even though little is left.
        assert!(
            rules()
                .check(&at(NOW + 10, None, Some(NOW - 3600)), NOW)
                .is_err()
        );
        assert!(rules().check(&at(NOW + 3600, None, None), NOW).is_ok());
        assert!(rules().check(&at(NOW + 3601, None, None), NOW).is_err());
    }
}
