//! A team as the API shows it: its members by name and its client keys by
//! name and prefix (never the key itself).

use chrono::Utc;
use serde::Serialize;
use utoipa::ToSchema;

use super::{AdminState, ApiError};
use crate::store::entities::teams;
use crate::store::{client_keys, team_members, users};

/// A member as a team shows it.
#[derive(Serialize, ToSchema)]
pub struct MemberView {
    id: i32,
    username: String,
}

/// A client key as a team shows it (never the key itself).
#[derive(Serialize, ToSchema)]
pub struct TeamKeyView {
    id: i32,
    name: String,
    key_prefix: String,
    owner_user_id: Option<i32>,
}

#[derive(Serialize, ToSchema)]
pub struct TeamView {
    pub(super) id: i32,
    name: String,
    members: Vec<MemberView>,
    keys: Vec<TeamKeyView>,
    created_at: chrono::DateTime<Utc>,
}

pub async fn view(state: &AdminState, team: teams::Model) -> Result<TeamView, ApiError> {
    let member_ids = team_members::members_of(&state.db, team.id).await?;
    let members = users::with_ids(&state.db, member_ids)
        .await?
        .into_iter()
        .map(|u| MemberView {
            id: u.id,
            username: u.username,
        })
        .collect();
    let keys = client_keys::in_team(&state.db, team.id)
        .await?
        .into_iter()
        .map(|k| TeamKeyView {
            id: k.id,
            name: k.name,
            key_prefix: k.key_prefix,
            owner_user_id: k.owner_user_id,
        })
        .collect();
    Ok(TeamView {
        id: team.id,
        name: team.name,
        members,
        keys,
        created_at: team.created_at,
    })
}
