//! The rules of a rollout step, checked and applied inside the step's
//! transaction: which plugin row may be a provider's candidate, binding
//! the provider to the version it serves, and writing its
//! `plugin_rollouts` row (the queries are in `store/`).

use chrono::Utc;
use sea_orm::{DatabaseTransaction, IntoActiveModel, Set};

use super::ApiError;
use crate::store::entities::{plugin_rollouts, plugins, providers};
use crate::store::{plugin_conformance, plugin_rollouts as rollouts};

/// Provider `provider_id` read in the step, or 404.
async fn provider(
    txn: &DatabaseTransaction,
    provider_id: i32,
) -> Result<providers::Model, ApiError> {
    crate::store::providers::find(txn, provider_id)
        .await?
        .ok_or(ApiError::NotFound("provider"))
}

/// Plugin row `plugin_id`, checked to be an enabled version of provider
/// `provider_id`'s plugin.
pub async fn candidate_of(
    txn: &DatabaseTransaction,
    provider_id: i32,
    plugin_id: i32,
) -> Result<plugins::Model, ApiError> {
    let provider = provider(txn, provider_id).await?;
    let plugin = crate::store::plugins::find(txn, plugin_id)
        .await?
        .ok_or(ApiError::NotFound("plugin"))?;
    if plugin.name != provider.plugin_name {
        return Err(ApiError::Conflict(format!(
            "plugin #{plugin_id} is '{}', not a version of the provider's plugin '{}'",
            plugin.name, provider.plugin_name
        )));
    }
    if !plugin.enabled {
        return Err(ApiError::Conflict(format!(
            "version {} is disabled; enable it first",
            plugin.version
        )));
    }
    Ok(plugin)
}

/// Admits `candidate` to a rollout step. A version whose vectors failed at
/// upload (and was not forced then) is left out of the catalog, so a shadow
/// or canary of it would silently do nothing: it is refused, unless the
/// operator forces this step, which records the force (by `by`) on its
/// conformance result; the step's audit entry says it was forced. A
/// version without a result (a built-in, or stored before checks existed)
/// is admitted.
pub async fn admit_candidate(
    txn: &DatabaseTransaction,
    candidate: &plugins::Model,
    force: bool,
    by: &str,
) -> Result<(), ApiError> {
    let Some(result) = plugin_conformance::find(txn, candidate.id).await? else {
        return Ok(());
    };
    if result.servable() {
        return Ok(());
    }
    if !force {
        return Err(ApiError::Conflict(format!(
            "version {} did not pass its conformance vectors and serves nothing; send force: true to roll it out anyway",
            candidate.version
        )));
    }
    plugin_conformance::mark_forced(txn, result, by).await?;
    Ok(())
}

/// Binds the provider to the version serving it now, unless bound already,
/// so the candidate serves no more than its canary: a provider that
/// followed the newest enabled version (the candidate, once uploaded) is
/// bound to the newest enabled other one.
pub async fn pin_serving(
    txn: &DatabaseTransaction,
    provider_id: i32,
    candidate: &plugins::Model,
) -> Result<(), ApiError> {
    let provider = provider(txn, provider_id).await?;
    if provider.plugin_version.as_deref() == Some(candidate.version.as_str()) {
        return Err(ApiError::Conflict(format!(
            "version {} already serves this provider",
            candidate.version
        )));
    }
    if provider.plugin_version.is_some() {
        return Ok(());
    }
    let serving =
        crate::store::plugins::newest_enabled_other(txn, &candidate.name, candidate.id).await?;
    let serving = serving.ok_or_else(|| {
        ApiError::Conflict(format!(
            "no other enabled version of '{}' to serve beside the candidate",
            candidate.name
        ))
    })?;
    bind(txn, provider_id, Some(serving.version)).await
}

/// Sets the version the provider is bound to.
pub async fn bind(
    txn: &DatabaseTransaction,
    provider_id: i32,
    version: Option<String>,
) -> Result<(), ApiError> {
    let mut row = provider(txn, provider_id).await?.into_active_model();
    row.plugin_version = Set(version);
    crate::store::providers::update(txn, row).await?;
    Ok(())
}

/// Writes the provider's rollout row.
pub async fn save(
    txn: &DatabaseTransaction,
    provider_id: i32,
    plugin_id: i32,
    stage: &str,
    sample: f64,
    percent: i32,
) -> Result<(), ApiError> {
    let row = plugin_rollouts::ActiveModel {
        provider_id: Set(provider_id),
        plugin_id: Set(plugin_id),
        stage: Set(stage.to_owned()),
        shadow_sample: Set(sample),
        canary_percent: Set(percent),
        updated_at: Set(Utc::now()),
    };
    rollouts::put(txn, provider_id, row).await?;
    Ok(())
}
