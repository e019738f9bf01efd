//! The `team_members` table: which accounts belong to which team.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};

use super::entities::team_members;

/// Ids of the teams `user` belongs to.
pub async fn teams_of(db: &impl ConnectionTrait, user: i32) -> Result<Vec<i32>, DbErr> {
    Ok(team_members::Entity::find()
        .filter(team_members::Column::UserId.eq(user))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.team_id)
        .collect())
}

/// Ids of the members of `team`.
pub async fn members_of(db: &impl ConnectionTrait, team: i32) -> Result<Vec<i32>, DbErr> {
    Ok(team_members::Entity::find()
        .filter(team_members::Column::TeamId.eq(team))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect())
}

/// Makes `user` a member of `team` (the caller checks it is not one yet).
pub async fn add(db: &impl ConnectionTrait, team: i32, user: i32) -> Result<(), DbErr> {
    team_members::ActiveModel {
        team_id: Set(team),
        user_id: Set(user),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Takes `user` out of `team`.
pub async fn remove(db: &impl ConnectionTrait, team: i32, user: i32) -> Result<(), DbErr> {
    team_members::Entity::delete_many()
        .filter(team_members::Column::TeamId.eq(team))
        .filter(team_members::Column::UserId.eq(user))
        .exec(db)
        .await?;
    Ok(())
}
