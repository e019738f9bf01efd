//! Per-key figures: the daily series of one upstream key (admins) or one
//! client key (admins and its owner), and an upstream key's 30-day
//! overview. The series are those of `stats`, scoped to the key.

use axum::extract::State;
use axum::{Extension, Json};
use serde_json::{Value, json};

use super::auth::Caller;
use super::json::{ApiPath, ApiQuery};
use super::openapi::{self, BadRequest, Forbidden, NotFound, Unauthorized};
use super::stats::{DayPoint, DaysQuery, Scope, daily, days};
use super::{AdminState, ApiError};
use crate::store::report_read;

/// `GET /api/upstream-keys/{id}/trends?days=N` (admins).
#[utoipa::path(
    get,
    path = "/api/upstream-keys/{id}/trends",
    tag = openapi::TAG_UPSTREAM_KEYS,
    params(("id" = i32, Path), DaysQuery),
    responses((status = 200, body = Vec<DayPoint>), BadRequest, Unauthorized, Forbidden, NotFound),
)]
pub async fn upstream_key_trends(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
    ApiQuery(q): ApiQuery<DaysQuery>,
) -> Result<Json<Vec<DayPoint>>, ApiError> {
    caller.require_admin()?;
    report_read::upstream_key(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound("upstream key"))?;
    Ok(Json(
        daily(&state, &Scope::UpstreamKey(id), days(&q)?).await?,
    ))
}

/// `GET /api/upstream-keys/{id}/stats` (admins): overview, today's
/// usage, limits and health of one upstream key.
#[utoipa::path(
    get,
    path = "/api/upstream-keys/{id}/stats",
    tag = openapi::TAG_UPSTREAM_KEYS,
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
pub async fn upstream_key_stats(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
) -> Result<Json<Value>, ApiError> {
    caller.require_admin()?;
    let key = report_read::upstream_key(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound("upstream key"))?;
    let scope = Scope::UpstreamKey(id);
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

/// `GET /api/client-keys/{id}/trends?days=N` (admins, or the owner).
#[utoipa::path(
    get,
    path = "/api/client-keys/{id}/trends",
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
    let key = report_read::client_key(&state.db, id).await?;
    match key {
        Some(k) if caller.is_admin() || k.owner_user_id == Some(caller.id) => {}
        _ => return Err(ApiError::NotFound("client key")),
    }
    Ok(Json(
        daily(&state, &Scope::ClientKeys(vec![id]), days(&q)?).await?,
    ))
}
