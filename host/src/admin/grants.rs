//! `/api/users/{id}/grants`: what an operator grants a `user` account. Its
//! client keys may pool only the granted upstream keys (a granted provider
//! grants all its keys), and keys it creates get the default limits unless
//! it asks for lower ones. A `PUT` replaces the whole grant; taking
//! something back stops the account's keys from using it at once (the
//! catalog holds every key to its owner's grant). An account without a
//! grant may pool nothing. Administrators are not held to grants.

use axum::extract::State;
use axum::{Extension, Json};
use sea_orm::Set;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::audit::snapshot;
use super::auth::{Caller, ROLE_ADMIN};
use super::json::{ApiJson, ApiPath};
use super::limits::ClientLimitsInput;
use super::openapi::{self, BadRequest, Forbidden, NotFound, Unauthorized};
use super::write::Entry;
use super::{AdminState, ApiError};
use crate::catalog::Grant;
use crate::store::entities::{upstream_keys, user_grants, users};

/// Most providers, and most upstream keys, one grant may name.
pub const MAX_GRANTED: usize = 256;

/// What an account is granted.
#[derive(Serialize, ToSchema)]
pub struct GrantsView {
    user_id: i32,
    /// Providers whose every upstream key the account's client keys may pool.
    provider_ids: Vec<i32>,
    /// Single upstream keys the account's client keys may pool.
    upstream_key_ids: Vec<i32>,
    /// Limits of the client keys the account creates (it may ask for lower ones).
    default_limits: ClientLimitsInput,
}

impl GrantsView {
    fn new(user_id: i32, grant: &Grant) -> GrantsView {
        GrantsView {
            user_id,
            provider_ids: grant.provider_ids.clone(),
            upstream_key_ids: grant.upstream_key_ids.clone(),
            default_limits: ClientLimitsInput::view(&grant.default_limits),
        }
    }
}

/// The whole grant of an account; a list left out is empty, limits left
/// out are unlimited.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantsInput {
    #[serde(default)]
    #[schema(max_items = 256)]
    provider_ids: Vec<i32>,
    #[serde(default, alias = "provider_key_ids")]
    #[schema(max_items = 256)]
    upstream_key_ids: Vec<i32>,
    #[serde(default)]
    default_limits: ClientLimitsInput,
}

/// The grant of account `user_id` (empty when it has none).
pub async fn grant_of(state: &AdminState, user_id: i32) -> Result<Grant, ApiError> {
    Ok(crate::store::user_grants::find(&state.db, user_id)
        .await?
        .map(|row| Grant::from_row(&row))
        .unwrap_or_default())
}

async fn user(state: &AdminState, id: i32) -> Result<users::Model, ApiError> {
    crate::store::users::find(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound("user"))
}

fn sorted(mut ids: Vec<i32>, field: &str) -> Result<Vec<i32>, ApiError> {
    if ids.len() > MAX_GRANTED {
        return Err(ApiError::BadRequest(format!(
            "{field} may name at most {MAX_GRANTED} ids"
        )));
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// An account's grant (admins: any account's; users: their own).
#[utoipa::path(
    get,
    path = "/api/users/{id}/grants",
    tag = openapi::TAG_USERS,
    params(("id" = i32, Path)),
    responses((status = 200, body = GrantsView), BadRequest, Unauthorized, Forbidden, NotFound),
)]
pub async fn get_grants(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
) -> Result<Json<GrantsView>, ApiError> {
    if id != caller.id {
        caller.require_admin()?;
    }
    user(&state, id).await?;
    Ok(Json(GrantsView::new(id, &grant_of(&state, id).await?)))
}

/// Replaces an account's grant (admins only).
#[utoipa::path(
    put,
    path = "/api/users/{id}/grants",
    tag = openapi::TAG_USERS,
    params(("id" = i32, Path)),
    request_body = GrantsInput,
    responses((status = 200, body = GrantsView), BadRequest, Unauthorized, Forbidden, NotFound),
)]
pub async fn put_grants(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
    ApiJson(input): ApiJson<GrantsInput>,
) -> Result<Json<GrantsView>, ApiError> {
    caller.require_admin()?;
    user(&state, id).await?;
    let provider_ids = sorted(input.provider_ids, "provider_ids")?;
    let upstream_key_ids = sorted(input.upstream_key_ids, "upstream_key_ids")?;
    for provider in &provider_ids {
        if crate::store::providers::find(&state.db, *provider)
            .await?
            .is_none()
        {
            return Err(ApiError::BadRequest(format!(
                "provider {provider} does not exist"
            )));
        }
    }
    for key in &upstream_key_ids {
        if crate::store::upstream_keys::find(&state.db, *key)
            .await?
            .is_none()
        {
            return Err(ApiError::BadRequest(format!(
                "upstream key {key} does not exist"
            )));
        }
    }
    let limits = input.default_limits.validate()?;
    let change = state.change(&caller).await?;
    let before = crate::store::user_grants::find(change.db(), id).await?;
    let before_view = before
        .as_ref()
        .and_then(|row| snapshot(&GrantsView::new(id, &Grant::from_row(row))));
    let row = user_grants::ActiveModel {
        user_id: Set(id),
        provider_ids: Set(serde_json::to_string(&provider_ids).unwrap_or_else(|_| "[]".into())),
        upstream_key_ids: Set(
            serde_json::to_string(&upstream_key_ids).unwrap_or_else(|_| "[]".into())
        ),
        default_rps_limit: Set(limits.requests_per_second),
        default_rpm_limit: Set(limits.requests_per_minute),
        default_rpd_limit: Set(limits.requests_per_day),
        default_tokens_per_day_limit: Set(limits.tokens_per_day),
        default_cost_per_day_limit_nanos: Set(limits.cost_per_day),
    };
    let row = crate::store::user_grants::put(change.db(), row, before.is_some()).await?;
    let view = GrantsView::new(id, &Grant::from_row(&row));
    change
        .commit()
        .await?
        .audit(Entry::updated(
            "user_grants",
            id,
            before_view,
            snapshot(&view),
        ))
        .await;
    Ok(Json(view))
}

/// The grant keys of account `owner` are held to: `None` when they are not
/// held to one (no owner, or an administrator's keys).
pub async fn binding_grant(
    state: &AdminState,
    owner: Option<i32>,
) -> Result<Option<Grant>, ApiError> {
    let Some(id) = owner else { return Ok(None) };
    match crate::store::users::find(&state.db, id).await? {
        Some(u) if u.role == ROLE_ADMIN => Ok(None),
        _ => Ok(Some(grant_of(state, id).await?)),
    }
}

/// Refuses a pool of upstream keys outside `grant`: a 403 to the account
/// itself, a 400 to an administrator editing its key (grant them first:
/// the catalog would not use them).
pub fn check_granted(
    caller: &Caller,
    grant: &Grant,
    pool: &[upstream_keys::Model],
) -> Result<(), ApiError> {
    let Some(key) = pool.iter().find(|k| !grant.allows_key(k.id, k.provider_id)) else {
        return Ok(());
    };
    let message = format!(
        "upstream_key_ids: upstream key {} is not granted to this account",
        key.id
    );
    Err(if caller.is_admin() {
        ApiError::BadRequest(format!(
            "{message}; grant it to the key's owner first (PUT /api/users/{{id}}/grants)"
        ))
    } else {
        ApiError::Refused(message)
    })
}

/// The upstream keys of `provider_id` that `grant` covers: the pool of a
/// key the account creates without naming one. None is refused: the
/// account was granted nothing of that provider.
pub async fn granted_pool(
    state: &AdminState,
    grant: &Grant,
    provider_id: i32,
) -> Result<Vec<i32>, ApiError> {
    let only = (!grant.provider_ids.contains(&provider_id)).then(|| grant.upstream_key_ids.clone());
    let pool = crate::store::upstream_keys::ids_of_provider(&state.db, provider_id, only).await?;
    if pool.is_empty() {
        return Err(ApiError::Refused(format!(
            "provider_id: no upstream key of provider {provider_id} is granted to this account"
        )));
    }
    Ok(pool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grant_names_at_most_max_granted_ids_each_once_in_order() {
        let at_limit: Vec<i32> = (0..MAX_GRANTED as i32).rev().collect();
        let ids = sorted(at_limit, "provider_ids").unwrap();
        assert_eq!(ids.len(), MAX_GRANTED);
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        assert!(sorted(vec![1; MAX_GRANTED + 1], "upstream_key_ids").is_err());
        assert_eq!(sorted(vec![3, 1, 3], "provider_ids").unwrap(), [1, 3]);
    }
}
