//! Statistics for the dashboard and the key pages, aggregated in the
//! database: per-day series (UTC days, every day present, zeros included),
//! totals, top models and top client keys. Users see figures for their own
//! client keys only. Days whose raw traces were rolled up (and maybe
//! deleted) by retention are read from their aggregates.

use axum::extract::State;
use axum::{Extension, Json};
use chrono::{Duration, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, Statement, Value as DbValue};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::client_keys::owned_ids;
use super::json::{ApiPath, ApiQuery};
use super::openapi::{self, BadRequest, Forbidden, NotFound, Unauthorized};
use super::stats_source::{SUMS, traffic};
use super::{AdminState, ApiError};
use crate::store::entities::{client_keys, provider_keys};
use sea_orm::EntityTrait;

/// Longest series a caller may ask for.
pub const MAX_DAYS: i64 = 366;
/// Entries in each top list.
pub const TOP_N: u64 = 10;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DaysQuery {
    /// UTC days up to and including today, 1 to 366 (default 7).
    #[param(minimum = 1, maximum = 366)]
    days: Option<i64>,
}

fn days(q: &DaysQuery) -> Result<i64, ApiError> {
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
    pub errors: i64,
    pub tokens: i64,
    pub cost_nanos: i64,
    pub cost_usd: f64,
}

/// Which traces a query covers.
enum Scope {
    All,
    ProviderKey(i32),
    ClientKeys(Vec<i32>),
}

impl Scope {
    fn for_caller(ids: Option<Vec<i32>>) -> Scope {
        ids.map_or(Scope::All, Scope::ClientKeys)
    }

    /// A SQL condition; ids are integers, so they are written inline.
    fn condition(&self) -> String {
        match self {
            Scope::All => "1 = 1".into(),
            Scope::ProviderKey(id) => format!("provider_key_id = {id}"),
            Scope::ClientKeys(ids) if ids.is_empty() => "1 = 0".into(),
            Scope::ClientKeys(ids) => {
                let list: Vec<String> = ids.iter().map(i32::to_string).collect();
                format!("client_key_id IN ({})", list.join(", "))
            }
        }
    }
}

/// The bound values of [`traffic`]'s placeholders for a period starting
/// on `first`.
fn period(first: NaiveDate) -> Result<[DbValue; 2], ApiError> {
    let since = first
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
        .ok_or(ApiError::Internal)?;
    Ok([
        DbValue::from(since),
        DbValue::from(first.format("%Y-%m-%d").to_string()),
    ])
}

async fn daily(state: &AdminState, scope: &Scope, days: i64) -> Result<Vec<DayPoint>, ApiError> {
    let backend = state.db.get_database_backend();
    let first = Utc::now().date_naive() - Duration::days(days - 1);
    let sql = format!(
        "SELECT day, {SUMS} FROM {} GROUP BY day ORDER BY 1",
        traffic(backend, &scope.condition())
    );
    let rows = state
        .db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, period(first)?))
        .await?;
    let mut by_day = std::collections::HashMap::new();
    for row in rows {
        let date: String = row.try_get("", "day")?;
        by_day.insert(
            date,
            (
                row.try_get::<i64>("", "requests")?,
                row.try_get::<i64>("", "errors")?,
                row.try_get::<i64>("", "tokens")?,
                row.try_get::<i64>("", "cost")?,
            ),
        );
    }
    Ok(fill(first, days, &by_day))
}

/// Every day from `first` for `days` days, zeros where nothing happened.
fn fill(
    first: NaiveDate,
    days: i64,
    by_day: &std::collections::HashMap<String, (i64, i64, i64, i64)>,
) -> Vec<DayPoint> {
    (0..days)
        .map(|i| {
            let date = (first + Duration::days(i)).format("%Y-%m-%d").to_string();
            let (requests, errors, tokens, cost) = by_day.get(&date).copied().unwrap_or_default();
            DayPoint {
                date,
                requests,
                errors,
                tokens,
                cost_nanos: cost,
                cost_usd: cost as f64 / 1e9,
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
    tokens: i64,
    cost_nanos: i64,
    cost_usd: f64,
    top_models: Vec<TopEntry>,
    top_client_keys: Vec<TopEntry>,
}

async fn top(
    state: &AdminState,
    scope: &Scope,
    column: &str,
    first: NaiveDate,
) -> Result<Vec<TopEntry>, ApiError> {
    let backend = state.db.get_database_backend();
    let sql = format!(
        "SELECT {column} AS name, {SUMS} FROM {} WHERE {column} IS NOT NULL \
         GROUP BY {column} ORDER BY requests DESC, name LIMIT {TOP_N}",
        traffic(backend, &scope.condition())
    );
    let rows = state
        .db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, period(first)?))
        .await?;
    rows.into_iter()
        .map(|row| {
            let cost: i64 = row.try_get("", "cost")?;
            Ok(TopEntry {
                name: row.try_get::<String>("", "name")?,
                requests: row.try_get::<i64>("", "requests")?,
                errors: row.try_get::<i64>("", "errors")?,
                tokens: row.try_get::<i64>("", "tokens")?,
                cost_nanos: cost,
                cost_usd: cost as f64 / 1e9,
            })
        })
        .collect()
}

async fn caller_scope(state: &AdminState, caller: &Caller) -> Result<Scope, ApiError> {
    Ok(Scope::for_caller(if caller.is_admin() {
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
    let tokens: i64 = series.iter().map(|d| d.tokens).sum();
    let cost: i64 = series.iter().map(|d| d.cost_nanos).sum();
    Ok(Json(Overview {
        days,
        requests,
        errors,
        error_rate: if requests > 0 {
            errors as f64 / requests as f64
        } else {
            0.0
        },
        tokens,
        cost_nanos: cost,
        cost_usd: cost as f64 / 1e9,
        top_models: top(&state, &scope, "model", first).await?,
        top_client_keys: top(&state, &scope, "client_key_name", first).await?,
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

/// `GET /api/provider-keys/keys/{id}/trends?days=N` (admins).
#[utoipa::path(
    get,
    path = "/api/provider-keys/keys/{id}/trends",
    tag = openapi::TAG_PROVIDER_KEYS,
    params(("id" = i32, Path), DaysQuery),
    responses((status = 200, body = Vec<DayPoint>), BadRequest, Unauthorized, Forbidden, NotFound),
)]
pub async fn provider_key_trends(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
    ApiQuery(q): ApiQuery<DaysQuery>,
) -> Result<Json<Vec<DayPoint>>, ApiError> {
    caller.require_admin()?;
    provider_keys::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound("provider key"))?;
    Ok(Json(
        daily(&state, &Scope::ProviderKey(id), days(&q)?).await?,
    ))
}

/// `GET /api/provider-keys/keys/{id}/stats` (admins): overview, today's
/// usage, limits and health of one upstream key.
#[utoipa::path(
    get,
    path = "/api/provider-keys/keys/{id}/stats",
    tag = openapi::TAG_PROVIDER_KEYS,
    params(("id" = i32, Path)),
    responses(
        (status = 200, body = Object, description = "`id`, `name`, `overview` (30-day totals), \
            `usage.today` (a day point), `limits`, `health.status`"),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
    ),
)]
pub async fn provider_key_stats(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
) -> Result<Json<Value>, ApiError> {
    caller.require_admin()?;
    let key = provider_keys::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound("provider key"))?;
    let scope = Scope::ProviderKey(id);
    let month = daily(&state, &scope, 30).await?;
    let today = month.last().cloned();
    let sum = |f: fn(&DayPoint) -> i64| month.iter().map(f).sum::<i64>();
    Ok(Json(json!({
        "id": key.id,
        "name": key.name,
        "overview": {
            "requests_30d": sum(|d| d.requests),
            "errors_30d": sum(|d| d.errors),
            "tokens_30d": sum(|d| d.tokens),
            "cost_nanos_30d": sum(|d| d.cost_nanos),
        },
        "usage": {"today": today},
        "limits": {"qps": null, "tokens_per_day": null},
        "health": {"status": key.health_status},
    })))
}

/// `GET /api/user-service/keys/{id}/trends?days=N` (admins, or the owner).
#[utoipa::path(
    get,
    path = "/api/user-service/keys/{id}/trends",
    tag = openapi::TAG_CLIENT_KEYS,
    params(("id" = i32, Path), DaysQuery),
    responses((status = 200, body = Vec<DayPoint>), BadRequest, Unauthorized, NotFound),
)]
pub async fn client_key_trends(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
    ApiQuery(q): ApiQuery<DaysQuery>,
) -> Result<Json<Vec<DayPoint>>, ApiError> {
    let key = client_keys::Entity::find_by_id(id).one(&state.db).await?;
    match key {
        Some(k) if caller.is_admin() || k.owner_user_id == Some(caller.id) => {}
        _ => return Err(ApiError::NotFound("client key")),
    }
    Ok(Json(
        daily(&state, &Scope::ClientKeys(vec![id]), days(&q)?).await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_day_is_present_with_zeros() {
        let first = NaiveDate::from_ymd_opt(2026, 2, 27).expect("date");
        let mut by_day = std::collections::HashMap::new();
        by_day.insert("2026-03-01".to_owned(), (3, 1, 30, 2_000_000_000));
        let series = fill(first, 3, &by_day);
        let dates: Vec<&str> = series.iter().map(|d| d.date.as_str()).collect();
        assert_eq!(dates, ["2026-02-27", "2026-02-28", "2026-03-01"]);
        assert_eq!(series[0].requests, 0);
        assert_eq!(series[2].requests, 3);
        assert!((series[2].cost_usd - 2.0).abs() < 1e-9);
    }

    #[test]
    fn scope_conditions_are_integers_only() {
        assert_eq!(Scope::ClientKeys(vec![]).condition(), "1 = 0");
        assert_eq!(
            Scope::ClientKeys(vec![1, 2]).condition(),
            "client_key_id IN (1, 2)"
        );
        assert_eq!(Scope::ProviderKey(5).condition(), "provider_key_id = 5");
    }
}
