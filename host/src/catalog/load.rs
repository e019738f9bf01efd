//! Building a catalog snapshot from the rows `store::catalog_read` reads:
//! plugins first (compiled, with their limits), then providers with their
//! prices and rollouts, upstream keys with their secrets, client keys
//! narrowed to what their owners may use, and OAuth clients.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;

use super::Strategy;
use super::budgets::Budgets;
use super::owners::Owners;
use super::rollout::Rollout;
use super::{AUTH_TYPE_OAUTH, OAuthSettings, OAuthState};
use super::{
    Catalog, ClientKey, KeyOAuth, OAuthClient, PluginRegistry, Provider, UpstreamBase, UpstreamKey,
};
use crate::limits::{ClientLimits, KeyLimits, QuotaOverrun};
use crate::plugins::LoadedPlugin;
use crate::plugins::types::Price;
use crate::secrets::{SecretBox, SecretColumn};
use crate::store::catalog_read::{self, CatalogRows, EnabledPlugin};
use crate::store::entities::{
    client_key_providers, client_keys, oauth_clients, prices, providers, upstream_keys,
};

/// Reads everything the proxy needs and compiles plugins not yet compiled.
pub async fn load_catalog(
    db: &DatabaseConnection,
    registry: &PluginRegistry,
    secrets: &SecretBox,
) -> anyhow::Result<Catalog> {
    let plugins = enabled_versions(db, registry).await?;
    let rollouts = super::rollout::rollouts(catalog_read::rollouts(db).await?, &plugins);
    let rows = catalog_read::read_catalog(db).await?;
    Ok(build(rows, &plugins, rollouts, secrets))
}

/// The snapshot of `rows`, with `plugins` and `rollouts` resolved.
fn build(
    rows: CatalogRows,
    plugins: &Versions,
    mut rollouts: HashMap<i32, Arc<Rollout>>,
    secrets: &SecretBox,
) -> Catalog {
    let mut prices = prices_by_provider(rows.prices);
    let mut catalog = Catalog::default();
    for p in rows.providers {
        let prices = prices.remove(&p.id).unwrap_or_default();
        let rollout = rollouts.remove(&p.id);
        let provider = provider(p, plugins, prices, rollout, secrets);
        catalog.providers.insert(provider.id, Arc::new(provider));
    }
    for k in rows.upstream_keys {
        let key = upstream_key(k, secrets);
        catalog.upstream_keys.insert(key.id, Arc::new(key));
    }
    let owners = Owners::from_rows(&rows.accounts, &rows.grants);
    let budgets = Budgets::from_rows(&rows.budgets);
    let mut routes: HashMap<i32, Vec<client_key_providers::Model>> = HashMap::new();
    for r in rows.routes {
        routes.entry(r.client_key_id).or_default().push(r);
    }
    for c in rows.client_keys {
        let Some(hash) = decode_hash(&c.key_hash) else {
            continue;
        };
        let key_routes = routes.remove(&c.id);
        let key = Arc::new(client_key(c, key_routes, &owners, &budgets, &catalog));
        catalog.client_keys_by_id.insert(key.id, key.clone());
        catalog.client_keys.insert(hash, key);
    }
    for c in rows.oauth_clients {
        if let Some(client) = oauth_client(c) {
            catalog
                .oauth_clients
                .insert(client.client_id.clone(), Arc::new(client));
        }
    }
    catalog
}

/// Prices by provider, in micro-dollars as stored (a negative one is 0).
fn prices_by_provider(rows: Vec<prices::Model>) -> HashMap<i32, Vec<Price>> {
    let mut out: HashMap<i32, Vec<Price>> = HashMap::new();
    for p in rows {
        let to_u64 = |v: i64| u64::try_from(v).unwrap_or(0);
        out.entry(p.provider_id).or_default().push(Price {
            model: p.model,
            input: to_u64(p.input),
            output: to_u64(p.output),
            cached_input: p.cached_input.map(to_u64),
            cache_write: p.cache_write.map(to_u64),
        });
    }
    out
}

/// A provider with the plugin version it runs and its OAuth settings (the
/// plugin's, overridden by the operator's, with the decrypted client secret).
fn provider(
    p: providers::Model,
    plugins: &Versions,
    prices: Vec<Price>,
    rollout: Option<Arc<Rollout>>,
    secrets: &SecretBox,
) -> Provider {
    let plugin = resolve(plugins, &p.plugin_name, p.plugin_version.as_deref());
    let client_secret = p.oauth_client_secret_ciphertext.as_deref().and_then(|c| {
        let column = SecretColumn::ProviderOAuthClientSecret;
        secrets.decrypt(c, column, i64::from(p.id)).ok()
    });
    let oauth = OAuthSettings::resolve(
        plugin.as_ref().and_then(|pl| pl.info.oauth.as_ref()),
        p.oauth_override.as_deref(),
        client_secret,
    )
    .map(Arc::new);
    Provider {
        id: p.id,
        enabled: p.enabled,
        plugin,
        oauth,
        plugin_name: p.plugin_name,
        upstream: UpstreamBase::parse(&p.base_url),
        connect_timeout: Duration::from_millis(u64::try_from(p.connect_timeout_ms).unwrap_or(0)),
        read_timeout: Duration::from_millis(u64::try_from(p.read_timeout_ms).unwrap_or(0)),
        prices: prices.into(),
        allow_billing_headers: p.allow_billing_headers,
        rollout,
        name: p.name,
    }
}

/// An upstream key with its decrypted secret; an OAuth key that is not
/// connected has none, and one that cannot be decrypted is logged.
fn upstream_key(k: upstream_keys::Model, secrets: &SecretBox) -> UpstreamKey {
    let oauth = (k.auth_type == AUTH_TYPE_OAUTH).then_some(KeyOAuth {
        expires_at: k.oauth_expires_at,
    });
    let connected = oauth.is_none() || OAuthState::of(&k) == OAuthState::Connected;
    let secret = if connected {
        let column = SecretColumn::UpstreamKeySecret;
        secrets
            .decrypt(&k.secret_ciphertext, column, i64::from(k.id))
            .ok()
    } else {
        None
    };
    if connected && secret.is_none() {
        tracing::error!(
            upstream_key = k.id,
            "upstream key cannot be decrypted with the current master key"
        );
    }
    UpstreamKey {
        id: k.id,
        provider_id: k.provider_id,
        name: k.name,
        secret,
        enabled: k.enabled,
        weight: u32::try_from(k.weight).unwrap_or(0),
        expires_at: k.expires_at,
        limits: KeyLimits {
            requests_per_second: k.rps_limit,
            tokens_per_day: k.tokens_per_day_limit,
        },
        oauth,
    }
}

/// A client key as it serves: its pool and routes narrowed to what its
/// owner may use, disabled with its owner, charged to its budgets.
fn client_key(
    c: client_keys::Model,
    routes: Option<Vec<client_key_providers::Model>>,
    owners: &Owners,
    budgets: &Budgets,
    catalog: &Catalog,
) -> ClientKey {
    let usable = |pool| owners.usable_pool(c.owner_user_id, pool, &catalog.upstream_keys);
    let pool: Vec<i32> = serde_json::from_str(&c.pool).unwrap_or_default();
    let mut key = ClientKey {
        id: c.id,
        name: c.name,
        provider_id: c.provider_id,
        pool: usable(pool),
        enabled: c.enabled && owners.active(c.owner_user_id),
        expires_at: c.expires_at,
        allowed_models: c
            .allowed_models
            .as_deref()
            .and_then(|m| serde_json::from_str(m).ok())
            .unwrap_or_default(),
        strategy: Strategy::parse(&c.strategy).unwrap_or_default(),
        limits: ClientLimits {
            requests_per_second: c.rps_limit,
            requests_per_minute: c.rpm_limit,
            requests_per_day: c.rpd_limit,
            tokens_per_day: c.tokens_per_day_limit,
            cost_per_day: c.cost_per_day_limit_nanos,
        },
        quota_overrun: QuotaOverrun::parse(&c.quota_overrun).unwrap_or_default(),
        endpoint_classes: crate::catalog::parse_endpoint_classes(c.endpoint_classes.as_deref()),
        pool_state: Default::default(),
        routes: Vec::new(),
        budgets: budgets.above(c.owner_user_id, c.team_id),
    };
    if let Some(rows) = routes {
        key.routes = super::routes::build_routes(&key, rows, usable);
    }
    key
}

/// An OAuth client, unless its stored secret hash is unreadable.
fn oauth_client(c: oauth_clients::Model) -> Option<OAuthClient> {
    Some(OAuthClient {
        id: c.id,
        secret_hash: decode_hash(&c.secret_hash)?,
        client_id: c.client_id,
        client_key_id: c.client_key_id,
        enabled: c.enabled,
        token_generation: c.token_generation,
    })
}

/// A stored hex SHA-256.
fn decode_hash(hex_digest: &str) -> Option<[u8; 32]> {
    hex::decode(hex_digest).ok()?.try_into().ok()
}

/// The enabled versions of each plugin name, compiled, oldest first.
type Versions = HashMap<String, Vec<Arc<LoadedPlugin>>>;

/// Compiles (or finds compiled) every enabled plugin version, with its own
/// limits applied.
async fn enabled_versions(
    db: &DatabaseConnection,
    registry: &PluginRegistry,
) -> anyhow::Result<Versions> {
    let mut out: Versions = HashMap::new();
    for row in catalog_read::enabled_plugins(db).await? {
        let plugin = match registry.get(&row.sha256) {
            Some(p) => p,
            None => {
                let Some(wasm) = catalog_read::plugin_module(db, row.id).await? else {
                    continue;
                };
                match registry.load(wasm).await {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::error!(plugin = %row.name, error = %e, "stored plugin failed to load");
                        continue;
                    }
                }
            }
        };
        let plugin = with_own_limits(plugin, &row);
        out.entry(row.name).or_default().push(plugin);
    }
    Ok(out)
}

/// The plugin with the call deadline and memory cap its row sets, if any.
fn with_own_limits(plugin: Arc<LoadedPlugin>, row: &EnabledPlugin) -> Arc<LoadedPlugin> {
    if row.call_timeout_ms.is_none() && row.memory_mib.is_none() {
        return plugin;
    }
    plugin.with_limits(
        row.call_timeout_ms
            .and_then(|ms| u64::try_from(ms).ok())
            .map(Duration::from_millis),
        row.memory_mib
            .and_then(|m| usize::try_from(m).ok())
            .map(|m| m << 20),
    )
}

/// The version a provider runs: the pinned one when it is enabled, else
/// the newest enabled one (so disabling a version falls back).
fn resolve(versions: &Versions, name: &str, pinned: Option<&str>) -> Option<Arc<LoadedPlugin>> {
    let list = versions.get(name)?;
    pinned
        .and_then(|v| list.iter().rev().find(|p| p.version == v))
        .or_else(|| list.last())
        .cloned()
}
