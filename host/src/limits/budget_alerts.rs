//! Budget alerts: when a settled request leaves a budget line at or past
//! its budget's threshold (80 % unless the operator set another), the
//! line's alert is handed to the [`AlertRecorder`] (the audit log) once
//! per period. This instance remembers which periods it has alerted, so a
//! busy budget does not ask the recorder on every request; the recorder
//! itself makes it once across instances. Alerts recorded here are
//! counted for `/metrics`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use chrono::Utc;

use super::Limiter;
use super::budget::{Budget, BudgetScope};

/// A budget line past its threshold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetAlert {
    pub scope: BudgetScope,
    pub subject_id: i32,
    /// The line's name, such as `team_cost_per_month`.
    pub limit: &'static str,
    /// The period as people write it: `2026-12` or `2026-12-05`.
    pub period: String,
    pub used: i64,
    pub budget: i64,
    pub threshold_percent: u8,
}

/// Where alerts are recorded.
#[async_trait]
pub trait AlertRecorder: Send + Sync {
    /// Records `alert` unless it was recorded already (by any instance);
    /// `true` when this call recorded it.
    async fn record(&self, alert: &BudgetAlert) -> bool;
}

/// Line of a budget: scope, subject, limit name.
type LineId = (BudgetScope, i32, &'static str);

/// The limiter's alert state.
#[derive(Default)]
pub(super) struct Alerts {
    recorder: OnceLock<Arc<dyn AlertRecorder>>,
    /// The last period each line alerted in (one entry per line).
    seen: Mutex<HashMap<LineId, String>>,
    /// Alerts this instance recorded, by scope and limit.
    recorded: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
}

/// Whether `used` of `limit` is at or past `percent` of it.
fn past_threshold(used: i64, limit: i64, percent: u8) -> bool {
    i128::from(used) * 100 >= i128::from(limit) * i128::from(percent)
}

impl Limiter {
    /// Where budget alerts go (once; later calls are ignored).
    pub fn record_alerts_with(&self, recorder: Arc<dyn AlertRecorder>) {
        let _ = self.alerts.recorder.set(recorder);
    }

    /// Alerts this instance recorded: `(scope, limit, count)`.
    pub fn alerts_recorded(&self) -> Vec<(&'static str, &'static str, u64)> {
        self.alerts
            .recorded
            .lock()
            .map(|m| m.iter().map(|((s, l), n)| (*s, *l, *n)).collect())
            .unwrap_or_default()
    }

    /// Records an alert for every line of `budget` past its threshold
    /// that has not alerted in this period yet.
    pub(super) async fn check_alerts(&self, budget: &Budget) {
        let Some(recorder) = self.alerts.recorder.get().cloned() else {
            return;
        };
        let Ok(usage) = self.budget_usage(budget).await else {
            return;
        };
        let now = Utc::now();
        for (line, used) in usage {
            if !past_threshold(used, line.limit, budget.alert_percent) {
                continue;
            }
            let period = line.window.label(now);
            let id = (budget.scope, budget.subject_id, line.name);
            {
                let Ok(mut seen) = self.alerts.seen.lock() else {
                    return;
                };
                if seen.get(&id) == Some(&period) {
                    continue;
                }
                seen.insert(id, period.clone());
            }
            let alert = BudgetAlert {
                scope: budget.scope,
                subject_id: budget.subject_id,
                limit: line.name,
                period,
                used,
                budget: line.limit,
                threshold_percent: budget.alert_percent,
            };
            if recorder.record(&alert).await
                && let Ok(mut recorded) = self.alerts.recorded.lock()
            {
                *recorded
                    .entry((budget.scope.name(), line.name))
                    .or_default() += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_threshold_is_reached_at_exactly_its_share() {
        assert!(!past_threshold(79, 100, 80));
        assert!(past_threshold(80, 100, 80));
        assert!(past_threshold(i64::MAX, i64::MAX, 100));
        assert!(!past_threshold(i64::MAX - 1, i64::MAX, 100));
    }
}
