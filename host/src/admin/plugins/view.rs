//! A plugin version as the API shows it: its stored row, the providers
//! running or bound to it, and this instance's metrics for it.

use chrono::Utc;
use serde::Serialize;

use super::super::{AdminState, ApiError};
use crate::plugins::MetricsView;
use crate::store::plugins::{self as stored, PluginRow};

#[derive(Serialize, utoipa::ToSchema)]
pub struct PluginView {
    pub(super) id: i32,
    name: String,
    version: String,
    sha256: String,
    pub(super) builtin: bool,
    enabled: bool,
    disabled_reason: Option<String>,
    call_timeout_ms: Option<i32>,
    memory_mib: Option<i32>,
    created_at: chrono::DateTime<Utc>,
    /// Providers running this version now.
    pub(super) serving: Vec<String>,
    /// Providers bound to this version.
    pub(super) bound: Vec<String>,
    /// Calls, failures and call times on this instance since it started.
    #[serde(skip_serializing_if = "Option::is_none")]
    metrics: Option<MetricsView>,
    /// Whether the plugin declares its endpoints (the WIT `endpoints`
    /// interface). One that does not serves only client keys granted the
    /// endpoint class `other`; rebuild it with a current SDK. `None` when
    /// the version is not loaded on this instance.
    #[serde(skip_serializing_if = "Option::is_none")]
    declares_endpoints: Option<bool>,
}

/// The views of `rows`.
pub(super) async fn views(
    state: &AdminState,
    rows: Vec<PluginRow>,
) -> Result<Vec<PluginView>, ApiError> {
    let providers = crate::store::providers::list(&state.db).await?;
    let catalog = state.catalog.load();
    Ok(rows
        .into_iter()
        .map(|row| {
            let serving = catalog
                .providers
                .values()
                .filter(|p| p.plugin.as_ref().is_some_and(|pl| pl.sha256 == row.sha256))
                .map(|p| p.name.clone())
                .collect();
            let bound = providers
                .iter()
                .filter(|p| {
                    p.plugin_name == row.name
                        && p.plugin_version.as_deref() == Some(row.version.as_str())
                })
                .map(|p| p.name.clone())
                .collect();
            let loaded = state.registry.get(&row.sha256);
            PluginView {
                metrics: loaded.as_ref().map(|p| p.metrics.view()),
                declares_endpoints: loaded.as_ref().map(|p| p.endpoints.declared()),
                id: row.id,
                name: row.name,
                version: row.version,
                sha256: row.sha256,
                builtin: row.builtin,
                enabled: row.enabled,
                disabled_reason: row.disabled_reason,
                call_timeout_ms: row.call_timeout_ms,
                memory_mib: row.memory_mib,
                created_at: row.created_at,
                serving,
                bound,
            }
        })
        .collect())
}

/// The view of version `id`, or 404.
pub(super) async fn one(state: &AdminState, id: i32) -> Result<PluginView, ApiError> {
    let row = stored::find_row(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound("plugin"))?;
    views(state, vec![row])
        .await?
        .pop()
        .ok_or(ApiError::NotFound("plugin"))
}
