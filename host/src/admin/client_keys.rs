//! `/api/user-service/keys`: gateway keys for applications. The key is
//! returned once, at creation; afterwards only its prefix is shown.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, EntityTrait, QueryOrder, Set};
use serde::{Deserialize, Serialize};

use super::json::ApiJson;
use super::{AdminState, ApiError};
use crate::secrets::{generate_client_key, hash_client_key};
use crate::store::entities::{client_keys, provider_keys, providers};

/// Most upstream keys one client key may pool.
pub const MAX_POOL: usize = 256;

#[derive(Serialize)]
pub struct ClientKeyView {
    id: i32,
    name: String,
    key_prefix: String,
    provider_id: i32,
    provider_key_ids: Vec<i32>,
    strategy: String,
    enabled: bool,
    expires_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// The whole key: only in the response that created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
}

impl From<client_keys::Model> for ClientKeyView {
    fn from(k: client_keys::Model) -> Self {
        ClientKeyView {
            id: k.id,
            name: k.name,
            key_prefix: k.key_prefix,
            provider_id: k.provider_id,
            provider_key_ids: serde_json::from_str(&k.pool).unwrap_or_default(),
            strategy: k.strategy,
            enabled: k.enabled,
            expires_at: k.expires_at,
            created_at: k.created_at,
            updated_at: k.updated_at,
            key: None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientKeyInput {
    name: Option<String>,
    provider_id: Option<i32>,
    provider_key_ids: Option<Vec<i32>>,
    enabled: Option<bool>,
    expires_at: Option<DateTime<Utc>>,
}

async fn check_pool(state: &AdminState, provider_id: i32, pool: &[i32]) -> Result<(), ApiError> {
    if pool.len() > MAX_POOL {
        return Err(ApiError::BadRequest(format!(
            "at most {MAX_POOL} provider keys per client key"
        )));
    }
    for id in pool {
        let key = provider_keys::Entity::find_by_id(*id)
            .one(&state.db)
            .await?;
        match key {
            Some(k) if k.provider_id == provider_id => {}
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
    Ok(())
}

pub async fn list(State(state): State<AdminState>) -> Result<Json<Vec<ClientKeyView>>, ApiError> {
    let rows = client_keys::Entity::find()
        .order_by_asc(client_keys::Column::Id)
        .all(&state.db)
        .await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

pub async fn get_one(
    State(state): State<AdminState>,
    Path(id): Path<i32>,
) -> Result<Json<ClientKeyView>, ApiError> {
    let row = client_keys::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound("client key"))?;
    Ok(Json(row.into()))
}

pub async fn create(
    State(state): State<AdminState>,
    ApiJson(input): ApiJson<ClientKeyInput>,
) -> Result<Json<ClientKeyView>, ApiError> {
    let (Some(name), Some(provider_id)) = (input.name, input.provider_id) else {
        return Err(ApiError::BadRequest(
            "name and provider_id are required".into(),
        ));
    };
    if name.trim().is_empty() || name.len() > 128 {
        return Err(ApiError::BadRequest(
            "name must be 1 to 128 characters".into(),
        ));
    }
    providers::Entity::find_by_id(provider_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::BadRequest(format!("provider {provider_id} does not exist")))?;
    let pool = input.provider_key_ids.unwrap_or_default();
    check_pool(&state, provider_id, &pool).await?;
    let key = generate_client_key();
    let now = Utc::now();
    let row = client_keys::ActiveModel {
        name: Set(name),
        key_hash: Set(hex::encode(hash_client_key(&key))),
        key_prefix: Set(key
            .chars()
            .take(crate::secrets::DISPLAY_PREFIX_CHARS)
            .collect()),
        owner_user_id: Set(None),
        provider_id: Set(provider_id),
        pool: Set(serde_json::to_string(&pool).unwrap_or_else(|_| "[]".into())),
        strategy: Set("round_robin".into()),
        enabled: Set(input.enabled.unwrap_or(true)),
        expires_at: Set(input.expires_at),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&state.db)
    .await?;
    state.reload().await?;
    let mut view = ClientKeyView::from(row);
    view.key = Some(key);
    Ok(Json(view))
}

pub async fn update(
    State(state): State<AdminState>,
    Path(id): Path<i32>,
    ApiJson(input): ApiJson<ClientKeyInput>,
) -> Result<Json<ClientKeyView>, ApiError> {
    let row = client_keys::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound("client key"))?;
    if input.provider_id.is_some_and(|p| p != row.provider_id) {
        return Err(ApiError::BadRequest(
            "a client key cannot move to another provider".into(),
        ));
    }
    let provider_id = row.provider_id;
    let mut row: client_keys::ActiveModel = row.into();
    if let Some(v) = input.name {
        if v.trim().is_empty() || v.len() > 128 {
            return Err(ApiError::BadRequest(
                "name must be 1 to 128 characters".into(),
            ));
        }
        row.name = Set(v);
    }
    if let Some(pool) = input.provider_key_ids {
        check_pool(&state, provider_id, &pool).await?;
        row.pool = Set(serde_json::to_string(&pool).unwrap_or_else(|_| "[]".into()));
    }
    if let Some(v) = input.enabled {
        row.enabled = Set(v);
    }
    if input.expires_at.is_some() {
        row.expires_at = Set(input.expires_at);
    }
    row.updated_at = Set(Utc::now());
    let row = row.update(&state.db).await?;
    state.reload().await?;
    Ok(Json(row.into()))
}

/// Revokes (deletes) a client key; requests with it fail from now on.
pub async fn delete(
    State(state): State<AdminState>,
    Path(id): Path<i32>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let result = client_keys::Entity::delete_by_id(id)
        .exec(&state.db)
        .await?;
    if result.rows_affected == 0 {
        return Err(ApiError::NotFound("client key"));
    }
    state.reload().await?;
    Ok(Json(serde_json::json!({"deleted": id})))
}
