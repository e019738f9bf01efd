//! The limiter's counters: in-process, or Redis when `REDIS_URL` is set
//! (served from leases unless `AI_PROXY_QUOTA_LEASE=0`).

use std::sync::Arc;

use crate::config::Config;
use crate::limits::{CounterStore, LeasedStore, Limiter, MemoryStore, RedisStore};

/// The limiter `config` asks for.
pub fn build_limiter(config: &Config) -> anyhow::Result<Limiter> {
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
