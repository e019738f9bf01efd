//! `/api/user-service/keys`: gateway keys for applications. The key is
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
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::audit::{audit, snapshot};
use super::auth::Caller;
use super::endpoint_grant;
use super::grants::{binding_grant, check_granted, grant_of, granted_pool};
use super::json::{ApiJson, ApiPath};
use super::limits::ClientLimitsInput;
use super::narrowing;
use super::openapi::{self, BadRequest, Forbidden, NotFound, Unauthorized};
use super::{AdminState, ApiError, Deleted};
use crate::limits::{ClientLimits, QuotaOverrun};
use crate::plugins::EndpointClass;
use crate::scheduler::Strategy;
use crate::secrets::{generate_client_key, hash_client_key};
use crate::store::entities::{client_keys, oauth_clients, provider_keys, providers};

/// Longest client key name.
pub const MAX_NAME_CHARS: usize = 128;
/// Most upstream keys one client key may pool.
pub const MAX_POOL: usize = 256;

#[derive(Serialize, ToSchema)]
pub struct ClientKeyView {
    id: i32,
    name: String,
    key_prefix: String,
    provider_id: i32,
    provider_key_ids: Vec<i32>,
    strategy: String,
    /// Models the key may use (`*` at the end matches a prefix); empty: any.
    allowed_models: Vec<String>,
    limits: ClientLimitsInput,
    /// What a stream does when it crosses the daily token or cost quota:
    /// `finish` (runs to its end) or `cut` (ended cleanly at the next event).
    quota_overrun: String,
    /// Classes of provider endpoint the key may use (`inference`,
    /// `embeddings`, `models`, `token_counting`, `files`, `batches`,
    /// `fine_tuning`, `other`).
    endpoint_classes: Vec<String>,
    enabled: bool,
    /// Disabled by an administrator: only an administrator can enable it.
    disabled_by_admin: bool,
    expires_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// The whole key: only in the response that created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
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
            provider_key_ids: serde_json::from_str(&k.pool).unwrap_or_default(),
            strategy: k.strategy,
            allowed_models,
            limits,
            endpoint_classes,
            quota_overrun: k.quota_overrun,
            enabled: k.enabled,
            disabled_by_admin: k.disabled_by_admin,
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
    name: Option<String>,
    provider_id: Option<i32>,
    /// Upstream keys of the same provider this key may use.
    #[schema(max_items = 256)]
    provider_key_ids: Option<Vec<i32>>,
    enabled: Option<bool>,
    /// When it stops working (in the future, when creating); `null` clears it.
    #[serde(default, with = "super::json::double_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    expires_at: Option<Option<chrono::DateTime<Utc>>>,
    /// Model names (`*` at the end matches a prefix); empty or absent: any.
    #[schema(max_items = 256)]
    allowed_models: Option<Vec<String>>,
    /// `round_robin` (default), `weighted` or `best_health`.
    #[schema(pattern = "^(round_robin|weighted|best_health)$")]
    strategy: Option<String>,
    limits: Option<ClientLimitsInput>,
    /// `finish` (default: a stream that crosses the daily token or cost
    /// quota runs to its end) or `cut` (the gateway ends it cleanly at the
    /// next event, with the provider's own terminal event).
    #[schema(pattern = "^(finish|cut)$")]
    quota_overrun: Option<String>,
    /// Classes of provider endpoint the key may use; absent when creating:
    /// `inference`, `embeddings`, `models` and `token_counting`. Others
    /// (`files`, `batches`, `fine_tuning`, `other`) only an administrator
    /// grants.
    #[schema(max_items = 8)]
    endpoint_classes: Option<Vec<String>>,
}

fn models_of(k: &client_keys::Model) -> Vec<String> {
    k.allowed_models
        .as_deref()
        .and_then(|m| serde_json::from_str(m).ok())
        .unwrap_or_default()
}

fn limits_of(k: &client_keys::Model) -> ClientLimits {
    ClientLimits {
        requests_per_second: k.rps_limit,
        requests_per_minute: k.rpm_limit,
        requests_per_day: k.rpd_limit,
        tokens_per_day: k.tokens_per_day_limit,
        cost_per_day: k.cost_per_day_limit_nanos,
    }
}

/// The scheduling strategy and the quota overrun are the operator's to set.
fn operator_fields(caller: &Caller, input: &ClientKeyInput) -> Result<(), ApiError> {
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
fn check_narrowing(row: &client_keys::Model, input: &ClientKeyInput) -> Result<(), ApiError> {
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

fn check_strategy(name: &str) -> Result<String, ApiError> {
    Strategy::parse(name)
        .map(|_| name.to_owned())
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "strategy must be one of {}",
                Strategy::NAMES.join(", ")
            ))
        })
}

fn check_quota_overrun(name: &str) -> Result<String, ApiError> {
    QuotaOverrun::parse(name)
        .map(|o| o.name().to_owned())
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "quota_overrun must be one of {}",
                QuotaOverrun::NAMES.join(", ")
            ))
        })
}

fn set_limits(row: &mut client_keys::ActiveModel, limits: &ClientLimits) {
    row.rps_limit = Set(limits.requests_per_second);
    row.rpm_limit = Set(limits.requests_per_minute);
    row.rpd_limit = Set(limits.requests_per_day);
    row.tokens_per_day_limit = Set(limits.tokens_per_day);
    row.cost_per_day_limit_nanos = Set(limits.cost_per_day);
}

/// Most entries in a key's model list.
pub const MAX_ALLOWED_MODELS: usize = 256;

fn check_models(models: &[String]) -> Result<Option<String>, ApiError> {
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
async fn check_pool(
    state: &AdminState,
    provider_id: i32,
    pool: &[i32],
) -> Result<Vec<provider_keys::Model>, ApiError> {
    if pool.len() > MAX_POOL {
        return Err(ApiError::BadRequest(format!(
            "at most {MAX_POOL} provider keys per client key"
        )));
    }
    let mut keys = Vec::with_capacity(pool.len());
    for id in pool {
        let key = provider_keys::Entity::find_by_id(*id)
            .one(&state.db)
            .await?;
        match key {
            Some(k) if k.provider_id == provider_id => keys.push(k),
            Some(_) => {
                return Err(ApiError::BadRequest(format!(
                    "provider key {id} belongs to another provider"
                )));
            }
            None => {
                return Err(ApiError::BadRequest(format!(
                    "provider key {id} does not exist"
                )));
            }
        }
    }
    Ok(keys)
}

#[utoipa::path(
    get,
    path = "/api/user-service/keys",
    tag = openapi::TAG_CLIENT_KEYS,
    responses((status = 200, body = Vec<ClientKeyView>), Unauthorized),
)]
pub async fn list(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Vec<ClientKeyView>>, ApiError> {
    let mut query = client_keys::Entity::find().order_by_asc(client_keys::Column::Id);
    if !caller.is_admin() {
        query = query.filter(client_keys::Column::OwnerUserId.eq(caller.id));
    }
    let rows = query.all(&state.db).await?;
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
    let row = client_keys::Entity::find_by_id(id).one(&state.db).await?;
    match row {
        Some(row) if caller.is_admin() || row.owner_user_id == Some(caller.id) => Ok(row),
        _ => Err(ApiError::NotFound("client key")),
    }
}

/// Ids of the client keys `caller` owns.
pub async fn owned_ids(state: &AdminState, caller: &Caller) -> Result<Vec<i32>, ApiError> {
    let rows = client_keys::Entity::find()
        .filter(client_keys::Column::OwnerUserId.eq(caller.id))
        .all(&state.db)
        .await?;
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
    path = "/api/user-service/keys/{id}",
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
    path = "/api/user-service/keys",
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
    let (Some(name), Some(provider_id)) = (input.name, input.provider_id) else {
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
    providers::Entity::find_by_id(provider_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::BadRequest(format!("provider {provider_id} does not exist")))?;
    let mut pool = input.provider_key_ids.clone().unwrap_or_default();
    let keys = check_pool(&state, provider_id, &pool).await?;
    let allowed_models = check_models(&input.allowed_models.unwrap_or_default())?;
    let strategy = check_strategy(input.strategy.as_deref().unwrap_or("round_robin"))?;
    let mut limits = input.limits.clone().unwrap_or_default().validate()?;
    if !caller.is_admin() {
        // A user's key: within the grant (all of it when no pool is named),
        // with the grant's default limits or lower ones.
        let grant = grant_of(&state, caller.id).await?;
        check_granted(&caller, &grant, &keys)?;
        if input.provider_key_ids.is_none() {
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
    let now = Utc::now();
    let mut row = client_keys::ActiveModel {
        name: Set(name),
        key_hash: Set(hex::encode(hash_client_key(&key))),
        key_prefix: Set(key
            .chars()
            .take(crate::secrets::DISPLAY_PREFIX_CHARS)
            .collect()),
        owner_user_id: Set(Some(caller.id)),
        provider_id: Set(provider_id),
        pool: Set(serde_json::to_string(&pool).unwrap_or_else(|_| "[]".into())),
        strategy: Set(strategy),
        enabled: Set(input.enabled.unwrap_or(true)),
        expires_at: Set(input.expires_at.flatten()),
        allowed_models: Set(allowed_models),
        quota_overrun: Set(quota_overrun),
        endpoint_classes: Set(endpoint_grant::stored(&classes)),
        disabled_by_admin: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    set_limits(&mut row, &limits);
    let row = row.insert(&state.db).await?;
    state.reload().await?;
    let mut view = ClientKeyView::from(row);
    audit(
        &state,
        &caller,
        "create",
        "client_key",
        Some(view.id.to_string()),
        None,
        snapshot(&view),
    )
    .await;
    view.key = Some(key);
    Ok(Json(view))
}

#[utoipa::path(
    put,
    path = "/api/user-service/keys/{id}",
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
    if let Some(pool) = input.provider_key_ids {
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
    let row = row.update(&state.db).await?;
    state.reload().await?;
    let view = ClientKeyView::from(row);
    audit(
        &state,
        &caller,
        "update",
        "client_key",
        Some(id.to_string()),
        before,
        snapshot(&view),
    )
    .await;
    Ok(Json(view))
}

/// Revokes (deletes) a client key; requests with it fail from now on.
#[utoipa::path(
    delete,
    path = "/api/user-service/keys/{id}",
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
    oauth_clients::Entity::delete_many()
        .filter(oauth_clients::Column::ClientKeyId.eq(id))
        .exec(&state.db)
        .await?;
    client_keys::Entity::delete_by_id(id)
        .exec(&state.db)
        .await?;
    state.reload().await?;
    audit(
        &state,
        &caller,
        "delete",
        "client_key",
        Some(id.to_string()),
        before,
        None,
    )
    .await;
    Ok(Json(Deleted { deleted: id }))
}
