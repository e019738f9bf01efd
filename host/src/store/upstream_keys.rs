//! The `upstream_keys` table for the admin API: upstream credentials (the
//! secret sealed before it gets here).

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};

use super::entities::upstream_keys;

/// Every upstream key, by id.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<upstream_keys::Model>, DbErr> {
    upstream_keys::Entity::find()
        .order_by_asc(upstream_keys::Column::Id)
        .all(db)
        .await
}

/// The upstream key with this id.
pub async fn find(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<Option<upstream_keys::Model>, DbErr> {
    upstream_keys::Entity::find_by_id(id).one(db).await
}

/// Stores a new upstream key.
pub async fn insert(
    db: &impl ConnectionTrait,
    row: upstream_keys::ActiveModel,
) -> Result<upstream_keys::Model, DbErr> {
    row.insert(db).await
}

/// Writes the changed fields of an upstream key.
pub async fn update(
    db: &impl ConnectionTrait,
    row: upstream_keys::ActiveModel,
) -> Result<upstream_keys::Model, DbErr> {
    row.update(db).await
}

/// Deletes an upstream key.
pub async fn delete(db: &impl ConnectionTrait, id: i32) -> Result<(), DbErr> {
    upstream_keys::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// Ids of the upstream keys of `provider_id`, by id: all of them, or
/// only those among `only`.
pub async fn ids_of_provider(
    db: &impl ConnectionTrait,
    provider_id: i32,
    only: Option<Vec<i32>>,
) -> Result<Vec<i32>, DbErr> {
    let mut query = upstream_keys::Entity::find()
        .filter(upstream_keys::Column::ProviderId.eq(provider_id))
        .order_by_asc(upstream_keys::Column::Id);
    if let Some(ids) = only {
        query = query.filter(upstream_keys::Column::Id.is_in(ids));
    }
    Ok(query.all(db).await?.iter().map(|k| k.id).collect())
}
