//! `/api/provider-keys/keys`: upstream credentials. The secret is
//! encrypted before it is stored and never returned; responses carry only
//! a masked hint.

use axum::extract::State;
use axum::{Extension, Json};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, EntityTrait, ModelTrait, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::audit::snapshot;
use super::auth::Caller;
use super::json::{ApiJson, ApiPath};
use super::limits::KeyLimitsInput;
use super::openapi::{self, BadRequest, Forbidden, NotFound, Unauthorized};
use super::write::Entry;
use super::{AdminState, ApiError, Deleted};
use crate::catalog::{AUTH_TYPE_API_KEY, AUTH_TYPE_OAUTH, OAuthState};
use crate::scheduler::{KeyBoard, KeyHealthView};
use crate::secrets::{Secret, SecretColumn, mask};
use crate::store::entities::{provider_keys, providers};

/// Longest upstream secret accepted.
pub const MAX_SECRET_BYTES: usize = 8 * 1024;
/// Largest scheduling weight.
pub const MAX_WEIGHT: i32 = 1000;

#[derive(Serialize, Clone, ToSchema)]
pub struct ProviderKeyView {
    id: i32,
    provider_id: i32,
    name: String,
    secret_hint: String,
    auth_type: String,
    weight: i32,
    enabled: bool,
    health_status: String,
    limits: KeyLimitsInput,
    expires_at: Option<chrono::DateTime<Utc>>,
    created_at: chrono::DateTime<Utc>,
    updated_at: chrono::DateTime<Utc>,
    /// Live state on this instance: health score, latency, cooldown.
    #[serde(skip_serializing_if = "Option::is_none")]
    health: Option<KeyHealthView>,
    /// `null` for API keys; the account's state for OAuth keys.
    oauth: Option<OAuthKeyView>,
}

/// Where an OAuth key stands. Tokens are never shown.
#[derive(Serialize, Clone, ToSchema)]
pub struct OAuthKeyView {
    state: OAuthState,
    /// When the access token expires.
    expires_at: Option<chrono::DateTime<Utc>>,
    last_refresh_at: Option<chrono::DateTime<Utc>>,
    /// Why the last refresh failed, when it did.
    last_error: Option<String>,
}

impl ProviderKeyView {
    pub(super) fn with_health(mut self, board: &KeyBoard) -> Self {
        self.health = Some(board.view(self.id));
        self
    }
}

impl From<provider_keys::Model> for ProviderKeyView {
    fn from(k: provider_keys::Model) -> Self {
        let oauth = (k.auth_type == AUTH_TYPE_OAUTH).then(|| OAuthKeyView {
            state: OAuthState::of(&k),
            expires_at: k.oauth_expires_at,
            last_refresh_at: k.oauth_last_refresh_at,
            last_error: k.oauth_last_error.clone(),
        });
        ProviderKeyView {
            oauth,
            id: k.id,
            provider_id: k.provider_id,
            name: k.name,
            secret_hint: k.secret_hint,
            auth_type: k.auth_type,
            weight: k.weight,
            enabled: k.enabled,
            health_status: k.health_status,
            limits: KeyLimitsInput {
                requests_per_second: k.rps_limit,
                tokens_per_day: k.tokens_per_day_limit,
            },
            expires_at: k.expires_at,
            created_at: k.created_at,
            updated_at: k.updated_at,
            health: None,
        }
    }
}

/// A new upstream key (`provider_id`, `name` and, for API keys, `secret`
/// required) or a change to one (only the fields given change;
/// `provider_id` and `auth_type` cannot).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderKeyInput {
    provider_id: Option<i32>,
    #[schema(min_length = 1, max_length = 128)]
    name: Option<String>,
    /// `api_key` (default) or `oauth`: an OAuth account, connected with
    /// `POST /api/oauth/authorize` and `/api/oauth/exchange` (no `secret`).
    auth_type: Option<String>,
    /// The upstream credential; write-only.
    #[schema(min_length = 1, max_length = 8192)]
    secret: Option<String>,
    /// Share of traffic under the `weighted` strategy (default 1).
    #[schema(minimum = 0, maximum = 1000)]
    weight: Option<i32>,
    enabled: Option<bool>,
    limits: Option<KeyLimitsInput>,
    /// When it stops working; `null` clears it.
    #[serde(default, with = "super::json::double_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    expires_at: Option<Option<chrono::DateTime<Utc>>>,
}

fn check(input: &ProviderKeyInput) -> Result<(), ApiError> {
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

#[utoipa::path(
    get,
    path = "/api/provider-keys/keys",
    tag = openapi::TAG_PROVIDER_KEYS,
    responses((status = 200, body = Vec<ProviderKeyView>), Unauthorized, Forbidden),
)]
pub async fn list(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Vec<ProviderKeyView>>, ApiError> {
    caller.require_admin()?;
    let rows = provider_keys::Entity::find()
        .order_by_asc(provider_keys::Column::Id)
        .all(&state.db)
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| ProviderKeyView::from(r).with_health(&state.board))
            .collect(),
    ))
}

#[utoipa::path(
    get,
    path = "/api/provider-keys/keys/{id}",
    tag = openapi::TAG_PROVIDER_KEYS,
    params(("id" = i32, Path)),
    responses((status = 200, body = ProviderKeyView), BadRequest, Unauthorized, Forbidden, NotFound),
)]
pub async fn get_one(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
) -> Result<Json<ProviderKeyView>, ApiError> {
    caller.require_admin()?;
    let row = provider_keys::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound("provider key"))?;
    Ok(Json(ProviderKeyView::from(row).with_health(&state.board)))
}

#[utoipa::path(
    post,
    path = "/api/provider-keys/keys",
    tag = openapi::TAG_PROVIDER_KEYS,
    request_body = ProviderKeyInput,
    responses((status = 200, body = ProviderKeyView), BadRequest, Unauthorized, Forbidden),
)]
pub async fn create(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiJson(input): ApiJson<ProviderKeyInput>,
) -> Result<Json<ProviderKeyView>, ApiError> {
    caller.require_admin()?;
    check(&input)?;
    let oauth = match input.auth_type.as_deref() {
        None | Some(AUTH_TYPE_API_KEY) => false,
        Some(AUTH_TYPE_OAUTH) => true,
        Some(_) => {
            return Err(ApiError::BadRequest(
                "auth_type must be api_key or oauth".into(),
            ));
        }
    };
    let (Some(provider_id), Some(name)) = (input.provider_id, input.name) else {
        return Err(ApiError::BadRequest(
            "provider_id and name are required".into(),
        ));
    };
    let secret = match (oauth, input.secret) {
        (false, Some(secret)) => Secret::new(secret.trim()),
        (false, None) => return Err(ApiError::BadRequest("secret is required".into())),
        (true, None) => Secret::new(String::new()),
        (true, Some(_)) => {
            return Err(ApiError::BadRequest(
                "an OAuth key takes no secret: connect it with POST /api/oauth/authorize".into(),
            ));
        }
    };
    providers::Entity::find_by_id(provider_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::BadRequest(format!("provider {provider_id} does not exist")))?;
    if oauth
        && state
            .catalog
            .load()
            .providers
            .get(&provider_id)
            .is_none_or(|p| p.oauth.is_none())
    {
        return Err(ApiError::BadRequest(format!(
            "provider {provider_id} has no OAuth endpoints: its plugin declares none; set them on the provider"
        )));
    }
    let limits = input.limits.unwrap_or_default().validate()?;
    let now = Utc::now();
    // The secret is bound to the row's id, known once the row exists:
    // inserted empty and filled in within the change.
    let change = state.change(&caller).await?;
    let row = provider_keys::ActiveModel {
        provider_id: Set(provider_id),
        name: Set(name),
        secret_ciphertext: Set(Vec::new()),
        secret_hint: Set(if oauth {
            String::new()
        } else {
            mask(secret.expose())
        }),
        auth_type: Set(if oauth {
            AUTH_TYPE_OAUTH
        } else {
            AUTH_TYPE_API_KEY
        }
        .into()),
        oauth_state: Set(oauth.then(|| OAuthState::Disconnected.as_str().to_owned())),
        weight: Set(input.weight.unwrap_or(1)),
        enabled: Set(input.enabled.unwrap_or(true)),
        health_status: Set("unknown".into()),
        rps_limit: Set(limits.requests_per_second),
        tokens_per_day_limit: Set(limits.tokens_per_day),
        expires_at: Set(input.expires_at.flatten()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(change.db())
    .await?;
    let sealed = state
        .secrets
        .encrypt(&secret, SecretColumn::ProviderKeySecret, i64::from(row.id));
    let mut active: provider_keys::ActiveModel = row.into();
    active.secret_ciphertext = Set(sealed);
    let view = ProviderKeyView::from(active.update(change.db()).await?);
    change
        .commit()
        .await?
        .audit(Entry::created("provider_key", view.id, snapshot(&view)))
        .await;
    Ok(Json(view))
}

#[utoipa::path(
    put,
    path = "/api/provider-keys/keys/{id}",
    tag = openapi::TAG_PROVIDER_KEYS,
    params(("id" = i32, Path)),
    request_body = ProviderKeyInput,
    responses((status = 200, body = ProviderKeyView), BadRequest, Unauthorized, Forbidden, NotFound),
)]
pub async fn update(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
    ApiJson(input): ApiJson<ProviderKeyInput>,
) -> Result<Json<ProviderKeyView>, ApiError> {
    caller.require_admin()?;
    check(&input)?;
    if input.provider_id.is_some() {
        return Err(ApiError::BadRequest(
            "a key cannot move to another provider".into(),
        ));
    }
    let change = state.change(&caller).await?;
    let row = change
        .find::<provider_keys::Entity>(id, "provider key")
        .await?;
    if input
        .auth_type
        .as_deref()
        .is_some_and(|t| t != row.auth_type)
    {
        return Err(ApiError::BadRequest(
            "auth_type cannot change; create another key".into(),
        ));
    }
    if row.auth_type == AUTH_TYPE_OAUTH && input.secret.is_some() {
        return Err(ApiError::BadRequest(
            "an OAuth key's token comes from connecting it, not from secret".into(),
        ));
    }
    let before = snapshot(&ProviderKeyView::from(row.clone()));
    let mut row: provider_keys::ActiveModel = row.into();
    if let Some(v) = input.name {
        row.name = Set(v);
    }
    if let Some(v) = input.secret {
        let secret = Secret::new(v.trim());
        row.secret_hint = Set(mask(secret.expose()));
        let column = SecretColumn::ProviderKeySecret;
        row.secret_ciphertext = Set(state.secrets.encrypt(&secret, column, i64::from(id)));
    }
    if let Some(v) = input.weight {
        row.weight = Set(v);
    }
    if let Some(v) = input.enabled {
        row.enabled = Set(v);
    }
    if let Some(limits) = input.limits {
        let limits = limits.validate()?;
        row.rps_limit = Set(limits.requests_per_second);
        row.tokens_per_day_limit = Set(limits.tokens_per_day);
    }
    if let Some(expires_at) = input.expires_at {
        row.expires_at = Set(expires_at);
    }
    row.updated_at = Set(Utc::now());
    let view = ProviderKeyView::from(row.update(change.db()).await?);
    change
        .commit()
        .await?
        .audit(Entry::updated("provider_key", id, before, snapshot(&view)))
        .await;
    Ok(Json(view))
}

#[utoipa::path(
    delete,
    path = "/api/provider-keys/keys/{id}",
    tag = openapi::TAG_PROVIDER_KEYS,
    params(("id" = i32, Path)),
    responses((status = 200, body = Deleted), BadRequest, Unauthorized, Forbidden, NotFound),
)]
pub async fn delete(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
) -> Result<Json<Deleted>, ApiError> {
    caller.require_admin()?;
    let change = state.change(&caller).await?;
    let row = change
        .find::<provider_keys::Entity>(id, "provider key")
        .await?;
    let before = snapshot(&ProviderKeyView::from(row.clone()));
    row.delete(change.db()).await?;
    let committed = change.commit().await?;
    state.board.forget(id);
    state.accounts.forget(id);
    committed
        .audit(Entry::deleted("provider_key", id, before))
        .await;
    Ok(Json(Deleted { deleted: id }))
}

/// What a health check found, and the key's live state after it.
#[derive(Serialize, ToSchema)]
pub struct HealthCheckView {
    id: i32,
    result: crate::health::ProbeResult,
    health: KeyHealthView,
}

/// `POST /api/provider-keys/keys/{id}/health-check`: runs the plugin's
/// probe with this key now and stores the resulting health status.
#[utoipa::path(
    post,
    path = "/api/provider-keys/keys/{id}/health-check",
    tag = openapi::TAG_PROVIDER_KEYS,
    params(("id" = i32, Path)),
    responses((status = 200, body = HealthCheckView), BadRequest, Unauthorized, Forbidden, NotFound),
)]
pub async fn health_check(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
) -> Result<Json<HealthCheckView>, ApiError> {
    caller.require_admin()?;
    let catalog = state.catalog.load_full();
    let key = catalog
        .provider_keys
        .get(&id)
        .cloned()
        .ok_or(ApiError::NotFound("provider key"))?;
    let provider = catalog
        .providers
        .get(&key.provider_id)
        .cloned()
        .ok_or(ApiError::NotFound("provider"))?;
    let probe = crate::health::probe_key(&provider, &key, &state.resolver, &state.connector).await;
    state.board.record_probe(
        id,
        probe.status,
        std::time::Duration::from_millis(probe.latency_ms),
        probe.detail.as_deref(),
    );
    crate::health::store_status(&state.db, id, probe.status).await;
    Ok(Json(HealthCheckView {
        id,
        result: probe,
        health: state.board.view(id),
    }))
}
