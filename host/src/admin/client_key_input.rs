//! A client key as the API shows it and takes it, and the checks of what
//! a request may set: name, pool, models, strategy, quota overrun, limits
//! and endpoint classes, and what a `user` account may change on its own
//! key (only narrowing it). The handlers are in [`super::client_keys`].

use chrono::{DateTime, Utc};
use sea_orm::Set;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Caller;
use super::endpoint_grant;
use super::limits::ClientLimitsInput;
use super::narrowing;
use super::{AdminState, ApiError};
use crate::catalog::Strategy;
use crate::limits::{ClientLimits, QuotaOverrun};
use crate::store::entities::{client_keys, upstream_keys};

/// Longest client key name.
pub const MAX_NAME_CHARS: usize = 128;
/// Most upstream keys one client key may pool.
pub const MAX_POOL: usize = 256;

#[derive(Serialize, ToSchema)]
pub struct ClientKeyView {
    pub(super) id: i32,
    pub(super) name: String,
    pub(super) key_prefix: String,
    pub(super) provider_id: i32,
    pub(super) upstream_key_ids: Vec<i32>,
    pub(super) strategy: String,
    /// Models the key may use (`*` at the end matches a prefix); empty: any.
    pub(super) allowed_models: Vec<String>,
    pub(super) limits: ClientLimitsInput,
    /// What a stream does when it crosses the daily token or cost quota:
    /// `finish` (runs to its end) or `cut` (ended cleanly at the next event).
    pub(super) quota_overrun: String,
    /// Classes of provider endpoint the key may use (`inference`,
    /// `embeddings`, `models`, `token_counting`, `files`, `batches`,
    /// `fine_tuning`, `other`).
    pub(super) endpoint_classes: Vec<String>,
    pub(super) enabled: bool,
    /// Disabled by an administrator: only an administrator can enable it.
    pub(super) disabled_by_admin: bool,
    /// The team whose budget the key is charged to (set through `/api/teams`).
    pub(super) team_id: Option<i32>,
    pub(super) expires_at: Option<DateTime<Utc>>,
    pub(super) created_at: DateTime<Utc>,
    pub(super) updated_at: DateTime<Utc>,
    /// The whole key: only in the response that created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) key: Option<String>,
}

impl From<client_keys::Model> for ClientKeyView {
    fn from(k: client_keys::Model) -> Self {
        let (allowed_models, limits) = (models_of(&k), ClientLimitsInput::view(&limits_of(&k)));
        let endpoint_classes = endpoint_grant::names_of(&k);
        ClientKeyView {
            id: k.id,
            name: k.name,
            key_prefix: k.key_prefix,
            provider_id: k.provider_id,
            upstream_key_ids: serde_json::from_str(&k.pool).unwrap_or_default(),
            strategy: k.strategy,
            allowed_models,
            limits,
            endpoint_classes,
            quota_overrun: k.quota_overrun,
            enabled: k.enabled,
            disabled_by_admin: k.disabled_by_admin,
            team_id: k.team_id,
            expires_at: k.expires_at,
            created_at: k.created_at,
            updated_at: k.updated_at,
            key: None,
        }
    }
}

/// A new client key (`name` and `provider_id` required) or a change to
/// one (only the fields given change; `provider_id` cannot).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientKeyInput {
    #[schema(min_length = 1, max_length = 128)]
    pub(super) name: Option<String>,
    pub(super) provider_id: Option<i32>,
    /// Upstream keys of the same provider this key may use.
    #[schema(max_items = 256)]
    #[serde(alias = "provider_key_ids")]
    pub(super) upstream_key_ids: Option<Vec<i32>>,
    pub(super) enabled: Option<bool>,
    /// When it stops working (in the future, when creating); `null` clears it.
    #[serde(default, with = "super::json::double_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub(super) expires_at: Option<Option<chrono::DateTime<Utc>>>,
    /// Model names (`*` at the end matches a prefix); empty or absent: any.
    #[schema(max_items = 256)]
    pub(super) allowed_models: Option<Vec<String>>,
    /// `round_robin` (default), `weighted` or `best_health`.
    #[schema(pattern = "^(round_robin|weighted|best_health)$")]
    pub(super) strategy: Option<String>,
    pub(super) limits: Option<ClientLimitsInput>,
    /// `finish` (default: a stream that crosses the daily token or cost
    /// quota runs to its end) or `cut` (the gateway ends it cleanly at the
    /// next event, with the provider's own terminal event).
    #[schema(pattern = "^(finish|cut)$")]
    pub(super) quota_overrun: Option<String>,
    /// Classes of provider endpoint the key may use; absent when creating:
    /// `inference`, `embeddings`, `models` and `token_counting`. Others
    /// (`files`, `batches`, `fine_tuning`, `other`) only an administrator
    /// grants.
    #[schema(max_items = 8)]
    pub(super) endpoint_classes: Option<Vec<String>>,
}

pub(super) fn models_of(k: &client_keys::Model) -> Vec<String> {
    k.allowed_models
        .as_deref()
        .and_then(|m| serde_json::from_str(m).ok())
        .unwrap_or_default()
}

pub(super) fn limits_of(k: &client_keys::Model) -> ClientLimits {
    ClientLimits {
        requests_per_second: k.rps_limit,
        requests_per_minute: k.rpm_limit,
        requests_per_day: k.rpd_limit,
        tokens_per_day: k.tokens_per_day_limit,
        cost_per_day: k.cost_per_day_limit_nanos,
    }
}

/// The scheduling strategy and the quota overrun are the operator's to set.
pub(super) fn operator_fields(caller: &Caller, input: &ClientKeyInput) -> Result<(), ApiError> {
    let field = if input.strategy.is_some() {
        "strategy"
    } else if input.quota_overrun.is_some() {
        "quota_overrun"
    } else {
        return Ok(());
    };
    if caller.is_admin() {
        return Ok(());
    }
    Err(ApiError::Refused(format!(
        "{field}: only an administrator sets this"
    )))
}

/// A `user` account's change to its own key: it may only narrow it.
pub(super) fn check_narrowing(
    row: &client_keys::Model,
    input: &ClientKeyInput,
) -> Result<(), ApiError> {
    if let Some(enabled) = input.enabled {
        narrowing::check_enabled(row.disabled_by_admin, enabled)?;
    }
    if let Some(expires_at) = input.expires_at {
        narrowing::check_expiry(row.expires_at, expires_at)?;
    }
    if let Some(models) = &input.allowed_models {
        narrowing::check_models(&models_of(row), models)?;
    }
    if let Some(limits) = &input.limits {
        narrowing::check_limits(&limits_of(row), &limits.validate()?)?;
    }
    if let Some(classes) = &input.endpoint_classes {
        endpoint_grant::check_narrowing(
            &endpoint_grant::of(row),
            &endpoint_grant::parse(classes)?,
        )?;
    }
    Ok(())
}

pub(super) fn check_strategy(name: &str) -> Result<String, ApiError> {
    Strategy::parse(name)
        .map(|_| name.to_owned())
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "strategy must be one of {}",
                Strategy::NAMES.join(", ")
            ))
        })
}

pub(super) fn check_quota_overrun(name: &str) -> Result<String, ApiError> {
    QuotaOverrun::parse(name)
        .map(|o| o.name().to_owned())
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "quota_overrun must be one of {}",
                QuotaOverrun::NAMES.join(", ")
            ))
        })
}

pub(super) fn set_limits(row: &mut client_keys::ActiveModel, limits: &ClientLimits) {
    row.rps_limit = Set(limits.requests_per_second);
    row.rpm_limit = Set(limits.requests_per_minute);
    row.rpd_limit = Set(limits.requests_per_day);
    row.tokens_per_day_limit = Set(limits.tokens_per_day);
    row.cost_per_day_limit_nanos = Set(limits.cost_per_day);
}

/// Most entries in a key's model list.
pub const MAX_ALLOWED_MODELS: usize = 256;

pub(super) fn check_models(models: &[String]) -> Result<Option<String>, ApiError> {
    if models.len() > MAX_ALLOWED_MODELS
        || models.iter().any(|m| m.trim().is_empty() || m.len() > 128)
    {
        return Err(ApiError::BadRequest(format!(
            "allowed_models must hold at most {MAX_ALLOWED_MODELS} names of 1 to 128 characters"
        )));
    }
    Ok((!models.is_empty()).then(|| serde_json::to_string(models).unwrap_or_default()))
}

/// The upstream keys of `pool`, each of them of provider `provider_id`.
pub(super) async fn check_pool(
    state: &AdminState,
    provider_id: i32,
    pool: &[i32],
) -> Result<Vec<upstream_keys::Model>, ApiError> {
    if pool.len() > MAX_POOL {
        return Err(ApiError::BadRequest(format!(
            "at most {MAX_POOL} upstream keys per client key"
        )));
    }
    let mut keys = Vec::with_capacity(pool.len());
    for id in pool {
        let key = crate::store::upstream_keys::find(&state.db, *id).await?;
        match key {
            Some(k) if k.provider_id == provider_id => keys.push(k),
            Some(_) => {
                return Err(ApiError::BadRequest(format!(
                    "upstream key {id} belongs to another provider"
                )));
            }
            None => {
                return Err(ApiError::BadRequest(format!(
                    "upstream key {id} does not exist"
                )));
            }
        }
    }
    Ok(keys)
}
