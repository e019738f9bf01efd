//! The plugin guard's two queries (`core::plugin_guard`): whether a
//! failing version is its plugin's last enabled one, and disabling it.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter};

use crate::store::entities::plugins;

/// Enabled versions of plugin `name` other than the one with `sha256`.
pub async fn other_enabled_versions(
    db: &impl ConnectionTrait,
    name: &str,
    sha256: &str,
) -> Result<u64, DbErr> {
    plugins::Entity::find()
        .filter(plugins::Column::Name.eq(name))
        .filter(plugins::Column::Enabled.eq(true))
        .filter(plugins::Column::Sha256.ne(sha256))
        .count(db)
        .await
}

/// Disables the version with `sha256`, recording `reason`.
pub async fn disable_version(
    db: &impl ConnectionTrait,
    sha256: &str,
    reason: &str,
) -> Result<(), DbErr> {
    plugins::Entity::update_many()
        .col_expr(plugins::Column::Enabled, Expr::value(false))
        .col_expr(plugins::Column::DisabledReason, Expr::value(reason))
        .filter(plugins::Column::Sha256.eq(sha256))
        .exec(db)
        .await?;
    Ok(())
}
