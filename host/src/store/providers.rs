//! The `providers` table: where each provider is and which plugin speaks
//! to it. Reads and writes for the admin API; each takes the connection
//! or the change's transaction it runs in.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder,
};

use super::entities::{client_keys, prices, provider_keys, providers};

/// Every provider, by id.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<providers::Model>, DbErr> {
    providers::Entity::find()
        .order_by_asc(providers::Column::Id)
        .all(db)
        .await
}

/// The provider with this id.
pub async fn find(db: &impl ConnectionTrait, id: i32) -> Result<Option<providers::Model>, DbErr> {
    providers::Entity::find_by_id(id).one(db).await
}

/// Whether a provider is named `name`.
pub async fn name_taken(db: &impl ConnectionTrait, name: &str) -> Result<bool, DbErr> {
    let found = providers::Entity::find()
        .filter(providers::Column::Name.eq(name))
        .one(db)
        .await?;
    Ok(found.is_some())
}

/// Stores a new provider.
pub async fn insert(
    db: &impl ConnectionTrait,
    row: providers::ActiveModel,
) -> Result<providers::Model, DbErr> {
    row.insert(db).await
}

/// Writes the changed fields of a provider.
pub async fn update(
    db: &impl ConnectionTrait,
    row: providers::ActiveModel,
) -> Result<providers::Model, DbErr> {
    row.update(db).await
}

/// How many upstream keys and client keys belong to the provider.
pub async fn keys_using(db: &impl ConnectionTrait, id: i32) -> Result<(u64, u64), DbErr> {
    let upstream = provider_keys::Entity::find()
        .filter(provider_keys::Column::ProviderId.eq(id))
        .count(db)
        .await?;
    let client = client_keys::Entity::find()
        .filter(client_keys::Column::ProviderId.eq(id))
        .count(db)
        .await?;
    Ok((upstream, client))
}

/// Deletes a provider and its prices (run it inside one change, so both
/// go or neither).
pub async fn delete_with_prices(db: &impl ConnectionTrait, id: i32) -> Result<(), DbErr> {
    prices::Entity::delete_many()
        .filter(prices::Column::ProviderId.eq(id))
        .exec(db)
        .await?;
    providers::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}
