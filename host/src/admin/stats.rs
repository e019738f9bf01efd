//! Statistics for the dashboard and the key pages, aggregated in the
//! database: per-day series (UTC days, every day present, zeros included),
//! totals, top models and top client keys. Users see figures for their own
//! client keys only. Days whose raw traces were rolled up (and maybe
//! deleted) by retention are read from their aggregates.

use axum::extract::State;
use axum::{Extension, Json};
use chrono::{Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::client_keys::owned_ids;
use super::json::ApiQuery;
use super::openapi::{self, BadRequest, Unauthorized};
use super::{AdminState, ApiError};
pub(super) use crate::store::traffic::TrafficScope as Scope;
use crate::store::traffic::{self, Sums, TopBy};

/// Longest series a caller may ask for.
pub const MAX_DAYS: i64 = 366;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DaysQuery {
    /// UTC days up to and including today, 1 to 366 (default 7).
    #[param(minimum = 1, maximum = 366)]
    days: Option<i64>,
}

pub(super) fn days(q: &DaysQuery) -> Result<i64, ApiError> {
    let days = q.days.unwrap_or(7);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(ApiError::BadRequest(format!(
            "days must be between 1 and {MAX_DAYS}"
        )));
    }
    Ok(days)
}

/// One day of a series.
#[derive(Serialize, Debug, Clone, PartialEq, ToSchema)]
pub struct DayPoint {
    /// `YYYY-MM-DD`, UTC.
    pub date: String,
    pub requests: i64,
    /// Answers with status 400 or more (the clients' mistakes included).
    pub errors: i64,
    /// Answers with status 500 or more: the upstreams' and the gateway's failures.
    pub server_errors: i64,
    pub tokens: i64,
    pub cost_nanos: i64,
    pub cost_usd: f64,
    /// Mean duration of the day's requests, 0 without requests.
    pub latency_ms: i64,
}

fn scope_for_caller(ids: Option<Vec<i32>>) -> Scope {
    ids.map_or(Scope::All, Scope::ClientKeys)
}

pub(super) async fn daily(
    state: &AdminState,
    scope: &Scope,
    days: i64,
) -> Result<Vec<DayPoint>, ApiError> {
    let first = Utc::now().date_naive() - Duration::days(days - 1);
    let by_day = traffic::daily(&state.db, scope, first)
        .await?
        .into_iter()
        .collect();
    Ok(fill(first, days, &by_day))
}

/// Every day from `first` for `days` days, zeros where nothing happened.
fn fill(
    first: NaiveDate,
    days: i64,
    by_day: &std::collections::HashMap<String, Sums>,
) -> Vec<DayPoint> {
    (0..days)
        .map(|i| {
            let date = (first + Duration::days(i)).format("%Y-%m-%d").to_string();
            let d = by_day.get(&date).copied().unwrap_or_default();
            DayPoint {
                date,
                requests: d.requests,
                errors: d.errors,
                server_errors: d.server_errors,
                tokens: d.tokens,
                cost_nanos: d.cost,
                cost_usd: d.cost as f64 / 1e9,
                latency_ms: d.duration.checked_div(d.requests).unwrap_or(0),
            }
        })
        .collect()
}

/// One entry of a top list.
#[derive(Serialize, ToSchema)]
pub struct TopEntry {
    name: String,
    requests: i64,
    errors: i64,
    tokens: i64,
    cost_nanos: i64,
    cost_usd: f64,
}

/// Totals over the last `days` days.
#[derive(Serialize, ToSchema)]
pub struct Overview {
    days: i64,
    requests: i64,
    errors: i64,
    /// `errors / requests`, 0 without requests.
    error_rate: f64,
    /// Answers with status 500 or more (upstream and gateway failures).
    server_errors: i64,
    /// `server_errors / requests`: failures that are not the clients' mistakes.
    server_error_rate: f64,
    tokens: i64,
    cost_nanos: i64,
    cost_usd: f64,
    top_models: Vec<TopEntry>,
    top_client_keys: Vec<TopEntry>,
}

async fn top(
    state: &AdminState,
    scope: &Scope,
    by: TopBy,
    first: NaiveDate,
) -> Result<Vec<TopEntry>, ApiError> {
    let rows = traffic::top(&state.db, scope, by, first).await?;
    Ok(rows
        .into_iter()
        .map(|(name, sums)| TopEntry {
            name,
            requests: sums.requests,
            errors: sums.errors,
            tokens: sums.tokens,
            cost_nanos: sums.cost,
            cost_usd: sums.cost as f64 / 1e9,
        })
        .collect())
}

async fn caller_scope(state: &AdminState, caller: &Caller) -> Result<Scope, ApiError> {
    Ok(scope_for_caller(if caller.is_admin() {
        None
    } else {
        Some(owned_ids(state, caller).await?)
    }))
}

/// `GET /api/stats/overview?days=N`: totals, error rate, top models and
/// top client keys over the last N days.
#[utoipa::path(
    get,
    path = "/api/stats/overview",
    tag = openapi::TAG_STATS,
    params(DaysQuery),
    responses((status = 200, body = Overview), BadRequest, Unauthorized),
)]
pub async fn overview(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<DaysQuery>,
) -> Result<Json<Overview>, ApiError> {
    let days = days(&q)?;
    let scope = caller_scope(&state, &caller).await?;
    let series = daily(&state, &scope, days).await?;
    let first = Utc::now().date_naive() - Duration::days(days - 1);
    let requests: i64 = series.iter().map(|d| d.requests).sum();
    let errors: i64 = series.iter().map(|d| d.errors).sum();
    let server_errors: i64 = series.iter().map(|d| d.server_errors).sum();
    let rate = |n: i64| {
        if requests > 0 {
            n as f64 / requests as f64
        } else {
            0.0
        }
    };
    let tokens: i64 = series.iter().map(|d| d.tokens).sum();
    let cost: i64 = series.iter().map(|d| d.cost_nanos).sum();
    Ok(Json(Overview {
        days,
        requests,
        errors,
        error_rate: rate(errors),
        server_errors,
        server_error_rate: rate(server_errors),
        tokens,
        cost_nanos: cost,
        cost_usd: cost as f64 / 1e9,
        top_models: top(&state, &scope, TopBy::Model, first).await?,
        top_client_keys: top(&state, &scope, TopBy::ClientKeyName, first).await?,
    }))
}

/// `GET /api/stats/timeseries?days=N`: one point per UTC day.
#[utoipa::path(
    get,
    path = "/api/stats/timeseries",
    tag = openapi::TAG_STATS,
    params(DaysQuery),
    responses((status = 200, body = Vec<DayPoint>), BadRequest, Unauthorized),
)]
pub async fn timeseries(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<DaysQuery>,
) -> Result<Json<Vec<DayPoint>>, ApiError> {
    let scope = caller_scope(&state, &caller).await?;
    Ok(Json(daily(&state, &scope, days(&q)?).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_day_is_present_with_zeros() {
        let first = NaiveDate::from_ymd_opt(2026, 2, 27).expect("date");
        let mut by_day = std::collections::HashMap::new();
        let sums = Sums {
            requests: 3,
            errors: 2,
            server_errors: 1,
            tokens: 30,
            cost: 2_000_000_000,
            duration: 1_000,
        };
        by_day.insert("2026-03-01".to_owned(), sums);
        let series = fill(first, 3, &by_day);
        let dates: Vec<&str> = series.iter().map(|d| d.date.as_str()).collect();
        assert_eq!(dates, ["2026-02-27", "2026-02-28", "2026-03-01"]);
        assert_eq!(series[0].requests, 0);
        assert_eq!(series[0].latency_ms, 0, "no requests, no division");
        assert_eq!(series[2].requests, 3);
        assert_eq!((series[2].errors, series[2].server_errors), (2, 1));
        assert_eq!(series[2].latency_ms, 333, "the mean duration");
        assert!((series[2].cost_usd - 2.0).abs() < 1e-9);
    }
}
