//! HTTPS on both ports, when the operator gives a certificate chain and its
//! private key in PEM (`AI_PROXY_TLS_CERT`, `AI_PROXY_TLS_KEY`).
//!
//! The proxy port hands the files to Pingora's own rustls listener; the
//! admin port uses [`TlsListener`], which accepts TCP connections, runs
//! each handshake in its own task under [`TLS_HANDSHAKE_TIMEOUT`] (a client
//! that stalls its handshake holds nothing but that task) with at most
//! [`MAX_PENDING_HANDSHAKES`] at once, and hands finished connections to
//! axum. Both use rustls with the ring provider and its safe defaults
//! (TLS 1.2 and 1.3).

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::server::TlsStream;

/// Longest time a client may take to finish its TLS handshake.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Most admin-port handshakes in progress at once; further connections
/// wait in the kernel's backlog.
pub const MAX_PENDING_HANDSHAKES: usize = 256;

/// Where the certificate chain and its key are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Why the TLS files cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{0}: no PEM certificate could be read")]
    Cert(String),
    #[error("{0}: no PEM private key could be read")]
    Key(String),
    #[error("the certificate and key do not make a TLS configuration: {0}")]
    Config(String),
}

impl TlsFiles {
    /// The rustls configuration of the admin port (HTTP/1.1).
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, TlsError> {
        let cert_name = self.cert.display().to_string();
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&self.cert)
            .and_then(|certs| certs.collect::<Result<_, _>>())
            .map_err(|_| TlsError::Cert(cert_name.clone()))?;
        if certs.is_empty() {
            return Err(TlsError::Cert(cert_name));
        }
        // The error of a key file never quotes the file.
        let key = PrivateKeyDer::from_pem_file(&self.key)
            .map_err(|_| TlsError::Key(self.key.display().to_string()))?;
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| TlsError::Config(e.to_string()))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// An axum listener that serves TLS connections.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    /// Starts accepting on `tcp`; handshakes run in the background.
    pub fn new(tcp: TcpListener, config: Arc<ServerConfig>) -> io::Result<TlsListener> {
        let local = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(MAX_PENDING_HANDSHAKES);
        let acceptor = TlsAcceptor::from(config);
        let pending = Arc::new(Semaphore::new(MAX_PENDING_HANDSHAKES));
        tokio::spawn(async move {
            while !tx.is_closed() {
                let Ok(permit) = pending.clone().acquire_owned().await else {
                    return;
                };
                let (stream, peer) = match tcp.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        tracing::debug!(error = %e, "admin accept failed");
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                };
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    let handshake = acceptor.accept(stream);
                    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, handshake).await {
                        Ok(Ok(tls)) => {
                            drop(permit);
                            let _ = tx.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(TlsListener { ready, local })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The accept task ended: nothing will ever come.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_or_non_pem_files_are_refused_without_quoting_them() {
        let dir = std::env::temp_dir().join(format!("aip-tls-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let junk = dir.join("junk.pem");
        std::fs::write(&junk, "not a pem file: secret-material").expect("write");
        let files = TlsFiles {
            cert: junk.clone(),
            key: junk.clone(),
        };
        let err = files.server_config().expect_err("refused");
        assert!(matches!(err, TlsError::Cert(_)), "{err}");
        let missing = TlsFiles {
            cert: dir.join("missing.pem"),
            key: dir.join("missing.key"),
        };
        assert!(missing.server_config().is_err());
        assert!(!err.to_string().contains("secret-material"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
