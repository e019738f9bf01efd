//! `/api/oauth-clients`: clients of the OAuth 2.0 client-credentials grant
//! (`POST /oauth/token` on the proxy port). Each is bound to one client key
//! whose identity, pool and limits its tokens carry; the secret is returned
//! once, at creation, and stored hashed. Users manage the clients of their
//! own client keys; disabling or deleting a client ends its tokens at once,
//! and for good: disabling advances the client's token generation, so
//! enabling it again needs new tokens.

use axum::extract::State;
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use sea_orm::Set;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::audit::snapshot;
use super::auth::Caller;
use super::client_keys::{check_name, owned_ids};
use super::json::{ApiJson, ApiPath};
use super::openapi::{self, BadRequest, NotFound, Unauthorized};
use super::write::Entry;
use super::{AdminState, ApiError, Deleted};
use crate::secrets::{generate_oauth_client, hash_client_key};
use crate::store::entities::oauth_clients;
use crate::store::oauth_clients as stored;

#[derive(Serialize, ToSchema)]
pub struct OAuthClientView {
    id: i32,
    name: String,
    client_id: String,
    client_key_id: i32,
    enabled: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// The secret: only in the response that created the client.
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
}

impl From<oauth_clients::Model> for OAuthClientView {
    fn from(c: oauth_clients::Model) -> Self {
        OAuthClientView {
            id: c.id,
            name: c.name,
            client_id: c.client_id,
            client_key_id: c.client_key_id,
            enabled: c.enabled,
            created_at: c.created_at,
            updated_at: c.updated_at,
            client_secret: None,
        }
    }
}

/// A new OAuth client (`name` and `client_key_id` required) or a change
/// to one (`name`, `enabled`; the client key cannot change).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OAuthClientInput {
    #[schema(min_length = 1, max_length = 128)]
    name: Option<String>,
    client_key_id: Option<i32>,
    enabled: Option<bool>,
}

/// The client with this id, if the caller may see it (its client key is
/// theirs, or they are an admin); anything else is "not found".
async fn visible(
    state: &AdminState,
    caller: &Caller,
    id: i32,
) -> Result<oauth_clients::Model, ApiError> {
    let row = stored::find(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound("OAuth client"))?;
    if !caller.is_admin() && !owned_ids(state, caller).await?.contains(&row.client_key_id) {
        return Err(ApiError::NotFound("OAuth client"));
    }
    Ok(row)
}

#[utoipa::path(
    get,
    path = "/api/oauth-clients",
    tag = openapi::TAG_OAUTH_CLIENTS,
    responses((status = 200, body = Vec<OAuthClientView>), Unauthorized),
)]
pub async fn list(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Vec<OAuthClientView>>, ApiError> {
    let only = if caller.is_admin() {
        None
    } else {
        Some(owned_ids(&state, &caller).await?)
    };
    let rows = stored::list(&state.db, only).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

#[utoipa::path(
    get,
    path = "/api/oauth-clients/{id}",
    tag = openapi::TAG_OAUTH_CLIENTS,
    params(("id" = i32, Path)),
    responses((status = 200, body = OAuthClientView), BadRequest, Unauthorized, NotFound),
)]
pub async fn get_one(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
) -> Result<Json<OAuthClientView>, ApiError> {
    Ok(Json(visible(&state, &caller, id).await?.into()))
}

#[utoipa::path(
    post,
    path = "/api/oauth-clients",
    tag = openapi::TAG_OAUTH_CLIENTS,
    request_body = OAuthClientInput,
    responses((status = 200, body = OAuthClientView), BadRequest, Unauthorized),
)]
pub async fn create(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiJson(input): ApiJson<OAuthClientInput>,
) -> Result<Json<OAuthClientView>, ApiError> {
    let (Some(name), Some(client_key_id)) = (input.name, input.client_key_id) else {
        return Err(ApiError::BadRequest(
            "name and client_key_id are required".into(),
        ));
    };
    check_name(&name)?;
    let key = crate::store::client_keys::find(&state.db, client_key_id).await?;
    match key {
        Some(k) if caller.is_admin() || k.owner_user_id == Some(caller.id) => {}
        _ => {
            return Err(ApiError::BadRequest(format!(
                "client key {client_key_id} does not exist"
            )));
        }
    }
    let (client_id, secret) = generate_oauth_client();
    let now = Utc::now();
    let change = state.change(&caller).await?;
    let row = oauth_clients::ActiveModel {
        name: Set(name),
        client_id: Set(client_id),
        secret_hash: Set(hex::encode(hash_client_key(&secret))),
        client_key_id: Set(client_key_id),
        enabled: Set(input.enabled.unwrap_or(true)),
        token_generation: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let row = stored::insert(change.db(), row).await?;
    let mut view = OAuthClientView::from(row);
    change
        .commit()
        .await?
        .audit(Entry::created("oauth_client", view.id, snapshot(&view)))
        .await;
    view.client_secret = Some(secret);
    Ok(Json(view))
}

#[utoipa::path(
    put,
    path = "/api/oauth-clients/{id}",
    tag = openapi::TAG_OAUTH_CLIENTS,
    params(("id" = i32, Path)),
    request_body = OAuthClientInput,
    responses((status = 200, body = OAuthClientView), BadRequest, Unauthorized, NotFound),
)]
pub async fn update(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
    ApiJson(input): ApiJson<OAuthClientInput>,
) -> Result<Json<OAuthClientView>, ApiError> {
    let row = visible(&state, &caller, id).await?;
    if input.client_key_id.is_some_and(|k| k != row.client_key_id) {
        return Err(ApiError::BadRequest(
            "an OAuth client cannot move to another client key; create a new one".into(),
        ));
    }
    let before = snapshot(&OAuthClientView::from(row.clone()));
    let mut row: oauth_clients::ActiveModel = row.into();
    if let Some(name) = input.name {
        check_name(&name)?;
        row.name = Set(name);
    }
    if let Some(enabled) = input.enabled {
        if row.enabled.as_ref() == &true && !enabled {
            let generation = row.token_generation.as_ref().saturating_add(1);
            row.token_generation = Set(generation);
        }
        row.enabled = Set(enabled);
    }
    row.updated_at = Set(Utc::now());
    let change = state.change(&caller).await?;
    let view = OAuthClientView::from(stored::update(change.db(), row).await?);
    change
        .commit()
        .await?
        .audit(Entry::updated("oauth_client", id, before, snapshot(&view)))
        .await;
    Ok(Json(view))
}

#[utoipa::path(
    delete,
    path = "/api/oauth-clients/{id}",
    tag = openapi::TAG_OAUTH_CLIENTS,
    params(("id" = i32, Path)),
    responses((status = 200, body = Deleted), BadRequest, Unauthorized, NotFound),
)]
pub async fn delete(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
) -> Result<Json<Deleted>, ApiError> {
    let row = visible(&state, &caller, id).await?;
    let before = snapshot(&OAuthClientView::from(row));
    let change = state.change(&caller).await?;
    stored::delete(change.db(), id).await?;
    change
        .commit()
        .await?
        .audit(Entry::deleted("oauth_client", id, before))
        .await;
    Ok(Json(Deleted { deleted: id }))
}
