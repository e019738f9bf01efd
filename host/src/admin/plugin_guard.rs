//! What the admin API does with a plugin version the core's guard
//! (`core::plugin_guard`) found failing: disables it as a change of the
//! gateway's own, through the one write path and with an audit entry.
//! It never disables the last enabled version of a plugin: it alerts
//! (error log, audit entry) and the version keeps serving. An automatic
//! disabling is not an operator's decision: a built-in version disabled
//! this way is enabled again at the next start.

use super::write::{Committed, Entry};
use super::{AdminCore, ApiError, audit};
use crate::core::GuardAction;
use crate::plugins::LoadedPlugin;
use crate::store::plugin_disable;

#[async_trait::async_trait]
impl GuardAction for AdminCore {
    /// Disables `plugin`, unless it is its name's last enabled version;
    /// either way the audit log says what the gateway did.
    async fn disable_or_alert(&self, plugin: &LoadedPlugin, reason: String) {
        let detail = |disabled: bool| {
            serde_json::json!({
                "name": plugin.name,
                "version": plugin.version,
                "alert": reason,
                "disabled": disabled,
            })
        };
        match disable(self, plugin, &reason).await {
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
                audit::note(&self.db, entry.after(Some(detail(false)))).await;
            }
            Err(e) => tracing::error!(error = %e, "disabling a failing plugin failed"),
        }
    }
}

/// Disables `plugin` in one change, or does nothing (`None`) when it is
/// its name's last enabled version.
async fn disable<'a>(
    state: &'a AdminCore,
    plugin: &LoadedPlugin,
    reason: &str,
) -> Result<Option<Committed<'a>>, ApiError> {
    let change = state.system_change().await?;
    let others =
        plugin_disable::other_enabled_versions(change.db(), &plugin.name, &plugin.sha256).await?;
    if others == 0 {
        return Ok(None);
    }
    plugin_disable::disable_version(change.db(), &plugin.sha256, reason).await?;
    Ok(Some(change.commit().await?))
}
