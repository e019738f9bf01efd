//! The `client_key_providers` table: the providers a client key routes to,
//! in order, each with its pool and prefixes.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};

use super::entities::client_key_providers;

/// The providers of client key `key_id`, in route order.
pub async fn of_key(
    db: &impl ConnectionTrait,
    key_id: i32,
) -> Result<Vec<client_key_providers::Model>, DbErr> {
    client_key_providers::Entity::find()
        .filter(client_key_providers::Column::ClientKeyId.eq(key_id))
        .order_by_asc(client_key_providers::Column::Position)
        .order_by_asc(client_key_providers::Column::Id)
        .all(db)
        .await
}

/// Replaces the providers of client key `key_id` with `rows` (run it
/// inside one change, so the old ones go only with the new ones in).
pub async fn replace(
    db: &impl ConnectionTrait,
    key_id: i32,
    rows: Vec<client_key_providers::ActiveModel>,
) -> Result<(), DbErr> {
    client_key_providers::Entity::delete_many()
        .filter(client_key_providers::Column::ClientKeyId.eq(key_id))
        .exec(db)
        .await?;
    for row in rows {
        row.insert(db).await?;
    }
    Ok(())
}
