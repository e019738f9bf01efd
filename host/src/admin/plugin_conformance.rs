//! Conformance at upload: a new plugin version runs the vectors of its
//! kind (the built-in ones for its name) and every vector an operator
//! added to a provider that uses that plugin, before it is stored. A
//! version that fails is refused (422 `conformance_failed`, each
//! difference named, nothing stored) unless the upload says `force=true`:
//! then it is stored with its failed result, serves, and the force is
//! audited. `GET /api/plugins/{id}/conformance` shows the stored result;
//! `POST` runs the vectors again (after vectors were added), and a failed
//! re-run stops the version serving unless forced.
//!
//! The run is bounded by the plugin engine's per-call deadline and memory
//! cap and by [`MAX_RUN_TIME`] in all; it runs on its own task, so the
//! admin API's other requests do not wait on it.

use std::sync::Arc;

use axum::extract::State;
use axum::{Extension, Json};
use chrono::Utc;
use sea_orm::{DatabaseTransaction, Set};
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::json::{ApiJson, ApiPath};
use super::openapi::{self, BadRequest, Forbidden, NotFound, Unauthorized, Unprocessable};
use super::write::Entry;
use super::{AdminState, ApiError};
use crate::conformance::{MAX_RUN_TIME, Plan, Report, builtin, run_all, samples};
use crate::plugins::LoadedPlugin;
use crate::store::entities::plugin_conformance;

/// The most differences an error message lists (the stored result keeps
/// them all).
pub const MAX_LISTED_DIFFERENCES: usize = 20;

/// Whether an upload's query says `force=true`.
pub fn force_requested(query: Option<&str>) -> bool {
    query.is_some_and(|q| {
        q.split('&')
            .any(|pair| matches!(pair, "force=true" | "force=1"))
    })
}

/// The vectors a version of plugin `name` must meet.
async fn vectors_for(state: &AdminState, name: &str) -> Result<Vec<samples::Sample>, ApiError> {
    let mut all = builtin::for_plugin(name).map_err(|e| {
        tracing::error!(error = %e, plugin = name, "built-in vectors do not load");
        ApiError::Internal
    })?;
    let stored = crate::store::conformance_vectors::of_plugin(&state.db, name).await?;
    for row in stored {
        match samples::from_case_text(&row.vector) {
            Ok(mut sample) => {
                sample.name = format!("provider {} vector {}", row.provider_id, sample.name);
                all.push(sample);
            }
            Err(e) => tracing::error!(error = %e, vector = row.id, "stored vector does not load"),
        }
    }
    Ok(all)
}

/// Runs `plugin` against its vectors on a task of its own.
pub async fn check(state: &AdminState, plugin: &Arc<LoadedPlugin>) -> Result<Report, ApiError> {
    let vectors = vectors_for(state, &plugin.name).await?;
    let plugin = plugin.apart();
    tokio::spawn(async move { run_all(&plugin, &vectors, Plan::AT_UPLOAD, MAX_RUN_TIME).await })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "conformance run failed");
            ApiError::Internal
        })
}

/// The 422 of a failed check.
pub fn refusal(plugin: &LoadedPlugin, report: &Report) -> ApiError {
    let lines = report.lines();
    let mut listed: Vec<String> = lines.iter().take(MAX_LISTED_DIFFERENCES).cloned().collect();
    if lines.len() > MAX_LISTED_DIFFERENCES {
        listed.push(format!("... {} more", lines.len() - MAX_LISTED_DIFFERENCES));
    }
    ApiError::Unprocessable(
        format!(
            "plugin '{}' version '{}' fails {} of {} conformance vectors, so it was not stored (upload with ?force=true to store it and let it serve anyway): {}",
            plugin.name,
            plugin.version,
            report.failed.len(),
            report.cases,
            listed.join("; ")
        ),
        "conformance_failed",
    )
}

/// Stores the result of version `plugin_id` through `db` (the change that
/// stores or re-checks the version); a failed one stored with `force` is
/// marked forced by `caller` (see [`forced_entry`]).
pub async fn record(
    db: &DatabaseTransaction,
    caller: &Caller,
    plugin_id: i32,
    report: &Report,
    force: bool,
) -> Result<ConformanceView, ApiError> {
    let forced = force && !report.passed();
    let row = plugin_conformance::ActiveModel {
        plugin_id: Set(plugin_id),
        passed: Set(report.passed()),
        forced: Set(forced),
        forced_by: Set(forced.then(|| caller.username.clone())),
        cases: Set(i32::try_from(report.cases).unwrap_or(i32::MAX)),
        report: Set(serde_json::to_string(report).unwrap_or_default()),
        checked_at: Set(Utc::now()),
    };
    let row = crate::store::plugin_conformance::replace(db, plugin_id, row).await?;
    Ok(ConformanceView::of(plugin_id, Some(row)))
}

/// The audit entry of a result an operator forced, when `view` is one.
pub fn forced_entry(view: &ConformanceView) -> Option<Entry> {
    view.forced.then(|| {
        Entry::new("force", "plugin", view.plugin_id).after(serde_json::to_value(view).ok())
    })
}

/// A version's conformance result.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ConformanceView {
    plugin_id: i32,
    /// Whether the version was checked (built-in versions and versions
    /// stored before checks existed were not).
    checked: bool,
    passed: bool,
    /// Failed, but an operator let it serve.
    forced: bool,
    forced_by: Option<String>,
    /// Whether the version may serve traffic: not checked, passed or forced.
    servable: bool,
    /// Vectors run.
    cases: usize,
    /// The vectors that failed, each with its differences.
    #[schema(value_type = Vec<Object>)]
    failed: Vec<crate::conformance::CaseResult>,
    checked_at: Option<chrono::DateTime<Utc>>,
}

impl ConformanceView {
    fn of(plugin_id: i32, row: Option<plugin_conformance::Model>) -> ConformanceView {
        let report: Option<Report> = row
            .as_ref()
            .and_then(|r| serde_json::from_str(&r.report).ok());
        ConformanceView {
            plugin_id,
            checked: row.is_some(),
            passed: row.as_ref().is_some_and(|r| r.passed),
            forced: row.as_ref().is_some_and(|r| r.forced),
            forced_by: row.as_ref().and_then(|r| r.forced_by.clone()),
            servable: row.as_ref().is_none_or(plugin_conformance::Model::servable),
            cases: report.as_ref().map_or(0, |r| r.cases),
            failed: report.map(|r| r.failed).unwrap_or_default(),
            checked_at: row.map(|r| r.checked_at),
        }
    }
}

#[utoipa::path(
    get,
    path = "/api/plugins/{id}/conformance",
    tag = openapi::TAG_PLUGINS,
    params(("id" = i32, Path)),
    responses((status = 200, body = ConformanceView), BadRequest, Unauthorized, Forbidden, NotFound),
)]
pub async fn get_result(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
) -> Result<Json<ConformanceView>, ApiError> {
    caller.require_admin()?;
    crate::store::plugins::find_row(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound("plugin"))?;
    let row = crate::store::plugin_conformance::find(&state.db, id).await?;
    Ok(Json(ConformanceView::of(id, row)))
}

/// A re-run of a stored version's vectors.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecheckInput {
    /// Let the version serve even if it fails (audited).
    #[serde(default)]
    force: bool,
}

#[utoipa::path(
    post,
    path = "/api/plugins/{id}/conformance",
    tag = openapi::TAG_PLUGINS,
    params(("id" = i32, Path)),
    request_body = RecheckInput,
    responses((status = 200, body = ConformanceView), BadRequest, Unauthorized, Forbidden, NotFound, Unprocessable),
)]
pub async fn recheck(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
    ApiJson(input): ApiJson<RecheckInput>,
) -> Result<Json<ConformanceView>, ApiError> {
    caller.require_admin()?;
    let row = crate::store::plugins::find(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound("plugin"))?;
    let plugin = match state.registry.get(&row.sha256) {
        Some(p) => p,
        None => state
            .registry
            .load(row.wasm)
            .await
            .map_err(|e| ApiError::Unprocessable(e.to_string(), e.code()))?,
    };
    let report = check(&state, &plugin).await?;
    let change = state.change(&caller).await?;
    let view = record(change.db(), &caller, id, &report, input.force).await?;
    let committed = change.commit().await?;
    if let Some(entry) = forced_entry(&view) {
        committed.audit(entry).await;
    }
    committed
        .audit(Entry::new("recheck", "plugin", id).after(serde_json::to_value(&view).ok()))
        .await;
    Ok(Json(view))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_explicit_force_forces() {
        assert!(force_requested(Some("force=true")));
        assert!(force_requested(Some("a=b&force=1")));
        assert!(!force_requested(Some("force=false")));
        assert!(!force_requested(Some("noforce=true")));
        assert!(!force_requested(None));
    }
}
