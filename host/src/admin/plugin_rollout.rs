//! `/api/providers/{id}/rollout`: taking a new version of a provider's
//! plugin from uploaded to serving everyone, one audited step at a time.
//!
//! - `POST …/shadow` puts a version in shadow: it sees a share (`sample`,
//!   0 to 1) of the provider's requests after their answers went out, and
//!   its verdicts are compared with the serving version's (`GET` reports).
//! - `POST …/canary` lets it serve `percent` of the provider's client keys
//!   (each key always on the same side, see `catalog::rollout`).
//! - `POST …/promote` makes it the provider's version for everyone;
//!   `POST …/rollback` ends the shadow or canary, leaving the version that
//!   served before.
//!
//! Starting a rollout binds the provider to the version it serves (if it
//! only followed the newest enabled one), so the candidate never serves
//! more than the canary gives it. A version that may not serve (failed
//! conformance) goes into canary or is promoted only with `force`, which
//! the audit entry records. Every step reloads the catalog, and other
//! instances follow within the configuration poll.

use axum::extract::State;
use axum::{Extension, Json};
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::audit::snapshot;
use super::auth::Caller;
use super::json::{ApiJson, ApiPath};
use super::openapi::{self, BadRequest, Conflict, Forbidden, NotFound, Unauthorized};
use super::rollout_store::{admit_candidate, bind, candidate_of, pin_serving, save};
use super::shadow_report::{ShadowReport, latest_candidate, report};
use super::write::{Change, Entry};
use super::{AdminCore, AdminState, ApiError};
use crate::catalog::rollout::{STAGE_CANARY, STAGE_SHADOW};
use crate::store::plugin_rollouts as rollouts;

/// Fewest and most percent a canary serves.
pub const MIN_CANARY_PERCENT: i32 = 1;
pub const MAX_CANARY_PERCENT: i32 = 100;

/// A provider's rollout and its candidate's shadow report.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RolloutView {
    provider_id: i32,
    provider: String,
    /// The version serving the provider outside the canary.
    serving_version: Option<String>,
    /// The version in shadow or canary, if any.
    candidate: Option<CandidateView>,
    shadow: ShadowReport,
}

/// The candidate version and its stage.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CandidateView {
    plugin_id: i32,
    version: String,
    /// `shadow` or `canary`.
    stage: String,
    shadow_sample: f64,
    canary_percent: i32,
    /// Whether it is enabled and loaded here (if not, it sees no traffic).
    active: bool,
    updated_at: chrono::DateTime<Utc>,
}

async fn view(state: &AdminCore, provider_id: i32) -> Result<RolloutView, ApiError> {
    let provider = crate::store::providers::find(&state.db, provider_id)
        .await?
        .ok_or(ApiError::NotFound("provider"))?;
    let row = rollouts::find(&state.db, provider_id).await?;
    let catalog = state.catalog.load();
    let live = catalog.providers.get(&provider_id);
    let candidate = match &row {
        Some(r) => {
            let plugin = crate::store::plugins::find_row(&state.db, r.plugin_id).await?;
            plugin.map(|p| CandidateView {
                plugin_id: r.plugin_id,
                version: p.version,
                stage: r.stage.clone(),
                shadow_sample: r.shadow_sample,
                canary_percent: r.canary_percent,
                active: live.is_some_and(|l| l.rollout.is_some()),
                updated_at: r.updated_at,
            })
        }
        None => None,
    };
    let reported = match &row {
        Some(r) => Some(r.plugin_id),
        None => latest_candidate(&state.db, provider_id).await?,
    };
    Ok(RolloutView {
        provider_id,
        serving_version: live.and_then(|l| l.plugin.as_ref().map(|p| p.version.clone())),
        provider: provider.name,
        candidate,
        shadow: report(&state.db, provider_id, reported).await?,
    })
}

#[utoipa::path(
    get,
    path = "/api/providers/{id}/rollout",
    tag = openapi::TAG_PROVIDERS,
    params(("id" = i32, Path)),
    responses((status = 200, body = RolloutView), BadRequest, Unauthorized, Forbidden, NotFound),
)]
pub async fn get_rollout(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
) -> Result<Json<RolloutView>, ApiError> {
    caller.require_admin()?;
    Ok(Json(view(&state, id).await?))
}

/// Puts a version in shadow.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShadowInput {
    /// The candidate's plugin row: a version of the provider's plugin.
    plugin_id: i32,
    /// Share of the provider's requests it sees, above 0 and at most 1
    /// (default 1: every request).
    #[schema(minimum = 0, maximum = 1)]
    sample: Option<f64>,
    /// Shadow a version that failed its conformance vectors (recorded as
    /// forced on its result, audited).
    #[serde(default)]
    force: bool,
}

/// Lets a version serve a share of the client keys.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CanaryInput {
    /// The candidate's plugin row; default: the version in shadow now.
    plugin_id: Option<i32>,
    /// Percentage of the provider's client keys it serves.
    #[schema(minimum = 1, maximum = 100)]
    percent: i32,
    /// Serve even though the version may not (failed conformance); audited.
    #[serde(default)]
    force: bool,
}

/// Promotes the candidate.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromoteInput {
    /// Promote even though the version may not serve; audited.
    #[serde(default)]
    force: bool,
}

#[utoipa::path(
    post,
    path = "/api/providers/{id}/rollout/shadow",
    tag = openapi::TAG_PROVIDERS,
    params(("id" = i32, Path)),
    request_body = ShadowInput,
    responses((status = 200, body = RolloutView), BadRequest, Unauthorized, Forbidden, NotFound, Conflict),
)]
pub async fn shadow(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
    ApiJson(input): ApiJson<ShadowInput>,
) -> Result<Json<RolloutView>, ApiError> {
    caller.require_admin()?;
    let sample = input.sample.unwrap_or(1.0);
    if !(sample > 0.0 && sample <= 1.0) {
        return Err(ApiError::BadRequest(
            "sample must be above 0 and at most 1".into(),
        ));
    }
    let before = snapshot(&view(&state, id).await?);
    let change = state.change(&caller).await?;
    let txn = change.db();
    let candidate = candidate_of(txn, id, input.plugin_id).await?;
    admit_candidate(txn, &candidate, input.force, &caller.username).await?;
    pin_serving(txn, id, &candidate).await?;
    save(txn, id, candidate.id, STAGE_SHADOW, sample, 0).await?;
    finish(change, "rollout.shadow", id, before, input.force).await
}

#[utoipa::path(
    post,
    path = "/api/providers/{id}/rollout/canary",
    tag = openapi::TAG_PROVIDERS,
    params(("id" = i32, Path)),
    request_body = CanaryInput,
    responses((status = 200, body = RolloutView), BadRequest, Unauthorized, Forbidden, NotFound, Conflict),
)]
pub async fn canary(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
    ApiJson(input): ApiJson<CanaryInput>,
) -> Result<Json<RolloutView>, ApiError> {
    caller.require_admin()?;
    if !(MIN_CANARY_PERCENT..=MAX_CANARY_PERCENT).contains(&input.percent) {
        return Err(ApiError::BadRequest(format!(
            "percent must be between {MIN_CANARY_PERCENT} and {MAX_CANARY_PERCENT}"
        )));
    }
    let before = snapshot(&view(&state, id).await?);
    let change = state.change(&caller).await?;
    let txn = change.db();
    let current = rollouts::find(txn, id).await?;
    let plugin_id = input
        .plugin_id
        .or(current.as_ref().map(|r| r.plugin_id))
        .ok_or_else(|| ApiError::BadRequest("name the version: plugin_id".into()))?;
    let candidate = candidate_of(txn, id, plugin_id).await?;
    admit_candidate(txn, &candidate, input.force, &caller.username).await?;
    pin_serving(txn, id, &candidate).await?;
    let sample = current.map_or(1.0, |r| r.shadow_sample);
    save(txn, id, candidate.id, STAGE_CANARY, sample, input.percent).await?;
    finish(change, "rollout.canary", id, before, input.force).await
}

#[utoipa::path(
    post,
    path = "/api/providers/{id}/rollout/promote",
    tag = openapi::TAG_PROVIDERS,
    params(("id" = i32, Path)),
    request_body = PromoteInput,
    responses((status = 200, body = RolloutView), BadRequest, Unauthorized, Forbidden, NotFound, Conflict),
)]
pub async fn promote(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
    body: axum::body::Bytes,
) -> Result<Json<RolloutView>, ApiError> {
    caller.require_admin()?;
    // The body is optional: no body promotes without force.
    let force = if body.iter().all(u8::is_ascii_whitespace) {
        false
    } else {
        serde_json::from_slice::<PromoteInput>(&body)
            .map_err(|e| ApiError::BadRequest(format!("invalid body: {e}")))?
            .force
    };
    let before = snapshot(&view(&state, id).await?);
    let change = state.change(&caller).await?;
    let txn = change.db();
    let row = rollouts::find(txn, id).await?.ok_or_else(|| {
        ApiError::Conflict("the provider has no version in shadow or canary".into())
    })?;
    let candidate = candidate_of(txn, id, row.plugin_id).await?;
    admit_candidate(txn, &candidate, force, &caller.username).await?;
    bind(txn, id, Some(candidate.version.clone())).await?;
    rollouts::delete(txn, id).await?;
    finish(change, "rollout.promote", id, before, force).await
}

#[utoipa::path(
    post,
    path = "/api/providers/{id}/rollout/rollback",
    tag = openapi::TAG_PROVIDERS,
    params(("id" = i32, Path)),
    responses((status = 200, body = RolloutView), BadRequest, Unauthorized, Forbidden, NotFound, Conflict),
)]
pub async fn rollback(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
) -> Result<Json<RolloutView>, ApiError> {
    caller.require_admin()?;
    let before = snapshot(&view(&state, id).await?);
    let change = state.change(&caller).await?;
    if !rollouts::delete(change.db(), id).await? {
        return Err(ApiError::Conflict(
            "the provider has no version in shadow or canary".into(),
        ));
    }
    finish(change, "rollout.rollback", id, before, false).await
}

/// Commits the change, audits it, answers.
async fn finish(
    change: Change<'_>,
    action: &'static str,
    id: i32,
    before: Option<serde_json::Value>,
    forced: bool,
) -> Result<Json<RolloutView>, ApiError> {
    let state = change.core();
    let committed = change.commit().await?;
    let after = view(state, id).await?;
    let mut recorded = snapshot(&after);
    if forced && let Some(serde_json::Value::Object(map)) = recorded.as_mut() {
        map.insert("forced".into(), serde_json::Value::Bool(true));
    }
    committed
        .audit(
            Entry::new(action, "provider", id)
                .before(before)
                .after(recorded),
        )
        .await;
    Ok(Json(after))
}
