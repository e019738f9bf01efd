//! `/api/logs/traces`: the request log, newest first, paged and filtered
//! on the server. The list omits `request_id`; the detail has everything.

use axum::extract::State;
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::audit::check_page;
use super::auth::Caller;
use super::client_keys::owned_ids;
use super::json::{ApiPath, ApiQuery};
use super::openapi::{self, BadRequest, NotFound, Unauthorized};
use super::trace_filter;
use super::trace_search::SearchText;
use super::{AdminState, ApiError};
use crate::store::entities::proxy_tracing;
use crate::store::trace_page::{self, TraceFilter};
use crate::store::traces;

/// Largest page of traces.
pub const MAX_PAGE_SIZE: u64 = 200;

/// Paging and filters; `model` is a comma-separated list of model name
/// prefixes, `status_class` one of `1xx`..`5xx`, `id` a trace id, the
/// other filters exact matches; `q` searches model, path, key names, error
/// message (substrings, `%` and `_` literal) and request id (exact).
/// `from` is inclusive, `to` not; `before_id` keeps traces older than a
/// trace (keyset paging: a deep page without an offset to walk).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TraceQuery {
    /// 1-based page number, at most 1000000.
    #[param(maximum = 1_000_000)]
    page: Option<u64>,
    /// Traces per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    page_size: Option<u64>,
    /// Text to search for, at most 1000 bytes.
    q: Option<String>,
    /// Model name prefixes, comma-separated (at most 20): `gpt-4,claude`.
    model: Option<String>,
    status_code: Option<i32>,
    /// Every status of a class: `4xx` (the clients' mistakes) or `5xx`.
    status_class: Option<String>,
    /// An error class as the trace records it (`server_error`, `rate_limited`, ...).
    error_class: Option<String>,
    /// One trace, by the id the trace dialog is titled with.
    id: Option<i64>,
    /// Only traces with a smaller id (older than that trace).
    before_id: Option<i64>,
    provider: Option<String>,
    #[serde(alias = "provider_key")]
    upstream_key: Option<String>,
    client_key_id: Option<i32>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct TraceSummary {
    id: i64,
    created_at: DateTime<Utc>,
    client_key_id: Option<i32>,
    client_key_name: Option<String>,
    provider_name: Option<String>,
    upstream_key_name: Option<String>,
    model: Option<String>,
    method: String,
    path: String,
    status_code: i32,
    is_stream: bool,
    attempts: i32,
    input_tokens: i64,
    output_tokens: i64,
    total_tokens: i64,
    cost_nanos: Option<i64>,
    cost_usd: Option<f64>,
    error_class: Option<String>,
    duration_ms: i64,
}

impl From<proxy_tracing::Model> for TraceSummary {
    fn from(t: proxy_tracing::Model) -> Self {
        TraceSummary {
            id: t.id,
            created_at: t.created_at,
            client_key_id: t.client_key_id,
            client_key_name: t.client_key_name,
            provider_name: t.provider_name,
            upstream_key_name: t.upstream_key_name,
            model: t.model,
            method: t.method,
            path: t.path,
            status_code: t.status_code,
            is_stream: t.is_stream,
            attempts: t.attempts,
            input_tokens: t.input_tokens,
            output_tokens: t.output_tokens,
            total_tokens: t.total_tokens,
            cost_nanos: t.cost_nanos,
            cost_usd: t.cost_nanos.map(|n| n as f64 / 1e9),
            error_class: t.error_class,
            duration_ms: t.duration_ms,
        }
    }
}

/// A page of traces, newest first.
#[derive(Serialize, ToSchema)]
pub struct TracePage {
    items: Vec<TraceSummary>,
    page: u64,
    page_size: u64,
    /// Traces matching the filters, on all pages; counted up to 10000
    /// past this page's first row, so a lower bound when
    /// `total_is_lower_bound`.
    total: u64,
    /// More than `total` traces match (the count stopped at its cap).
    total_is_lower_bound: bool,
}

/// One request with every recorded field.
#[derive(Serialize, ToSchema)]
pub struct TraceDetail {
    id: i64,
    request_id: String,
    created_at: DateTime<Utc>,
    client_key_id: Option<i32>,
    client_key_name: Option<String>,
    provider_id: Option<i32>,
    provider_name: Option<String>,
    upstream_key_id: Option<i32>,
    upstream_key_name: Option<String>,
    plugin_name: Option<String>,
    plugin_version: Option<String>,
    model: Option<String>,
    method: String,
    path: String,
    status_code: i32,
    is_stream: bool,
    attempts: i32,
    /// Each attempt: upstream key, status, error class, latency.
    attempt_log: Vec<Value>,
    input_tokens: i64,
    output_tokens: i64,
    cached_input_tokens: i64,
    cache_write_tokens: i64,
    reasoning_tokens: i64,
    total_tokens: i64,
    cost_nanos: Option<i64>,
    cost_usd: Option<f64>,
    error_class: Option<String>,
    error_message: Option<String>,
    first_byte_ms: Option<i64>,
    duration_ms: i64,
}

#[utoipa::path(
    get,
    path = "/api/logs/traces",
    tag = openapi::TAG_TRACES,
    params(TraceQuery),
    responses((status = 200, body = TracePage), BadRequest, Unauthorized),
)]
pub async fn list(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<TraceQuery>,
) -> Result<Json<TracePage>, ApiError> {
    let page = check_page(q.page)?;
    let page_size = q.page_size.unwrap_or(50);
    if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
        return Err(ApiError::BadRequest(format!(
            "page_size must be between 1 and {MAX_PAGE_SIZE}"
        )));
    }
    let search = SearchText::parse(q.q.as_deref())?;
    let filter = filter(&state, &caller, q).await?;
    let search = search.as_ref().map(SearchText::as_str);
    let listed = trace_page::fetch(&state.db, &filter, search, page, page_size).await?;
    Ok(Json(TracePage {
        items: listed.rows.into_iter().map(Into::into).collect(),
        page,
        page_size,
        total: listed.total,
        total_is_lower_bound: listed.total_is_lower_bound,
    }))
}

/// Every filter of `q` but the search text.
async fn filter(
    state: &AdminState,
    caller: &Caller,
    q: TraceQuery,
) -> Result<TraceFilter, ApiError> {
    // Users see the traces of their own client keys only.
    let client_key_ids = match caller.is_admin() {
        true => None,
        false => Some(owned_ids(state, caller).await?),
    };
    let model_prefixes = match q.model {
        Some(v) => trace_filter::model_prefixes(&v)?,
        None => Vec::new(),
    };
    let status_range = q
        .status_class
        .map(|v| trace_filter::status_class(&v))
        .transpose()?;
    Ok(TraceFilter {
        client_key_ids,
        model_prefixes,
        status_code: q.status_code,
        status_range,
        error_class: q
            .error_class
            .filter(|v| !v.trim().is_empty())
            .map(|v| v.trim().to_owned()),
        id: q.id,
        before_id: q.before_id,
        provider: q.provider,
        upstream_key: q.upstream_key,
        client_key_id: q.client_key_id,
        from: q.from,
        to: q.to,
    })
}

/// An attempt as rows written before upstream keys had their one name
/// stored it (`provider_key_id`, `provider_key_name`), under today's names.
fn renamed_attempt(mut attempt: Value) -> Value {
    if let Some(fields) = attempt.as_object_mut() {
        for (old, new) in [
            ("provider_key_id", "upstream_key_id"),
            ("provider_key_name", "upstream_key_name"),
        ] {
            if let Some(v) = fields.remove(old) {
                fields.entry(new).or_insert(v);
            }
        }
    }
    attempt
}

#[utoipa::path(
    get,
    path = "/api/logs/traces/{id}",
    tag = openapi::TAG_TRACES,
    params(("id" = i64, Path)),
    responses((status = 200, body = TraceDetail), BadRequest, Unauthorized, NotFound),
)]
pub async fn get_one(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<TraceDetail>, ApiError> {
    let t = traces::find(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound("trace"))?;
    if !caller.is_admin() {
        let own = owned_ids(&state, &caller).await?;
        if !t.client_key_id.is_some_and(|id| own.contains(&id)) {
            return Err(ApiError::NotFound("trace"));
        }
    }
    let attempt_log = match serde_json::from_str(&t.attempt_log) {
        Ok(Value::Array(items)) => items.into_iter().map(renamed_attempt).collect(),
        _ => Vec::new(),
    };
    Ok(Json(TraceDetail {
        id: t.id,
        request_id: t.request_id,
        created_at: t.created_at,
        client_key_id: t.client_key_id,
        client_key_name: t.client_key_name,
        provider_id: t.provider_id,
        provider_name: t.provider_name,
        upstream_key_id: t.upstream_key_id,
        upstream_key_name: t.upstream_key_name,
        plugin_name: t.plugin_name,
        plugin_version: t.plugin_version,
        model: t.model,
        method: t.method,
        path: t.path,
        status_code: t.status_code,
        is_stream: t.is_stream,
        attempts: t.attempts,
        attempt_log,
        input_tokens: t.input_tokens,
        output_tokens: t.output_tokens,
        cached_input_tokens: t.cached_input_tokens,
        cache_write_tokens: t.cache_write_tokens,
        reasoning_tokens: t.reasoning_tokens,
        total_tokens: t.total_tokens,
        cost_nanos: t.cost_nanos,
        cost_usd: t.cost_nanos.map(|n| n as f64 / 1e9),
        error_class: t.error_class,
        error_message: t.error_message,
        first_byte_ms: t.first_byte_ms,
        duration_ms: t.duration_ms,
    }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::renamed_attempt;

    #[test]
    fn attempts_stored_under_the_old_key_names_read_under_the_new() {
        let old = json!({"provider_key_id": 4, "provider_key_name": "a", "status": 200});
        assert_eq!(
            renamed_attempt(old),
            json!({"upstream_key_id": 4, "upstream_key_name": "a", "status": 200})
        );
        let new = json!({"upstream_key_id": 5, "upstream_key_name": "b"});
        assert_eq!(renamed_attempt(new.clone()), new);
    }
}
