//! The `revoked_sessions` table: console sessions signed out before they
//! expire, shared by every instance (each loads them at its configuration
//! poll).

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};

use super::entities::revoked_sessions;

/// Records that session `jti`, valid until `expires_at` (Unix seconds), is
/// revoked.
pub async fn insert(db: &impl ConnectionTrait, jti: &str, expires_at: i64) -> Result<(), DbErr> {
    revoked_sessions::ActiveModel {
        jti: Set(jti.to_owned()),
        expires_at: Set(expires_at),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Forgets revocations of sessions expired by `now` (Unix seconds), and
/// returns the rest as `(jti, expires_at)`.
pub async fn live(db: &impl ConnectionTrait, now: i64) -> Result<Vec<(String, i64)>, DbErr> {
    revoked_sessions::Entity::delete_many()
        .filter(revoked_sessions::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    let rows = revoked_sessions::Entity::find().all(db).await?;
    Ok(rows.into_iter().map(|r| (r.jti, r.expires_at)).collect())
}
