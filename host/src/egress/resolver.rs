//! The one way to an upstream: resolve the provider's host (answers
//! cached for [`DNS_TTL`]), check the address against the egress policy,
//! and connect to exactly that address through Pingora's pooled connector.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use pingora::upstreams::peer::HttpPeer;

use super::{EgressDenied, EgressPolicy};
use crate::catalog::{Provider, UpstreamBase};

/// How long a resolved upstream address is reused.
pub const DNS_TTL: Duration = Duration::from_secs(30);

/// Why no connection may be made.
#[derive(Debug, thiserror::Error)]
pub enum EgressError {
    #[error("resolving the upstream host failed: {0}")]
    Resolve(std::io::Error),
    #[error(transparent)]
    Denied(#[from] EgressDenied),
}

/// Resolves upstream host names (caching answers for [`DNS_TTL`]) and
/// checks every address against the egress policy before it is used.
pub struct Resolver {
    policy: EgressPolicy,
    cache: Mutex<HashMap<(String, u16), (SocketAddr, Instant)>>,
}

impl Resolver {
    pub fn new(policy: EgressPolicy) -> Resolver {
        Resolver {
            policy,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// An address for `host:port` that the policy allows.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<SocketAddr, EgressError> {
        let addr = self
            .lookup(host, port)
            .await
            .map_err(EgressError::Resolve)?;
        self.policy.check(addr.ip())?;
        Ok(addr)
    }

    async fn lookup(&self, host: &str, port: u16) -> std::io::Result<SocketAddr> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(SocketAddr::new(ip, port));
        }
        let key = (host.to_owned(), port);
        if let Ok(cache) = self.cache.lock()
            && let Some((addr, at)) = cache.get(&key)
            && at.elapsed() < DNS_TTL
        {
            return Ok(*addr);
        }
        let addr = tokio::net::lookup_host((host, port))
            .await?
            .next()
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no address"))?;
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(key, (addr, Instant::now()));
        }
        Ok(addr)
    }

    /// The peer for a provider: the resolved address, TLS with SNI and
    /// certificate verification for https, and the provider's timeouts.
    pub async fn peer(
        &self,
        provider: &Provider,
        base: &UpstreamBase,
    ) -> Result<HttpPeer, EgressError> {
        let addr = self.resolve(&base.host, base.port).await?;
        let mut peer = HttpPeer::new(addr, base.tls, base.host.clone());
        peer.options.connection_timeout = Some(provider.connect_timeout);
        peer.options.read_timeout = Some(provider.read_timeout);
        peer.options.write_timeout = Some(provider.read_timeout);
        peer.options.idle_timeout = Some(Duration::from_secs(90));
        peer.options.verify_cert = true;
        peer.options.verify_hostname = true;
        Ok(peer)
    }
}
