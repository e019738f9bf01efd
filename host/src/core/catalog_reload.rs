//! Rebuilding the catalog after a configuration change, and the
//! configuration version it reflects. An admin change counts the version
//! in its own transaction and then loads it here; a change made elsewhere
//! (an upstream OAuth refresh, another instance) comes in through
//! [`CatalogReload::reload`] or the sync poll ([`super::config_sync`]).
//! Whoever must act after a reload (the admin API picks up session
//! revocations) watches [`CatalogReload::loaded`].

use std::sync::Arc;

use arc_swap::ArcSwap;
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::{Mutex, watch};

use crate::catalog::{Catalog, PluginRegistry, load_catalog};
use crate::secrets::SecretBox;
use crate::store::config_version;

/// Why a reload failed.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error("counting the configuration version: {0}")]
    Version(#[from] DbErr),
    #[error("loading the catalog: {0}")]
    Catalog(anyhow::Error),
}

/// Loads catalogs one at a time, never an older one over a newer one.
pub struct CatalogReload {
    db: DatabaseConnection,
    registry: Arc<PluginRegistry>,
    secrets: SecretBox,
    catalog: Arc<ArcSwap<Catalog>>,
    /// The version the catalog reflects; held while a catalog is loaded,
    /// so loads never overtake each other.
    version: Mutex<i64>,
    loaded: watch::Sender<i64>,
}

impl CatalogReload {
    /// Reloads of `catalog`, which reflects configuration `version`.
    pub fn new(
        db: DatabaseConnection,
        registry: Arc<PluginRegistry>,
        secrets: SecretBox,
        catalog: Arc<ArcSwap<Catalog>>,
        version: i64,
    ) -> CatalogReload {
        CatalogReload {
            db,
            registry,
            secrets,
            catalog,
            version: Mutex::new(version),
            loaded: watch::Sender::new(version),
        }
    }

    /// After a change made outside the admin API (an upstream OAuth
    /// refresh on the proxy path): counts it (so other instances reload
    /// too), then rebuilds this instance's catalog and swaps it in.
    pub async fn reload(&self) -> Result<(), ReloadError> {
        let version = config_version::bump(&self.db).await?;
        self.load_version(version).await
    }

    /// Rebuilds the catalog for configuration `version` and swaps it in,
    /// unless a newer one is in already. Loads run one at a time, each
    /// reading the database after its version was counted, so the snapshot
    /// left in place is always the newest: a slow load can never put back
    /// an older one.
    pub async fn load_version(&self, version: i64) -> Result<(), ReloadError> {
        let mut current = self.version.lock().await;
        if version < *current {
            return Ok(());
        }
        let catalog = load_catalog(&self.db, &self.registry, &self.secrets)
            .await
            .map_err(ReloadError::Catalog)?;
        self.catalog.store(Arc::new(catalog));
        *current = version;
        drop(current);
        self.loaded.send_replace(version);
        Ok(())
    }

    /// The configuration version the catalog reflects.
    pub async fn version(&self) -> i64 {
        *self.version.lock().await
    }

    /// Changes each time a catalog is loaded (to the version it reflects).
    pub fn loaded(&self) -> watch::Receiver<i64> {
        self.loaded.subscribe()
    }
}
