//! `/api/client-keys/{id}/providers`: the providers a client key may
//! use when it uses several, each with its pool of upstream keys and how a
//! request picks it (a path prefix, or model prefixes; otherwise the API
//! shape its plugin declares).
//!
//! `PUT` replaces the whole list and is refused (422
//! `ambiguous_providers`, naming the providers and the path) when a
//! request could reach two of them ([`crate::catalog::route_check`]); an
//! empty list makes the key a single-provider key again, on the first
//! provider it had. The key's own row mirrors the first provider, so
//! every view of keys that knows one provider still reads right. Who may
//! change it: an administrator, or the key's owner with upstream keys
//! within their grant (like the key's own pool).

use axum::extract::State;
use axum::{Extension, Json};
use chrono::Utc;
use sea_orm::{DatabaseTransaction, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::audit::snapshot;
use super::auth::Caller;
use super::client_key_input::check_pool;
use super::grants::{binding_grant, check_granted};
use super::json::{ApiJson, ApiPath};
use super::openapi::{self, BadRequest, Forbidden, NotFound, Unauthorized, Unprocessable};
use super::write::Entry;
use super::{AdminState, ApiError};
use crate::catalog::route_check::{self, RouteSpec};
use crate::store::entities::{client_key_providers, client_keys};

/// Longest path prefix (one path segment).
pub const MAX_PATH_PREFIX_CHARS: usize = 64;
/// Most model prefixes per provider of a key.
pub const MAX_MODEL_PREFIXES: usize = 64;
/// Longest model prefix.
pub const MAX_MODEL_PREFIX_CHARS: usize = 128;

/// One provider of a client key.
#[derive(Serialize, Deserialize, ToSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct KeyProvider {
    pub provider_id: i32,
    /// Upstream keys of this provider the key may use.
    #[serde(default, alias = "provider_key_ids")]
    #[schema(max_items = 256)]
    pub upstream_key_ids: Vec<i32>,
    /// One path segment (`deepseek`, lower-case letters, digits, `.`, `_`,
    /// `-`): requests to `/deepseek/...` go to this provider as `/...`,
    /// and only those.
    #[serde(default)]
    #[schema(max_length = 64)]
    pub path_prefix: Option<String>,
    /// Model-name prefixes (`deepseek-`) that pick this provider when
    /// several of the key's providers serve the same path.
    #[serde(default)]
    #[schema(max_items = 64)]
    pub model_prefixes: Vec<String>,
}

/// The providers of a client key; empty: it uses the one provider of the
/// key itself (`provider_id`, `upstream_key_ids`).
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyProviders {
    #[schema(max_items = 16)]
    pub providers: Vec<KeyProvider>,
}

#[utoipa::path(
    get,
    path = "/api/client-keys/{id}/providers",
    tag = openapi::TAG_CLIENT_KEYS,
    params(("id" = i32, Path)),
    responses((status = 200, body = KeyProviders), BadRequest, Unauthorized, NotFound),
)]
pub async fn get_providers(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
) -> Result<Json<KeyProviders>, ApiError> {
    visible(&state, &caller, id).await?;
    Ok(Json(stored(&state, id).await?))
}

#[utoipa::path(
    put,
    path = "/api/client-keys/{id}/providers",
    tag = openapi::TAG_CLIENT_KEYS,
    params(("id" = i32, Path)),
    request_body = KeyProviders,
    responses(
        (status = 200, body = KeyProviders),
        BadRequest, Unauthorized, Forbidden, NotFound, Unprocessable,
    ),
)]
pub async fn put_providers(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
    ApiJson(input): ApiJson<KeyProviders>,
) -> Result<Json<KeyProviders>, ApiError> {
    let key = visible(&state, &caller, id).await?;
    if input.providers.len() > route_check::MAX_ROUTES {
        return Err(ApiError::BadRequest(format!(
            "providers: at most {} per client key",
            route_check::MAX_ROUTES
        )));
    }
    let mut routes = Vec::with_capacity(input.providers.len());
    let grant = binding_grant(&state, key.owner_user_id).await?;
    for p in input.providers {
        routes.push(checked(&state, &caller, grant.as_ref(), p).await?);
    }
    check_unambiguous(&state, &routes).await?;
    let before = snapshot(&stored(&state, id).await?);
    let change = state.change(&caller).await?;
    save(change.db(), key, &routes).await?;
    let committed = change.commit().await?;
    let after = stored(&state, id).await?;
    committed
        .audit(Entry::updated(
            "client_key_providers",
            id,
            before,
            snapshot(&after),
        ))
        .await;
    Ok(Json(after))
}

/// The key, if the caller may see it (someone else's is "not found").
async fn visible(
    state: &AdminState,
    caller: &Caller,
    id: i32,
) -> Result<client_keys::Model, ApiError> {
    match crate::store::client_keys::find(&state.db, id).await? {
        Some(row) if caller.is_admin() || row.owner_user_id == Some(caller.id) => Ok(row),
        _ => Err(ApiError::NotFound("client key")),
    }
}

async fn stored(state: &AdminState, id: i32) -> Result<KeyProviders, ApiError> {
    let rows = crate::store::client_key_providers::of_key(&state.db, id).await?;
    let providers = rows
        .into_iter()
        .map(|r| KeyProvider {
            provider_id: r.provider_id,
            upstream_key_ids: serde_json::from_str(&r.pool).unwrap_or_default(),
            path_prefix: r.path_prefix,
            model_prefixes: r
                .model_prefixes
                .as_deref()
                .and_then(|m| serde_json::from_str(m).ok())
                .unwrap_or_default(),
        })
        .collect();
    Ok(KeyProviders { providers })
}

/// One provider of the input, checked on its own: it exists, its pool is
/// its own and within the owner's grant, its prefixes are well-formed.
async fn checked(
    state: &AdminState,
    caller: &Caller,
    grant: Option<&crate::catalog::Grant>,
    mut p: KeyProvider,
) -> Result<KeyProvider, ApiError> {
    crate::store::providers::find(&state.db, p.provider_id)
        .await?
        .ok_or_else(|| {
            ApiError::BadRequest(format!("provider {} does not exist", p.provider_id))
        })?;
    let keys = check_pool(state, p.provider_id, &p.upstream_key_ids).await?;
    if let Some(grant) = grant {
        check_granted(caller, grant, &keys)?;
    }
    p.path_prefix = p.path_prefix.as_deref().map(path_prefix).transpose()?;
    if p.model_prefixes.len() > MAX_MODEL_PREFIXES
        || p.model_prefixes
            .iter()
            .any(|m| m.trim().is_empty() || m.chars().count() > MAX_MODEL_PREFIX_CHARS)
    {
        return Err(ApiError::BadRequest(format!(
            "model_prefixes: at most {MAX_MODEL_PREFIXES} prefixes of 1 to {MAX_MODEL_PREFIX_CHARS} characters"
        )));
    }
    Ok(p)
}

/// A path prefix as stored: one segment, slashes around it dropped.
pub fn path_prefix(raw: &str) -> Result<String, ApiError> {
    let segment = raw.trim_matches('/');
    let valid = !segment.is_empty()
        && segment.len() <= MAX_PATH_PREFIX_CHARS
        && segment
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        && segment
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric());
    if valid {
        Ok(segment.to_owned())
    } else {
        Err(ApiError::BadRequest(format!(
            "path_prefix must be one path segment of 1 to {MAX_PATH_PREFIX_CHARS} lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"
        )))
    }
}

/// Refuses routes a request could reach two of, by what the providers'
/// plugins declare now.
async fn check_unambiguous(state: &AdminState, routes: &[KeyProvider]) -> Result<(), ApiError> {
    let catalog = state.catalog.load_full();
    let providers: Vec<_> = routes
        .iter()
        .map(|r| catalog.providers.get(&r.provider_id).cloned())
        .collect();
    let names: Vec<String> = routes
        .iter()
        .zip(&providers)
        .map(|(r, p)| {
            p.as_ref()
                .map_or_else(|| format!("#{}", r.provider_id), |p| p.name.clone())
        })
        .collect();
    let specs: Vec<RouteSpec<'_>> = routes
        .iter()
        .zip(&providers)
        .zip(&names)
        .map(|((r, p), name)| RouteSpec {
            provider: name,
            path_prefix: r.path_prefix.as_deref(),
            model_prefixes: &r.model_prefixes,
            endpoints: p
                .as_ref()
                .and_then(|p| p.plugin.as_ref())
                .and_then(|plugin| plugin.endpoints.list()),
        })
        .collect();
    route_check::check(&specs)
        .map_err(|conflict| ApiError::Unprocessable(conflict.to_string(), "ambiguous_providers"))
}

/// Replaces the key's providers and mirrors the first into its row.
async fn save(
    txn: &DatabaseTransaction,
    key: client_keys::Model,
    routes: &[KeyProvider],
) -> Result<(), ApiError> {
    let mut rows = Vec::with_capacity(routes.len());
    for (position, r) in routes.iter().enumerate() {
        let models = (!r.model_prefixes.is_empty())
            .then(|| serde_json::to_string(&r.model_prefixes).unwrap_or_default());
        rows.push(client_key_providers::ActiveModel {
            client_key_id: Set(key.id),
            provider_id: Set(r.provider_id),
            position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
            pool: Set(serde_json::to_string(&r.upstream_key_ids).unwrap_or_else(|_| "[]".into())),
            path_prefix: Set(r.path_prefix.clone()),
            model_prefixes: Set(models),
            ..Default::default()
        });
    }
    crate::store::client_key_providers::replace(txn, key.id, rows).await?;
    if let Some(first) = routes.first() {
        let mut row: client_keys::ActiveModel = key.into();
        row.provider_id = Set(first.provider_id);
        row.pool =
            Set(serde_json::to_string(&first.upstream_key_ids).unwrap_or_else(|_| "[]".into()));
        row.updated_at = Set(Utc::now());
        crate::store::client_keys::update(txn, row).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_prefix_is_one_lower_case_segment_up_to_its_limit() {
        assert_eq!(path_prefix("/deepseek/").ok().as_deref(), Some("deepseek"));
        assert_eq!(
            path_prefix("azure-eu.2").ok().as_deref(),
            Some("azure-eu.2")
        );
        let longest = "a".repeat(MAX_PATH_PREFIX_CHARS);
        assert_eq!(path_prefix(&longest).ok(), Some(longest.clone()));
        assert!(path_prefix(&format!("{longest}a")).is_err());
        for bad in ["", "/", "a/b", "Deep", "-x", "..", "a b", "a%2f", "ä"] {
            assert!(path_prefix(bad).is_err(), "{bad}");
        }
    }
}
