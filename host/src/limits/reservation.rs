//! Tokens (and nano-USD) held against a client key's daily quotas while
//! its request runs, so concurrent requests cannot together overshoot a
//! nearly spent quota. A stream that may be cut at the quota grows what it
//! holds as it runs ([`Reservation::cover`]); everything is settled with
//! the real usage when the answer ends, or given back if the request ends
//! without an answer. Settling never holds up the request.

use std::sync::Arc;

use super::{BudgetShare, ClientLimits, LimitError, Limiter};

/// Bytes of request body counted as one prompt token in the estimate.
pub const BYTES_PER_TOKEN: usize = 4;
/// Output tokens reserved for every request on top of its prompt.
pub const RESERVED_OUTPUT_TOKENS: i64 = 256;
/// Tokens a growing reservation takes beyond what the stream needs right
/// now, so a long stream asks the counter store once per step, not once
/// per chunk. Near the quota's end it takes exactly what is needed.
pub const GROWTH_STEP_TOKENS: i64 = 64;

/// A request's token estimate: its body as prompt plus a fixed output.
pub fn estimate_tokens(body_len: usize) -> i64 {
    prompt_tokens(body_len).saturating_add(RESERVED_OUTPUT_TOKENS)
}

/// A request body's prompt estimate alone.
pub fn prompt_tokens(body_len: usize) -> i64 {
    i64::try_from(body_len.div_ceil(BYTES_PER_TOKEN)).unwrap_or(i64::MAX / 2)
}

/// What one request holds.
pub struct Reservation {
    limiter: Arc<Limiter>,
    client_id: i32,
    limits: ClientLimits,
    tokens: i64,
    cost: i64,
    /// What the request holds against its owner's and its team's budgets.
    budgets: Vec<BudgetShare>,
    settled: bool,
}

impl Reservation {
    /// Takes over what [`Limiter::admit_client`] reserved.
    pub fn new(
        limiter: Arc<Limiter>,
        client_id: i32,
        limits: ClientLimits,
        (tokens, cost): (i64, i64),
    ) -> Reservation {
        Reservation {
            limiter,
            client_id,
            limits,
            tokens,
            cost,
            budgets: Vec::new(),
            settled: false,
        }
    }

    /// Takes over what the budgets above the key hold too
    /// ([`Limiter::admit_with_budgets`]).
    pub fn with_budgets(mut self, budgets: Vec<BudgetShare>) -> Reservation {
        self.budgets = budgets;
        self
    }

    /// Whether the key or a budget above it has a cost quota (so the
    /// request's cost estimate is worth reserving).
    pub fn limits_cost(&self) -> bool {
        self.limits.cost_per_day.is_some() || self.budgets.iter().any(|b| b.budget.limits_cost())
    }

    /// Whether nothing at all is held (key or budgets).
    fn holds_nothing(&self) -> bool {
        self.tokens == 0
            && self.cost == 0
            && self.budgets.iter().all(|b| b.tokens == 0 && b.cost == 0)
    }

    /// Tokens and nano-USD held.
    pub fn held(&self) -> (i64, i64) {
        (self.tokens, self.cost)
    }

    /// Makes the reservation hold at least `tokens` and `cost_nanos` (of
    /// the quotas the key has), taking a step more when it grows. An error
    /// when the quota cannot hold them: the request's running usage has
    /// crossed what its client has left.
    pub async fn cover(&mut self, tokens: i64, cost_nanos: i64) -> Result<(), LimitError> {
        let need_tokens = self
            .limits
            .tokens_per_day
            .map_or(0, |_| (tokens - self.tokens).max(0));
        let need_cost = self
            .limits
            .cost_per_day
            .map_or(0, |_| (cost_nanos - self.cost).max(0));
        if need_tokens == 0 && need_cost == 0 {
            return Ok(());
        }
        // The step for cost is the same number of tokens at the request's
        // average price so far.
        let step_tokens = if need_tokens > 0 {
            GROWTH_STEP_TOKENS
        } else {
            0
        };
        let step_cost = if need_cost > 0 {
            cost_nanos.saturating_mul(GROWTH_STEP_TOKENS) / tokens.max(1)
        } else {
            0
        };
        let ahead = (
            need_tokens + step_tokens,
            need_cost.saturating_add(step_cost),
        );
        for (more_tokens, more_cost) in [ahead, (need_tokens, need_cost)] {
            match self
                .limiter
                .reserve_more(self.client_id, &self.limits, more_tokens, more_cost)
                .await
            {
                Ok(charged) => {
                    // Only what the store holds is ever given back.
                    if charged {
                        self.tokens += more_tokens;
                        self.cost = self.cost.saturating_add(more_cost);
                    }
                    return Ok(());
                }
                Err(LimitError::Exceeded { .. }) if (more_tokens, more_cost) == ahead => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Adds the cost estimate of a request whose model is now known: at
    /// most the whole cost quota, so a quota smaller than one estimate
    /// still admits a request when nothing is spent yet.
    pub async fn reserve_cost(&mut self, cost_nanos: i64) -> Result<(), LimitError> {
        if cost_nanos <= 0 {
            return Ok(());
        }
        let (client, shares) = self
            .limiter
            .reserve_cost_with_budgets(self.client_id, &self.limits, &self.budgets, cost_nanos)
            .await?;
        self.cost = self.cost.saturating_add(client);
        for (share, more) in self.budgets.iter_mut().zip(shares) {
            share.cost = share.cost.saturating_add(more);
        }
        Ok(())
    }

    /// Replaces the reservation by the real usage (in the background).
    pub fn settle(mut self, key_id: Option<i32>, tokens: i64, cost_nanos: i64) {
        self.settled = true;
        if tokens == 0 && cost_nanos == 0 && self.holds_nothing() {
            return;
        }
        let (limiter, client_id, held) = (self.limiter.clone(), self.client_id, self.held());
        let budgets = std::mem::take(&mut self.budgets);
        tokio::spawn(async move {
            limiter
                .record_usage(client_id, key_id, (tokens, cost_nanos), held)
                .await;
            limiter.settle_budgets(&budgets, (tokens, cost_nanos)).await;
        });
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.settled || self.holds_nothing() {
            return;
        }
        let (limiter, client_id, held) = (self.limiter.clone(), self.client_id, self.held());
        let budgets = std::mem::take(&mut self.budgets);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                limiter.record_usage(client_id, None, (0, 0), held).await;
                limiter.settle_budgets(&budgets, (0, 0)).await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(quota: i64) -> ClientLimits {
        ClientLimits {
            tokens_per_day: Some(quota),
            ..ClientLimits::default()
        }
    }

    async fn used(limiter: &Limiter) -> i64 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        limiter.client_usage_today(1).await.expect("usage").0
    }

    #[test]
    fn the_estimate_counts_the_body_and_a_fixed_output() {
        assert_eq!(estimate_tokens(0), RESERVED_OUTPUT_TOKENS);
        assert_eq!(estimate_tokens(1), RESERVED_OUTPUT_TOKENS + 1);
        assert_eq!(estimate_tokens(400), RESERVED_OUTPUT_TOKENS + 100);
    }

    #[tokio::test]
    async fn a_reservation_blocks_overshoot_and_settles_to_the_real_usage() {
        let limiter = Arc::new(Limiter::in_memory());
        let limits = tokens(1000);
        let first = limiter
            .admit_client(1, &limits, (600, 0))
            .await
            .expect("fits");
        assert_eq!(first, (600, 0));
        assert!(
            limiter.admit_client(1, &limits, (600, 0)).await.is_err(),
            "600 + 600 > 1000"
        );
        Reservation::new(limiter.clone(), 1, limits, first).settle(Some(9), 50, 0);
        assert_eq!(used(&limiter).await, 50);
        let second = limiter
            .admit_client(1, &limits, (600, 0))
            .await
            .expect("fits now");
        drop(Reservation::new(limiter.clone(), 1, limits, second));
        assert_eq!(used(&limiter).await, 50, "given back");
    }

    #[tokio::test]
    async fn a_growing_reservation_steps_ahead_then_stops_exactly_at_the_quota() {
        let limiter = Arc::new(Limiter::in_memory());
        let limits = tokens(500);
        let held = limiter
            .admit_client(1, &limits, (300, 0))
            .await
            .expect("fits");
        let mut reservation = Reservation::new(limiter.clone(), 1, limits, held);
        reservation
            .cover(250, 0)
            .await
            .expect("within what is held");
        assert_eq!(reservation.held(), (300, 0), "no store call needed");
        reservation.cover(301, 0).await.expect("grows");
        assert_eq!(reservation.held(), (301 + GROWTH_STEP_TOKENS, 0));
        reservation.cover(500, 0).await.expect("exactly the quota");
        assert_eq!(reservation.held(), (500, 0), "no step past the quota");
        assert!(matches!(
            reservation.cover(501, 0).await,
            Err(LimitError::Exceeded {
                limit: "tokens_per_day",
                ..
            })
        ));
        reservation.settle(Some(2), 501, 0);
        assert_eq!(used(&limiter).await, 501, "settled to the usage at the cut");
    }

    #[tokio::test]
    async fn a_cost_estimate_is_reserved_up_to_the_cost_quota() {
        let limiter = Arc::new(Limiter::in_memory());
        let limits = ClientLimits {
            cost_per_day: Some(1_000),
            ..ClientLimits::default()
        };
        let first = limiter
            .admit_client(1, &limits, (50, 600))
            .await
            .expect("fits");
        assert_eq!(first, (0, 600), "tokens are not limited, cost is held");
        assert!(
            limiter.admit_client(1, &limits, (50, 401)).await.is_err(),
            "600 + 401 > 1000"
        );
        let second = limiter
            .admit_client(1, &limits, (50, 400))
            .await
            .expect("600 + 400 = 1000 fits exactly");
        Reservation::new(limiter.clone(), 1, limits, first).settle(Some(1), 50, 30);
        drop(Reservation::new(limiter.clone(), 1, limits, second));
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert_eq!(
            limiter.client_usage_today(1).await.expect("usage").1,
            30,
            "settled to the real cost, the other reservation given back"
        );
        let big = limiter
            .admit_client(2, &limits, (50, 5_000))
            .await
            .expect("an estimate over a fresh quota is held at the quota");
        assert_eq!(big, (0, 1_000));
    }

    /// A store whose charges fail (Redis timing out on the script) while
    /// plain additions still land.
    struct ChargesFail(crate::limits::MemoryStore);

    #[async_trait::async_trait]
    impl crate::limits::CounterStore for ChargesFail {
        async fn try_charge(
            &self,
            _: &[crate::limits::Charge],
            _: chrono::DateTime<chrono::Utc>,
        ) -> Result<Result<(), crate::limits::Refused>, crate::limits::StoreError> {
            Err(crate::limits::StoreError("timed out".into()))
        }
        async fn add(
            &self,
            charges: &[crate::limits::Charge],
            now: chrono::DateTime<chrono::Utc>,
        ) -> Result<(), crate::limits::StoreError> {
            self.0.add(charges, now).await
        }
        async fn current(
            &self,
            charges: &[crate::limits::Charge],
            now: chrono::DateTime<chrono::Utc>,
        ) -> Result<Vec<i64>, crate::limits::StoreError> {
            self.0.current(charges, now).await
        }
    }

    #[tokio::test]
    async fn a_request_admitted_without_the_store_gives_back_nothing_it_never_held() {
        use chrono::Offset;
        let store = Arc::new(ChargesFail(crate::limits::MemoryStore::default()));
        let limiter = Arc::new(Limiter::new(
            store,
            chrono::Utc.fix(),
            crate::limits::FailurePolicy::Open,
        ));
        let limits = tokens(1000);
        let held = limiter
            .admit_client(1, &limits, (600, 0))
            .await
            .expect("fails open");
        assert_eq!(held, (0, 0), "nothing was reserved");
        let mut reservation = Reservation::new(limiter.clone(), 1, limits, held);
        reservation.cover(700, 0).await.expect("fails open");
        assert_eq!(reservation.held(), (0, 0), "nothing was reserved");
        reservation.settle(Some(1), 50, 0);
        assert_eq!(used(&limiter).await, 50, "charged the usage, no refund");
    }

    #[tokio::test]
    async fn only_the_quotas_a_key_has_are_grown() {
        let limiter = Arc::new(Limiter::in_memory());
        let limits = ClientLimits {
            cost_per_day: Some(1_000),
            ..ClientLimits::default()
        };
        let mut reservation = Reservation::new(limiter.clone(), 1, limits, (0, 0));
        reservation.cover(10_000, 400).await.expect("cost fits");
        assert_eq!(reservation.held().0, 0, "tokens are not limited");
        assert!(reservation.held().1 >= 400);
        assert!(reservation.cover(10_000, 1_001).await.is_err());
    }
}
