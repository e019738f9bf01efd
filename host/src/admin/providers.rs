//! `/api/providers`: where each provider is and which plugin speaks to it.

use std::sync::Arc;

use axum::extract::State;
use axum::{Extension, Json};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::audit::snapshot;
use super::auth::Caller;
use super::json::{ApiJson, ApiPath};
use super::openapi::{self, BadRequest, Conflict, Forbidden, NotFound, Unauthorized};
use super::write::Entry;
use super::{AdminState, ApiError, Deleted};
use crate::catalog::UpstreamBase;
use crate::catalog::{OAuthOverride, OAuthSettingsView};
use crate::plugins::LoadedPlugin;
use crate::secrets::{Secret, SecretColumn};
use crate::store::bootstrap::{DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_READ_TIMEOUT_MS, seed_prices};
use crate::store::entities::{plugins, providers};

/// Longest upstream timeout an operator may set.
pub const MAX_TIMEOUT_MS: i32 = 3_600_000;

#[derive(Serialize, ToSchema)]
pub struct ProviderView {
    id: i32,
    name: String,
    plugin: String,
    plugin_loaded: bool,
    /// The version serving now.
    plugin_version: Option<String>,
    /// The version the provider is bound to; `latest` follows the newest
    /// enabled version.
    plugin_binding: String,
    base_url: String,
    connect_timeout_ms: i32,
    read_timeout_ms: i32,
    enabled: bool,
    /// Whether clients may choose the organisation or project the upstream
    /// key bills (`openai-organization`, `openai-project`,
    /// `x-goog-user-project`); dropped when false.
    allow_billing_headers: bool,
    /// The OAuth endpoints OAuth keys of this provider use (the plugin's
    /// or the override); `null` when there are none.
    oauth: Option<OAuthSettingsView>,
    created_at: chrono::DateTime<Utc>,
    updated_at: chrono::DateTime<Utc>,
}

fn view(state: &AdminState, p: providers::Model) -> ProviderView {
    let catalog = state.catalog.load();
    let provider = catalog.providers.get(&p.id);
    let plugin = provider.and_then(|c| c.plugin.clone());
    let oauth = provider.and_then(|c| c.oauth.as_deref().map(OAuthSettingsView::from));
    ProviderView {
        id: p.id,
        name: p.name,
        plugin: p.plugin_name,
        plugin_loaded: plugin.is_some(),
        plugin_version: plugin.map(|pl| pl.version.clone()),
        plugin_binding: p.plugin_version.unwrap_or_else(|| LATEST.into()),
        base_url: p.base_url,
        connect_timeout_ms: p.connect_timeout_ms,
        read_timeout_ms: p.read_timeout_ms,
        enabled: p.enabled,
        allow_billing_headers: p.allow_billing_headers,
        oauth,
        created_at: p.created_at,
        updated_at: p.updated_at,
    }
}

/// A new provider (`name` and `plugin` required; `base_url` defaults to
/// the plugin's) or a change to one (only the fields given change).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderInput {
    #[schema(min_length = 1, max_length = 64)]
    name: Option<String>,
    /// Name of a stored plugin (`openai`, `anthropic`, `gemini`, ...).
    plugin: Option<String>,
    /// A version of the plugin to bind to, or `latest`.
    plugin_version: Option<String>,
    /// `http(s)://host[:port][/path]`; must not point at internal addresses
    /// unless allow-listed.
    base_url: Option<String>,
    #[schema(minimum = 1, maximum = 3_600_000)]
    connect_timeout_ms: Option<i32>,
    #[schema(minimum = 1, maximum = 3_600_000)]
    read_timeout_ms: Option<i32>,
    enabled: Option<bool>,
    /// Pass on the client's `openai-organization`, `openai-project` and
    /// `x-goog-user-project` headers (default false: dropped).
    allow_billing_headers: Option<bool>,
    /// OAuth endpoints replacing the plugin's (the whole set, including
    /// `client_secret`); `null` goes back to the plugin's.
    #[serde(default, with = "super::json::double_option")]
    oauth: Option<Option<OAuthOverride>>,
}

/// The stored form of an OAuth override: its JSON (without the client
/// secret), and the client secret, to be encrypted for the provider's row.
fn stored_override(input: Option<OAuthOverride>) -> (Option<String>, Option<Secret>) {
    let Some(mut o) = input else {
        return (None, None);
    };
    let secret = o.client_secret.take().map(Secret::new);
    (serde_json::to_string(&o).ok(), secret)
}

/// A provider's client secret encrypted for its row.
fn seal_client_secret(state: &AdminState, secret: Option<&Secret>, id: i32) -> Option<Vec<u8>> {
    let column = SecretColumn::ProviderOAuthClientSecret;
    secret.map(|s| state.secrets.encrypt(s, column, i64::from(id)))
}

/// The binding that follows the newest enabled version.
pub const LATEST: &str = "latest";

/// The stored binding for `version` of plugin `name`: `None` for latest,
/// else the version, which must exist.
async fn binding(
    db: &impl ConnectionTrait,
    name: &str,
    version: &str,
) -> Result<Option<String>, ApiError> {
    if version == LATEST {
        return Ok(None);
    }
    let exists = plugins::Entity::find()
        .filter(plugins::Column::Name.eq(name))
        .filter(plugins::Column::Version.eq(version))
        .one(db)
        .await?
        .is_some();
    if !exists {
        return Err(ApiError::BadRequest(format!(
            "plugin '{name}' has no version '{version}'"
        )));
    }
    Ok(Some(version.to_owned()))
}

/// Validates a provider change; a base URL must parse and, when its host
/// resolves now, every address must pass the egress policy (it is checked
/// again at every connection, after resolution).
async fn check(state: &AdminState, input: &ProviderInput) -> Result<(), ApiError> {
    if let Some(url) = &input.base_url {
        let base = UpstreamBase::parse(url).map_err(|e| ApiError::BadRequest(e.to_string()))?;
        if let Ok(addrs) = tokio::net::lookup_host((base.host.as_str(), base.port)).await {
            for addr in addrs {
                state
                    .egress
                    .check(addr.ip())
                    .map_err(|e| ApiError::BadRequest(format!("base_url refused: {e}")))?;
            }
        }
    }
    if let Some(Some(o)) = &input.oauth {
        o.check()
            .map_err(|e| ApiError::BadRequest(format!("oauth: {e}")))?;
    }
    for (name, value) in [
        ("connect_timeout_ms", input.connect_timeout_ms),
        ("read_timeout_ms", input.read_timeout_ms),
    ] {
        if value.is_some_and(|v| !(1..=MAX_TIMEOUT_MS).contains(&v)) {
            return Err(ApiError::BadRequest(format!(
                "{name} must be between 1 and {MAX_TIMEOUT_MS}"
            )));
        }
    }
    if input
        .name
        .as_deref()
        .is_some_and(|n| n.trim().is_empty() || n.len() > 64)
    {
        return Err(ApiError::BadRequest(
            "name must be 1 to 64 characters".into(),
        ));
    }
    Ok(())
}

#[utoipa::path(
    get,
    path = "/api/providers",
    tag = openapi::TAG_PROVIDERS,
    responses((status = 200, body = Vec<ProviderView>), Unauthorized),
)]
pub async fn list(State(state): State<AdminState>) -> Result<Json<Vec<ProviderView>>, ApiError> {
    let rows = providers::Entity::find()
        .order_by_asc(providers::Column::Id)
        .all(&state.db)
        .await?;
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
    let row = providers::Entity::find_by_id(id)
        .one(&state.db)
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
    let Some(row) = plugins::Entity::find()
        .filter(plugins::Column::Name.eq(name))
        .filter(plugins::Column::Enabled.eq(true))
        .order_by_desc(plugins::Column::Id)
        .one(&state.db)
        .await?
    else {
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
    let loaded = match state
        .catalog
        .load()
        .providers
        .values()
        .find_map(|p| p.plugin.clone().filter(|pl| pl.name == plugin))
    {
        Some(in_use) => Some(in_use),
        None => stored_plugin(&state, &plugin).await?,
    };
    let base_url = match (&input.base_url, &loaded) {
        (Some(url), _) => url.clone(),
        (None, Some(pl)) => pl.info.default_base_url.clone(),
        (None, None) => return Err(ApiError::BadRequest("base_url is required".into())),
    };
    let change = state.change(&caller).await?;
    let taken = providers::Entity::find()
        .filter(providers::Column::Name.eq(&name))
        .one(change.db())
        .await?;
    if taken.is_some() {
        return Err(ApiError::Conflict(format!(
            "a provider named '{name}' exists"
        )));
    }
    let now = Utc::now();
    let (oauth_override, oauth_secret) = stored_override(input.oauth.clone().flatten());
    // The client secret is bound to the row's id, known once the row
    // exists: inserted without it and filled in within the change.
    let row = providers::ActiveModel {
        oauth_override: Set(oauth_override),
        oauth_client_secret_ciphertext: Set(None),
        name: Set(name),
        plugin_version: Set(match &input.plugin_version {
            Some(v) => binding(change.db(), &plugin, v).await?,
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
    }
    .insert(change.db())
    .await?;
    let row = match seal_client_secret(&state, oauth_secret.as_ref(), row.id) {
        Some(sealed) => {
            let mut active: providers::ActiveModel = row.into();
            active.oauth_client_secret_ciphertext = Set(Some(sealed));
            active.update(change.db()).await?
        }
        None => row,
    };
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
    let row = change.find::<providers::Entity>(id, "provider").await?;
    if let Some(name) = input.name.as_deref().filter(|n| *n != row.name) {
        let taken = providers::Entity::find()
            .filter(providers::Column::Name.eq(name))
            .one(change.db())
            .await?;
        if taken.is_some() {
            return Err(ApiError::Conflict(format!(
                "a provider named '{name}' exists"
            )));
        }
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
    let row = row.update(change.db()).await?;
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
    use crate::store::entities::{client_keys, prices, provider_keys};
    use sea_orm::PaginatorTrait;
    caller.require_admin()?;
    let change = state.change(&caller).await?;
    let row = change.find::<providers::Entity>(id, "provider").await?;
    let upstream_keys = provider_keys::Entity::find()
        .filter(provider_keys::Column::ProviderId.eq(id))
        .count(change.db())
        .await?;
    let client_keys = client_keys::Entity::find()
        .filter(client_keys::Column::ProviderId.eq(id))
        .count(change.db())
        .await?;
    if upstream_keys + client_keys > 0 {
        return Err(ApiError::Conflict(format!(
            "provider '{}' is in use by {upstream_keys} upstream and {client_keys} client keys",
            row.name
        )));
    }
    let before = snapshot(&view(&state, row));
    prices::Entity::delete_many()
        .filter(prices::Column::ProviderId.eq(id))
        .exec(change.db())
        .await?;
    providers::Entity::delete_by_id(id)
        .exec(change.db())
        .await?;
    change
        .commit()
        .await?
        .audit(Entry::deleted("provider", id, before))
        .await;
    Ok(Json(Deleted { deleted: id }))
}
