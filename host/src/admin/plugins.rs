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

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::{Extension, Json};
use chrono::Utc;
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};

use super::audit::snapshot;
use super::auth::Caller;
use super::json::{ApiJson, ApiPath};
use super::openapi::{
    self, BadRequest, Conflict, Forbidden, NotFound, TooLarge, Unauthorized, Unprocessable,
};
use super::write::Entry;
use super::{AdminState, ApiError, Deleted};
use crate::plugins::{LoadError, MetricsView};
use crate::store::entities::{plugins, providers};

/// Most a per-version call time limit may be.
pub const MAX_CALL_TIMEOUT_MS: i32 = 60_000;

#[derive(Serialize, utoipa::ToSchema)]
pub struct PluginView {
    id: i32,
    name: String,
    version: String,
    sha256: String,
    builtin: bool,
    enabled: bool,
    disabled_reason: Option<String>,
    call_timeout_ms: Option<i32>,
    memory_mib: Option<i32>,
    created_at: chrono::DateTime<Utc>,
    /// Providers running this version now.
    serving: Vec<String>,
    /// Providers bound to this version.
    bound: Vec<String>,
    /// Calls, failures and call times on this instance since it started.
    #[serde(skip_serializing_if = "Option::is_none")]
    metrics: Option<MetricsView>,
    /// Whether the plugin declares its endpoints (the WIT `endpoints`
    /// interface). One that does not serves only client keys granted the
    /// endpoint class `other`; rebuild it with a current SDK. `None` when
    /// the version is not loaded on this instance.
    #[serde(skip_serializing_if = "Option::is_none")]
    declares_endpoints: Option<bool>,
}

/// A plugin row without its bytes.
type PluginRow = (
    i32,
    String,
    String,
    String,
    bool,
    bool,
    Option<String>,
    Option<i32>,
    Option<i32>,
    chrono::DateTime<Utc>,
);

const COLUMNS: [plugins::Column; 10] = [
    plugins::Column::Id,
    plugins::Column::Name,
    plugins::Column::Version,
    plugins::Column::Sha256,
    plugins::Column::Builtin,
    plugins::Column::Enabled,
    plugins::Column::DisabledReason,
    plugins::Column::CallTimeoutMs,
    plugins::Column::MemoryMib,
    plugins::Column::CreatedAt,
];

async fn views(state: &AdminState, rows: Vec<PluginRow>) -> Result<Vec<PluginView>, ApiError> {
    let providers = providers::Entity::find().all(&state.db).await?;
    let catalog = state.catalog.load();
    Ok(rows
        .into_iter()
        .map(
            |(
                id,
                name,
                version,
                sha256,
                builtin,
                enabled,
                disabled_reason,
                call_timeout_ms,
                memory_mib,
                created_at,
            )| {
                let serving = catalog
                    .providers
                    .values()
                    .filter(|p| p.plugin.as_ref().is_some_and(|pl| pl.sha256 == sha256))
                    .map(|p| p.name.clone())
                    .collect();
                let bound = providers
                    .iter()
                    .filter(|p| {
                        p.plugin_name == name
                            && p.plugin_version.as_deref() == Some(version.as_str())
                    })
                    .map(|p| p.name.clone())
                    .collect();
                let loaded = state.registry.get(&sha256);
                PluginView {
                    metrics: loaded.as_ref().map(|p| p.metrics.view()),
                    declares_endpoints: loaded.as_ref().map(|p| p.endpoints.declared()),
                    id,
                    name,
                    version,
                    sha256,
                    builtin,
                    enabled,
                    disabled_reason,
                    call_timeout_ms,
                    memory_mib,
                    created_at,
                    serving,
                    bound,
                }
            },
        )
        .collect())
}

async fn one(state: &AdminState, id: i32) -> Result<PluginView, ApiError> {
    let row: Option<PluginRow> = plugins::Entity::find_by_id(id)
        .select_only()
        .columns(COLUMNS)
        .into_tuple()
        .one(&state.db)
        .await?;
    let row = row.ok_or(ApiError::NotFound("plugin"))?;
    views(state, vec![row])
        .await?
        .pop()
        .ok_or(ApiError::NotFound("plugin"))
}

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
    let rows: Vec<PluginRow> = plugins::Entity::find()
        .select_only()
        .columns(COLUMNS)
        .order_by_asc(plugins::Column::Id)
        .into_tuple()
        .all(&state.db)
        .await?;
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

fn load_error(e: LoadError) -> ApiError {
    match e {
        LoadError::TooLarge { .. } => ApiError::TooLarge(e.to_string()),
        other => ApiError::Unprocessable(other.to_string(), other.code()),
    }
}

/// The uploaded component: the multipart field `file` (or the first file),
/// or the whole body.
async fn upload_bytes(state: &AdminState, request: Request) -> Result<Bytes, ApiError> {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let too_large = || {
        ApiError::TooLarge(format!(
            "plugins may be at most {} bytes",
            state.registry.max_bytes()
        ))
    };
    if !multipart {
        return Bytes::from_request(request, &())
            .await
            .map_err(|_| too_large());
    }
    let mut form = Multipart::from_request(request, &())
        .await
        .map_err(|e| ApiError::BadRequest(e.body_text()))?;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| ApiError::BadRequest(e.body_text()))?
    {
        if field.name() == Some("file") || field.file_name().is_some() {
            return field.bytes().await.map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    too_large()
                } else {
                    ApiError::BadRequest(e.body_text())
                }
            });
        }
    }
    Err(ApiError::BadRequest(
        "the form has no 'file' field with the .wasm component".into(),
    ))
}

/// An upload form: the component in the field `file`. The raw bytes with
/// `content-type: application/wasm` are accepted too.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The `.wasm` component.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
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
    let same = plugins::Entity::find()
        .filter(
            plugins::Column::Sha256
                .eq(&plugin.sha256)
                .or(plugins::Column::Name
                    .eq(&plugin.name)
                    .and(plugins::Column::Version.eq(&plugin.version))),
        )
        .select_only()
        .columns([plugins::Column::Name, plugins::Column::Version])
        .into_tuple::<(String, String)>()
        .one(&state.db)
        .await?;
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
    let row = plugins::ActiveModel {
        name: Set(plugin.name.clone()),
        version: Set(plugin.version.clone()),
        sha256: Set(plugin.sha256.clone()),
        wasm: Set(bytes.to_vec()),
        builtin: Set(false),
        enabled: Set(true),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(change.db())
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
    let row = change.find::<plugins::Entity>(id, "plugin").await?;
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
    row.update(change.db()).await?;
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
    plugins::Entity::delete_by_id(id).exec(change.db()).await?;
    change
        .commit()
        .await?
        .audit(Entry::deleted("plugin", id, snapshot(&view)))
        .await;
    Ok(Json(Deleted { deleted: id }))
}
