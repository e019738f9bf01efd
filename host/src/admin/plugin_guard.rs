//! Disables a plugin version that keeps failing (traps, timeouts, memory
//! denials), so its providers fall back to the newest other enabled
//! version. Checked once a second from the metrics the calls record; the
//! proxy path never waits on it.
//!
//! A client's bytes are a plugin's input, so failures alone do not prove
//! the version broken: they must be at least `failures` within the window
//! *and* come from at least `sources` client keys, so that one client
//! cannot disable a version for everyone (its own failures are charged to
//! it instead, see `plugins::ClientBlame`). And the guard never disables
//! the last enabled version of a plugin: it alerts (error log, audit
//! entry) and the version keeps serving. An automatic disabling is not an
//! operator's decision: a built-in version disabled this way is enabled
//! again at the next start.

use std::time::Duration;

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use super::write::{Committed, Entry};
use super::{AdminState, ApiError, audit};
use crate::plugins::{AUTO_DISABLED, LoadedPlugin};
use crate::store::entities::plugins;

/// How often failure counts are looked at.
const CHECK_EVERY: Duration = Duration::from_secs(1);

/// When a version counts as failing.
#[derive(Debug, Clone, Copy)]
pub struct GuardRule {
    /// Failures within `window`; zero turns the guard off.
    pub failures: usize,
    /// Distinct client keys among them (health probes count as one).
    pub sources: usize,
    pub window: Duration,
}

/// Starts the guard.
pub fn spawn_plugin_guard(state: AdminState, rule: GuardRule) {
    if rule.failures == 0 {
        return;
    }
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(CHECK_EVERY).await;
            for plugin in state.registry.all() {
                let recent = plugin.metrics.failures_within(rule.window);
                if recent.failures < rule.failures
                    || recent.sources < rule.sources
                    || !plugin.metrics.trip()
                {
                    continue;
                }
                let reason = format!(
                    "{AUTO_DISABLED}: {} traps, timeouts or memory denials from {} clients within {}s",
                    recent.failures,
                    recent.sources,
                    rule.window.as_secs()
                );
                disable_or_alert(&state, &plugin, reason).await;
            }
        }
    });
}

/// Disables `plugin`, unless it is its name's last enabled version; either
/// way the audit log says what the gateway did.
async fn disable_or_alert(state: &AdminState, plugin: &LoadedPlugin, reason: String) {
    let detail = |disabled: bool| {
        serde_json::json!({
            "name": plugin.name,
            "version": plugin.version,
            "alert": reason,
            "disabled": disabled,
        })
    };
    match disable(state, plugin, &reason).await {
        Ok(Some(committed)) => {
            tracing::error!(plugin = %plugin.name, version = %plugin.version, "{reason}");
            let entry = Entry::new("plugin.disabled", "plugin", &plugin.sha256);
            committed.audit(entry.after(Some(detail(true)))).await;
        }
        Ok(None) => {
            tracing::error!(
                plugin = %plugin.name,
                version = %plugin.version,
                "{reason}; NOT disabled: it is the last enabled version of its plugin and keeps serving"
            );
            let entry = Entry::new("plugin.failing", "plugin", &plugin.sha256);
            audit::note(&state.db, entry.after(Some(detail(false)))).await;
        }
        Err(e) => tracing::error!(error = %e, "disabling a failing plugin failed"),
    }
}

/// Disables `plugin` in one change, or does nothing (`None`) when it is
/// its name's last enabled version.
async fn disable<'a>(
    state: &'a AdminState,
    plugin: &LoadedPlugin,
    reason: &str,
) -> Result<Option<Committed<'a>>, ApiError> {
    let change = state.system_change().await?;
    let others = plugins::Entity::find()
        .filter(plugins::Column::Name.eq(&plugin.name))
        .filter(plugins::Column::Enabled.eq(true))
        .filter(plugins::Column::Sha256.ne(&plugin.sha256))
        .count(change.db())
        .await?;
    if others == 0 {
        return Ok(None);
    }
    plugins::Entity::update_many()
        .col_expr(plugins::Column::Enabled, Expr::value(false))
        .col_expr(plugins::Column::DisabledReason, Expr::value(reason))
        .filter(plugins::Column::Sha256.eq(&plugin.sha256))
        .exec(change.db())
        .await?;
    Ok(Some(change.commit().await?))
}
