//! How a client key's pool of upstream keys is served: the strategy the
//! operator chose, and the rotation state kept with the client key so that
//! turns continue across requests. The catalog owns both because they
//! belong to the client key's configuration; the scheduler
//! (`scheduler::rank`) reads them to order the keys.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

/// How a client key's pool is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// Each key in turn.
    #[default]
    RoundRobin,
    /// In proportion to the keys' weights, spread evenly (smooth weighted
    /// round robin, as nginx does it).
    Weighted,
    /// The key with the best health score, then the lowest recent latency.
    BestHealth,
}

impl Strategy {
    pub const NAMES: [&'static str; 3] = ["round_robin", "weighted", "best_health"];

    pub fn parse(name: &str) -> Option<Strategy> {
        match name {
            "round_robin" => Some(Strategy::RoundRobin),
            "weighted" => Some(Strategy::Weighted),
            "best_health" => Some(Strategy::BestHealth),
            _ => None,
        }
    }
}

/// Per-client-key scheduling state.
#[derive(Default)]
pub struct PoolState {
    /// Round-robin position.
    next: AtomicUsize,
    /// Smooth weighted round robin: each key's current weight.
    current: Mutex<HashMap<i32, i64>>,
}

impl PoolState {
    /// The next round-robin position (each call moves it on).
    pub fn turn(&self) -> usize {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    /// Smooth weighted round robin's current weight of each key, by key id.
    pub fn weights(&self) -> MutexGuard<'_, HashMap<i32, i64>> {
        match self.current.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}
