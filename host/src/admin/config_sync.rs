//! Keeping every instance's catalog current. A change through the admin
//! API bumps a counter in the database (the `config_version` row) and
//! reloads this instance at once; every instance polls the counter and
//! reloads when another one changed it, so a key created or revoked on one
//! instance works or stops on all of them within a poll interval.

use std::time::Duration;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::AdminState;
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

/// Polls the counter every `every` and reloads on a change; zero turns
/// it off (a single instance needs no polling).
pub fn spawn_config_sync(state: AdminState, every: Duration) {
    if every.is_zero() {
        return;
    }
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            let version = match current(&state.db).await {
                Ok(v) => v,
                Err(e) => {
                    tracing::warn!(error = %e, "reading the configuration version failed");
                    continue;
                }
            };
            if version <= state.catalog_version().await {
                continue;
            }
            match state.load_version(version).await {
                Ok(()) => tracing::info!(version, "configuration changed elsewhere; reloaded"),
                Err(_) => tracing::warn!("reloading a changed configuration failed"),
            }
        }
    });
}
