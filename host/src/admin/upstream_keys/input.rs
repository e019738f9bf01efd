//! What an upstream key change may say, and the checks it must pass: the
//! secret's size and characters, the weight, the name, and which kind of
//! key (`api_key` with a secret, `oauth` without one).

use chrono::Utc;
use serde::Deserialize;
use utoipa::ToSchema;

use super::super::ApiError;
use super::super::limits::KeyLimitsInput;
use crate::catalog::{AUTH_TYPE_API_KEY, AUTH_TYPE_OAUTH};
use crate::secrets::Secret;

/// Longest upstream secret accepted.
pub const MAX_SECRET_BYTES: usize = 8 * 1024;
/// Largest scheduling weight.
pub const MAX_WEIGHT: i32 = 1000;

/// A new upstream key (`provider_id`, `name` and, for API keys, `secret`
/// required) or a change to one (only the fields given change;
/// `provider_id` and `auth_type` cannot).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpstreamKeyInput {
    pub(super) provider_id: Option<i32>,
    #[schema(min_length = 1, max_length = 128)]
    pub(super) name: Option<String>,
    /// `api_key` (default) or `oauth`: an OAuth account, connected with
    /// `POST /api/oauth/authorize` and `/api/oauth/exchange` (no `secret`).
    pub(super) auth_type: Option<String>,
    /// The upstream credential; write-only.
    #[schema(min_length = 1, max_length = 8192)]
    pub(super) secret: Option<String>,
    /// Share of traffic under the `weighted` strategy (default 1).
    #[schema(minimum = 0, maximum = 1000)]
    pub(super) weight: Option<i32>,
    pub(super) enabled: Option<bool>,
    pub(super) limits: Option<KeyLimitsInput>,
    /// When it stops working; `null` clears it.
    #[serde(default, with = "super::super::json::double_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub(super) expires_at: Option<Option<chrono::DateTime<Utc>>>,
}

pub(super) fn check(input: &UpstreamKeyInput) -> Result<(), ApiError> {
    if input
        .secret
        .as_deref()
        .is_some_and(|s| s.trim().is_empty() || s.len() > MAX_SECRET_BYTES)
    {
        return Err(ApiError::BadRequest(format!(
            "secret must be 1 to {MAX_SECRET_BYTES} bytes"
        )));
    }
    if input
        .secret
        .as_deref()
        .is_some_and(|s| s.chars().any(|c| c.is_control()))
    {
        return Err(ApiError::BadRequest(
            "secret must not contain control characters".into(),
        ));
    }
    if input.weight.is_some_and(|w| !(0..=MAX_WEIGHT).contains(&w)) {
        return Err(ApiError::BadRequest(format!(
            "weight must be between 0 and {MAX_WEIGHT}"
        )));
    }
    if input
        .name
        .as_deref()
        .is_some_and(|n| n.trim().is_empty() || n.len() > 128)
    {
        return Err(ApiError::BadRequest(
            "name must be 1 to 128 characters".into(),
        ));
    }
    Ok(())
}

/// Whether a new key of `auth_type` is an OAuth key.
pub(super) fn is_oauth(auth_type: Option<&str>) -> Result<bool, ApiError> {
    match auth_type {
        None | Some(AUTH_TYPE_API_KEY) => Ok(false),
        Some(AUTH_TYPE_OAUTH) => Ok(true),
        Some(_) => Err(ApiError::BadRequest(
            "auth_type must be api_key or oauth".into(),
        )),
    }
}

/// A new key's secret: required for API keys, refused for OAuth keys
/// (empty: they get their tokens by being connected).
pub(super) fn new_secret(oauth: bool, secret: Option<String>) -> Result<Secret, ApiError> {
    match (oauth, secret) {
        (false, Some(secret)) => Ok(Secret::new(secret.trim())),
        (false, None) => Err(ApiError::BadRequest("secret is required".into())),
        (true, None) => Ok(Secret::new(String::new())),
        (true, Some(_)) => Err(ApiError::BadRequest(
            "an OAuth key takes no secret: connect it with POST /api/oauth/authorize".into(),
        )),
    }
}
