//! A provider as the API shows it: its row, and what the catalog says of
//! it now (the plugin version serving it, its OAuth endpoints).

use chrono::Utc;
use serde::Serialize;
use utoipa::ToSchema;

use super::super::AdminState;
use super::input::LATEST;
use crate::catalog::OAuthSettingsView;
use crate::store::entities::providers;

#[derive(Serialize, ToSchema)]
pub struct ProviderView {
    pub(super) id: i32,
    name: String,
    plugin: String,
    plugin_loaded: bool,
    /// The version serving now.
    plugin_version: Option<String>,
    /// The version the provider is bound to; `latest` follows the newest
    /// enabled version.
    plugin_binding: String,
    base_url: String,
    connect_timeout_ms: i32,
    read_timeout_ms: i32,
    enabled: bool,
    /// Whether clients may choose the organisation or project the upstream
    /// key bills (`openai-organization`, `openai-project`,
    /// `x-goog-user-project`); dropped when false.
    allow_billing_headers: bool,
    /// The OAuth endpoints OAuth keys of this provider use (the plugin's
    /// or the override); `null` when there are none.
    oauth: Option<OAuthSettingsView>,
    created_at: chrono::DateTime<Utc>,
    updated_at: chrono::DateTime<Utc>,
}

pub(super) fn view(state: &AdminState, p: providers::Model) -> ProviderView {
    let catalog = state.catalog.load();
    let provider = catalog.providers.get(&p.id);
    let plugin = provider.and_then(|c| c.plugin.clone());
    let oauth = provider.and_then(|c| c.oauth.as_deref().map(OAuthSettingsView::from));
    ProviderView {
        id: p.id,
        name: p.name,
        plugin: p.plugin_name,
        plugin_loaded: plugin.is_some(),
        plugin_version: plugin.map(|pl| pl.version.clone()),
        plugin_binding: p.plugin_version.unwrap_or_else(|| LATEST.into()),
        base_url: p.base_url,
        connect_timeout_ms: p.connect_timeout_ms,
        read_timeout_ms: p.read_timeout_ms,
        enabled: p.enabled,
        allow_billing_headers: p.allow_billing_headers,
        oauth,
        created_at: p.created_at,
        updated_at: p.updated_at,
    }
}
