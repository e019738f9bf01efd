//! `/api/upstream-keys`: upstream credentials. The secret is
//! encrypted before it is stored and never returned; responses carry only
//! a masked hint.

mod input;
mod view;

use axum::extract::State;
use axum::{Extension, Json};
use chrono::Utc;
use sea_orm::Set;
use serde::Serialize;
use utoipa::ToSchema;

use super::audit::snapshot;
use super::auth::Caller;
use super::json::{ApiJson, ApiPath};
use super::openapi::{self, BadRequest, Forbidden, NotFound, Unauthorized};
use super::write::Entry;
use super::{AdminState, ApiError, Deleted};
use crate::catalog::{AUTH_TYPE_API_KEY, AUTH_TYPE_OAUTH, OAuthState};
use crate::scheduler::KeyHealthView;
use crate::secrets::{Secret, SecretColumn, mask};
use crate::store::entities::upstream_keys;
use crate::store::upstream_keys as stored;
pub use input::UpstreamKeyInput;
use input::{check, is_oauth, new_secret};
pub use view::UpstreamKeyView;

#[utoipa::path(
    get,
    path = "/api/upstream-keys",
    tag = openapi::TAG_UPSTREAM_KEYS,
    responses((status = 200, body = Vec<UpstreamKeyView>), Unauthorized, Forbidden),
)]
pub async fn list(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Vec<UpstreamKeyView>>, ApiError> {
    caller.require_admin()?;
    let rows = stored::list(&state.db).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| UpstreamKeyView::from(r).with_health(&state.board))
            .collect(),
    ))
}

#[utoipa::path(
    get,
    path = "/api/upstream-keys/{id}",
    tag = openapi::TAG_UPSTREAM_KEYS,
    params(("id" = i32, Path)),
    responses((status = 200, body = UpstreamKeyView), BadRequest, Unauthorized, Forbidden, NotFound),
)]
pub async fn get_one(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
) -> Result<Json<UpstreamKeyView>, ApiError> {
    caller.require_admin()?;
    let row = stored::find(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound("upstream key"))?;
    Ok(Json(UpstreamKeyView::from(row).with_health(&state.board)))
}

#[utoipa::path(
    post,
    path = "/api/upstream-keys",
    tag = openapi::TAG_UPSTREAM_KEYS,
    request_body = UpstreamKeyInput,
    responses((status = 200, body = UpstreamKeyView), BadRequest, Unauthorized, Forbidden),
)]
pub async fn create(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiJson(input): ApiJson<UpstreamKeyInput>,
) -> Result<Json<UpstreamKeyView>, ApiError> {
    caller.require_admin()?;
    check(&input)?;
    let oauth = is_oauth(input.auth_type.as_deref())?;
    let (Some(provider_id), Some(name)) = (input.provider_id, input.name.clone()) else {
        return Err(ApiError::BadRequest(
            "provider_id and name are required".into(),
        ));
    };
    let secret = new_secret(oauth, input.secret.clone())?;
    crate::store::providers::find(&state.db, provider_id)
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
    let row = new_row(input, provider_id, name, oauth, &secret)?;
    // The secret is bound to the row's id, known once the row exists:
    // inserted empty and filled in within the change.
    let change = state.change(&caller).await?;
    let row = stored::insert(change.db(), row).await?;
    let sealed = state
        .secrets
        .encrypt(&secret, SecretColumn::UpstreamKeySecret, i64::from(row.id));
    let mut active: upstream_keys::ActiveModel = row.into();
    active.secret_ciphertext = Set(sealed);
    let view = UpstreamKeyView::from(stored::update(change.db(), active).await?);
    change
        .commit()
        .await?
        .audit(Entry::created("upstream_key", view.id, snapshot(&view)))
        .await;
    Ok(Json(view))
}

/// A new key's row, its secret still to be sealed.
fn new_row(
    input: UpstreamKeyInput,
    provider_id: i32,
    name: String,
    oauth: bool,
    secret: &Secret,
) -> Result<upstream_keys::ActiveModel, ApiError> {
    let limits = input.limits.unwrap_or_default().validate()?;
    let now = Utc::now();
    Ok(upstream_keys::ActiveModel {
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
    })
}

#[utoipa::path(
    put,
    path = "/api/upstream-keys/{id}",
    tag = openapi::TAG_UPSTREAM_KEYS,
    params(("id" = i32, Path)),
    request_body = UpstreamKeyInput,
    responses((status = 200, body = UpstreamKeyView), BadRequest, Unauthorized, Forbidden, NotFound),
)]
pub async fn update(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
    ApiJson(input): ApiJson<UpstreamKeyInput>,
) -> Result<Json<UpstreamKeyView>, ApiError> {
    caller.require_admin()?;
    check(&input)?;
    if input.provider_id.is_some() {
        return Err(ApiError::BadRequest(
            "a key cannot move to another provider".into(),
        ));
    }
    let change = state.change(&caller).await?;
    let row = stored::find(change.db(), id)
        .await?
        .ok_or(ApiError::NotFound("upstream key"))?;
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
    let before = snapshot(&UpstreamKeyView::from(row.clone()));
    let mut row: upstream_keys::ActiveModel = row.into();
    if let Some(v) = input.name {
        row.name = Set(v);
    }
    if let Some(v) = input.secret {
        let secret = Secret::new(v.trim());
        row.secret_hint = Set(mask(secret.expose()));
        let column = SecretColumn::UpstreamKeySecret;
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
    let view = UpstreamKeyView::from(stored::update(change.db(), row).await?);
    change
        .commit()
        .await?
        .audit(Entry::updated("upstream_key", id, before, snapshot(&view)))
        .await;
    Ok(Json(view))
}

#[utoipa::path(
    delete,
    path = "/api/upstream-keys/{id}",
    tag = openapi::TAG_UPSTREAM_KEYS,
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
    let row = stored::find(change.db(), id)
        .await?
        .ok_or(ApiError::NotFound("upstream key"))?;
    let before = snapshot(&UpstreamKeyView::from(row));
    stored::delete(change.db(), id).await?;
    let committed = change.commit().await?;
    state.board.forget(id);
    state.accounts.forget(id);
    committed
        .audit(Entry::deleted("upstream_key", id, before))
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

/// `POST /api/upstream-keys/{id}/health-check`: runs the plugin's
/// probe with this key now and stores the resulting health status.
#[utoipa::path(
    post,
    path = "/api/upstream-keys/{id}/health-check",
    tag = openapi::TAG_UPSTREAM_KEYS,
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
        .upstream_keys
        .get(&id)
        .cloned()
        .ok_or(ApiError::NotFound("upstream key"))?;
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
