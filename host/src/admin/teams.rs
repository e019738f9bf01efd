//! `/api/teams`: teams, their members and their client keys. A team's
//! budget (`/api/teams/{id}/budget`, [`super::budgets`]) is charged by the
//! requests of every key in it.
//!
//! Administrators manage every team. A member sees its teams only (any
//! other team is "not found", so ids reveal nothing), and may put into a
//! team, or take out of it, only client keys it owns: it cannot charge
//! another team's budget with its keys, nor its team's with someone
//! else's. A key belongs to one team at most.

use axum::extract::State;
use axum::{Extension, Json};
use chrono::Utc;
use sea_orm::Set;
use serde::Deserialize;
use utoipa::ToSchema;

use super::audit::snapshot;
use super::auth::Caller;
use super::json::{ApiJson, ApiPath};
use super::openapi::{self, BadRequest, Conflict, Forbidden, NotFound, Unauthorized};
use super::team_view::{TeamView, view};
use super::write::Entry;
use super::{AdminState, ApiError, Deleted};
use crate::limits::BudgetScope;
use crate::store::entities::{client_keys, teams};
pub use crate::store::team_members::teams_of;
use crate::store::{team_members, teams as stored};

/// Longest team name.
pub const MAX_TEAM_NAME_CHARS: usize = 128;

/// A new team.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamInput {
    #[schema(min_length = 1, max_length = 128)]
    name: String,
}

/// A user to add to a team.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberInput {
    user_id: i32,
}

/// A client key to put into a team.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamKeyInput {
    client_key_id: i32,
}

/// The team `id`, if `caller` may see it (admins: any; users: theirs).
pub async fn visible_team(
    state: &AdminState,
    caller: &Caller,
    id: i32,
) -> Result<teams::Model, ApiError> {
    let team = stored::find(&state.db, id).await?;
    match team {
        Some(team) if caller.is_admin() || teams_of(&state.db, caller.id).await?.contains(&id) => {
            Ok(team)
        }
        _ => Err(ApiError::NotFound("team")),
    }
}

#[utoipa::path(
    get,
    path = "/api/teams",
    tag = openapi::TAG_TEAMS,
    responses((status = 200, body = Vec<TeamView>), Unauthorized),
)]
pub async fn list(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Vec<TeamView>>, ApiError> {
    let only = if caller.is_admin() {
        None
    } else {
        Some(teams_of(&state.db, caller.id).await?)
    };
    let mut out = Vec::new();
    for team in stored::list(&state.db, only).await? {
        out.push(view(&state, team).await?);
    }
    Ok(Json(out))
}

#[utoipa::path(
    post,
    path = "/api/teams",
    tag = openapi::TAG_TEAMS,
    request_body = TeamInput,
    responses((status = 200, body = TeamView), BadRequest, Unauthorized, Forbidden, Conflict),
)]
pub async fn create(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiJson(input): ApiJson<TeamInput>,
) -> Result<Json<TeamView>, ApiError> {
    caller.require_admin()?;
    let name = input.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > MAX_TEAM_NAME_CHARS {
        return Err(ApiError::BadRequest(format!(
            "name must be 1 to {MAX_TEAM_NAME_CHARS} characters"
        )));
    }
    let change = state.change(&caller).await?;
    if stored::name_taken(change.db(), &name).await? {
        return Err(ApiError::Conflict(format!("a team named {name} exists")));
    }
    let now = Utc::now();
    let team = teams::ActiveModel {
        name: Set(name),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let team = stored::insert(change.db(), team).await?;
    let committed = change.commit().await?;
    let out = view(&state, team).await?;
    committed
        .audit(Entry::created("team", out.id, snapshot(&out)))
        .await;
    Ok(Json(out))
}

#[utoipa::path(
    get,
    path = "/api/teams/{id}",
    tag = openapi::TAG_TEAMS,
    params(("id" = i32, Path)),
    responses((status = 200, body = TeamView), BadRequest, Unauthorized, NotFound),
)]
pub async fn get_one(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
) -> Result<Json<TeamView>, ApiError> {
    let team = visible_team(&state, &caller, id).await?;
    Ok(Json(view(&state, team).await?))
}

/// Deletes a team: its keys stay, in no team; its budget goes.
#[utoipa::path(
    delete,
    path = "/api/teams/{id}",
    tag = openapi::TAG_TEAMS,
    params(("id" = i32, Path)),
    responses((status = 200, body = Deleted), BadRequest, Unauthorized, Forbidden, NotFound),
)]
pub async fn delete(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
) -> Result<Json<Deleted>, ApiError> {
    caller.require_admin()?;
    let team = visible_team(&state, &caller, id).await?;
    let before = snapshot(&view(&state, team).await?);
    let change = state.change(&caller).await?;
    stored::delete(change.db(), id, BudgetScope::Team.name()).await?;
    change
        .commit()
        .await?
        .audit(Entry::deleted("team", id, before))
        .await;
    Ok(Json(Deleted { deleted: id }))
}

#[utoipa::path(
    post,
    path = "/api/teams/{id}/members",
    tag = openapi::TAG_TEAMS,
    params(("id" = i32, Path)),
    request_body = MemberInput,
    responses((status = 200, body = TeamView), BadRequest, Unauthorized, Forbidden, NotFound),
)]
pub async fn add_member(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
    ApiJson(input): ApiJson<MemberInput>,
) -> Result<Json<TeamView>, ApiError> {
    caller.require_admin()?;
    let team = visible_team(&state, &caller, id).await?;
    crate::store::users::find(&state.db, input.user_id)
        .await?
        .ok_or_else(|| ApiError::BadRequest(format!("user {} does not exist", input.user_id)))?;
    let change = state.change(&caller).await?;
    if !teams_of(change.db(), input.user_id).await?.contains(&id) {
        team_members::add(change.db(), id, input.user_id).await?;
    }
    let committed = change.commit().await?;
    let out = view(&state, team).await?;
    let detail = serde_json::json!({"user_id": input.user_id});
    committed
        .audit(Entry::new("add_member", "team", id).after(Some(detail)))
        .await;
    Ok(Json(out))
}

#[utoipa::path(
    delete,
    path = "/api/teams/{id}/members/{user_id}",
    tag = openapi::TAG_TEAMS,
    params(("id" = i32, Path), ("user_id" = i32, Path)),
    responses((status = 200, body = TeamView), BadRequest, Unauthorized, Forbidden, NotFound),
)]
pub async fn remove_member(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath((id, user_id)): ApiPath<(i32, i32)>,
) -> Result<Json<TeamView>, ApiError> {
    caller.require_admin()?;
    let team = visible_team(&state, &caller, id).await?;
    let change = state.change(&caller).await?;
    team_members::remove(change.db(), id, user_id).await?;
    let detail = serde_json::json!({"user_id": user_id});
    change
        .commit()
        .await?
        .audit(Entry::new("remove_member", "team", id).before(Some(detail)))
        .await;
    Ok(Json(view(&state, team).await?))
}

/// The client key `key_id`, if `caller` may move it (admins: any; users:
/// their own).
async fn movable_key(
    state: &AdminState,
    caller: &Caller,
    key_id: i32,
) -> Result<client_keys::Model, ApiError> {
    match crate::store::client_keys::find(&state.db, key_id).await? {
        Some(k) if caller.is_admin() || k.owner_user_id == Some(caller.id) => Ok(k),
        _ => Err(ApiError::NotFound("client key")),
    }
}

/// Moves `key` into `team` (or out of any), recorded as `entry`.
async fn set_team(
    state: &AdminState,
    caller: &Caller,
    key: client_keys::Model,
    team: Option<i32>,
    entry: Entry,
) -> Result<(), ApiError> {
    let change = state.change(caller).await?;
    let mut row: client_keys::ActiveModel = key.into();
    row.team_id = Set(team);
    row.updated_at = Set(Utc::now());
    crate::store::client_keys::update(change.db(), row).await?;
    change.commit().await?.audit(entry).await;
    Ok(())
}

#[utoipa::path(
    post,
    path = "/api/teams/{id}/keys",
    tag = openapi::TAG_TEAMS,
    params(("id" = i32, Path)),
    request_body = TeamKeyInput,
    responses((status = 200, body = TeamView), BadRequest, Unauthorized, NotFound, Conflict),
)]
pub async fn add_key(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
    ApiJson(input): ApiJson<TeamKeyInput>,
) -> Result<Json<TeamView>, ApiError> {
    let team = visible_team(&state, &caller, id).await?;
    let key = movable_key(&state, &caller, input.client_key_id).await?;
    match key.team_id {
        Some(current) if current == id => return Ok(Json(view(&state, team).await?)),
        Some(_) => {
            return Err(ApiError::Conflict(
                "the key is in another team: take it out of that team first".into(),
            ));
        }
        None => {}
    }
    let detail = serde_json::json!({"client_key_id": input.client_key_id});
    let entry = Entry::new("add_key", "team", id).after(Some(detail));
    set_team(&state, &caller, key, Some(id), entry).await?;
    Ok(Json(view(&state, team).await?))
}

#[utoipa::path(
    delete,
    path = "/api/teams/{id}/keys/{key_id}",
    tag = openapi::TAG_TEAMS,
    params(("id" = i32, Path), ("key_id" = i32, Path)),
    responses((status = 200, body = TeamView), BadRequest, Unauthorized, NotFound),
)]
pub async fn remove_key(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath((id, key_id)): ApiPath<(i32, i32)>,
) -> Result<Json<TeamView>, ApiError> {
    let team = visible_team(&state, &caller, id).await?;
    let key = movable_key(&state, &caller, key_id).await?;
    if key.team_id != Some(id) {
        return Err(ApiError::NotFound("client key"));
    }
    let detail = serde_json::json!({"client_key_id": key_id});
    let entry = Entry::new("remove_key", "team", id).before(Some(detail));
    set_team(&state, &caller, key, None, entry).await?;
    Ok(Json(view(&state, team).await?))
}
