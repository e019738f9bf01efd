//! The `oauth_sessions` table for the admin API: pending authorizations
//! of upstream OAuth keys, as listed to an operator.

use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QueryOrder};

use super::entities::oauth_sessions;

/// Every pending authorization, by id.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<oauth_sessions::Model>, DbErr> {
    oauth_sessions::Entity::find()
        .order_by_asc(oauth_sessions::Column::Id)
        .all(db)
        .await
}
