//! Disables a plugin version that keeps failing (traps, timeouts, memory
//! denials) more than the configured number of times within the window,
//! so its providers fall back to the newest other enabled version. Checked
//! once a second from the metrics the calls record; the proxy path never
//! waits on it.

use std::time::Duration;

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::AdminState;
use crate::store::entities::plugins;

/// How often failure counts are looked at.
const CHECK_EVERY: Duration = Duration::from_secs(1);

/// Starts the guard; a `limit` of zero turns it off.
pub fn spawn_plugin_guard(state: AdminState, limit: usize, window: Duration) {
    if limit == 0 {
        return;
    }
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(CHECK_EVERY).await;
            for plugin in state.registry.all() {
                let failures = plugin.metrics.failures_within(window);
                if failures < limit || !plugin.metrics.trip() {
                    continue;
                }
                let reason = format!(
                    "disabled automatically: {failures} traps, timeouts or memory denials within {}s",
                    window.as_secs()
                );
                tracing::error!(plugin = %plugin.name, version = %plugin.version, "{reason}");
                let result = plugins::Entity::update_many()
                    .col_expr(plugins::Column::Enabled, Expr::value(false))
                    .col_expr(plugins::Column::DisabledReason, Expr::value(reason))
                    .filter(plugins::Column::Sha256.eq(&plugin.sha256))
                    .exec(&state.db)
                    .await;
                if let Err(e) = result {
                    tracing::error!(error = %e, "disabling a failing plugin failed");
                    continue;
                }
                if state.reload().await.is_err() {
                    tracing::error!("reloading the catalog after disabling a plugin failed");
                }
            }
        }
    });
}
