//! Picking the upstream key for a request from the client key's pool.
//!
//! Candidates are the pool's keys that exist, belong to the client's
//! provider, are enabled, current (not expired) and have a usable secret,
//! are in rotation on the [`KeyBoard`] (not auth-invalid or out of quota,
//! not cooling down; when every candidate is cooling down, those are tried
//! anyway), and have not been tried for this request yet. The
//! client key's [`Strategy`](crate::catalog::Strategy) ranks them; the first one still under its own
//! limits (QPS, tokens per day) is picked. When none is left the error
//! says why.

mod board;
mod status;
mod strategy;

use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;

pub use board::{KeyBoard, KeyHealthView, Unusable};
pub use status::HealthStatus;
pub use strategy::rank;

use crate::catalog::{Catalog, ClientKey, UpstreamKey};
use crate::limits::{LimitError, Limiter};

/// Why no key could be picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NoKey {
    #[error("no upstream keys are configured for this client key")]
    NoneConfigured,
    #[error("all upstream keys of this client key are disabled or expired")]
    AllDisabled,
    #[error("all upstream keys of this client key are unhealthy or cooling down")]
    AllUnhealthy,
    #[error("all upstream keys of this client key are at their limits")]
    AllLimited { retry_after: u64 },
    #[error("every usable upstream key was tried")]
    AllTried,
}

impl NoKey {
    pub fn reason(self) -> &'static str {
        match self {
            NoKey::NoneConfigured => "none configured",
            NoKey::AllDisabled => "all disabled or expired",
            NoKey::AllUnhealthy => "all unhealthy",
            NoKey::AllLimited { .. } => "all limited",
            NoKey::AllTried => "all tried",
        }
    }
}

/// What picking needs besides the request.
pub struct Scheduler<'a> {
    pub catalog: &'a Catalog,
    pub board: &'a KeyBoard,
    pub limiter: &'a Limiter,
}

impl Scheduler<'_> {
    /// The key to try next for `client`, skipping the ids in `tried`.
    pub async fn pick(&self, client: &ClientKey, tried: &[i32]) -> Result<Arc<UpstreamKey>, NoKey> {
        let configured: Vec<&Arc<UpstreamKey>> = client
            .pool
            .iter()
            .filter_map(|id| self.catalog.upstream_keys.get(id))
            .filter(|k| k.provider_id == client.provider_id)
            .collect();
        if configured.is_empty() {
            return Err(NoKey::NoneConfigured);
        }
        let now = Utc::now();
        let usable: Vec<&Arc<UpstreamKey>> = configured
            .into_iter()
            .filter(|k| k.enabled && k.secret.is_some() && k.expires_at.is_none_or(|at| at > now))
            .collect();
        if usable.is_empty() {
            return Err(NoKey::AllDisabled);
        }
        let untried: Vec<&Arc<UpstreamKey>> = usable
            .into_iter()
            .filter(|k| !tried.contains(&k.id))
            .collect();
        if untried.is_empty() {
            return Err(NoKey::AllTried);
        }
        let instant = Instant::now();
        let states: Vec<(&UpstreamKey, Option<Unusable>)> = untried
            .into_iter()
            .map(|k| (k.as_ref(), self.board.unusable(k.id, instant)))
            .collect();
        let mut healthy: Vec<&UpstreamKey> = states
            .iter()
            .filter(|(_, unusable)| unusable.is_none())
            .map(|(k, _)| *k)
            .collect();
        if healthy.is_empty() {
            // Panic mode: when every key is cooling down, trying one beats
            // refusing the client (one 5xx must not take a one-key pool
            // down); keys known to be broken (auth, quota) stay out.
            healthy = states
                .iter()
                .filter(|(_, unusable)| *unusable == Some(Unusable::CoolingDown))
                .map(|(k, _)| *k)
                .collect();
        }
        if healthy.is_empty() {
            return Err(NoKey::AllUnhealthy);
        }
        let mut retry_after = u64::MAX;
        for key in rank(client.strategy, healthy, &client.pool_state, self.board) {
            match self.limiter.admit_key(key.id, &key.limits).await {
                Ok(()) => {
                    return self
                        .catalog
                        .upstream_keys
                        .get(&key.id)
                        .cloned()
                        .ok_or(NoKey::AllTried);
                }
                Err(LimitError::Exceeded { retry_after: r, .. }) => {
                    retry_after = retry_after.min(r)
                }
                Err(LimitError::Unavailable) => retry_after = retry_after.min(1),
            }
        }
        Err(NoKey::AllLimited { retry_after })
    }
}

#[cfg(test)]
mod tests {
    use super::HealthStatus;
    use super::*;
    use crate::limits::KeyLimits;

    fn key(id: i32, enabled: bool) -> Arc<UpstreamKey> {
        Arc::new(UpstreamKey {
            enabled,
            ..UpstreamKey::test(id)
        })
    }

    fn client(pool: Vec<i32>) -> ClientKey {
        ClientKey {
            pool,
            ..ClientKey::test(1)
        }
    }

    async fn pick_ids(s: &Scheduler<'_>, c: &ClientKey, n: usize) -> Vec<i32> {
        let mut out = Vec::new();
        for _ in 0..n {
            if let Ok(k) = s.pick(c, &[]).await {
                out.push(k.id);
            }
        }
        out
    }

    #[tokio::test]
    async fn round_robin_skips_disabled_expired_and_tried_keys() {
        let mut catalog = Catalog::default();
        for (id, enabled) in [(1, true), (2, false), (3, true), (4, true)] {
            catalog.upstream_keys.insert(id, key(id, enabled));
        }
        catalog.upstream_keys.insert(
            4,
            Arc::new(UpstreamKey {
                expires_at: Some(Utc::now() - chrono::Duration::seconds(1)),
                ..UpstreamKey::test(4)
            }),
        );
        let (board, limiter) = (KeyBoard::default(), Limiter::in_memory());
        let s = Scheduler {
            catalog: &catalog,
            board: &board,
            limiter: &limiter,
        };
        let c = client(vec![1, 2, 3, 4]);
        assert_eq!(pick_ids(&s, &c, 4).await, [1, 3, 1, 3]);
        assert_eq!(s.pick(&c, &[1]).await.map(|k| k.id), Ok(3));
        assert_eq!(s.pick(&c, &[1, 3]).await.err(), Some(NoKey::AllTried));
    }

    #[tokio::test]
    async fn when_every_key_cools_down_one_is_tried_anyway_but_never_a_broken_one() {
        let mut catalog = Catalog::default();
        for id in [1, 2] {
            catalog.upstream_keys.insert(id, key(id, true));
        }
        let (board, limiter) = (KeyBoard::default(), Limiter::in_memory());
        board.record_failure(1, HealthStatus::ServerError, None, "500");
        board.record_failure(2, HealthStatus::AuthInvalid, None, "401");
        let s = Scheduler {
            catalog: &catalog,
            board: &board,
            limiter: &limiter,
        };
        let c = client(vec![1, 2]);
        assert_eq!(
            s.pick(&c, &[]).await.map(|k| k.id),
            Ok(1),
            "the cooling key, not the broken one"
        );
        assert_eq!(s.pick(&c, &[1]).await.err(), Some(NoKey::AllUnhealthy));
    }

    #[tokio::test]
    async fn every_empty_pool_says_why() {
        let mut catalog = Catalog::default();
        let (board, limiter) = (KeyBoard::default(), Limiter::in_memory());
        {
            let s = Scheduler {
                catalog: &catalog,
                board: &board,
                limiter: &limiter,
            };
            assert_eq!(
                s.pick(&client(vec![]), &[]).await.err(),
                Some(NoKey::NoneConfigured)
            );
        }
        catalog.upstream_keys.insert(1, key(1, false));
        catalog.upstream_keys.insert(2, key(2, true));
        catalog.upstream_keys.insert(
            3,
            Arc::new(UpstreamKey {
                limits: KeyLimits {
                    requests_per_second: None,
                    tokens_per_day: Some(10),
                },
                ..UpstreamKey::test(3)
            }),
        );
        let s = Scheduler {
            catalog: &catalog,
            board: &board,
            limiter: &limiter,
        };
        assert_eq!(
            s.pick(&client(vec![1]), &[]).await.err(),
            Some(NoKey::AllDisabled)
        );
        board.record_failure(2, HealthStatus::AuthInvalid, None, "401");
        assert_eq!(
            s.pick(&client(vec![2]), &[]).await.err(),
            Some(NoKey::AllUnhealthy)
        );
        // Key 3 may serve 10 tokens a day: once they are spent it is at its limit.
        let limited = client(vec![3]);
        assert_eq!(s.pick(&limited, &[]).await.map(|k| k.id), Ok(3));
        limiter.record_usage(1, Some(3), (10, 0), (0, 0)).await;
        assert!(matches!(
            s.pick(&limited, &[]).await,
            Err(NoKey::AllLimited { retry_after }) if retry_after > 0
        ));
    }
}
