//! The catalog: an immutable in-memory view of providers, upstream keys,
//! client keys, prices and plugins, swapped atomically on every change.
//!
//! The proxy reads only the catalog, never the database: a request loads
//! the current snapshot once and uses it to the end, so a change made while
//! it runs cannot give it half of the old configuration and half of the
//! new. The admin API reloads the catalog after each write (the change
//! takes effect within milliseconds on this instance).
//!
//! The types of what it holds live here too, also those that other modules
//! act on: a pool's strategy and rotation state (`pool`, read by the
//! scheduler), a provider's OAuth settings and a key's OAuth state
//! (`oauth_settings`, `oauth_state`, read and written by `oauth`). Those
//! modules depend on the catalog, never the other way round.

mod budgets;
mod load;
mod oauth_settings;
mod oauth_state;
mod owners;
mod pool;
mod registry;
pub mod rollout;
pub mod route_check;
mod routes;
mod upstream;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

pub use budgets::{DEFAULT_ALERT_PERCENT, budget_of};
pub use load::load_catalog;
pub use oauth_settings::{
    OAuthOverride, OAuthSettings, OAuthSettingsView, SettingsError, SettingsSource,
};
pub use oauth_state::{AUTH_TYPE_API_KEY, AUTH_TYPE_OAUTH, OAuthState};
pub use owners::Grant;
pub use pool::{PoolState, Strategy};
pub use registry::PluginRegistry;
pub use routes::{Addressed, Route, RouteError, address, pick_by_model};
pub use upstream::{UpstreamBase, UpstreamBaseError};

use crate::limits::{Budget, ClientLimits, KeyLimits, QuotaOverrun};
use crate::plugins::types::Price;
use crate::plugins::{EndpointClass, LoadedPlugin};
use crate::secrets::{ClientKeyHash, Secret};

/// One configuration snapshot.
#[derive(Default)]
pub struct Catalog {
    pub providers: HashMap<i32, Arc<Provider>>,
    pub upstream_keys: HashMap<i32, Arc<UpstreamKey>>,
    pub client_keys: HashMap<ClientKeyHash, Arc<ClientKey>>,
    /// The same keys by id, for tokens that name a key.
    pub client_keys_by_id: HashMap<i32, Arc<ClientKey>>,
    /// OAuth clients by their public client id.
    pub oauth_clients: HashMap<String, Arc<OAuthClient>>,
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
    /// Endpoints for OAuth keys (the plugin's or the operator's).
    pub oauth: Option<Arc<OAuthSettings>>,
    /// Whether the client's billing headers (`openai-organization`,
    /// `openai-project`, `x-goog-user-project`) are passed on; off by default.
    pub allow_billing_headers: bool,
    /// A candidate version in shadow or canary (`rollout`).
    pub rollout: Option<Arc<rollout::Rollout>>,
}

/// An upstream credential, decrypted.
pub struct UpstreamKey {
    pub id: i32,
    pub provider_id: i32,
    pub name: String,
    /// `None` when the stored secret cannot be decrypted.
    pub secret: Option<Secret>,
    pub enabled: bool,
    pub weight: u32,
    pub expires_at: Option<DateTime<Utc>>,
    pub limits: KeyLimits,
    /// `Some` for an OAuth account, whose `secret` is the access token
    /// (`None` unless connected).
    pub oauth: Option<KeyOAuth>,
}

/// What the proxy needs to know of an OAuth key.
#[derive(Debug, Clone, Copy)]
pub struct KeyOAuth {
    /// When the access token in `secret` expires.
    pub expires_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
impl UpstreamKey {
    /// An enabled key of provider 1 with weight 1 and no limits.
    pub fn test(id: i32) -> UpstreamKey {
        UpstreamKey {
            id,
            provider_id: 1,
            name: format!("k{id}"),
            secret: Some(Secret::new("s")),
            enabled: true,
            weight: 1,
            expires_at: None,
            limits: KeyLimits::default(),
            oauth: None,
        }
    }
}

/// A gateway key and what it may use.
pub struct ClientKey {
    pub id: i32,
    pub name: String,
    pub provider_id: i32,
    pub pool: Vec<i32>,
    pub enabled: bool,
    pub expires_at: Option<DateTime<Utc>>,
    /// Models this key may use; empty: any.
    pub allowed_models: Vec<String>,
    pub strategy: Strategy,
    pub limits: ClientLimits,
    /// What a stream does when it crosses a daily token or cost quota.
    pub quota_overrun: QuotaOverrun,
    /// The classes of provider endpoint this key may use.
    pub endpoint_classes: Vec<EndpointClass>,
    /// Scheduling state of the pool (lives as long as this snapshot).
    pub pool_state: PoolState,
    /// The providers of a key that uses several, each with its pool
    /// ([`routes`]); empty: the one provider and pool above.
    pub routes: Vec<Route>,
    /// The budgets above the key: its owner's and its team's, when set.
    pub budgets: Vec<Arc<Budget>>,
}

#[cfg(test)]
impl ClientKey {
    /// An enabled, unlimited key of provider 1 with an empty pool.
    pub fn test(id: i32) -> ClientKey {
        ClientKey {
            id,
            name: format!("c{id}"),
            provider_id: 1,
            pool: vec![],
            enabled: true,
            expires_at: None,
            allowed_models: vec![],
            strategy: Strategy::RoundRobin,
            limits: ClientLimits::default(),
            quota_overrun: QuotaOverrun::default(),
            endpoint_classes: EndpointClass::DEFAULT_GRANT.to_vec(),
            pool_state: PoolState::default(),
            routes: Vec::new(),
            budgets: Vec::new(),
        }
    }
}

/// An OAuth 2.0 client of the client-credentials grant.
pub struct OAuthClient {
    pub id: i32,
    pub client_id: String,
    /// SHA-256 of the client secret.
    pub secret_hash: [u8; 32],
    pub client_key_id: i32,
    pub enabled: bool,
    /// Advanced whenever the client is disabled; tokens carry the value
    /// they were issued under and are refused once it moved on.
    pub token_generation: i64,
}

impl OAuthClient {
    /// Whether `hash` is this client's secret hash, in constant time.
    pub fn secret_matches(&self, hash: &[u8; 32]) -> bool {
        use subtle::ConstantTimeEq;
        bool::from(self.secret_hash.ct_eq(hash))
    }
}

/// A stored grant of endpoint classes (a JSON array of names); the
/// default grant when none is stored. Unknown names are ignored.
pub fn parse_endpoint_classes(stored: Option<&str>) -> Vec<EndpointClass> {
    match stored.and_then(|s| serde_json::from_str::<Vec<String>>(s).ok()) {
        Some(names) => names
            .iter()
            .filter_map(|n| EndpointClass::parse(n))
            .collect(),
        None => EndpointClass::DEFAULT_GRANT.to_vec(),
    }
}

impl ClientKey {
    /// Whether this key may use endpoints of `class`.
    pub fn grants(&self, class: EndpointClass) -> bool {
        self.endpoint_classes.contains(&class)
    }

    /// Whether this key may use `model`: any model when no list is set;
    /// otherwise an exact entry, or an entry ending in `*` as a prefix.
    pub fn allows_model(&self, model: Option<&str>) -> bool {
        if self.allowed_models.is_empty() {
            return true;
        }
        let Some(model) = model else { return false };
        self.allowed_models
            .iter()
            .any(|allowed| match allowed.strip_suffix('*') {
                Some(prefix) => model.starts_with(prefix),
                None => allowed == model,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(models: &[&str]) -> ClientKey {
        ClientKey {
            allowed_models: models.iter().map(|m| m.to_string()).collect(),
            ..ClientKey::test(1)
        }
    }

    #[test]
    fn allowed_models_match_exactly_or_by_star_prefix() {
        assert!(key(&[]).allows_model(Some("anything")));
        assert!(key(&[]).allows_model(None));
        let k = key(&["gpt-4o-mini", "claude-*"]);
        assert!(k.allows_model(Some("gpt-4o-mini")));
        assert!(!k.allows_model(Some("gpt-4o")));
        assert!(!k.allows_model(Some("gpt-4o-mini-2024")));
        assert!(k.allows_model(Some("claude-sonnet-4")));
        assert!(
            !k.allows_model(None),
            "a request without a model cannot prove it is allowed"
        );
    }
}
