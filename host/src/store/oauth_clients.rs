//! The `oauth_clients` table for the admin API: OAuth client-credentials
//! clients, each tied to one client key (only a hash of its secret is
//! stored).

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};

use super::entities::oauth_clients;

/// OAuth clients by id: every one, or those of the client keys `only`.
pub async fn list(
    db: &impl ConnectionTrait,
    only: Option<Vec<i32>>,
) -> Result<Vec<oauth_clients::Model>, DbErr> {
    let mut query = oauth_clients::Entity::find().order_by_asc(oauth_clients::Column::Id);
    if let Some(keys) = only {
        query = query.filter(oauth_clients::Column::ClientKeyId.is_in(keys));
    }
    query.all(db).await
}

/// The OAuth client with this id.
pub async fn find(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<Option<oauth_clients::Model>, DbErr> {
    oauth_clients::Entity::find_by_id(id).one(db).await
}

/// Stores a new OAuth client.
pub async fn insert(
    db: &impl ConnectionTrait,
    row: oauth_clients::ActiveModel,
) -> Result<oauth_clients::Model, DbErr> {
    row.insert(db).await
}

/// Writes the changed fields of an OAuth client.
pub async fn update(
    db: &impl ConnectionTrait,
    row: oauth_clients::ActiveModel,
) -> Result<oauth_clients::Model, DbErr> {
    row.update(db).await
}

/// Deletes an OAuth client.
pub async fn delete(db: &impl ConnectionTrait, id: i32) -> Result<(), DbErr> {
    oauth_clients::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}
