//! `/api/client-keys`: gateway keys for applications. The key is
//! returned once, at creation; afterwards only its prefix is shown.
//!
//! Administrators manage every key. A `user` account manages its own keys
//! within what it was granted ([`super::grants`]): it pools only granted
//! upstream keys, its new keys get the grant's default limits (or lower
//! ones), and it may change its keys only to narrow them
//! ([`super::narrowing`]); the strategy and quota overrun are the
//! operator's.

use axum::extract::State;
use axum::{Extension, Json};
use chrono::Utc;
use sea_orm::Set;

use super::audit::snapshot;
use super::auth::Caller;
use super::client_key_input::{
    ClientKeyInput, check_models, check_narrowing, check_pool, check_quota_overrun, check_strategy,
    operator_fields, set_limits,
};
pub use super::client_key_input::{ClientKeyView, MAX_NAME_CHARS};
use super::endpoint_grant;
use super::grants::{binding_grant, check_granted, grant_of, granted_pool};
use super::json::{ApiJson, ApiPath};
use super::narrowing;
use super::openapi::{self, BadRequest, Forbidden, NotFound, Unauthorized};
use super::write::Entry;
use super::{AdminState, ApiError, Deleted};
use crate::plugins::EndpointClass;
use crate::secrets::{generate_client_key, hash_client_key};
use crate::store::client_keys as stored;
use crate::store::entities::client_keys;

#[utoipa::path(
    get,
    path = "/api/client-keys",
    tag = openapi::TAG_CLIENT_KEYS,
    responses((status = 200, body = Vec<ClientKeyView>), Unauthorized),
)]
pub async fn list(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Vec<ClientKeyView>>, ApiError> {
    let owner = (!caller.is_admin()).then_some(caller.id);
    let rows = stored::list(&state.db, owner).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// The key with this id, if the caller may see it (admins: any; users:
/// their own). Someone else's key is "not found", not "forbidden", so ids
/// reveal nothing.
async fn visible(
    state: &AdminState,
    caller: &Caller,
    id: i32,
) -> Result<client_keys::Model, ApiError> {
    let row = stored::find(&state.db, id).await?;
    match row {
        Some(row) if caller.is_admin() || row.owner_user_id == Some(caller.id) => Ok(row),
        _ => Err(ApiError::NotFound("client key")),
    }
}

/// Ids of the client keys `caller` owns.
pub async fn owned_ids(state: &AdminState, caller: &Caller) -> Result<Vec<i32>, ApiError> {
    let rows = stored::list(&state.db, Some(caller.id)).await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

pub fn check_name(name: &str) -> Result<(), ApiError> {
    if name.trim().is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::BadRequest(format!(
            "name must be 1 to {MAX_NAME_CHARS} characters"
        )));
    }
    Ok(())
}

#[utoipa::path(
    get,
    path = "/api/client-keys/{id}",
    tag = openapi::TAG_CLIENT_KEYS,
    params(("id" = i32, Path)),
    responses((status = 200, body = ClientKeyView), BadRequest, Unauthorized, NotFound),
)]
pub async fn get_one(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
) -> Result<Json<ClientKeyView>, ApiError> {
    Ok(Json(visible(&state, &caller, id).await?.into()))
}

#[utoipa::path(
    post,
    path = "/api/client-keys",
    tag = openapi::TAG_CLIENT_KEYS,
    request_body = ClientKeyInput,
    responses((status = 200, body = ClientKeyView), BadRequest, Unauthorized, Forbidden),
)]
pub async fn create(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiJson(input): ApiJson<ClientKeyInput>,
) -> Result<Json<ClientKeyView>, ApiError> {
    operator_fields(&caller, &input)?;
    let (name, provider_id) = required(&state, &input).await?;
    let mut pool = input.upstream_key_ids.clone().unwrap_or_default();
    let keys = check_pool(&state, provider_id, &pool).await?;
    let allowed_models = check_models(input.allowed_models.as_deref().unwrap_or_default())?;
    let strategy = check_strategy(input.strategy.as_deref().unwrap_or("round_robin"))?;
    let mut limits = input.limits.clone().unwrap_or_default().validate()?;
    if !caller.is_admin() {
        // A user's key: within the grant (all of it when no pool is named),
        // with the grant's default limits or lower ones.
        let grant = grant_of(&state, caller.id).await?;
        check_granted(&caller, &grant, &keys)?;
        if input.upstream_key_ids.is_none() {
            pool = granted_pool(&state, &grant, provider_id).await?;
        }
        if input.limits.is_none() {
            limits = grant.default_limits;
        } else {
            narrowing::check_limits(&grant.default_limits, &limits)?;
        }
    }
    let quota_overrun = check_quota_overrun(input.quota_overrun.as_deref().unwrap_or("finish"))?;
    let classes = match &input.endpoint_classes {
        Some(names) => endpoint_grant::parse(names)?,
        None => EndpointClass::DEFAULT_GRANT.to_vec(),
    };
    if !caller.is_admin() {
        endpoint_grant::check_narrowing(&EndpointClass::DEFAULT_GRANT, &classes)?;
    }
    let key = generate_client_key();
    let mut row = client_keys::ActiveModel {
        name: Set(name),
        owner_user_id: Set(Some(caller.id)),
        provider_id: Set(provider_id),
        pool: Set(serde_json::to_string(&pool).unwrap_or_else(|_| "[]".into())),
        strategy: Set(strategy),
        enabled: Set(input.enabled.unwrap_or(true)),
        expires_at: Set(input.expires_at.flatten()),
        allowed_models: Set(allowed_models),
        quota_overrun: Set(quota_overrun),
        endpoint_classes: Set(endpoint_grant::stored(&classes)),
        ..new_row(&key)
    };
    set_limits(&mut row, &limits);
    let change = state.change(&caller).await?;
    let mut view = ClientKeyView::from(stored::insert(change.db(), row).await?);
    change
        .commit()
        .await?
        .audit(Entry::created("client_key", view.id, snapshot(&view)))
        .await;
    view.key = Some(key);
    Ok(Json(view))
}

/// A new key's name and provider, both required: a valid name, an
/// existing provider, and no expiry in the past.
async fn required(state: &AdminState, input: &ClientKeyInput) -> Result<(String, i32), ApiError> {
    let (Some(name), Some(provider_id)) = (input.name.clone(), input.provider_id) else {
        return Err(ApiError::BadRequest(
            "name and provider_id are required".into(),
        ));
    };
    check_name(&name)?;
    if input
        .expires_at
        .flatten()
        .is_some_and(|at| at <= Utc::now())
    {
        return Err(ApiError::BadRequest(
            "expires_at must be in the future".into(),
        ));
    }
    crate::store::providers::find(&state.db, provider_id)
        .await?
        .ok_or_else(|| ApiError::BadRequest(format!("provider {provider_id} does not exist")))?;
    Ok((name, provider_id))
}

/// The row of a new `key`: its hash and display prefix, created now,
/// enabled by its owner; the rest is the request's.
fn new_row(key: &str) -> client_keys::ActiveModel {
    let now = Utc::now();
    client_keys::ActiveModel {
        key_hash: Set(hex::encode(hash_client_key(key))),
        key_prefix: Set(key
            .chars()
            .take(crate::secrets::DISPLAY_PREFIX_CHARS)
            .collect()),
        disabled_by_admin: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

#[utoipa::path(
    put,
    path = "/api/client-keys/{id}",
    tag = openapi::TAG_CLIENT_KEYS,
    params(("id" = i32, Path)),
    request_body = ClientKeyInput,
    responses((status = 200, body = ClientKeyView), BadRequest, Unauthorized, Forbidden, NotFound),
)]
pub async fn update(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
    ApiJson(input): ApiJson<ClientKeyInput>,
) -> Result<Json<ClientKeyView>, ApiError> {
    operator_fields(&caller, &input)?;
    let row = visible(&state, &caller, id).await?;
    if input.provider_id.is_some_and(|p| p != row.provider_id) {
        return Err(ApiError::BadRequest(
            "a client key cannot move to another provider".into(),
        ));
    }
    if !caller.is_admin() {
        check_narrowing(&row, &input)?;
    }
    let before = snapshot(&ClientKeyView::from(row.clone()));
    let (provider_id, owner) = (row.provider_id, row.owner_user_id);
    let mut row: client_keys::ActiveModel = row.into();
    if let Some(v) = input.name {
        check_name(&v)?;
        row.name = Set(v);
    }
    if let Some(pool) = input.upstream_key_ids {
        let keys = check_pool(&state, provider_id, &pool).await?;
        if let Some(grant) = binding_grant(&state, owner).await? {
            check_granted(&caller, &grant, &keys)?;
        }
        row.pool = Set(serde_json::to_string(&pool).unwrap_or_else(|_| "[]".into()));
    }
    if let Some(v) = input.enabled {
        row.enabled = Set(v);
        if caller.is_admin() {
            row.disabled_by_admin = Set(!v);
        }
    }
    if let Some(expires_at) = input.expires_at {
        row.expires_at = Set(expires_at);
    }
    if let Some(models) = input.allowed_models {
        row.allowed_models = Set(check_models(&models)?);
    }
    if let Some(strategy) = input.strategy {
        row.strategy = Set(check_strategy(&strategy)?);
    }
    if let Some(limits) = input.limits {
        set_limits(&mut row, &limits.validate()?);
    }
    if let Some(overrun) = input.quota_overrun {
        row.quota_overrun = Set(check_quota_overrun(&overrun)?);
    }
    if let Some(names) = input.endpoint_classes {
        row.endpoint_classes = Set(endpoint_grant::stored(&endpoint_grant::parse(&names)?));
    }
    row.updated_at = Set(Utc::now());
    let change = state.change(&caller).await?;
    let view = ClientKeyView::from(stored::update(change.db(), row).await?);
    change
        .commit()
        .await?
        .audit(Entry::updated("client_key", id, before, snapshot(&view)))
        .await;
    Ok(Json(view))
}

/// Revokes (deletes) a client key; requests with it fail from now on.
#[utoipa::path(
    delete,
    path = "/api/client-keys/{id}",
    tag = openapi::TAG_CLIENT_KEYS,
    params(("id" = i32, Path)),
    responses((status = 200, body = Deleted), BadRequest, Unauthorized, NotFound),
)]
pub async fn delete(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
) -> Result<Json<Deleted>, ApiError> {
    let row = visible(&state, &caller, id).await?;
    let before = snapshot(&ClientKeyView::from(row));
    let change = state.change(&caller).await?;
    stored::delete_with_dependents(change.db(), id).await?;
    change
        .commit()
        .await?
        .audit(Entry::deleted("client_key", id, before))
        .await;
    Ok(Json(Deleted { deleted: id }))
}
