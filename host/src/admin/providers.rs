//! `/api/providers`: where each provider is and which plugin speaks to it.

mod input;
mod view;

use std::sync::Arc;

use axum::extract::State;
use axum::{Extension, Json};
use chrono::Utc;
use sea_orm::{DatabaseTransaction, Set};

use super::audit::snapshot;
use super::auth::Caller;
use super::json::{ApiJson, ApiPath};
use super::openapi::{self, BadRequest, Conflict, Forbidden, NotFound, Unauthorized};
use super::write::Entry;
use super::{AdminState, ApiError, Deleted};
use crate::plugins::LoadedPlugin;
use crate::store::bootstrap::{DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_READ_TIMEOUT_MS, seed_prices};
use crate::store::entities::providers;
use crate::store::providers as stored;
pub use input::ProviderInput;
use input::{binding, check, seal_client_secret, stored_override};
pub use view::ProviderView;
use view::view;

#[utoipa::path(
    get,
    path = "/api/providers",
    tag = openapi::TAG_PROVIDERS,
    responses((status = 200, body = Vec<ProviderView>), Unauthorized),
)]
pub async fn list(State(state): State<AdminState>) -> Result<Json<Vec<ProviderView>>, ApiError> {
    let rows = stored::list(&state.db).await?;
    Ok(Json(rows.into_iter().map(|p| view(&state, p)).collect()))
}

#[utoipa::path(
    get,
    path = "/api/providers/{id}",
    tag = openapi::TAG_PROVIDERS,
    params(("id" = i32, Path)),
    responses((status = 200, body = ProviderView), BadRequest, Unauthorized, NotFound),
)]
pub async fn get_one(
    State(state): State<AdminState>,
    ApiPath(id): ApiPath<i32>,
) -> Result<Json<ProviderView>, ApiError> {
    let row = stored::find(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound("provider"))?;
    Ok(Json(view(&state, row)))
}

/// The newest enabled stored plugin named `name`, compiled: for a provider
/// of a plugin no provider uses yet (one loaded from a file or uploaded),
/// whose default prices must still be seeded.
async fn stored_plugin(
    state: &AdminState,
    name: &str,
) -> Result<Option<Arc<LoadedPlugin>>, ApiError> {
    let Some(row) = crate::store::plugins::newest_enabled(&state.db, name).await? else {
        return Ok(None);
    };
    if let Some(compiled) = state.registry.get(&row.sha256) {
        return Ok(Some(compiled));
    }
    let compiled = state
        .registry
        .load(row.wasm)
        .await
        .map_err(|e| ApiError::internal(format!("plugin {name}: {e}")))?;
    Ok(Some(compiled))
}

#[utoipa::path(
    post,
    path = "/api/providers",
    tag = openapi::TAG_PROVIDERS,
    request_body = ProviderInput,
    responses((status = 200, body = ProviderView), BadRequest, Unauthorized, Forbidden, Conflict),
)]
pub async fn create(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiJson(input): ApiJson<ProviderInput>,
) -> Result<Json<ProviderView>, ApiError> {
    caller.require_admin()?;
    check(&state, &input).await?;
    let (Some(name), Some(plugin)) = (input.name.clone(), input.plugin.clone()) else {
        return Err(ApiError::BadRequest("name and plugin are required".into()));
    };
    let loaded = plugin_named(&state, &plugin).await?;
    let base_url = match (&input.base_url, &loaded) {
        (Some(url), _) => url.clone(),
        (None, Some(pl)) => pl.info.default_base_url.clone(),
        (None, None) => return Err(ApiError::BadRequest("base_url is required".into())),
    };
    let change = state.change(&caller).await?;
    if stored::name_taken(change.db(), &name).await? {
        return Err(ApiError::Conflict(format!(
            "a provider named '{name}' exists"
        )));
    }
    let (oauth_override, oauth_secret) = stored_override(input.oauth.clone().flatten());
    let mut row = new_row(change.db(), &input, name, plugin, base_url).await?;
    row.oauth_override = Set(oauth_override);
    // The client secret is bound to the row's id, known once the row
    // exists: inserted without it and filled in within the change.
    let mut row = stored::insert(change.db(), row).await?;
    if let Some(sealed) = seal_client_secret(&state, oauth_secret.as_ref(), row.id) {
        let mut active: providers::ActiveModel = row.into();
        active.oauth_client_secret_ciphertext = Set(Some(sealed));
        row = stored::update(change.db(), active).await?;
    }
    if let Some(pl) = loaded {
        seed_prices(change.db(), row.id, &pl)
            .await
            .map_err(ApiError::internal)?;
    }
    let committed = change.commit().await?;
    let view = view(&state, row);
    committed
        .audit(Entry::created("provider", view.id, snapshot(&view)))
        .await;
    Ok(Json(view))
}

/// The plugin a new provider of plugin `name` gets: the one other
/// providers of it run, else the newest enabled stored version.
async fn plugin_named(
    state: &AdminState,
    name: &str,
) -> Result<Option<Arc<LoadedPlugin>>, ApiError> {
    let in_use = state
        .catalog
        .load()
        .providers
        .values()
        .find_map(|p| p.plugin.clone().filter(|pl| pl.name == name));
    match in_use {
        Some(in_use) => Ok(Some(in_use)),
        None => stored_plugin(state, name).await,
    }
}

/// A new provider's row, with the input's values or their defaults.
async fn new_row(
    db: &DatabaseTransaction,
    input: &ProviderInput,
    name: String,
    plugin: String,
    base_url: String,
) -> Result<providers::ActiveModel, ApiError> {
    let now = Utc::now();
    Ok(providers::ActiveModel {
        oauth_override: Set(None),
        oauth_client_secret_ciphertext: Set(None),
        name: Set(name),
        plugin_version: Set(match &input.plugin_version {
            Some(v) => binding(db, &plugin, v).await?,
            None => None,
        }),
        plugin_name: Set(plugin),
        base_url: Set(base_url),
        connect_timeout_ms: Set(input
            .connect_timeout_ms
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT_MS)),
        read_timeout_ms: Set(input.read_timeout_ms.unwrap_or(DEFAULT_READ_TIMEOUT_MS)),
        enabled: Set(input.enabled.unwrap_or(true)),
        allow_billing_headers: Set(input.allow_billing_headers.unwrap_or(false)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
}

#[utoipa::path(
    put,
    path = "/api/providers/{id}",
    tag = openapi::TAG_PROVIDERS,
    params(("id" = i32, Path)),
    request_body = ProviderInput,
    responses((status = 200, body = ProviderView), BadRequest, Unauthorized, Forbidden, NotFound, Conflict),
)]
pub async fn update(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
    ApiJson(input): ApiJson<ProviderInput>,
) -> Result<Json<ProviderView>, ApiError> {
    caller.require_admin()?;
    check(&state, &input).await?;
    let change = state.change(&caller).await?;
    let row = stored::find(change.db(), id)
        .await?
        .ok_or(ApiError::NotFound("provider"))?;
    if let Some(name) = input.name.as_deref().filter(|n| *n != row.name)
        && stored::name_taken(change.db(), name).await?
    {
        return Err(ApiError::Conflict(format!(
            "a provider named '{name}' exists"
        )));
    }
    let before = snapshot(&view(&state, row.clone()));
    let mut row: providers::ActiveModel = row.into();
    if let Some(v) = input.name {
        row.name = Set(v);
    }
    if let Some(o) = input.oauth {
        let (oauth_override, oauth_secret) = stored_override(o);
        row.oauth_override = Set(oauth_override);
        row.oauth_client_secret_ciphertext =
            Set(seal_client_secret(&state, oauth_secret.as_ref(), id));
    }
    let plugin_changed = input.plugin.is_some();
    if let Some(v) = input.plugin {
        row.plugin_name = Set(v);
    }
    let plugin_name = match &row.plugin_name {
        sea_orm::ActiveValue::Set(v) | sea_orm::ActiveValue::Unchanged(v) => v.clone(),
        sea_orm::ActiveValue::NotSet => String::new(),
    };
    if let Some(v) = input.plugin_version {
        row.plugin_version = Set(binding(change.db(), &plugin_name, &v).await?);
    } else if plugin_changed {
        row.plugin_version = Set(None);
    }
    if let Some(v) = input.base_url {
        row.base_url = Set(v);
    }
    if let Some(v) = input.connect_timeout_ms {
        row.connect_timeout_ms = Set(v);
    }
    if let Some(v) = input.read_timeout_ms {
        row.read_timeout_ms = Set(v);
    }
    if let Some(v) = input.enabled {
        row.enabled = Set(v);
    }
    if let Some(v) = input.allow_billing_headers {
        row.allow_billing_headers = Set(v);
    }
    row.updated_at = Set(Utc::now());
    let row = stored::update(change.db(), row).await?;
    let committed = change.commit().await?;
    let after = view(&state, row);
    committed
        .audit(Entry::updated("provider", id, before, snapshot(&after)))
        .await;
    Ok(Json(after))
}

/// `DELETE /api/providers/{id}`: only a provider no key refers to; its
/// prices go with it.
#[utoipa::path(
    delete,
    path = "/api/providers/{id}",
    tag = openapi::TAG_PROVIDERS,
    params(("id" = i32, Path)),
    responses((status = 200, body = Deleted), BadRequest, Unauthorized, Forbidden, NotFound, Conflict),
)]
pub async fn delete(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
) -> Result<Json<Deleted>, ApiError> {
    caller.require_admin()?;
    let change = state.change(&caller).await?;
    let row = stored::find(change.db(), id)
        .await?
        .ok_or(ApiError::NotFound("provider"))?;
    let (upstream_keys, client_keys) = stored::keys_using(change.db(), id).await?;
    if upstream_keys + client_keys > 0 {
        return Err(ApiError::Conflict(format!(
            "provider '{}' is in use by {upstream_keys} upstream and {client_keys} client keys",
            row.name
        )));
    }
    let before = snapshot(&view(&state, row));
    stored::delete_with_prices(change.db(), id).await?;
    change
        .commit()
        .await?
        .audit(Entry::deleted("provider", id, before))
        .await;
    Ok(Json(Deleted { deleted: id }))
}
