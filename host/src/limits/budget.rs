//! Budgets above client keys: a user (the key's owner) and a team (the
//! key's team) may each have requests, tokens and cost per day and per
//! calendar month. A request is admitted only when its key, its owner's
//! budget and its team's budget all have room, in one atomic charge of
//! the counter store (in process, or in Redis for every instance), so
//! concurrent requests of several keys cannot together overshoot a nearly
//! spent budget. Tokens and cost are reserved as an estimate at admission
//! and settled to the real usage at the end, like a client key's daily
//! quotas; a budget never cuts a running stream (the next request is
//! refused instead).

use std::sync::Arc;

use chrono::Utc;

pub use super::budget_scope::BudgetScope;
use super::counter::Charge;
use super::window::Window;
use super::{ClientLimits, LimitError, Limiter, Named, named};

/// What a budget line counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    Requests,
    Tokens,
    /// Nano-USD.
    Cost,
}

impl Measure {
    fn tag(self) -> &'static str {
        match self {
            Measure::Requests => "rq",
            Measure::Tokens => "tk",
            Measure::Cost => "co",
        }
    }
}

/// Over how long a budget line counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Period {
    Day,
    Month,
}

/// Every line a budget may have, in the order of [`BudgetLimits::values`].
const LINES: [(Measure, Period); 6] = [
    (Measure::Requests, Period::Day),
    (Measure::Requests, Period::Month),
    (Measure::Tokens, Period::Day),
    (Measure::Tokens, Period::Month),
    (Measure::Cost, Period::Day),
    (Measure::Cost, Period::Month),
];

/// A budget's limits; `None` is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BudgetLimits {
    pub requests_per_day: Option<i64>,
    pub requests_per_month: Option<i64>,
    pub tokens_per_day: Option<i64>,
    pub tokens_per_month: Option<i64>,
    /// Nano-USD.
    pub cost_per_day: Option<i64>,
    /// Nano-USD.
    pub cost_per_month: Option<i64>,
}

impl BudgetLimits {
    fn values(&self) -> [Option<i64>; 6] {
        [
            self.requests_per_day,
            self.requests_per_month,
            self.tokens_per_day,
            self.tokens_per_month,
            self.cost_per_day,
            self.cost_per_month,
        ]
    }
}

/// A user's or a team's budget, as the proxy enforces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    pub scope: BudgetScope,
    /// The user's or the team's id.
    pub subject_id: i32,
    pub limits: BudgetLimits,
    /// Share of a limit (in percent) past which an alert is recorded once
    /// per period.
    pub alert_percent: u8,
}

/// One limit a budget has, and its counter.
#[derive(Debug, Clone)]
pub struct BudgetLine {
    /// The name refusals and alerts give, such as `team_cost_per_month`.
    pub name: &'static str,
    pub measure: Measure,
    pub window: Window,
    pub limit: i64,
    counter: String,
}

impl BudgetLine {
    /// This line's counter, adding `amount` (checked against the limit or not).
    fn charge(&self, amount: i64, checked: bool) -> Charge {
        Charge {
            name: self.counter.clone(),
            window: self.window,
            amount,
            limit: checked.then_some(self.limit),
        }
    }
}

/// What one request holds against one budget.
#[derive(Debug, Clone)]
pub struct BudgetShare {
    pub budget: Arc<Budget>,
    pub tokens: i64,
    pub cost: i64,
}

impl Budget {
    /// The limits this budget has, with their counters.
    pub fn lines(&self, limiter: &Limiter) -> Vec<BudgetLine> {
        let names = self.scope.limit_names();
        LINES
            .iter()
            .zip(names)
            .zip(self.limits.values())
            .filter_map(|(((measure, period), name), limit)| {
                Some(BudgetLine {
                    name,
                    measure: *measure,
                    window: match period {
                        Period::Day => limiter.day,
                        Period::Month => limiter.month,
                    },
                    limit: limit?,
                    counter: format!(
                        "{}:{}:{}",
                        self.scope.prefix(),
                        self.subject_id,
                        measure.tag()
                    ),
                })
            })
            .collect()
    }

    /// The smallest limit of `measure`, if the budget limits it.
    fn quota(&self, measure: Measure) -> Option<i64> {
        LINES
            .iter()
            .zip(self.limits.values())
            .filter(|((m, _), _)| *m == measure)
            .filter_map(|(_, limit)| limit)
            .min()
    }

    /// What a request of `estimate` holds: at most the smallest quota of
    /// each measure, so a quota below one estimate still admits a request
    /// when nothing is spent yet; nothing of a measure it does not limit.
    fn held(&self, (tokens, cost): (i64, i64)) -> (i64, i64) {
        let clamp = |quota: Option<i64>, v: i64| quota.map_or(0, |q| v.clamp(0, q.max(0)));
        (
            clamp(self.quota(Measure::Tokens), tokens),
            clamp(self.quota(Measure::Cost), cost),
        )
    }

    /// Whether the budget limits cost (and so needs a cost estimate).
    pub fn limits_cost(&self) -> bool {
        self.quota(Measure::Cost).is_some()
    }
}

/// The checks of `share` reserving its tokens and cost; request lines
/// count one when `requests`.
fn share_checks(limiter: &Limiter, share: &BudgetShare, requests: bool) -> Vec<Named> {
    share
        .budget
        .lines(limiter)
        .into_iter()
        .filter_map(|line| {
            let amount = match line.measure {
                Measure::Requests if requests => 1,
                Measure::Requests => return None,
                Measure::Tokens => share.tokens,
                Measure::Cost => share.cost,
            };
            Some(named(
                line.name,
                line.counter,
                line.window,
                amount,
                Some(line.limit),
            ))
        })
        .collect()
}

impl Limiter {
    /// The calendar month budgets count in.
    pub fn month(&self) -> Window {
        self.month
    }

    /// Counts one request of client key `id` against its own limits and
    /// the `budgets` above it, reserving the estimated `(tokens, cost)`,
    /// all in one atomic charge; or says which limit (or budget) is spent.
    /// Returns what the key and each budget hold.
    pub async fn admit_with_budgets(
        &self,
        id: i32,
        limits: &ClientLimits,
        budgets: &[Arc<Budget>],
        (tokens, cost): (i64, i64),
    ) -> Result<((i64, i64), Vec<BudgetShare>), LimitError> {
        let held = |quota: Option<i64>, estimate: i64| {
            quota.map_or(0, |quota| estimate.clamp(0, quota.max(0)))
        };
        let reserved = (
            held(limits.tokens_per_day, tokens),
            held(limits.cost_per_day, cost),
        );
        let shares: Vec<BudgetShare> = budgets
            .iter()
            .map(|b| {
                let (tokens, cost) = b.held((tokens, cost));
                BudgetShare {
                    budget: b.clone(),
                    tokens,
                    cost,
                }
            })
            .collect();
        if *limits == ClientLimits::default()
            && shares.iter().all(|s| s.budget.lines(self).is_empty())
        {
            return Ok(((0, 0), shares_emptied(shares)));
        }
        let mut checks: Vec<Named> = self.client_checks(id, limits, reserved).into();
        for share in &shares {
            checks.extend(share_checks(self, share, true));
        }
        // Admitted without the store (failing open): nothing is held, so
        // nothing may be given back when the request settles.
        match self.admit(&checks).await? {
            true => Ok((reserved, shares)),
            false => Ok(((0, 0), shares_emptied(shares))),
        }
    }

    /// Reserves `cost` more nano-USD of the client key's daily cost quota
    /// (when it has one) and of every budget in `shares` that limits cost
    /// (at most its smallest cost quota), all or none. Returns what was
    /// added to the client's and to each share's hold.
    pub(super) async fn reserve_cost_with_budgets(
        &self,
        id: i32,
        limits: &ClientLimits,
        shares: &[BudgetShare],
        cost: i64,
    ) -> Result<(i64, Vec<i64>), LimitError> {
        let client = limits.cost_per_day.map_or(0, |q| cost.clamp(0, q.max(0)));
        let more: Vec<BudgetShare> = shares
            .iter()
            .map(|s| BudgetShare {
                budget: s.budget.clone(),
                tokens: 0,
                cost: s.budget.held((0, cost)).1,
            })
            .collect();
        let mut checks: Vec<Named> = Vec::new();
        if client > 0 {
            checks.push(named(
                "cost_per_day",
                format!("ck:{id}:cpd"),
                self.day,
                client,
                limits.cost_per_day,
            ));
        }
        for share in more.iter().filter(|s| s.cost > 0) {
            checks.extend(
                share_checks(self, share, false)
                    .into_iter()
                    .filter(|c| c.charge.amount > 0),
            );
        }
        if checks.is_empty() {
            return Ok((0, vec![0; shares.len()]));
        }
        if self.admit(&checks).await? {
            Ok((client, more.iter().map(|s| s.cost).collect()))
        } else {
            Ok((0, vec![0; shares.len()]))
        }
    }

    /// Adds a finished request's `used` tokens and cost to its budgets'
    /// counters in place of what each held, then records an alert for
    /// every line past its budget's threshold (once per period).
    pub async fn settle_budgets(&self, shares: &[BudgetShare], (tokens, cost): (i64, i64)) {
        let mut charges: Vec<Charge> = Vec::new();
        for share in shares {
            for line in share.budget.lines(self) {
                let amount = match line.measure {
                    Measure::Requests => continue,
                    Measure::Tokens => tokens - share.tokens,
                    Measure::Cost => cost - share.cost,
                };
                if amount != 0 {
                    charges.push(line.charge(amount, false));
                }
            }
        }
        if !charges.is_empty() {
            let result = self.store.add(&charges, Utc::now()).await;
            self.observe(result.err().as_ref());
        }
        for share in shares {
            self.check_alerts(&share.budget).await;
        }
    }

    /// Each line of `budget` with what is used of it in the current period.
    pub async fn budget_usage(
        &self,
        budget: &Budget,
    ) -> Result<Vec<(BudgetLine, i64)>, super::StoreError> {
        let lines = budget.lines(self);
        let charges: Vec<Charge> = lines.iter().map(|l| l.charge(0, false)).collect();
        let values = self.store.current(&charges, Utc::now()).await?;
        Ok(lines.into_iter().zip(values).collect())
    }
}

/// The shares with nothing held.
fn shares_emptied(shares: Vec<BudgetShare>) -> Vec<BudgetShare> {
    shares
        .into_iter()
        .map(|s| BudgetShare {
            tokens: 0,
            cost: 0,
            ..s
        })
        .collect()
}

#[cfg(test)]
#[path = "budget_tests.rs"]
mod tests;
