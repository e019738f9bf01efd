//! The core both ports share, built once by [`build`] (`ai_proxy::build`):
//! the database handle, the catalog with its reload, version and
//! cross-instance sync, the plugin registry and its guard, the secrets,
//! the key board, the limiter, the upstream OAuth accounts and their
//! refresher, the trace writer and the egress client.
//!
//! The core owns its lifecycle: its background tasks (catalog sync, the
//! reload after an OAuth refresh, health probes, retention, the trace
//! writer) are started by [`build`], on the runtime it runs on. The proxy
//! (`proxy::ProxyCore`) and the admin API (`admin::AdminCore`) are views of
//! one `Arc<Core>` plus their port's own parts; neither imports the other,
//! and nothing here imports either (`host/tests/shape.rs` checks both).

mod build;
mod catalog_reload;
mod config_sync;
mod limiter;
mod oauth_reload;
mod plugin_guard;

use std::sync::Arc;

use crate::egress::Connector;
use arc_swap::ArcSwap;
use sea_orm::DatabaseConnection;

pub use build::build;
pub use catalog_reload::{CatalogReload, ReloadError};
pub use plugin_guard::{GuardAction, GuardRule, spawn_plugin_guard};

use crate::catalog::{Catalog, PluginRegistry};
use crate::config::Config;
use crate::egress::{EgressPolicy, Resolver};
use crate::limits::{InFlight, Limiter};
use crate::oauth::OAuthAccounts;
use crate::scheduler::KeyBoard;
use crate::secrets::SecretBox;
use crate::shadow::ShadowQueue;
use crate::shutdown::Drain;
use crate::store::rotate::RotationProgress;
use crate::trace::TraceSender;

/// What both ports share. Built once per gateway by [`build`].
pub struct Core {
    /// The configuration this gateway was built from; each port reads its
    /// own settings here.
    pub config: Arc<Config>,
    pub db: DatabaseConnection,
    /// The snapshot requests read; swapped by [`CatalogReload`] only.
    pub catalog: Arc<ArcSwap<Catalog>>,
    /// Rebuilds the catalog and tracks the configuration version.
    pub reload: CatalogReload,
    pub registry: Arc<PluginRegistry>,
    pub secrets: SecretBox,
    /// The master key material the ports derive their own keys from.
    pub keys: MasterKeys,
    pub traces: TraceSender,
    /// Which upstream addresses may be reached.
    pub egress: EgressPolicy,
    /// The one resolver: every upstream connection resolves and is checked here.
    pub resolver: Arc<Resolver>,
    /// Connections made on the core's runtime: health probes, OAuth token
    /// requests, the console's test requests. The proxy keeps its own pool
    /// (`proxy::ProxyCore::connector`): a Tokio connection answers to the
    /// runtime that opened it, and the proxy's connections should live and
    /// be woken on Pingora's runtimes, not here.
    pub connector: Arc<Connector>,
    /// Live key health, shared with the proxy and the health service.
    pub board: Arc<KeyBoard>,
    pub limiter: Arc<Limiter>,
    /// Upstream OAuth accounts (tokens, refreshes).
    pub accounts: Arc<OAuthAccounts>,
    /// The proxy port's requests in flight and those it shed.
    pub in_flight: Arc<InFlight>,
    /// Whether this instance is shutting down.
    pub drain: Arc<Drain>,
    /// This instance's master key rotation job, if it runs one.
    pub rotation: Arc<RotationProgress>,
    /// Shadow comparisons: their queue and counters.
    pub shadow: Arc<ShadowQueue>,
}

/// The master key and, while a rotation runs, the previous one: what
/// console sessions and client tokens are derived from. Never printed.
pub struct MasterKeys {
    pub current: [u8; 32],
    pub previous: Option<[u8; 32]>,
}

impl std::fmt::Debug for MasterKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[REDACTED]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_keys_debug_prints_no_key() {
        let keys = MasterKeys {
            current: [7; 32],
            previous: Some([9; 32]),
        };
        assert_eq!(format!("{keys:?}"), "[REDACTED]");
    }
}
