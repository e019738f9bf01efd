//! Whose a budget is (a user's or a team's), and the names its lines go
//! by in refusals, alerts and counters.

/// Whose budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BudgetScope {
    User,
    Team,
}

impl BudgetScope {
    /// The name the API and the audit log use.
    pub fn name(self) -> &'static str {
        match self {
            BudgetScope::User => "user",
            BudgetScope::Team => "team",
        }
    }

    /// The resource the audit log names a change of this scope's budget.
    pub fn audit_resource(self) -> &'static str {
        match self {
            BudgetScope::User => "user_budget",
            BudgetScope::Team => "team_budget",
        }
    }

    pub fn parse(name: &str) -> Option<BudgetScope> {
        match name {
            "user" => Some(BudgetScope::User),
            "team" => Some(BudgetScope::Team),
            _ => None,
        }
    }

    pub(super) fn prefix(self) -> &'static str {
        match self {
            BudgetScope::User => "bu",
            BudgetScope::Team => "bt",
        }
    }

    /// The names refusals and alerts use, in the order of `budget::LINES`.
    pub(super) fn limit_names(self) -> [&'static str; 6] {
        match self {
            BudgetScope::User => [
                "user_requests_per_day",
                "user_requests_per_month",
                "user_tokens_per_day",
                "user_tokens_per_month",
                "user_cost_per_day",
                "user_cost_per_month",
            ],
            BudgetScope::Team => [
                "team_requests_per_day",
                "team_requests_per_month",
                "team_tokens_per_day",
                "team_tokens_per_month",
                "team_cost_per_day",
                "team_cost_per_month",
            ],
        }
    }
}
