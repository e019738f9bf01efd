//! A gateway served inside the calling process, on listeners the caller
//! bound itself (port 0, so no port is ever guessed): how tests start one.
//! The same core ([`crate::build`]), admin router and proxy application
//! (edge, Pingora's HTTP proxy, the gateway) as `ai-proxy serve`; what it
//! leaves out is the process: no signal handlers, no Pingora `Server` (its
//! accept loop is a plain Tokio one here) and no TLS on the proxy port.
//!
//! Everything runs on the current Tokio runtime, the core's background
//! tasks included: to stop a gateway, stop its runtime (give each gateway
//! a runtime of its own).

use std::sync::Arc;

use std::os::fd::AsRawFd;

use pingora::apps::ServerApp;
use pingora::protocols::l4::stream::Stream as TcpStream;
use pingora::protocols::{GetSocketDigest, SocketDigest, Stream};
use pingora::server::ShutdownWatch;
use pingora::server::configuration::ServerConf;
use tokio::sync::watch;

use super::{proxy_app, serve_admin};
use crate::core::Core;
use crate::proxy::Edge;

/// Serves `core`'s admin API on `admin` and its proxy on `proxy`; returns
/// once both accept connections.
pub async fn serve_in_process(
    core: Arc<Core>,
    proxy: std::net::TcpListener,
    admin: std::net::TcpListener,
) -> anyhow::Result<()> {
    if core.config.listen.tls.is_some() {
        anyhow::bail!("TLS on the proxy port needs Pingora's listener: start the process");
    }
    proxy.set_nonblocking(true)?;
    admin.set_nonblocking(true)?;
    let proxy = tokio::net::TcpListener::from_std(proxy)?;
    let admin = tokio::net::TcpListener::from_std(admin)?;
    let app = Arc::new(proxy_app(core.clone(), &Arc::new(ServerConf::default()))?);
    serve_admin(core, admin).await?;
    tokio::spawn(accept(proxy, app));
    Ok(())
}

/// Hands every connection accepted on `listener` to the proxy
/// application, as Pingora's listening service does: again and again
/// while it returns the connection for reuse.
async fn accept(listener: tokio::net::TcpListener, app: Arc<Edge>) {
    // Never set: this gateway stops with its runtime.
    let (_never, shutdown): (watch::Sender<bool>, ShutdownWatch) = watch::channel(false);
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, "accepting a proxy connection failed");
                continue;
            }
        };
        // What Pingora's listener records of a connection it accepts.
        let mut tcp: TcpStream = tcp.into();
        let digest = SocketDigest::from_raw_fd(tcp.as_raw_fd());
        let _ = digest.peer_addr.set(Some(peer.into()));
        tcp.set_socket_digest(digest);
        let _ = tcp.set_nodelay();
        let (app, shutdown) = (app.clone(), shutdown.clone());
        tokio::spawn(async move {
            let mut stream: Stream = Box::new(tcp);
            while let Some(reused) = app.process_new(stream, &shutdown).await {
                stream = reused;
            }
        });
    }
}
