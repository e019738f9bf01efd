//! `/api/plugins`: provider plugin components and their versions.
//!
//! `POST` uploads a component (multipart field `file`, or the raw bytes as
//! `application/wasm`); it is validated (a component, of a WIT version this
//! gateway speaks, exporting the provider interface, importing nothing
//! else, under the size cap, describing itself well) and compiled once
//! before anything is stored, so a bad upload changes nothing and says
//! why. Providers follow the newest enabled version of their plugin unless
//! bound to one (`PUT /api/providers/{id}` with `plugin_version`); a
//! version may be disabled (providers fall back to the newest enabled
//! one), limited, or deleted when nothing uses it. Requests in flight
//! finish on the version they started with.

mod upload;
mod view;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use chrono::Utc;
use sea_orm::Set;
use serde::Deserialize;

use super::audit::snapshot;
use super::auth::Caller;
use super::json::{ApiJson, ApiPath};
use super::openapi::{
    self, BadRequest, Conflict, Forbidden, NotFound, TooLarge, Unauthorized, Unprocessable,
};
use super::write::Entry;
use super::{AdminState, ApiError, Deleted};
use crate::store::entities::plugins;
use crate::store::plugins as stored;
pub use upload::UploadForm;
use upload::{load_error, upload_bytes};
pub use view::PluginView;
use view::{one, views};

/// Most a per-version call time limit may be.
pub const MAX_CALL_TIMEOUT_MS: i32 = 60_000;

#[utoipa::path(
    get,
    path = "/api/plugins",
    tag = openapi::TAG_PLUGINS,
    responses((status = 200, body = Vec<PluginView>), Unauthorized, Forbidden),
)]
pub async fn list(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Vec<PluginView>>, ApiError> {
    caller.require_admin()?;
    let rows = stored::list(&state.db).await?;
    Ok(Json(views(&state, rows).await?))
}

#[utoipa::path(
    get,
    path = "/api/plugins/{id}",
    tag = openapi::TAG_PLUGINS,
    params(("id" = i32, Path)),
    responses((status = 200, body = PluginView), BadRequest, Unauthorized, Forbidden, NotFound),
)]
pub async fn get_one(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
) -> Result<Json<PluginView>, ApiError> {
    caller.require_admin()?;
    Ok(Json(one(&state, id).await?))
}

#[utoipa::path(
    post,
    path = "/api/plugins",
    tag = openapi::TAG_PLUGINS,
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    params(("force" = Option<bool>, Query, description = "Store and serve the version even if it fails its conformance vectors (audited)")),
    responses(
        (status = 201, body = PluginView),
        BadRequest, Unauthorized, Forbidden, Conflict, TooLarge, Unprocessable
    ),
)]
pub async fn upload(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    request: Request,
) -> Result<(StatusCode, Json<PluginView>), ApiError> {
    caller.require_admin()?;
    let force = super::plugin_conformance::force_requested(request.uri().query());
    let bytes = upload_bytes(&state, request).await?;
    if bytes.is_empty() {
        return Err(ApiError::BadRequest("the upload is empty".into()));
    }
    let plugin = state
        .registry
        .load(bytes.to_vec())
        .await
        .map_err(load_error)?;
    let same = stored::same_build(&state.db, &plugin.sha256, &plugin.name, &plugin.version).await?;
    if let Some((name, version)) = same {
        return Err(ApiError::Conflict(format!(
            "plugin '{name}' version '{version}' is already stored; give a new build a new version"
        )));
    }
    let report = super::plugin_conformance::check(&state, &plugin).await?;
    if !report.passed() && !force {
        return Err(super::plugin_conformance::refusal(&plugin, &report));
    }
    let change = state.change(&caller).await?;
    let row = stored::insert(
        change.db(),
        plugins::ActiveModel {
            name: Set(plugin.name.clone()),
            version: Set(plugin.version.clone()),
            sha256: Set(plugin.sha256.clone()),
            wasm: Set(bytes.to_vec()),
            builtin: Set(false),
            enabled: Set(true),
            created_at: Set(Utc::now()),
            ..Default::default()
        },
    )
    .await?;
    let conformance =
        super::plugin_conformance::record(change.db(), &caller, row.id, &report, force).await?;
    let committed = change.commit().await?;
    if let Some(entry) = super::plugin_conformance::forced_entry(&conformance) {
        committed.audit(entry).await;
    }
    let view = one(&state, row.id).await?;
    committed
        .audit(Entry::new("upload", "plugin", row.id).after(snapshot(&view)))
        .await;
    Ok((StatusCode::CREATED, Json(view)))
}

/// A change to a plugin version (only the fields given change).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PluginInput {
    enabled: Option<bool>,
    /// Per-version call time limit (at most the gateway's); `null` clears.
    #[serde(default, with = "super::json::double_option")]
    #[schema(value_type = Option<i32>, minimum = 1, maximum = 60_000)]
    call_timeout_ms: Option<Option<i32>>,
    /// Per-version memory cap in MiB (at most the gateway's); `null` clears.
    #[serde(default, with = "super::json::double_option")]
    #[schema(value_type = Option<i32>, minimum = 1, maximum = 4096)]
    memory_mib: Option<Option<i32>>,
}

#[utoipa::path(
    put,
    path = "/api/plugins/{id}",
    tag = openapi::TAG_PLUGINS,
    params(("id" = i32, Path)),
    request_body = PluginInput,
    responses((status = 200, body = PluginView), BadRequest, Unauthorized, Forbidden, NotFound),
)]
pub async fn update(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
    ApiJson(input): ApiJson<PluginInput>,
) -> Result<Json<PluginView>, ApiError> {
    caller.require_admin()?;
    if let Some(Some(ms)) = input.call_timeout_ms
        && !(1..=MAX_CALL_TIMEOUT_MS).contains(&ms)
    {
        return Err(ApiError::BadRequest(format!(
            "call_timeout_ms must be between 1 and {MAX_CALL_TIMEOUT_MS}"
        )));
    }
    if let Some(Some(mib)) = input.memory_mib
        && !(1..=4096).contains(&mib)
    {
        return Err(ApiError::BadRequest(
            "memory_mib must be between 1 and 4096".into(),
        ));
    }
    let before = snapshot(&one(&state, id).await?);
    let change = state.change(&caller).await?;
    let row = stored::find(change.db(), id)
        .await?
        .ok_or(ApiError::NotFound("plugin"))?;
    let sha = row.sha256.clone();
    let mut row: plugins::ActiveModel = row.into();
    if let Some(enabled) = input.enabled {
        row.enabled = Set(enabled);
        row.disabled_reason = Set((!enabled).then(|| format!("disabled by {}", caller.username)));
        if enabled && let Some(plugin) = state.registry.get(&sha) {
            plugin.metrics.reset_failures();
        }
    }
    if let Some(ms) = input.call_timeout_ms {
        row.call_timeout_ms = Set(ms);
    }
    if let Some(mib) = input.memory_mib {
        row.memory_mib = Set(mib);
    }
    stored::update(change.db(), row).await?;
    let committed = change.commit().await?;
    let view = one(&state, id).await?;
    committed
        .audit(Entry::updated("plugin", id, before, snapshot(&view)))
        .await;
    Ok(Json(view))
}

/// Deletes a version nothing serves or is bound to (never a built-in).
#[utoipa::path(
    delete,
    path = "/api/plugins/{id}",
    tag = openapi::TAG_PLUGINS,
    params(("id" = i32, Path)),
    responses((status = 200, body = Deleted), BadRequest, Unauthorized, Forbidden, NotFound, Conflict),
)]
pub async fn delete(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
) -> Result<Json<Deleted>, ApiError> {
    caller.require_admin()?;
    let view = one(&state, id).await?;
    if view.builtin {
        return Err(ApiError::Conflict(
            "built-in plugins cannot be deleted; disable them instead".into(),
        ));
    }
    if !view.serving.is_empty() || !view.bound.is_empty() {
        let users: Vec<String> = view.serving.iter().chain(&view.bound).cloned().collect();
        return Err(ApiError::Conflict(format!(
            "version in use by provider(s) {}; bind them to another version first",
            users.join(", ")
        )));
    }
    let change = state.change(&caller).await?;
    stored::delete(change.db(), id).await?;
    change
        .commit()
        .await?
        .audit(Entry::deleted("plugin", id, snapshot(&view)))
        .await;
    Ok(Json(Deleted { deleted: id }))
}
