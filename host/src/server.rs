//! Wiring: the core runtime (database, catalog, trace writer, admin API)
//! and the Pingora server (proxy), started in that order so that a bad
//! database URL or a broken plugin stops the start with a message before
//! any port is open. Signals are handled by [`crate::shutdown`]: SIGTERM
//! drains open requests and flushes traces before the exit; SIGQUIT first
//! hands the proxy's listening socket to a process started with
//! [`Start::TakeOver`] (`ai-proxy serve --upgrade`).

use std::sync::Arc;

use arc_swap::ArcSwap;
use axum::serve::ListenerExt;
use pingora::connectors::http::Connector;
use pingora::server::configuration::{Opt, ServerConf};
use pingora::server::{RunArgs, Server};
use pingora::services::background::background_service;
use pingora::services::listening::Service;

use crate::admin::{self, AdminCore, ConsoleTransport, LoginThrottle, SessionSigner};
use crate::catalog::{PluginRegistry, load_catalog};
use crate::config::Config;
use crate::egress::Resolver;
use crate::health::HealthService;
use crate::limits::{
    CounterStore, LeasedStore, Limiter, MemoryStore, RedisStore, ReleaseAtShutdown,
};
use crate::oauth::http::EgressHttp;
use crate::oauth::{OAuthAccounts, RefreshTask};
use crate::plugins::{BUILTIN_PLUGINS, ClientBlame, PluginCache, PluginEngine, PluginLimits};
use crate::proxy::capacity::InFlight;
use crate::proxy::{Edge, Gateway, JwtVerifier, ProxyCore, TokenIssuer};
use crate::scheduler::KeyBoard;
use crate::secrets::load_master_key;
use crate::shutdown::{Drain, ShutdownParts, SignalWatch, TRACE_FLUSH_TIMEOUT, pingora_backstop};
use crate::store::keyring::{OpenedKeys, open_keys};
use crate::store::{self, bootstrap};
use crate::tls::TlsListener;
use crate::trace::TraceWriter;
use crate::trace::otlp::{OtlpExporter, ServiceInfo};
use crate::trace::retention::Retention;

/// Seconds Pingora gives its runtimes to stop once its grace period is
/// over (only reached when the gateway's own drain did not end the process).
const RUNTIME_SHUTDOWN_SECONDS: u64 = 5;

/// How the process gets its proxy port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Start {
    /// Binds it.
    #[default]
    Fresh,
    /// Receives the listening socket of the running instance over the
    /// upgrade socket (that instance hands it over on SIGQUIT); the admin
    /// port is bound alongside the old instance's (`SO_REUSEPORT`).
    TakeOver,
}

/// Starts everything and serves until the process is told to stop.
pub fn run(config: Config, start: Start) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("core")
        .enable_all()
        .build()?;
    let in_flight = InFlight::new(config.proxy.edge.max_in_flight);
    let drain = Drain::new(in_flight.clone());
    let proxy_core = runtime.block_on(start_core(&config, start, drain.clone(), in_flight))?;
    let traces = proxy_core.traces.clone();

    let conf = ServerConf {
        threads: config.proxy.threads,
        grace_period_seconds: Some(pingora_backstop(config.shutdown.times)),
        graceful_shutdown_timeout_seconds: Some(RUNTIME_SHUTDOWN_SECONDS),
        upgrade_sock: config.shutdown.upgrade_sock.to_string_lossy().into_owned(),
        ..ServerConf::default()
    };
    let opt = Opt {
        upgrade: start == Start::TakeOver,
        ..Opt::default()
    };
    let mut server = Server::new_with_opt_and_conf(Some(opt), conf);
    let signals = runtime
        .block_on(async {
            SignalWatch::spawn(ShutdownParts {
                drain,
                times: config.shutdown.times,
                traces: traces.clone(),
                phases: server.watch_execution_phase(),
            })
        })
        .map_err(|e| anyhow::anyhow!("watching signals: {e}"))?;
    if start == Start::TakeOver {
        tracing::info!(socket = %config.shutdown.upgrade_sock.display(), "waiting for the running instance's listening socket (send it SIGQUIT)");
    }
    server.bootstrap();
    server.add_service(background_service(
        "leases",
        ReleaseAtShutdown {
            limiter: proxy_core.limiter.clone(),
            runtime: runtime.handle().clone(),
        },
    ));
    let proxy = pingora::proxy::http_proxy(&server.configuration, Gateway::new(proxy_core));
    let mut proxy = Service::new("ai-proxy".into(), Edge::new(proxy, config.proxy.edge));
    let tls = config
        .listen
        .tls
        .as_ref()
        .map(|tls| crate::proxy::listener::TlsFiles {
            cert: &tls.cert,
            key: &tls.key,
        });
    proxy.add_listener(
        crate::proxy::listener::endpoint(config.listen.proxy_addr, tls)
            .map_err(|e| anyhow::anyhow!("TLS on the proxy port: {e}"))?,
    );
    proxy.threads = Some(config.proxy.threads);
    server.add_service(proxy);
    tracing::info!(proxy = %config.listen.proxy_addr, admin = %config.listen.admin_addr, "ai-proxy serving");
    server.run(RunArgs {
        shutdown_signal: Box::new(signals),
    });
    // Only after Pingora's backstop: the drain normally exits before.
    runtime.block_on(traces.flush(TRACE_FLUSH_TIMEOUT));
    Ok(())
}

/// Database, plugins, catalog, trace writer and admin API, on the current runtime.
async fn start_core(
    config: &Config,
    start: Start,
    drain: Arc<Drain>,
    in_flight: Arc<InFlight>,
) -> anyhow::Result<Arc<ProxyCore>> {
    let db = store::connect(&config.storage.database_url, &config.storage.data_dir).await?;
    let master_key = load_master_key(
        config.secrets.master_key.as_ref().map(|k| k.expose()),
        &config.storage.data_dir,
    )?;
    let OpenedKeys {
        secrets,
        rotation,
        job: rotation_job,
        previous: previous_key,
        ..
    } = open_keys(&db, config, &master_key).await?;
    store::rebind::rebind_secrets(&db, &secrets).await?;
    if let Some(password) =
        bootstrap::ensure_admin(&db, config.admin.password.as_ref().map(|p| p.expose())).await?
    {
        // Printed once, at the first start, so the operator can log in.
        println!("ai-proxy: created account 'admin' with password: {password}");
    }

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
            &master_key,
        )),
        config.plugins.max_bytes,
    ));
    for (name, bytes) in BUILTIN_PLUGINS {
        let plugin = registry
            .load(bytes.to_vec())
            .await
            .map_err(|e| anyhow::anyhow!("built-in plugin {name}: {e}"))?;
        bootstrap::register_builtin_plugin(&db, &plugin, bytes, true).await?;
        bootstrap::ensure_provider(&db, &plugin).await?;
    }
    for path in &config.plugins.files {
        let bytes = std::fs::read(path)
            .map_err(|e| anyhow::anyhow!("plugin file {}: {e}", path.display()))?;
        let plugin = registry
            .load(bytes.clone())
            .await
            .map_err(|e| anyhow::anyhow!("plugin file {}: {e}", path.display()))?;
        bootstrap::register_builtin_plugin(&db, &plugin, &bytes, false).await?;
    }

    // Read before the catalog, so a change made meanwhile is not missed.
    let config_version = admin::config_version(&db).await?;
    let catalog = Arc::new(ArcSwap::from_pointee(
        load_catalog(&db, &registry, &secrets).await?,
    ));
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

    let limiter = Arc::new(build_limiter(config)?);
    limiter.record_alerts_with(Arc::new(crate::store::budget_alert_log::AuditAlerts {
        db: db.clone(),
    }));
    let board = Arc::new(KeyBoard::default());
    let accounts = Arc::new(OAuthAccounts::new(
        db.clone(),
        secrets.clone(),
        EgressHttp::new(Arc::new(Resolver::new(config.upstream.egress.clone()))),
        board.clone(),
    ));
    RefreshTask {
        catalog: catalog.clone(),
        accounts: accounts.clone(),
        margin: config.upstream.oauth.refresh_margin,
        jitter: config.upstream.oauth.refresh_jitter,
        cleanup_every: config.upstream.oauth.cleanup,
    }
    .spawn();
    HealthService {
        catalog: catalog.clone(),
        board: board.clone(),
        resolver: Resolver::new(config.upstream.egress.clone()),
        connector: Connector::new(None),
        db: db.clone(),
        interval: config.upstream.health_interval,
    }
    .spawn();

    let shadow = crate::shadow::ShadowQueue::spawn(db.clone());
    // After the catalog is loaded: requests never wait on re-encryption.
    if let Some(job) = rotation_job {
        job.spawn();
    }
    let admin_core = Arc::new(AdminCore {
        db,
        catalog: catalog.clone(),
        registry,
        secrets,
        sessions: SessionSigner::new(&master_key).with_previous_key(previous_key.as_ref()),
        throttle: LoginThrottle::default(),
        basic_cache: Default::default(),
        traces: traces.clone(),
        egress: config.upstream.egress.clone(),
        resolver: Resolver::new(config.upstream.egress.clone()),
        connector: Connector::new(None),
        board: board.clone(),
        limiter: limiter.clone(),
        catalog_version: tokio::sync::Mutex::new(config_version),
        web_dir: config.admin.web_dir.clone(),
        drain: drain.clone(),
        accounts: accounts.clone(),
        oauth_session_ttl: config.upstream.oauth.session_ttl,
        metrics_token: config.admin.metrics_token.clone(),
        transport: ConsoleTransport::new(
            config.listen.tls.is_some(),
            config.listen.trusted_proxies.clone(),
        ),
        in_flight: in_flight.clone(),
        rotation,
        proxy_endpoint: admin::ProxyEndpoint {
            proxy_port: config.listen.proxy_addr.port(),
            proxy_tls: config.listen.tls.is_some(),
        },
        proxy_addr: config.listen.proxy_addr,
        shadow: shadow.clone(),
    });
    admin_core
        .load_revocations()
        .await
        .map_err(|e| anyhow::anyhow!("loading session revocations: {e}"))?;
    admin::spawn_config_sync(admin_core.clone(), config.storage.config_poll);
    admin::spawn_oauth_reloads(admin_core.clone());
    admin::spawn_plugin_guard(
        admin_core.clone(),
        admin::GuardRule {
            failures: config.plugins.failure_limit,
            sources: config.plugins.failure_sources,
            window: config.plugins.failure_window,
        },
    );
    let listener = admin_listener(config.listen.admin_addr, start).map_err(|e| {
        anyhow::anyhow!("binding the admin API to {}: {e}", config.listen.admin_addr)
    })?;
    let handed_over = {
        let drain = drain.clone();
        async move { drain.handed_over().await }
    };
    let tls = match &config.listen.tls {
        Some(files) => Some(
            files
                .server_config()
                .map_err(|e| anyhow::anyhow!("AI_PROXY_TLS_CERT / AI_PROXY_TLS_KEY: {e}"))?,
        ),
        None => None,
    };
    let app =
        admin::router(admin_core).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = match tls {
        // `tap_io` only lends the TLS listener axum's peer-address plumbing.
        Some(tls) => {
            let listener = TlsListener::new(listener, tls)?.tap_io(|_| {});
            tokio::spawn(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(handed_over)
                    .await
            })
        }
        None => tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(handed_over)
                .await
        }),
    };
    tokio::spawn(async move {
        if let Ok(Err(e)) = served.await {
            tracing::error!(error = %e, "admin API stopped");
        }
    });

    Ok(Arc::new(ProxyCore {
        catalog,
        traces,
        connector: Connector::new(None),
        resolver: Resolver::new(config.upstream.egress.clone()),
        max_body_bytes: config.proxy.max_body_bytes,
        jwt: JwtVerifier::new(&config.client_auth.jwt)?,
        tokens: TokenIssuer::new(&master_key, config.client_auth.oauth_token_ttl)
            .with_leeway(config.client_auth.jwt.time.leeway)
            .with_previous_key(previous_key.as_ref()),
        limiter,
        board,
        blame: Arc::new(ClientBlame::new(
            config.plugins.failures_per_client,
            config.plugins.failure_window,
        )),
        max_attempts: config.proxy.max_attempts,
        accounts,
        in_flight,
        shadow,
    }))
}

/// Most connections waiting to be accepted on the admin port.
const ADMIN_BACKLOG: u32 = 1024;

/// The admin port's listener, with `SO_REUSEPORT` so that a new process
/// taking over (`ai-proxy serve --upgrade`) binds it while the old one still
/// serves; Linux only lets processes of the same user share a port so. A
/// fresh start still refuses a port in use: it binds once without the
/// option first.
fn admin_listener(
    addr: std::net::SocketAddr,
    start: Start,
) -> std::io::Result<tokio::net::TcpListener> {
    if start == Start::Fresh {
        drop(std::net::TcpListener::bind(addr)?);
    }
    let socket = match addr {
        std::net::SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        std::net::SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.set_reuseport(true)?;
    socket.bind(addr)?;
    socket.listen(ADMIN_BACKLOG)
}

/// Where precompiled plugins are kept, under the data directory.
const PLUGIN_CACHE_DIR: &str = "plugin-cache";

/// In-process counters, or Redis when `REDIS_URL` is set (served from
/// leases unless `AI_PROXY_QUOTA_LEASE=0`).
fn build_limiter(config: &Config) -> anyhow::Result<Limiter> {
    let store: Arc<dyn CounterStore> = match &config.limits.redis_url {
        Some(url) => {
            let redis = RedisStore::new(url.expose(), &config.limits.redis_prefix)
                .map_err(|e| anyhow::anyhow!("REDIS_URL: {e}"))?;
            if config.limits.quota_lease.enabled() {
                LeasedStore::new(redis, config.limits.quota_lease) as Arc<dyn CounterStore>
            } else {
                Arc::new(redis)
            }
        }
        None => Arc::new(MemoryStore::default()),
    };
    Ok(Limiter::new(
        store,
        config.limits.day_offset,
        config.limits.redis_failure,
    ))
}
