//! The `user_grants` table: what a `user` account may pool into its own
//! client keys (providers, upstream keys) and its keys' default limits.

use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait};

use super::entities::user_grants;

/// The grant of account `user_id`, when it has one.
pub async fn find(
    db: &impl ConnectionTrait,
    user_id: i32,
) -> Result<Option<user_grants::Model>, DbErr> {
    user_grants::Entity::find_by_id(user_id).one(db).await
}

/// Stores `row` as the account's grant: replaces the one it has
/// (`exists`), else adds it.
pub async fn put(
    db: &impl ConnectionTrait,
    row: user_grants::ActiveModel,
    exists: bool,
) -> Result<user_grants::Model, DbErr> {
    if exists {
        row.update(db).await
    } else {
        row.insert(db).await
    }
}
