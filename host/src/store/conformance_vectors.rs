//! The `conformance_vectors` table: recorded cases an operator added for a
//! provider, which every new version of its plugin must meet.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder,
};

use super::entities::{conformance_vectors, providers};

/// The vectors of provider `provider_id`, by id.
pub async fn of_provider(
    db: &impl ConnectionTrait,
    provider_id: i32,
) -> Result<Vec<conformance_vectors::Model>, DbErr> {
    conformance_vectors::Entity::find()
        .filter(conformance_vectors::Column::ProviderId.eq(provider_id))
        .order_by_asc(conformance_vectors::Column::Id)
        .all(db)
        .await
}

/// The vectors of every provider of plugin `plugin_name`.
pub async fn of_plugin(
    db: &impl ConnectionTrait,
    plugin_name: &str,
) -> Result<Vec<conformance_vectors::Model>, DbErr> {
    let provider_ids: Vec<i32> = providers::Entity::find()
        .filter(providers::Column::PluginName.eq(plugin_name))
        .all(db)
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect();
    conformance_vectors::Entity::find()
        .filter(conformance_vectors::Column::ProviderId.is_in(provider_ids))
        .all(db)
        .await
}

/// How many vectors provider `provider_id` has, and how many of them are
/// named `name`.
pub async fn count_of_provider(
    db: &impl ConnectionTrait,
    provider_id: i32,
    name: &str,
) -> Result<(u64, u64), DbErr> {
    let of_provider = conformance_vectors::Entity::find()
        .filter(conformance_vectors::Column::ProviderId.eq(provider_id));
    let all = of_provider.clone().count(db).await?;
    let named = of_provider
        .filter(conformance_vectors::Column::Name.eq(name))
        .count(db)
        .await?;
    Ok((all, named))
}

/// Vector `id` of provider `provider_id`.
pub async fn find_of_provider(
    db: &impl ConnectionTrait,
    provider_id: i32,
    id: i32,
) -> Result<Option<conformance_vectors::Model>, DbErr> {
    conformance_vectors::Entity::find_by_id(id)
        .filter(conformance_vectors::Column::ProviderId.eq(provider_id))
        .one(db)
        .await
}

/// Stores a new vector.
pub async fn insert(
    db: &impl ConnectionTrait,
    row: conformance_vectors::ActiveModel,
) -> Result<conformance_vectors::Model, DbErr> {
    row.insert(db).await
}

/// Deletes vector `id`.
pub async fn delete(db: &impl ConnectionTrait, id: i32) -> Result<(), DbErr> {
    conformance_vectors::Entity::delete_by_id(id)
        .exec(db)
        .await?;
    Ok(())
}
