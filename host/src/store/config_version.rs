//! The configuration version (`config_version`, one row): counted by every
//! change to what the catalog is built from, polled by every instance.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use crate::store::entities::config_version;

/// Id of the one counter row.
const ROW: i32 = 1;

/// Counts a configuration change; returns the new version.
pub async fn bump(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    config_version::Entity::update_many()
        .col_expr(
            config_version::Column::Version,
            Expr::col(config_version::Column::Version).add(1),
        )
        .filter(config_version::Column::Id.eq(ROW))
        .exec(db)
        .await?;
    current(db).await
}

/// The current version.
pub async fn current(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    Ok(config_version::Entity::find_by_id(ROW)
        .one(db)
        .await?
        .map_or(0, |row| row.version))
}
