//! Rate limits and quotas: per client key (requests per second, minute
//! and day; tokens and cost per day) and per upstream key (requests per
//! second, tokens per day).
//!
//! Request counts are charged before forwarding, all of a group or none,
//! so concurrent requests cannot overshoot. Tokens and cost are known only
//! as the answer goes by: an estimate is reserved before forwarding
//! ([`Reservation`]), a stream whose client key cuts at its quota grows the
//! reservation as it runs ([`Reservation::cover`]), and the real usage
//! replaces it when the answer ends, so a day's token or cost quota
//! refuses the next request once it is spent. Counters live in-process or
//! in Redis (shared by every instance) behind [`CounterStore`]; with Redis,
//! each instance admits from leases of every limit ([`LeasedStore`]), so
//! most requests never wait on Redis. When Redis
//! cannot answer, the operator's policy decides: fail open (admit, and log
//! once) or fail closed (503); either way the limiter recovers by itself
//! when Redis answers again. Budgets of users and teams ([`Budget`]) are
//! charged in the same atomic step as the client key's own limits.

mod budget;
mod budget_alerts;
mod budget_scope;
mod counter;
mod in_flight;
mod lease;
mod leased_store;
mod memory;
mod overrun;
mod redis_store;
mod release;
mod reservation;
mod sync;
mod window;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{FixedOffset, Offset, Utc};

pub use budget::{Budget, BudgetLimits, BudgetLine, BudgetScope, BudgetShare, Measure};
pub use budget_alerts::{AlertRecorder, BudgetAlert};
pub use counter::{Charge, CounterStore, Refused, StoreError};
pub use in_flight::{
    InFlight, InFlightPermit, RESERVED_FILES, SHED_LOG_INTERVAL, default_in_flight, open_file_limit,
};
pub use lease::{
    DEFAULT_LEASE_FRACTION, DEFAULT_LEASE_TIME, LeaseConfig, MAX_LEASE_FRACTION, MAX_LEASE_TIME,
    MIN_LEASE_TIME,
};
pub use leased_store::LeasedStore;
pub use memory::MemoryStore;
pub use overrun::QuotaOverrun;
pub use redis_store::RedisStore;
pub use release::ReleaseAtShutdown;
pub use reservation::{
    GROWTH_STEP_TOKENS, RESERVED_OUTPUT_TOKENS, Reservation, estimate_tokens, prompt_tokens,
};
pub use window::{Window, parse_offset};

use sync::observe;

/// A client key's limits; `None` is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientLimits {
    pub requests_per_second: Option<i64>,
    pub requests_per_minute: Option<i64>,
    pub requests_per_day: Option<i64>,
    pub tokens_per_day: Option<i64>,
    /// Nano-USD.
    pub cost_per_day: Option<i64>,
}

/// An upstream key's limits; `None` is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyLimits {
    pub requests_per_second: Option<i64>,
    pub tokens_per_day: Option<i64>,
}

/// Why a request may not go ahead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error("{limit} limit reached")]
    Exceeded {
        /// The limit's name as the API spells it.
        limit: &'static str,
        retry_after: u64,
    },
    #[error("the rate-limit store is unavailable")]
    Unavailable,
}

/// What to do when the counter store cannot answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailurePolicy {
    Open,
    Closed,
}

/// Checks and counts limits.
pub struct Limiter {
    store: Arc<dyn CounterStore>,
    day: Window,
    policy: FailurePolicy,
    degraded: Arc<AtomicBool>,
    /// Budgets count calendar months in the same time zone as days.
    month: Window,
    alerts: budget_alerts::Alerts,
}

struct Named {
    limit_name: &'static str,
    charge: Charge,
}

fn named(
    limit_name: &'static str,
    name: String,
    window: Window,
    amount: i64,
    limit: Option<i64>,
) -> Named {
    Named {
        limit_name,
        charge: Charge {
            name,
            window,
            amount,
            limit,
        },
    }
}

impl Limiter {
    pub fn new(
        store: Arc<dyn CounterStore>,
        day_offset: FixedOffset,
        policy: FailurePolicy,
    ) -> Limiter {
        let degraded = Arc::new(AtomicBool::new(false));
        sync::start(&store, degraded.clone(), policy);
        Limiter {
            store,
            day: Window::Day(day_offset),
            policy,
            degraded,
            month: Window::Month(day_offset),
            alerts: budget_alerts::Alerts::default(),
        }
    }

    /// An in-process limiter with days in UTC, failing open (tests, tools).
    pub fn in_memory() -> Limiter {
        Limiter::new(
            Arc::new(MemoryStore::default()),
            Utc.fix(),
            FailurePolicy::Open,
        )
    }

    /// Counts one request of client key `id` and reserves its estimated
    /// `(tokens, cost in nano-USD)` against its daily token and cost
    /// quotas (those it has), or says which limit it hits. Returns what
    /// was reserved, to be settled by [`Limiter::record_usage`] when the
    /// request ends.
    pub async fn admit_client(
        &self,
        id: i32,
        limits: &ClientLimits,
        (tokens, cost): (i64, i64),
    ) -> Result<(i64, i64), LimitError> {
        self.admit_with_budgets(id, limits, &[], (tokens, cost))
            .await
            .map(|(client, _)| client)
    }

    /// The client key's checks, reserving `reserved` `(tokens, cost)`.
    fn client_checks(&self, id: i32, limits: &ClientLimits, reserved: (i64, i64)) -> [Named; 5] {
        [
            named(
                "requests_per_second",
                format!("ck:{id}:rps"),
                Window::Second,
                1,
                limits.requests_per_second,
            ),
            named(
                "requests_per_minute",
                format!("ck:{id}:rpm"),
                Window::Minute,
                1,
                limits.requests_per_minute,
            ),
            named(
                "requests_per_day",
                format!("ck:{id}:rpd"),
                self.day,
                1,
                limits.requests_per_day,
            ),
            named(
                "tokens_per_day",
                format!("ck:{id}:tpd"),
                self.day,
                reserved.0,
                limits.tokens_per_day,
            ),
            named(
                "cost_per_day",
                format!("ck:{id}:cpd"),
                self.day,
                reserved.1,
                limits.cost_per_day,
            ),
        ]
    }

    /// Counts one request on upstream key `id`, or says which limit it hits.
    pub async fn admit_key(&self, id: i32, limits: &KeyLimits) -> Result<(), LimitError> {
        if *limits == KeyLimits::default() {
            return Ok(());
        }
        let checks = [
            named(
                "requests_per_second",
                format!("pk:{id}:rps"),
                Window::Second,
                1,
                limits.requests_per_second,
            ),
            named(
                "tokens_per_day",
                format!("pk:{id}:tpd"),
                self.day,
                0,
                limits.tokens_per_day,
            ),
        ];
        self.admit(&checks).await.map(|_| ())
    }

    /// Reserves `tokens` more tokens and `cost_nanos` more nano-USD of
    /// client key `id`'s daily quotas, both or neither. Only quotas the
    /// key has are charged; a zero amount is not charged. `Ok(false)` when
    /// the request goes ahead although nothing was reserved (the store
    /// failed and the policy is to fail open).
    pub async fn reserve_more(
        &self,
        id: i32,
        limits: &ClientLimits,
        tokens: i64,
        cost_nanos: i64,
    ) -> Result<bool, LimitError> {
        let checks: Vec<Named> = [
            named(
                "tokens_per_day",
                format!("ck:{id}:tpd"),
                self.day,
                tokens,
                limits.tokens_per_day,
            ),
            named(
                "cost_per_day",
                format!("ck:{id}:cpd"),
                self.day,
                cost_nanos,
                limits.cost_per_day,
            ),
        ]
        .into_iter()
        .filter(|c| c.charge.amount > 0)
        .collect();
        self.admit(&checks).await
    }

    /// Adds a finished request's tokens and cost to today's counters and
    /// gives back what was reserved for it (`key_id` is `None` when no
    /// upstream key answered).
    pub async fn record_usage(
        &self,
        client_id: i32,
        key_id: Option<i32>,
        (tokens, cost_nanos): (i64, i64),
        (reserved_tokens, reserved_cost): (i64, i64),
    ) {
        let mut charges = vec![
            Charge {
                name: format!("ck:{client_id}:tpd"),
                window: self.day,
                amount: tokens - reserved_tokens,
                limit: None,
            },
            Charge {
                name: format!("ck:{client_id}:cpd"),
                window: self.day,
                amount: cost_nanos - reserved_cost,
                limit: None,
            },
        ];
        if let Some(key_id) = key_id {
            charges.push(Charge {
                name: format!("pk:{key_id}:tpd"),
                window: self.day,
                amount: tokens,
                limit: None,
            });
        }
        let result = self.store.add(&charges, Utc::now()).await;
        self.observe(result.err().as_ref());
    }

    /// Today's tokens and cost (nano-USD) of client key `id`.
    pub async fn client_usage_today(&self, id: i32) -> Result<(i64, i64), StoreError> {
        let charges = [
            Charge {
                name: format!("ck:{id}:tpd"),
                window: self.day,
                amount: 0,
                limit: None,
            },
            Charge {
                name: format!("ck:{id}:cpd"),
                window: self.day,
                amount: 0,
                limit: None,
            },
        ];
        let values = self.store.current(&charges, Utc::now()).await?;
        Ok((
            values.first().copied().unwrap_or(0),
            values.get(1).copied().unwrap_or(0),
        ))
    }

    /// Charges every check or none; `Ok(true)` when they were charged,
    /// `Ok(false)` when the store failed and the policy admits anyway.
    async fn admit(&self, checks: &[Named]) -> Result<bool, LimitError> {
        let limited: Vec<&Named> = checks.iter().filter(|c| c.charge.limit.is_some()).collect();
        if limited.is_empty() {
            return Ok(true);
        }
        let charges: Vec<Charge> = limited.iter().map(|c| c.charge.clone()).collect();
        match self.store.try_charge(&charges, Utc::now()).await {
            Ok(Ok(())) => {
                if !self.store.answers_locally() {
                    self.observe(None);
                }
                Ok(true)
            }
            Ok(Err(Refused { index, retry_after })) => {
                self.observe(None);
                Err(LimitError::Exceeded {
                    limit: limited.get(index).map_or("rate", |c| c.limit_name),
                    retry_after,
                })
            }
            Err(e) => {
                self.observe(Some(&e));
                match self.policy {
                    FailurePolicy::Open => Ok(false),
                    FailurePolicy::Closed => Err(LimitError::Unavailable),
                }
            }
        }
    }

    fn observe(&self, error: Option<&StoreError>) {
        observe(&self.degraded, self.policy, error);
    }

    /// Whether the store failed on its last use.
    pub fn degraded(&self) -> bool {
        self.degraded.load(Ordering::Relaxed)
    }
}
