//! [`build`]: the core from a configuration, in the order that lets a bad
//! database URL, master key or plugin stop the start with a message before
//! any port is open: storage and keys, plugins, the catalog, then the
//! writers and background tasks. Ports are wired afterwards
//! (`server/`, or a test on listeners of its own).

use std::sync::Arc;

use crate::egress::Connector;
use arc_swap::ArcSwap;
use sea_orm::DatabaseConnection;

use super::limiter::build_limiter;
use super::{CatalogReload, Core, MasterKeys, config_sync, oauth_reload};
use crate::catalog::{PluginRegistry, load_catalog};
use crate::config::Config;
use crate::egress::Resolver;
use crate::health::HealthService;
use crate::limits::InFlight;
use crate::oauth::http::EgressHttp;
use crate::oauth::{OAuthAccounts, RefreshTask};
use crate::plugins::{BUILTIN_PLUGINS, PluginCache, PluginEngine, PluginLimits};
use crate::scheduler::KeyBoard;
use crate::secrets::load_master_key;
use crate::shutdown::Drain;
use crate::store::keyring::{OpenedKeys, open_keys};
use crate::store::{self, bootstrap, config_version};
use crate::trace::otlp::{OtlpExporter, ServiceInfo};
use crate::trace::retention::Retention;
use crate::trace::{TraceSender, TraceWriter};

/// Where precompiled plugins are kept, under the data directory.
const PLUGIN_CACHE_DIR: &str = "plugin-cache";

/// Builds the core on the current Tokio runtime and starts its background
/// tasks there. No port is opened.
pub async fn build(config: Config) -> anyhow::Result<Arc<Core>> {
    let config = Arc::new(config);
    let (db, keys, opened) = open_storage(&config).await?;
    let registry = load_plugins(&config, &db, &keys.current).await?;
    // Read before the catalog, so a change made meanwhile is not missed.
    let version = config_version::current(&db).await?;
    let catalog = Arc::new(ArcSwap::from_pointee(
        load_catalog(&db, &registry, &opened.secrets).await?,
    ));
    let traces = spawn_traces(&config, &db);
    let limiter = Arc::new(build_limiter(&config)?);
    limiter.record_alerts_with(Arc::new(store::budget_alert_log::AuditAlerts {
        db: db.clone(),
    }));
    let resolver = Arc::new(Resolver::new(config.upstream.egress.clone()));
    let connector = Arc::new(Connector::new(None));
    let board = Arc::new(KeyBoard::default());
    let accounts = Arc::new(OAuthAccounts::new(
        db.clone(),
        opened.secrets.clone(),
        EgressHttp::new(resolver.clone(), connector.clone()),
        board.clone(),
    ));
    let in_flight = InFlight::new(config.proxy.edge.max_in_flight);
    let core = Arc::new(Core {
        reload: CatalogReload::new(
            db.clone(),
            registry.clone(),
            opened.secrets.clone(),
            catalog.clone(),
            version,
        ),
        egress: config.upstream.egress.clone(),
        drain: Drain::new(in_flight.clone()),
        in_flight,
        shadow: crate::shadow::ShadowQueue::spawn(db.clone()),
        rotation: opened.rotation,
        secrets: opened.secrets,
        config,
        db,
        catalog,
        registry,
        keys,
        traces,
        resolver,
        connector,
        board,
        limiter,
        accounts,
    });
    spawn_tasks(&core);
    // After the catalog is loaded: requests never wait on re-encryption.
    if let Some(job) = opened.job {
        job.spawn();
    }
    Ok(core)
}

/// The database (migrated, secrets rebound, the first admin created) and
/// the master keys.
async fn open_storage(
    config: &Config,
) -> anyhow::Result<(DatabaseConnection, MasterKeys, OpenedKeys)> {
    let db = store::connect(&config.storage.database_url, &config.storage.data_dir).await?;
    let master_key = load_master_key(
        config.secrets.master_key.as_ref().map(|k| k.expose()),
        &config.storage.data_dir,
    )?;
    let opened = open_keys(&db, config.previous_key_source(), &master_key).await?;
    store::rebind::rebind_secrets(&db, &opened.secrets).await?;
    if let Some(password) =
        bootstrap::ensure_admin(&db, config.admin.password.as_ref().map(|p| p.expose())).await?
    {
        // Printed once, at the first start, so the operator can log in.
        println!("ai-proxy: created account 'admin' with password: {password}");
    }
    let keys = MasterKeys {
        current: master_key,
        previous: opened.previous,
    };
    Ok((db, keys, opened))
}

/// The plugin runtime with the built-in plugins and `AI_PROXY_PLUGIN_FILES`
/// loaded and registered.
async fn load_plugins(
    config: &Config,
    db: &DatabaseConnection,
    master_key: &[u8; 32],
) -> anyhow::Result<Arc<PluginRegistry>> {
    let engine = PluginEngine::with_keep_resident(
        PluginLimits {
            call_timeout: config.plugins.call_timeout,
            memory_bytes: config.plugins.memory_bytes,
            instances: config.plugins.instances,
        },
        config.plugins.keep_resident_bytes,
    )?;
    let registry = Arc::new(PluginRegistry::new(
        engine,
        Some(PluginCache::new(
            config.storage.data_dir.join(PLUGIN_CACHE_DIR),
            master_key,
        )),
        config.plugins.max_bytes,
    ));
    for (name, bytes) in BUILTIN_PLUGINS {
        let plugin = registry
            .load(bytes.to_vec())
            .await
            .map_err(|e| anyhow::anyhow!("built-in plugin {name}: {e}"))?;
        bootstrap::register_builtin_plugin(db, &plugin, bytes, true).await?;
        bootstrap::ensure_provider(db, &plugin).await?;
    }
    for path in &config.plugins.files {
        let bytes = std::fs::read(path)
            .map_err(|e| anyhow::anyhow!("plugin file {}: {e}", path.display()))?;
        let plugin = registry
            .load(bytes.clone())
            .await
            .map_err(|e| anyhow::anyhow!("plugin file {}: {e}", path.display()))?;
        bootstrap::register_builtin_plugin(db, &plugin, &bytes, false).await?;
    }
    Ok(registry)
}

/// The trace writer (with the OTLP exporter when configured) and the
/// retention task.
fn spawn_traces(config: &Config, db: &DatabaseConnection) -> TraceSender {
    let traces = TraceWriter {
        batch: config.trace.batch,
        flush: config.trace.flush,
        queue: config.trace.queue,
    }
    .spawn(db.clone());
    let traces = match &config.trace.otlp {
        Some(otlp) => traces.with_export(
            OtlpExporter {
                endpoint: otlp.endpoint.clone(),
                service: ServiceInfo {
                    name: otlp.service_name.clone(),
                    version: env!("CARGO_PKG_VERSION").to_owned(),
                },
                queue: otlp.queue,
                interval: otlp.interval,
            }
            .spawn(),
        ),
        None => traces,
    };
    Retention {
        db: db.clone(),
        days: config.trace.retention_days,
        interval: config.trace.retention_interval,
    }
    .spawn();
    traces
}

/// The core's own background tasks: OAuth refreshes and the reload after
/// them, health probes, and the cross-instance catalog sync.
fn spawn_tasks(core: &Arc<Core>) {
    let config = &core.config;
    RefreshTask {
        catalog: core.catalog.clone(),
        accounts: core.accounts.clone(),
        margin: config.upstream.oauth.refresh_margin,
        jitter: config.upstream.oauth.refresh_jitter,
        cleanup_every: config.upstream.oauth.cleanup,
    }
    .spawn();
    HealthService {
        catalog: core.catalog.clone(),
        board: core.board.clone(),
        resolver: core.resolver.clone(),
        connector: core.connector.clone(),
        db: core.db.clone(),
        interval: config.upstream.health_interval,
    }
    .spawn();
    config_sync::spawn_config_sync(core.clone(), config.storage.config_poll);
    oauth_reload::spawn_oauth_reloads(core.clone());
}
