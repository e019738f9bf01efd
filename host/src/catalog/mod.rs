//! The catalog: an immutable in-memory view of providers, upstream keys,
//! client keys, prices and plugins, swapped atomically on every change.
//!
//! The proxy reads only the catalog, never the database: a request loads
//! the current snapshot once and uses it to the end, so a change made while
//! it runs cannot give it half of the old configuration and half of the
//! new. The admin API reloads the catalog after each write (the change
//! takes effect within milliseconds on this instance).

mod load;
mod registry;
mod upstream;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use chrono::{DateTime, Utc};

pub use load::load_catalog;
pub use registry::PluginRegistry;
pub use upstream::{UpstreamBase, UpstreamBaseError};

use crate::plugins::LoadedPlugin;
use crate::plugins::types::Price;
use crate::secrets::{ClientKeyHash, Secret};

/// One configuration snapshot.
#[derive(Default)]
pub struct Catalog {
    pub providers: HashMap<i32, Arc<Provider>>,
    pub provider_keys: HashMap<i32, Arc<ProviderKey>>,
    pub client_keys: HashMap<ClientKeyHash, Arc<ClientKey>>,
}

/// An upstream provider as the proxy needs it.
pub struct Provider {
    pub id: i32,
    pub name: String,
    pub enabled: bool,
    /// `None` when the configured plugin is missing or failed to load.
    pub plugin: Option<Arc<LoadedPlugin>>,
    pub plugin_name: String,
    pub upstream: Result<UpstreamBase, UpstreamBaseError>,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    pub prices: Arc<[Price]>,
}

/// An upstream credential, decrypted.
pub struct ProviderKey {
    pub id: i32,
    pub provider_id: i32,
    pub name: String,
    /// `None` when the stored secret cannot be decrypted.
    pub secret: Option<Secret>,
    pub enabled: bool,
    pub weight: u32,
}

/// A gateway key and what it may use.
pub struct ClientKey {
    pub id: i32,
    pub name: String,
    pub provider_id: i32,
    pub pool: Vec<i32>,
    pub enabled: bool,
    pub expires_at: Option<DateTime<Utc>>,
    /// Round-robin position in the pool.
    pub next: AtomicUsize,
}
