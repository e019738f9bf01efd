//! `/api/users`: accounts of the admin API and UI (admins only). The last
//! enabled admin cannot be deleted, disabled or demoted, and nobody can
//! delete themselves. Disabling or deleting an account stops its client
//! keys on every instance (the catalog serves keys of enabled owners only;
//! a deleted owner's keys are also disabled in the database).

use axum::extract::State;
use axum::{Extension, Json};
use chrono::Utc;
use sea_orm::{DatabaseTransaction, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::audit::snapshot;
use super::auth::{Caller, ROLE_ADMIN, ROLE_USER};
use super::json::{ApiJson, ApiPath};
use super::openapi::{self, BadRequest, Conflict, Forbidden, NotFound, Unauthorized};
use super::password::{MAX_USERNAME_BYTES, check_new_password};
use super::write::Entry;
use super::{AdminState, ApiError, Deleted};
use crate::secrets::hash_password;
use crate::store::entities::users;
use crate::store::users as stored;

#[derive(Serialize, ToSchema)]
pub struct UserView {
    id: i32,
    username: String,
    role: String,
    enabled: bool,
    created_at: chrono::DateTime<Utc>,
    updated_at: chrono::DateTime<Utc>,
}

impl From<users::Model> for UserView {
    fn from(u: users::Model) -> Self {
        UserView {
            id: u.id,
            username: u.username,
            role: u.role,
            enabled: u.enabled,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// A new account (`username` and `password` required; `role` defaults to
/// `user`) or a change to one (only the fields given change).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    #[schema(pattern = "^[A-Za-z0-9._@-]{1,64}$")]
    username: Option<String>,
    #[schema(min_length = 8)]
    password: Option<String>,
    /// `admin` or `user`.
    #[schema(pattern = "^(admin|user)$")]
    role: Option<String>,
    enabled: Option<bool>,
}

fn check(input: &UserInput) -> Result<(), ApiError> {
    if let Some(name) = &input.username {
        let valid = !name.is_empty()
            && name.len() <= MAX_USERNAME_BYTES
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c));
        if !valid {
            return Err(ApiError::BadRequest(format!(
                "username must be 1 to {MAX_USERNAME_BYTES} letters, digits or . _ - @"
            )));
        }
    }
    if let Some(password) = &input.password {
        check_new_password(password)?;
    }
    if input
        .role
        .as_deref()
        .is_some_and(|r| r != ROLE_ADMIN && r != ROLE_USER)
    {
        return Err(ApiError::BadRequest(
            "role must be 'admin' or 'user'".into(),
        ));
    }
    Ok(())
}

async fn other_enabled_admins(db: &DatabaseTransaction, except: i32) -> Result<u64, ApiError> {
    Ok(stored::others_enabled_in_role(db, ROLE_ADMIN, except).await?)
}

#[utoipa::path(
    get,
    path = "/api/users",
    tag = openapi::TAG_USERS,
    responses((status = 200, body = Vec<UserView>), Unauthorized, Forbidden),
)]
pub async fn list(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Vec<UserView>>, ApiError> {
    caller.require_admin()?;
    let rows = stored::list(&state.db).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

#[utoipa::path(
    post,
    path = "/api/users",
    tag = openapi::TAG_USERS,
    request_body = UserInput,
    responses((status = 200, body = UserView), BadRequest, Unauthorized, Forbidden, Conflict),
)]
pub async fn create(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiJson(input): ApiJson<UserInput>,
) -> Result<Json<UserView>, ApiError> {
    caller.require_admin()?;
    check(&input)?;
    let (Some(username), Some(password)) = (input.username, input.password) else {
        return Err(ApiError::BadRequest(
            "username and password are required".into(),
        ));
    };
    let hash = hash_password(&password).map_err(ApiError::internal)?;
    let change = state.change(&caller).await?;
    if stored::by_username(change.db(), &username).await?.is_some() {
        return Err(ApiError::Conflict(format!("user '{username}' exists")));
    }
    let now = Utc::now();
    let row = users::ActiveModel {
        username: Set(username),
        password_hash: Set(hash),
        role: Set(input.role.unwrap_or_else(|| ROLE_USER.into())),
        enabled: Set(input.enabled.unwrap_or(true)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let row = stored::insert(change.db(), row).await?;
    let view = UserView::from(row);
    change
        .commit()
        .await?
        .audit(Entry::created("user", view.id, snapshot(&view)))
        .await;
    Ok(Json(view))
}

#[utoipa::path(
    put,
    path = "/api/users/{id}",
    tag = openapi::TAG_USERS,
    params(("id" = i32, Path)),
    request_body = UserInput,
    responses((status = 200, body = UserView), BadRequest, Unauthorized, Forbidden, NotFound, Conflict),
)]
pub async fn update(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
    ApiJson(input): ApiJson<UserInput>,
) -> Result<Json<UserView>, ApiError> {
    caller.require_admin()?;
    check(&input)?;
    let password_hash = match &input.password {
        Some(v) => Some(hash_password(v).map_err(ApiError::internal)?),
        None => None,
    };
    let change = state.change(&caller).await?;
    let row = stored::find(change.db(), id)
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    let before = snapshot(&UserView::from(row.clone()));
    let loses_admin = row.role == ROLE_ADMIN
        && (input.role.as_deref().is_some_and(|r| r != ROLE_ADMIN) || input.enabled == Some(false));
    if loses_admin && other_enabled_admins(change.db(), id).await? == 0 {
        return Err(ApiError::Conflict(
            "the last enabled admin cannot be demoted or disabled".into(),
        ));
    }
    if let Some(name) = input.username.as_deref().filter(|n| *n != row.username)
        && stored::by_username(change.db(), name).await?.is_some()
    {
        return Err(ApiError::Conflict(format!("user '{name}' exists")));
    }
    let mut row: users::ActiveModel = row.into();
    if let Some(v) = input.username {
        row.username = Set(v);
    }
    if let Some(v) = password_hash {
        row.password_hash = Set(v);
    }
    if let Some(v) = input.role {
        row.role = Set(v);
    }
    if let Some(v) = input.enabled {
        row.enabled = Set(v);
    }
    row.updated_at = Set(Utc::now());
    let view = UserView::from(stored::update(change.db(), row).await?);
    change
        .commit()
        .await?
        .audit(Entry::updated("user", id, before, snapshot(&view)))
        .await;
    Ok(Json(view))
}

#[utoipa::path(
    delete,
    path = "/api/users/{id}",
    tag = openapi::TAG_USERS,
    params(("id" = i32, Path)),
    responses((status = 200, body = Deleted), BadRequest, Unauthorized, Forbidden, NotFound, Conflict),
)]
pub async fn delete(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
) -> Result<Json<Deleted>, ApiError> {
    caller.require_admin()?;
    if id == caller.id {
        return Err(ApiError::Conflict(
            "you cannot delete your own account".into(),
        ));
    }
    let change = state.change(&caller).await?;
    let row = stored::find(change.db(), id)
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    if row.role == ROLE_ADMIN && other_enabled_admins(change.db(), id).await? == 0 {
        return Err(ApiError::Conflict(
            "the last enabled admin cannot be deleted".into(),
        ));
    }
    let before = snapshot(&UserView::from(row));
    stored::delete_disabling_keys(change.db(), id).await?;
    change
        .commit()
        .await?
        .audit(Entry::deleted("user", id, before))
        .await;
    Ok(Json(Deleted { deleted: id }))
}
