//! Building a catalog snapshot from the database.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::Strategy;
use super::budgets::Budgets;
use super::owners::Owners;
use super::{AUTH_TYPE_OAUTH, OAuthSettings, OAuthState};
use super::{
    Catalog, ClientKey, KeyOAuth, OAuthClient, PluginRegistry, Provider, ProviderKey, UpstreamBase,
};
use crate::limits::{ClientLimits, KeyLimits, QuotaOverrun};
use crate::plugins::LoadedPlugin;
use crate::plugins::types::Price;
use crate::secrets::{SecretBox, SecretColumn};
use crate::store::entities::{
    client_key_providers, client_keys, oauth_clients, plugin_conformance, plugins, prices,
    provider_keys, providers,
};

/// Reads everything the proxy needs and compiles plugins not yet compiled.
pub async fn load_catalog(
    db: &DatabaseConnection,
    registry: &PluginRegistry,
    secrets: &SecretBox,
) -> anyhow::Result<Catalog> {
    let plugins = enabled_versions(db, registry).await?;
    let mut rollouts = super::rollout::load_rollouts(db, &plugins).await?;

    let mut prices_by_provider: HashMap<i32, Vec<Price>> = HashMap::new();
    for p in prices::Entity::find().all(db).await? {
        let to_u64 = |v: i64| u64::try_from(v).unwrap_or(0);
        prices_by_provider
            .entry(p.provider_id)
            .or_default()
            .push(Price {
                model: p.model,
                input: to_u64(p.input),
                output: to_u64(p.output),
                cached_input: p.cached_input.map(to_u64),
                cache_write: p.cache_write.map(to_u64),
            });
    }

    let mut catalog = Catalog::default();
    for p in providers::Entity::find().all(db).await? {
        let plugin = resolve(&plugins, &p.plugin_name, p.plugin_version.as_deref());
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
        let provider = Provider {
            id: p.id,
            enabled: p.enabled,
            plugin,
            oauth,
            plugin_name: p.plugin_name,
            upstream: UpstreamBase::parse(&p.base_url),
            connect_timeout: Duration::from_millis(
                u64::try_from(p.connect_timeout_ms).unwrap_or(0),
            ),
            read_timeout: Duration::from_millis(u64::try_from(p.read_timeout_ms).unwrap_or(0)),
            prices: prices_by_provider.remove(&p.id).unwrap_or_default().into(),
            allow_billing_headers: p.allow_billing_headers,
            rollout: rollouts.remove(&p.id),
            name: p.name,
        };
        catalog.providers.insert(provider.id, Arc::new(provider));
    }
    for k in provider_keys::Entity::find().all(db).await? {
        let oauth = (k.auth_type == AUTH_TYPE_OAUTH).then_some(KeyOAuth {
            expires_at: k.oauth_expires_at,
        });
        let connected = oauth.is_none() || OAuthState::of(&k) == OAuthState::Connected;
        let secret = if connected {
            let column = SecretColumn::ProviderKeySecret;
            secrets
                .decrypt(&k.secret_ciphertext, column, i64::from(k.id))
                .ok()
        } else {
            None
        };
        if connected && secret.is_none() {
            tracing::error!(
                provider_key = k.id,
                "upstream key cannot be decrypted with the current master key"
            );
        }
        catalog.provider_keys.insert(
            k.id,
            Arc::new(ProviderKey {
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
            }),
        );
    }
    let owners = Owners::load(db).await?;
    let mut routes: HashMap<i32, Vec<client_key_providers::Model>> = HashMap::new();
    for r in client_key_providers::Entity::find().all(db).await? {
        routes.entry(r.client_key_id).or_default().push(r);
    }
    let budgets = Budgets::load(db).await?;
    for c in client_keys::Entity::find().all(db).await? {
        let Some(hash) = decode_hash(&c.key_hash) else {
            continue;
        };
        let pool: Vec<i32> = serde_json::from_str(&c.pool).unwrap_or_default();
        let pool = owners.usable_pool(c.owner_user_id, pool, &catalog.provider_keys);
        let mut key = ClientKey {
            id: c.id,
            name: c.name,
            provider_id: c.provider_id,
            pool,
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
        if let Some(rows) = routes.remove(&c.id) {
            let usable = |pool| owners.usable_pool(c.owner_user_id, pool, &catalog.provider_keys);
            key.routes = super::routes::build_routes(&key, rows, usable);
        }
        let key = Arc::new(key);
        catalog.client_keys_by_id.insert(key.id, key.clone());
        catalog.client_keys.insert(hash, key);
    }
    for c in oauth_clients::Entity::find().all(db).await? {
        let Some(secret_hash) = decode_hash(&c.secret_hash) else {
            continue;
        };
        let client = OAuthClient {
            id: c.id,
            client_id: c.client_id,
            secret_hash,
            client_key_id: c.client_key_id,
            enabled: c.enabled,
            token_generation: c.token_generation,
        };
        catalog
            .oauth_clients
            .insert(client.client_id.clone(), Arc::new(client));
    }
    Ok(catalog)
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
    type Row = (i32, String, String, Option<i32>, Option<i32>);
    let rows: Vec<Row> = plugins::Entity::find()
        .select_only()
        .columns([
            plugins::Column::Id,
            plugins::Column::Name,
            plugins::Column::Sha256,
            plugins::Column::CallTimeoutMs,
            plugins::Column::MemoryMib,
        ])
        .filter(plugins::Column::Enabled.eq(true))
        .order_by_asc(plugins::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let mut out: Versions = HashMap::new();
    let failed_conformance = plugin_conformance::blocked(db).await?;
    for (id, name, sha, call_timeout_ms, memory_mib) in rows {
        if failed_conformance.contains(&id) {
            continue;
        }
        let plugin = match registry.get(&sha) {
            Some(p) => p,
            None => {
                let Some(row) = plugins::Entity::find_by_id(id).one(db).await? else {
                    continue;
                };
                match registry.load(row.wasm).await {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::error!(plugin = %name, error = %e, "stored plugin failed to load");
                        continue;
                    }
                }
            }
        };
        let plugin = if call_timeout_ms.is_some() || memory_mib.is_some() {
            plugin.with_limits(
                call_timeout_ms
                    .and_then(|ms| u64::try_from(ms).ok())
                    .map(Duration::from_millis),
                memory_mib
                    .and_then(|m| usize::try_from(m).ok())
                    .map(|m| m << 20),
            )
        } else {
            plugin
        };
        out.entry(name).or_default().push(plugin);
    }
    Ok(out)
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
