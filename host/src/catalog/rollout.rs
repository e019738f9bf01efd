//! A provider's candidate plugin version on its way to serving everyone:
//! in shadow (it sees a sample of the provider's traffic after the answer
//! went out, and only its verdicts are kept) or in canary (it serves a
//! percentage of the provider's client keys, each key always the same way).
//!
//! Read from `plugin_rollouts` with every catalog load, so a change made on
//! one instance applies on every instance within the configuration poll.
//! A candidate that is disabled (by an operator or the failure guard) or
//! fails to load is simply absent: its provider's traffic all goes to the
//! serving version again.

use std::collections::HashMap;
use std::sync::Arc;

use super::Provider;
use crate::plugins::LoadedPlugin;
use crate::store::catalog_read::RolloutRow;

/// The stage names stored and shown.
pub const STAGE_SHADOW: &str = "shadow";
pub const STAGE_CANARY: &str = "canary";

/// Buckets client keys are spread over for a canary (a percentage).
pub const CANARY_BUCKETS: u64 = 100;

/// Where a candidate is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stage {
    /// Shown this share (0 to 1) of the provider's requests, after the
    /// answer; serves none.
    Shadow { sample: f64 },
    /// Serves the client keys whose bucket is below `percent`.
    Canary { percent: u8 },
}

/// A provider's candidate version.
pub struct Rollout {
    /// The candidate's `plugins` row.
    pub plugin_id: i32,
    pub candidate: Arc<LoadedPlugin>,
    pub stage: Stage,
}

/// The canary bucket (0 to 99) of a client key: a fixed mix of its id, the
/// same on every instance and every release, so a key stays on one side of
/// a canary, and a key in at 10 % is still in at 20 %.
pub fn canary_bucket(client_key_id: i32) -> u64 {
    // splitmix64's finaliser: every bit of the id moves every bucket bit.
    let mut z = u64::from(client_key_id.unsigned_abs()).wrapping_add(0x9E37_79B9_7F4A_7C15);
    if client_key_id < 0 {
        z = !z;
    }
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) % CANARY_BUCKETS
}

impl Provider {
    /// The version that serves client key `client_key_id`: the candidate
    /// when it is in canary and the key's bucket is in, else the provider's.
    pub fn plugin_for(&self, client_key_id: i32) -> Option<Arc<LoadedPlugin>> {
        if let Some(rollout) = &self.rollout
            && let Stage::Canary { percent } = rollout.stage
            && canary_bucket(client_key_id) < u64::from(percent)
        {
            return Some(rollout.candidate.clone());
        }
        self.plugin.clone()
    }

    /// The candidate to show this request to in shadow, when the provider
    /// has one and the request falls in its sample.
    pub fn shadow_candidate(&self) -> Option<&Rollout> {
        let rollout = self.rollout.as_deref()?;
        match rollout.stage {
            Stage::Shadow { sample } if sample >= 1.0 || rand::random::<f64>() < sample => {
                Some(rollout)
            }
            _ => None,
        }
    }
}

/// Every provider's rollout whose candidate is enabled and loaded;
/// `versions` are the enabled versions by plugin name.
pub fn rollouts(
    rows: Vec<RolloutRow>,
    versions: &HashMap<String, Vec<Arc<LoadedPlugin>>>,
) -> HashMap<i32, Arc<Rollout>> {
    let mut out = HashMap::new();
    for RolloutRow {
        rollout: row,
        candidate,
    } in rows
    {
        let Some((name, version)) = candidate else {
            continue;
        };
        let Some(candidate) = versions
            .get(&name)
            .and_then(|list| list.iter().find(|p| p.version == version))
        else {
            continue;
        };
        let stage = match row.stage.as_str() {
            STAGE_CANARY => Stage::Canary {
                percent: u8::try_from(row.canary_percent.clamp(0, 100)).unwrap_or(0),
            },
            _ => Stage::Shadow {
                sample: row.shadow_sample.clamp(0.0, 1.0),
            },
        };
        let rollout = Rollout {
            plugin_id: row.plugin_id,
            candidate: candidate.clone(),
            stage,
        };
        out.insert(row.provider_id, Arc::new(rollout));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canary_buckets_are_fixed_and_spread_over_every_percentage() {
        assert_eq!(
            canary_bucket(7),
            canary_bucket(7),
            "the same key, the same side"
        );
        let mut counts = [0u32; CANARY_BUCKETS as usize];
        for id in 1..=10_000 {
            let bucket = canary_bucket(id);
            assert!(bucket < CANARY_BUCKETS);
            counts[bucket as usize] += 1;
        }
        // 100 keys a bucket on average; none empty, none crowded.
        assert!(
            counts.iter().all(|&c| (50..=150).contains(&c)),
            "{counts:?}"
        );
        let in_at = |percent: u64| (1..=1000).filter(|&id| canary_bucket(id) < percent).count();
        assert_eq!(in_at(0), 0, "0 % serves no key");
        assert_eq!(in_at(CANARY_BUCKETS), 1000, "100 % serves every key");
        assert!((50..=150).contains(&in_at(10)), "about a tenth at 10 %");
        assert!(canary_bucket(-1) < CANARY_BUCKETS);
    }

    #[test]
    fn a_key_in_the_canary_stays_in_when_the_percentage_grows() {
        for id in 1..=1000 {
            let bucket = canary_bucket(id);
            for (low, high) in [(5u64, 10u64), (10, 50), (50, 100)] {
                if bucket < low {
                    assert!(bucket < high);
                }
            }
        }
    }
}
