//! What a `user` account may change on its own client keys: only what
//! narrows them. It may disable a key, set or shorten its expiry, narrow
//! its models, and lower its limits; it may never enable a key an
//! administrator disabled, extend or clear an expiry, widen the models
//! (an empty list means "any", so emptying a list widens it), or raise or
//! remove a limit. Each refusal is a 403 whose message names the field.
//!
//! These are pure checks of a change against the key as it is (or, for a
//! new key, against what the account was granted); administrators are not
//! held to them.

use chrono::{DateTime, Utc};

use super::ApiError;
use crate::limits::ClientLimits;

fn refused(field: &str, why: &str) -> ApiError {
    ApiError::Refused(format!("{field}: {why}"))
}

/// Enabling a key: refused when an administrator disabled it.
pub fn check_enabled(disabled_by_admin: bool, enabled: bool) -> Result<(), ApiError> {
    if enabled && disabled_by_admin {
        return Err(refused(
            "enabled",
            "an administrator disabled this key; only an administrator can enable it",
        ));
    }
    Ok(())
}

/// A new expiry: it may come earlier, never later, and may not be cleared.
pub fn check_expiry(
    current: Option<DateTime<Utc>>,
    new: Option<DateTime<Utc>>,
) -> Result<(), ApiError> {
    match (current, new) {
        (Some(_), None) => Err(refused(
            "expires_at",
            "a user account cannot remove the expiry of a key",
        )),
        (Some(now), Some(new)) if new > now => Err(refused(
            "expires_at",
            "a user account can only make a key expire earlier",
        )),
        _ => Ok(()),
    }
}

/// Whether the model pattern `entry` matches only models `allowed` matches
/// (a trailing `*` is a prefix).
fn covered(entry: &str, allowed: &str) -> bool {
    match allowed.strip_suffix('*') {
        Some(prefix) => entry.starts_with(prefix),
        None => entry == allowed,
    }
}

/// A new model list: every entry within the current list; a list that is
/// set cannot be emptied (that allows any model).
pub fn check_models(current: &[String], new: &[String]) -> Result<(), ApiError> {
    if current.is_empty() {
        return Ok(());
    }
    if new.is_empty() {
        return Err(refused(
            "allowed_models",
            "an empty list allows every model; a user account can only narrow the list",
        ));
    }
    if let Some(wider) = new
        .iter()
        .find(|entry| !current.iter().any(|allowed| covered(entry, allowed)))
    {
        return Err(refused(
            "allowed_models",
            &format!("'{wider}' is not within the models this key may use"),
        ));
    }
    Ok(())
}

/// New limits: each at most what it is now; a limit that is set cannot be
/// removed.
pub fn check_limits(current: &ClientLimits, new: &ClientLimits) -> Result<(), ApiError> {
    let pairs = [
        (
            "requests_per_second",
            current.requests_per_second,
            new.requests_per_second,
        ),
        (
            "requests_per_minute",
            current.requests_per_minute,
            new.requests_per_minute,
        ),
        (
            "requests_per_day",
            current.requests_per_day,
            new.requests_per_day,
        ),
        ("tokens_per_day", current.tokens_per_day, new.tokens_per_day),
        ("cost_per_day_usd", current.cost_per_day, new.cost_per_day),
    ];
    for (name, current, new) in pairs {
        let raised = match (current, new) {
            (Some(_), None) => true,
            (Some(current), Some(new)) => new > current,
            (None, _) => false,
        };
        if raised {
            return Err(refused(
                &format!("limits.{name}"),
                "a user account can only lower a limit, not raise or remove it",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn message(result: Result<(), ApiError>) -> String {
        match result {
            Err(ApiError::Refused(m)) => m,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn enabling_a_key_an_admin_disabled_is_refused_and_disabling_is_not() {
        assert!(message(check_enabled(true, true)).starts_with("enabled:"));
        assert!(check_enabled(true, false).is_ok());
        assert!(check_enabled(false, true).is_ok(), "the owner disabled it");
    }

    #[test]
    fn expiry_may_come_earlier_but_not_later_nor_be_cleared() {
        let now = Utc::now();
        let later = now + Duration::days(1);
        assert!(check_expiry(None, Some(later)).is_ok(), "setting one");
        assert!(check_expiry(Some(later), Some(now)).is_ok(), "shortening");
        assert!(check_expiry(Some(now), Some(now)).is_ok(), "unchanged");
        assert!(check_expiry(None, None).is_ok());
        assert!(
            message(check_expiry(Some(now), Some(now + Duration::seconds(1))))
                .starts_with("expires_at:")
        );
        assert!(message(check_expiry(Some(now), None)).starts_with("expires_at:"));
    }

    #[test]
    fn models_may_narrow_but_not_widen_or_empty() {
        let current = names(&["gpt-4o-mini", "claude-*"]);
        assert!(check_models(&[], &names(&["x"])).is_ok(), "any → one");
        assert!(check_models(&[], &[]).is_ok());
        assert!(check_models(&current, &names(&["gpt-4o-mini"])).is_ok());
        assert!(check_models(&current, &names(&["claude-sonnet-*", "claude-x"])).is_ok());
        assert!(message(check_models(&current, &[])).starts_with("allowed_models:"));
        for wider in [&["gpt-4o"][..], &["claude*"], &["*"], &["gpt-4o-mini*"]] {
            assert!(
                check_models(&current, &names(wider)).is_err(),
                "{wider:?} widens"
            );
        }
    }

    #[test]
    fn limits_may_be_lowered_or_added_but_not_raised_or_removed() {
        let current = ClientLimits {
            requests_per_second: Some(5),
            cost_per_day: Some(1_000),
            ..Default::default()
        };
        let lower = ClientLimits {
            requests_per_second: Some(5),
            cost_per_day: Some(999),
            tokens_per_day: Some(10),
            ..Default::default()
        };
        assert!(check_limits(&current, &lower).is_ok());
        let raised = ClientLimits {
            requests_per_second: Some(6),
            ..current
        };
        assert_eq!(
            message(check_limits(&current, &raised)),
            "limits.requests_per_second: a user account can only lower a limit, not raise or remove it"
        );
        let removed = ClientLimits {
            cost_per_day: None,
            ..current
        };
        assert!(message(check_limits(&current, &removed)).starts_with("limits.cost_per_day_usd:"));
    }
}
