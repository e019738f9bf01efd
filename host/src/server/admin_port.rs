//! The admin port: its listener (shared with a successor during an
//! upgrade) and the Axum server on it, TLS when configured, stopping once
//! the proxy's socket has been handed over.

use std::sync::Arc;

use axum::serve::ListenerExt;

use super::Start;
use crate::admin::{self, AdminCore};
use crate::core::Core;
use crate::tls::TlsListener;

/// Most connections waiting to be accepted on the admin port.
const ADMIN_BACKLOG: u32 = 1024;

/// The admin port's listener, with `SO_REUSEPORT` so that a new process
/// taking over (`ai-proxy serve --upgrade`) binds it while the old one still
/// serves; Linux only lets processes of the same user share a port so. A
/// fresh start still refuses a port in use: it binds once without the
/// option first.
pub fn admin_listener(
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

/// Serves the admin API for `core` on `listener` (TLS when the
/// configuration names a certificate), on the current runtime, until the
/// proxy's socket is handed over. Returns once it serves.
pub async fn serve_admin(core: Arc<Core>, listener: tokio::net::TcpListener) -> anyhow::Result<()> {
    let tls = match &core.config.listen.tls {
        Some(files) => Some(
            files
                .server_config()
                .map_err(|e| anyhow::anyhow!("AI_PROXY_TLS_CERT / AI_PROXY_TLS_KEY: {e}"))?,
        ),
        None => None,
    };
    let drain = core.drain.clone();
    let handed_over = async move { drain.handed_over().await };
    let state = AdminCore::start(core)
        .await
        .map_err(|e| anyhow::anyhow!("loading session revocations: {e}"))?;
    let app = admin::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
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
    Ok(())
}
