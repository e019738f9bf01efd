//! Budgets of users and teams through the API: `PUT /api/users/{id}/budget`
//! and `PUT /api/teams/{id}/budget` set one (admins only; every limit left
//! out or `null` is unlimited, and a budget with no limit is removed),
//! `GET` reads it with what is used of each line in the current period
//! (admins; the user itself; a team's members). Changes are audited and
//! take effect with the catalog reload that follows.

use axum::extract::State;
use axum::{Extension, Json};
use chrono::Utc;
use sea_orm::{DatabaseConnection, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::audit::snapshot;
use super::auth::Caller;
use super::json::{ApiJson, ApiPath};
use super::limits::{MAX_COST_PER_DAY_USD, MAX_LIMIT};
use super::openapi::{self, BadRequest, Forbidden, NotFound, Unauthorized};
use super::teams::visible_team;
use super::write::Entry;
use super::{AdminState, ApiError};
use crate::catalog::{DEFAULT_ALERT_PERCENT, budget_of};
use crate::limits::{BudgetLimits, BudgetScope};
use crate::store::budgets as rows;
use crate::store::entities::budgets;

const NANOS_PER_USD: f64 = 1e9;

/// A budget's limits; each left out or `null` is unlimited. Months are
/// calendar months in `AI_PROXY_LIMITS_TZ`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetInput {
    #[schema(minimum = 0, maximum = 1_000_000_000_000_000_i64)]
    pub requests_per_day: Option<i64>,
    #[schema(minimum = 0, maximum = 1_000_000_000_000_000_i64)]
    pub requests_per_month: Option<i64>,
    #[schema(minimum = 0, maximum = 1_000_000_000_000_000_i64)]
    pub tokens_per_day: Option<i64>,
    #[schema(minimum = 0, maximum = 1_000_000_000_000_000_i64)]
    pub tokens_per_month: Option<i64>,
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    pub cost_per_day_usd: Option<f64>,
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    pub cost_per_month_usd: Option<f64>,
    /// Percent of a limit past which an alert is recorded once per period
    /// (1 to 100, default 80).
    #[schema(minimum = 1, maximum = 100)]
    pub alert_percent: Option<u8>,
}

/// One line of a budget and what is used of it in the current period.
#[derive(Debug, Serialize, ToSchema)]
pub struct BudgetLineView {
    /// Such as `team_cost_per_month`.
    pub limit: String,
    /// `2026-12` or `2026-12-05`.
    pub period: String,
    /// Requests, tokens or nano-USD.
    pub budget: i64,
    pub used: i64,
}

/// A budget as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct BudgetView {
    /// `user` or `team`.
    pub scope: String,
    pub subject_id: i32,
    pub limits: BudgetInput,
    /// Every limit set, with its use; empty without a budget.
    pub lines: Vec<BudgetLineView>,
}

fn count(name: &str, v: Option<i64>) -> Result<Option<i64>, ApiError> {
    match v {
        Some(v) if !(0..=MAX_LIMIT).contains(&v) => Err(ApiError::BadRequest(format!(
            "{name} must be between 0 and {MAX_LIMIT}, or null for no limit"
        ))),
        other => Ok(other),
    }
}

fn usd(name: &str, v: Option<f64>) -> Result<Option<i64>, ApiError> {
    match v {
        Some(usd) if !(usd.is_finite() && (0.0..=MAX_COST_PER_DAY_USD).contains(&usd)) => {
            Err(ApiError::BadRequest(format!(
                "{name} must be between 0 and {MAX_COST_PER_DAY_USD}"
            )))
        }
        Some(usd) => Ok(Some((usd * NANOS_PER_USD).round() as i64)),
        None => Ok(None),
    }
}

impl BudgetInput {
    pub fn validate(&self) -> Result<(BudgetLimits, u8), ApiError> {
        let percent = self.alert_percent.unwrap_or(DEFAULT_ALERT_PERCENT);
        if !(1..=100).contains(&percent) {
            return Err(ApiError::BadRequest(
                "alert_percent must be between 1 and 100".into(),
            ));
        }
        let limits = BudgetLimits {
            requests_per_day: count("requests_per_day", self.requests_per_day)?,
            requests_per_month: count("requests_per_month", self.requests_per_month)?,
            tokens_per_day: count("tokens_per_day", self.tokens_per_day)?,
            tokens_per_month: count("tokens_per_month", self.tokens_per_month)?,
            cost_per_day: usd("cost_per_day_usd", self.cost_per_day_usd)?,
            cost_per_month: usd("cost_per_month_usd", self.cost_per_month_usd)?,
        };
        Ok((limits, percent))
    }

    fn view(row: &budgets::Model) -> BudgetInput {
        let usd = |n: Option<i64>| n.map(|n| n as f64 / NANOS_PER_USD);
        BudgetInput {
            requests_per_day: row.requests_per_day,
            requests_per_month: row.requests_per_month,
            tokens_per_day: row.tokens_per_day,
            tokens_per_month: row.tokens_per_month,
            cost_per_day_usd: usd(row.cost_per_day_nanos),
            cost_per_month_usd: usd(row.cost_per_month_nanos),
            alert_percent: u8::try_from(row.alert_percent).ok(),
        }
    }
}

/// The stored budget of `scope`/`id`, if any.
pub async fn stored(
    db: &DatabaseConnection,
    scope: BudgetScope,
    id: i32,
) -> Result<Option<budgets::Model>, ApiError> {
    Ok(rows::find(db, scope.name(), id).await?)
}

/// The budget of `scope`/`id` with what is used of each line now.
pub async fn view_of(
    state: &AdminState,
    scope: BudgetScope,
    id: i32,
) -> Result<BudgetView, ApiError> {
    let row = stored(&state.db, scope, id).await?;
    let mut lines = Vec::new();
    if let Some(budget) = row.as_ref().and_then(budget_of) {
        let now = Utc::now();
        // Figures only: when the counter store cannot answer, none are used.
        let usage = state
            .limiter
            .budget_usage(&budget)
            .await
            .unwrap_or_default();
        for (line, used) in usage {
            lines.push(BudgetLineView {
                limit: line.name.to_owned(),
                period: line.window.label(now),
                budget: line.limit,
                used,
            });
        }
    }
    Ok(BudgetView {
        scope: scope.name().to_owned(),
        subject_id: id,
        limits: row.as_ref().map(BudgetInput::view).unwrap_or_default(),
        lines,
    })
}

/// Stores (or removes, when it has no limit) the budget of `scope`/`id`.
async fn put(
    state: &AdminState,
    caller: &Caller,
    scope: BudgetScope,
    id: i32,
    input: &BudgetInput,
) -> Result<BudgetView, ApiError> {
    caller.require_admin()?;
    let (limits, percent) = input.validate()?;
    let change = state.change(caller).await?;
    let before = rows::find(change.db(), scope.name(), id).await?;
    let before_view = before.as_ref().map(BudgetInput::view);
    if let Some(row) = before.clone() {
        rows::delete(change.db(), row.id).await?;
    }
    if limits != BudgetLimits::default() {
        let row = budgets::ActiveModel {
            scope: Set(scope.name().to_owned()),
            subject_id: Set(id),
            requests_per_day: Set(limits.requests_per_day),
            requests_per_month: Set(limits.requests_per_month),
            tokens_per_day: Set(limits.tokens_per_day),
            tokens_per_month: Set(limits.tokens_per_month),
            cost_per_day_nanos: Set(limits.cost_per_day),
            cost_per_month_nanos: Set(limits.cost_per_month),
            alert_percent: Set(i32::from(percent)),
            updated_at: Set(Utc::now()),
            ..Default::default()
        };
        rows::insert(change.db(), row).await?;
    }
    let committed = change.commit().await?;
    let view = view_of(state, scope, id).await?;
    committed
        .audit(Entry::updated(
            scope.audit_resource(),
            id,
            before_view.as_ref().and_then(snapshot),
            snapshot(&view.limits),
        ))
        .await;
    Ok(view)
}

#[utoipa::path(
    put,
    path = "/api/teams/{id}/budget",
    tag = openapi::TAG_TEAMS,
    params(("id" = i32, Path)),
    request_body = BudgetInput,
    responses((status = 200, body = BudgetView), BadRequest, Unauthorized, Forbidden, NotFound),
)]
pub async fn put_team_budget(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
    ApiJson(input): ApiJson<BudgetInput>,
) -> Result<Json<BudgetView>, ApiError> {
    caller.require_admin()?;
    visible_team(&state, &caller, id).await?;
    Ok(Json(
        put(&state, &caller, BudgetScope::Team, id, &input).await?,
    ))
}

#[utoipa::path(
    get,
    path = "/api/teams/{id}/budget",
    tag = openapi::TAG_TEAMS,
    params(("id" = i32, Path)),
    responses((status = 200, body = BudgetView), BadRequest, Unauthorized, NotFound),
)]
pub async fn get_team_budget(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
) -> Result<Json<BudgetView>, ApiError> {
    visible_team(&state, &caller, id).await?;
    Ok(Json(view_of(&state, BudgetScope::Team, id).await?))
}

/// The user `id`, if `caller` may see its budget (admins; the user itself).
async fn visible_user(state: &AdminState, caller: &Caller, id: i32) -> Result<(), ApiError> {
    let exists = crate::store::users::find(&state.db, id).await?.is_some();
    if exists && (caller.is_admin() || caller.id == id) {
        Ok(())
    } else {
        Err(ApiError::NotFound("user"))
    }
}

#[utoipa::path(
    put,
    path = "/api/users/{id}/budget",
    tag = openapi::TAG_TEAMS,
    params(("id" = i32, Path)),
    request_body = BudgetInput,
    responses((status = 200, body = BudgetView), BadRequest, Unauthorized, Forbidden, NotFound),
)]
pub async fn put_user_budget(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
    ApiJson(input): ApiJson<BudgetInput>,
) -> Result<Json<BudgetView>, ApiError> {
    caller.require_admin()?;
    visible_user(&state, &caller, id).await?;
    Ok(Json(
        put(&state, &caller, BudgetScope::User, id, &input).await?,
    ))
}

#[utoipa::path(
    get,
    path = "/api/users/{id}/budget",
    tag = openapi::TAG_TEAMS,
    params(("id" = i32, Path)),
    responses((status = 200, body = BudgetView), BadRequest, Unauthorized, NotFound),
)]
pub async fn get_user_budget(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
) -> Result<Json<BudgetView>, ApiError> {
    visible_user(&state, &caller, id).await?;
    Ok(Json(view_of(&state, BudgetScope::User, id).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_limits_and_the_alert_share_are_bounded_at_both_ends() {
        let with = |input: BudgetInput| input.validate();
        assert!(
            with(BudgetInput {
                tokens_per_month: Some(MAX_LIMIT),
                ..Default::default()
            })
            .is_ok()
        );
        assert!(
            with(BudgetInput {
                tokens_per_month: Some(MAX_LIMIT + 1),
                ..Default::default()
            })
            .is_err()
        );
        let cost = with(BudgetInput {
            cost_per_month_usd: Some(500.0),
            ..Default::default()
        })
        .expect("valid");
        assert_eq!(cost.0.cost_per_month, Some(500_000_000_000));
        assert_eq!(cost.1, DEFAULT_ALERT_PERCENT);
        for (percent, ok) in [(0, false), (1, true), (100, true), (101, false)] {
            let r = with(BudgetInput {
                alert_percent: Some(percent),
                ..Default::default()
            });
            assert_eq!(r.is_ok(), ok, "{percent}");
        }
        assert!(
            with(BudgetInput {
                cost_per_day_usd: Some(f64::NAN),
                ..Default::default()
            })
            .is_err()
        );
    }
}
