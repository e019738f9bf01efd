//! The `client_keys` table for the admin API: gateway keys for
//! applications (only a hash of each key is stored).

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};

use super::entities::{client_key_providers, client_keys, oauth_clients};

/// Client keys by id: every one, or those `owner` owns.
pub async fn list(
    db: &impl ConnectionTrait,
    owner: Option<i32>,
) -> Result<Vec<client_keys::Model>, DbErr> {
    let mut query = client_keys::Entity::find().order_by_asc(client_keys::Column::Id);
    if let Some(owner) = owner {
        query = query.filter(client_keys::Column::OwnerUserId.eq(owner));
    }
    query.all(db).await
}

/// The client key with this id.
pub async fn find(db: &impl ConnectionTrait, id: i32) -> Result<Option<client_keys::Model>, DbErr> {
    client_keys::Entity::find_by_id(id).one(db).await
}

/// Stores a new client key.
pub async fn insert(
    db: &impl ConnectionTrait,
    row: client_keys::ActiveModel,
) -> Result<client_keys::Model, DbErr> {
    row.insert(db).await
}

/// Writes the changed fields of a client key.
pub async fn update(
    db: &impl ConnectionTrait,
    row: client_keys::ActiveModel,
) -> Result<client_keys::Model, DbErr> {
    row.update(db).await
}

/// Deletes a client key with its OAuth clients and per-key provider
/// bindings (run it inside one change, so all go or none).
pub async fn delete_with_dependents(db: &impl ConnectionTrait, id: i32) -> Result<(), DbErr> {
    oauth_clients::Entity::delete_many()
        .filter(oauth_clients::Column::ClientKeyId.eq(id))
        .exec(db)
        .await?;
    client_key_providers::Entity::delete_many()
        .filter(client_key_providers::Column::ClientKeyId.eq(id))
        .exec(db)
        .await?;
    client_keys::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// The client keys charged to `team`, by id.
pub async fn in_team(
    db: &impl ConnectionTrait,
    team: i32,
) -> Result<Vec<client_keys::Model>, DbErr> {
    client_keys::Entity::find()
        .filter(client_keys::Column::TeamId.eq(team))
        .order_by_asc(client_keys::Column::Id)
        .all(db)
        .await
}
