//! Wiring: the core ([`crate::build`]), then the admin API, then the
//! Pingora server (proxy), started in that order so that a bad database
//! URL or a broken plugin stops the start with a message before any port
//! is open. Signals are handled by [`crate::shutdown`]: SIGTERM drains
//! open requests and flushes traces before the exit; SIGQUIT first hands
//! the proxy's listening socket to a process started with
//! [`Start::TakeOver`] (`ai-proxy serve --upgrade`). Tests serve the same
//! ports in-process on listeners of their own ([`in_process`]).

mod admin_port;
pub mod in_process;

use std::sync::Arc;

use pingora::server::configuration::{Opt, ServerConf};
use pingora::server::{RunArgs, Server};
use pingora::services::background::background_service;
use pingora::services::listening::Service;

pub use admin_port::serve_admin;

use crate::config::Config;
use crate::core::Core;
use crate::limits::ReleaseAtShutdown;
use crate::proxy::{Edge, Gateway, ProxyCore};
use crate::shutdown::{ShutdownParts, SignalWatch, TRACE_FLUSH_TIMEOUT, pingora_backstop};

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
    let core = runtime.block_on(async {
        let core = crate::core::build(config).await?;
        if start == Start::Fresh {
            proxy_port_free(core.config.listen.proxy_addr)?;
        }
        let addr = core.config.listen.admin_addr;
        let listener = admin_port::admin_listener(addr, start)
            .map_err(|e| anyhow::anyhow!("binding the admin API to {addr}: {e}"))?;
        serve_admin(core.clone(), listener).await?;
        anyhow::Ok(core)
    })?;
    let config = core.config.clone();
    let traces = core.traces.clone();

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
                drain: core.drain.clone(),
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
            limiter: core.limiter.clone(),
            runtime: runtime.handle().clone(),
        },
    ));
    let mut proxy = Service::new("ai-proxy".into(), proxy_app(core, &server.configuration)?);
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

/// Refuses a proxy address another process holds, before the admin port
/// opens: Pingora would retry it for seconds, then fail in a thread of its
/// own while the admin port went on serving.
fn proxy_port_free(addr: std::net::SocketAddr) -> anyhow::Result<()> {
    std::net::TcpListener::bind(addr)
        .map(drop)
        .map_err(|e| anyhow::anyhow!("binding the proxy to {addr}: {e}"))
}

/// The proxy port's application: the edge in front of Pingora's proxy
/// running the gateway, on the proxy's view of `core`.
pub fn proxy_app(core: Arc<Core>, conf: &Arc<ServerConf>) -> anyhow::Result<Edge> {
    let limits = core.config.proxy.edge;
    let proxy_core = ProxyCore::new(core)?;
    let proxy = pingora::proxy::http_proxy(conf, Gateway::new(Arc::new(proxy_core)));
    Ok(Edge::new(proxy, limits))
}
