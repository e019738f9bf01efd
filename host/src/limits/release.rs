//! Giving leases back when the gateway shuts down, so quota this instance
//! held and did not use goes back to the other instances at once instead
//! of after the lease time (or, for a process that is killed, never in
//! that window).

use std::sync::Arc;

use async_trait::async_trait;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;

use super::Limiter;

impl Limiter {
    /// Gives back what the store holds for this instance (leases).
    pub async fn release(&self) {
        if let Some(result) = self.store.sync(true).await {
            self.observe(result.err().as_ref());
        }
    }
}

/// A Pingora background service that waits for the shutdown signal.
pub struct ReleaseAtShutdown {
    pub limiter: Arc<Limiter>,
    /// The core runtime, where the Redis connection lives.
    pub runtime: tokio::runtime::Handle,
}

#[async_trait]
impl BackgroundService for ReleaseAtShutdown {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        if shutdown.changed().await.is_err() {
            return;
        }
        let limiter = self.limiter.clone();
        if self
            .runtime
            .spawn(async move { limiter.release().await })
            .await
            .is_err()
        {
            tracing::warn!("leases were not given back at shutdown");
        }
    }
}
