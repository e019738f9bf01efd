//! The budgets of users and teams as the catalog hands them to client
//! keys: each key carries its owner's budget and its team's, when they
//! exist, so the proxy charges them without asking the database.

use std::collections::HashMap;
use std::sync::Arc;

use crate::limits::{Budget, BudgetLimits, BudgetScope};
use crate::store::entities::budgets;

/// Threshold of an alert when the stored one is out of range.
pub const DEFAULT_ALERT_PERCENT: u8 = 80;

/// Every stored budget, by whose it is.
#[derive(Default)]
pub struct Budgets {
    by_subject: HashMap<(BudgetScope, i32), Arc<Budget>>,
}

/// A stored budget row as the limiter enforces it (`None` for an unknown scope).
pub fn budget_of(row: &budgets::Model) -> Option<Budget> {
    Some(Budget {
        scope: BudgetScope::parse(&row.scope)?,
        subject_id: row.subject_id,
        limits: BudgetLimits {
            requests_per_day: row.requests_per_day,
            requests_per_month: row.requests_per_month,
            tokens_per_day: row.tokens_per_day,
            tokens_per_month: row.tokens_per_month,
            cost_per_day: row.cost_per_day_nanos,
            cost_per_month: row.cost_per_month_nanos,
        },
        alert_percent: u8::try_from(row.alert_percent)
            .ok()
            .filter(|p| (1..=100).contains(p))
            .unwrap_or(DEFAULT_ALERT_PERCENT),
    })
}

impl Budgets {
    /// The budgets of the stored `rows` (one of an unknown scope is skipped).
    pub fn from_rows(rows: &[budgets::Model]) -> Budgets {
        let by_subject = rows
            .iter()
            .filter_map(budget_of)
            .map(|b| ((b.scope, b.subject_id), Arc::new(b)))
            .collect();
        Budgets { by_subject }
    }

    /// The budgets a key of `owner` in `team` is charged to.
    pub fn above(&self, owner: Option<i32>, team: Option<i32>) -> Vec<Arc<Budget>> {
        [
            owner.map(|id| (BudgetScope::User, id)),
            team.map(|id| (BudgetScope::Team, id)),
        ]
        .into_iter()
        .flatten()
        .filter_map(|subject| self.by_subject.get(&subject).cloned())
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(scope: &str, subject_id: i32, alert_percent: i32) -> budgets::Model {
        budgets::Model {
            id: subject_id,
            scope: scope.to_owned(),
            subject_id,
            requests_per_day: Some(1),
            requests_per_month: None,
            tokens_per_day: None,
            tokens_per_month: None,
            cost_per_day_nanos: None,
            cost_per_month_nanos: None,
            alert_percent,
            updated_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn a_key_carries_its_owners_and_its_teams_budget_only() {
        let rows = [
            row("user", 1, 80),
            row("team", 1, 50),
            row("team", 2, 0),
            row("org", 3, 80),
        ];
        let budgets = Budgets {
            by_subject: rows
                .iter()
                .filter_map(budget_of)
                .map(|b| ((b.scope, b.subject_id), Arc::new(b)))
                .collect(),
        };
        let above = budgets.above(Some(1), Some(2));
        let whose: Vec<_> = above.iter().map(|b| (b.scope, b.subject_id)).collect();
        assert_eq!(whose, vec![(BudgetScope::User, 1), (BudgetScope::Team, 2)]);
        assert_eq!(
            above[1].alert_percent, DEFAULT_ALERT_PERCENT,
            "0 % is out of range"
        );
        assert!(budgets.above(None, None).is_empty());
        assert!(budgets.above(Some(9), Some(9)).is_empty());
        assert_eq!(
            budgets.by_subject.len(),
            3,
            "an unknown scope is not loaded"
        );
    }
}
