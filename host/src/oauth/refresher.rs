//! OAuthTokenRefreshTask: refreshes every connected OAuth key ahead of its
//! expiry (a margin, plus a per-key jitter so many keys issued together do
//! not refresh together), backs off after a failure, and deletes expired
//! authorization sessions.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;

use super::accounts::OAuthAccounts;
use super::sessions;
use crate::catalog::Catalog;

/// How often the task looks for keys that are due.
const TICK: Duration = Duration::from_secs(1);
/// First wait after a failed refresh; doubles up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_secs(5);
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);

pub struct RefreshTask {
    pub catalog: Arc<ArcSwap<Catalog>>,
    pub accounts: Arc<OAuthAccounts>,
    /// Refresh this long before expiry; zero: only on demand.
    pub margin: Duration,
    /// Up to this much earlier, per key.
    pub jitter: Duration,
    /// How often expired authorization sessions are deleted.
    pub cleanup_every: Duration,
}

/// The wait after `failures` consecutive failed refreshes.
pub fn backoff(failures: u32) -> Duration {
    FIRST_BACKOFF
        .saturating_mul(1 << failures.saturating_sub(1).min(16))
        .min(MAX_BACKOFF)
}

/// A stable share of `jitter` for key `id`.
fn jitter_for(id: i32, jitter: Duration) -> Duration {
    let ms = u64::try_from(jitter.as_millis()).unwrap_or(u64::MAX);
    if ms == 0 {
        return Duration::ZERO;
    }
    let spread = u64::from(id.unsigned_abs()).wrapping_mul(0x9E37_79B9_7F4A_7C15) % ms;
    Duration::from_millis(spread)
}

impl RefreshTask {
    pub fn spawn(self) {
        tokio::spawn(async move { self.run().await });
    }

    async fn run(self) {
        let mut failures: HashMap<i32, (u32, Instant)> = HashMap::new();
        let mut last_cleanup = Instant::now();
        loop {
            tokio::time::sleep(TICK.min(self.cleanup_every)).await;
            if last_cleanup.elapsed() >= self.cleanup_every {
                last_cleanup = Instant::now();
                match sessions::delete_expired(self.accounts.db()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(sessions = n, "expired OAuth authorizations deleted"),
                    Err(e) => {
                        tracing::warn!(error = %e, "deleting expired OAuth authorizations failed")
                    }
                }
            }
            if self.margin.is_zero() {
                continue;
            }
            self.refresh_due(&mut failures).await;
        }
    }

    async fn refresh_due(&self, failures: &mut HashMap<i32, (u32, Instant)>) {
        let catalog = self.catalog.load_full();
        failures.retain(|id, _| catalog.upstream_keys.contains_key(id));
        let now = Instant::now();
        for key in catalog.upstream_keys.values() {
            if !key.enabled || key.oauth.is_none() {
                continue;
            }
            let Some(token) = self.accounts.current(key) else {
                continue;
            };
            let Some(settings) = catalog
                .providers
                .get(&key.provider_id)
                .and_then(|p| p.oauth.clone())
            else {
                continue;
            };
            if token.good_for(self.margin + jitter_for(key.id, self.jitter)) {
                continue;
            }
            if failures.get(&key.id).is_some_and(|(_, next)| now < *next) {
                continue;
            }
            match self
                .accounts
                .refresh(&settings, key.id, Some(&token.secret))
                .await
            {
                Ok(_) => {
                    failures.remove(&key.id);
                }
                Err(_) => {
                    let entry = failures.entry(key.id).or_insert((0, now));
                    entry.0 = entry.0.saturating_add(1);
                    entry.1 = Instant::now() + backoff(entry.0);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_its_cap() {
        assert_eq!(backoff(1), FIRST_BACKOFF);
        assert_eq!(backoff(2), FIRST_BACKOFF * 2);
        assert_eq!(backoff(7), MAX_BACKOFF);
        assert_eq!(backoff(u32::MAX), MAX_BACKOFF);
    }

    #[test]
    fn jitter_stays_within_its_bound_and_spreads_keys() {
        let bound = Duration::from_secs(30);
        let spreads: Vec<Duration> = (1..=50).map(|id| jitter_for(id, bound)).collect();
        assert!(spreads.iter().all(|j| *j < bound));
        assert!(spreads.iter().any(|j| *j != spreads[0]));
        assert_eq!(jitter_for(7, Duration::ZERO), Duration::ZERO);
    }
}
