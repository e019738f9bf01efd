//! The background health checker (ApiKeyHealthService): probes every
//! enabled upstream key of an enabled provider with its plugin's probe
//! request on an interval,
//! reports the verdict to the key board (which takes keys out of rotation
//! and brings them back), and stores the status in the database when it
//! changes. A failing key is probed less and less often (exponential
//! backoff), so a dead key costs little; a healthy probe brings it back at
//! once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::egress::Connector;
use arc_swap::ArcSwap;
use sea_orm::DatabaseConnection;

use super::probe_key;
use crate::catalog::Catalog;
use crate::egress::Resolver;
use crate::scheduler::{HealthStatus, KeyBoard};
use crate::store::upstream_key_state;

/// Most doublings of the interval for a failing key.
pub const MAX_BACKOFF_DOUBLINGS: u32 = 5;
/// How often the service looks for keys that are due.
const TICK: Duration = Duration::from_millis(500);

pub struct HealthService {
    pub catalog: Arc<ArcSwap<Catalog>>,
    pub board: Arc<KeyBoard>,
    pub resolver: Arc<Resolver>,
    pub connector: Arc<Connector>,
    pub db: DatabaseConnection,
    pub interval: Duration,
}

/// When a key with `failures` consecutive failures is next due.
pub fn next_delay(interval: Duration, failures: u32) -> Duration {
    interval.saturating_mul(1 << failures.min(MAX_BACKOFF_DOUBLINGS))
}

impl HealthService {
    /// Runs until the process ends; does nothing when the interval is zero.
    pub fn spawn(self) {
        if self.interval.is_zero() {
            return;
        }
        tokio::spawn(async move { self.run().await });
    }

    async fn run(self) {
        let mut due: HashMap<i32, Instant> = HashMap::new();
        let mut stored: HashMap<i32, HealthStatus> = HashMap::new();
        loop {
            tokio::time::sleep(TICK.min(self.interval)).await;
            let catalog = self.catalog.load_full();
            due.retain(|id, _| catalog.upstream_keys.contains_key(id));
            let now = Instant::now();
            for key in catalog.upstream_keys.values().filter(|k| k.enabled) {
                if due.get(&key.id).is_some_and(|at| *at > now) {
                    continue;
                }
                let Some(provider) = catalog
                    .providers
                    .get(&key.provider_id)
                    .filter(|p| p.enabled)
                else {
                    continue;
                };
                let probe = probe_key(provider, key, &self.resolver, &self.connector).await;
                self.board.record_probe(
                    key.id,
                    probe.status,
                    Duration::from_millis(probe.latency_ms),
                    probe.detail.as_deref(),
                );
                let failures = if probe.status == HealthStatus::Healthy {
                    0
                } else {
                    self.board.consecutive_failures(key.id).max(1)
                };
                due.insert(key.id, Instant::now() + next_delay(self.interval, failures));
                if stored.get(&key.id) != Some(&probe.status) {
                    stored.insert(key.id, probe.status);
                    store_status(&self.db, key.id, probe.status).await;
                }
            }
        }
    }
}

/// Writes a key's health status (best effort: the board is what counts).
pub async fn store_status(db: &DatabaseConnection, id: i32, status: HealthStatus) {
    let row = match upstream_key_state::find(db, id).await {
        Ok(Some(row)) => row,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(upstream_key = id, error = %e, "reading key for health status failed");
            return;
        }
    };
    if let Err(e) = upstream_key_state::set_health_status(db, row, status.as_str()).await {
        tracing::warn!(upstream_key = id, error = %e, "storing health status failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failing_keys_back_off_exponentially_up_to_a_cap() {
        let interval = Duration::from_secs(10);
        assert_eq!(next_delay(interval, 0), interval);
        assert_eq!(next_delay(interval, 1), Duration::from_secs(20));
        assert_eq!(next_delay(interval, 3), Duration::from_secs(80));
        assert_eq!(next_delay(interval, 50), Duration::from_secs(320));
    }
}
