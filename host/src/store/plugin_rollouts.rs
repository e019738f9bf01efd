//! The `plugin_rollouts` table: a provider's candidate plugin version in
//! shadow or canary, one row per provider.

use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait};

use super::entities::plugin_rollouts;

/// The rollout of provider `provider_id`, if one runs.
pub async fn find(
    db: &impl ConnectionTrait,
    provider_id: i32,
) -> Result<Option<plugin_rollouts::Model>, DbErr> {
    plugin_rollouts::Entity::find_by_id(provider_id)
        .one(db)
        .await
}

/// Writes the rollout row of provider `provider_id`, adding it when the
/// provider has none.
pub async fn put(
    db: &impl ConnectionTrait,
    provider_id: i32,
    row: plugin_rollouts::ActiveModel,
) -> Result<(), DbErr> {
    if find(db, provider_id).await?.is_some() {
        row.update(db).await?;
    } else {
        row.insert(db).await?;
    }
    Ok(())
}

/// Ends the rollout of provider `provider_id`; whether it had one.
pub async fn delete(db: &impl ConnectionTrait, provider_id: i32) -> Result<bool, DbErr> {
    let deleted = plugin_rollouts::Entity::delete_by_id(provider_id)
        .exec(db)
        .await?;
    Ok(deleted.rows_affected > 0)
}
