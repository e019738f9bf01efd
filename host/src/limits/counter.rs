//! Counters behind every limit, and the one interface both back ends
//! (in-process and Redis) implement.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::window::Window;

/// One counter a request adds to, and the most it may reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    /// Stable name of what is counted, such as `ck:12:rpm`.
    pub name: String,
    pub window: Window,
    pub amount: i64,
    /// `None`: counted, never refused.
    pub limit: Option<i64>,
}

impl Charge {
    /// The counter's key in the window `now` falls in, and the seconds
    /// that window has left.
    pub fn key(&self, now: DateTime<Utc>) -> (String, u64) {
        let (index, left) = self.window.locate(now);
        (format!("{}:{}{index}", self.name, self.window.tag()), left)
    }

    /// Whether adding this charge to `current` stays within the limit. A
    /// charge of zero is a check that the counter is not yet at its limit.
    pub fn fits(&self, current: i64) -> bool {
        self.limit
            .is_none_or(|limit| current.saturating_add(self.amount.max(1)) <= limit)
    }
}

/// A charge that did not fit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// Index of the charge in the list given.
    pub index: usize,
    /// Seconds until its window ends.
    pub retry_after: u64,
}

/// The counter back end could not answer.
#[derive(Debug, Clone, thiserror::Error)]
#[error("rate-limit store unavailable: {0}")]
pub struct StoreError(pub String);

/// Where counters live.
#[async_trait]
pub trait CounterStore: Send + Sync {
    /// Applies every charge if all of them fit, none otherwise, atomically
    /// with respect to every other caller (on every instance sharing the
    /// store).
    async fn try_charge(
        &self,
        charges: &[Charge],
        now: DateTime<Utc>,
    ) -> Result<Result<(), Refused>, StoreError>;

    /// Adds the charges whatever the limits (usage known only afterwards;
    /// negative amounts give back a reservation).
    async fn add(&self, charges: &[Charge], now: DateTime<Utc>) -> Result<(), StoreError>;

    /// Current values of the charges' counters.
    async fn current(&self, charges: &[Charge], now: DateTime<Utc>)
    -> Result<Vec<i64>, StoreError>;

    /// Whether a charge may be applied without asking the back end (from
    /// a lease): then its success says nothing of the back end's health.
    fn answers_locally(&self) -> bool {
        false
    }

    /// How often [`CounterStore::sync`] should run, for a store that
    /// keeps work for later (leases to give back, usage to push).
    fn sync_period(&self) -> Option<std::time::Duration> {
        None
    }

    /// Does the kept work; `all` at shutdown: gives back every lease.
    /// `None` when nothing was asked of the store.
    async fn sync(&self, _all: bool) -> Option<Result<(), StoreError>> {
        None
    }
}
