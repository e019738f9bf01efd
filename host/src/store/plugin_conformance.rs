//! The `plugin_conformance` table: the last conformance result of each
//! stored plugin version.

use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, Set};

use super::entities::plugin_conformance;

/// The result of version `plugin_id`, if it was checked.
pub async fn find(
    db: &impl ConnectionTrait,
    plugin_id: i32,
) -> Result<Option<plugin_conformance::Model>, DbErr> {
    plugin_conformance::Entity::find_by_id(plugin_id)
        .one(db)
        .await
}

/// Stores `row` as the result of version `plugin_id`, in place of any
/// earlier one.
pub async fn replace(
    db: &impl ConnectionTrait,
    plugin_id: i32,
    row: plugin_conformance::ActiveModel,
) -> Result<plugin_conformance::Model, DbErr> {
    plugin_conformance::Entity::delete_by_id(plugin_id)
        .exec(db)
        .await?;
    row.insert(db).await
}

/// Marks `result` forced by `by`: its version serves although it failed.
pub async fn mark_forced(
    db: &impl ConnectionTrait,
    result: plugin_conformance::Model,
    by: &str,
) -> Result<(), DbErr> {
    let mut forced: plugin_conformance::ActiveModel = result.into();
    forced.forced = Set(true);
    forced.forced_by = Set(Some(by.to_owned()));
    forced.update(db).await?;
    Ok(())
}
