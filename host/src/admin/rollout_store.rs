//! The database side of a rollout step, inside the step's transaction:
//! which plugin row may be a provider's candidate, binding the provider to
//! the version it serves, and writing its `plugin_rollouts` row.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};

use super::ApiError;
use crate::store::entities::{plugin_conformance, plugin_rollouts, plugins, providers};

/// Plugin row `plugin_id`, checked to be an enabled version of provider
/// `provider_id`'s plugin.
pub async fn candidate_of(
    txn: &DatabaseTransaction,
    provider_id: i32,
    plugin_id: i32,
) -> Result<plugins::Model, ApiError> {
    let provider = providers::Entity::find_by_id(provider_id)
        .one(txn)
        .await?
        .ok_or(ApiError::NotFound("provider"))?;
    let plugin = plugins::Entity::find_by_id(plugin_id)
        .one(txn)
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
    let Some(result) = plugin_conformance::Entity::find_by_id(candidate.id)
        .one(txn)
        .await?
    else {
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
    let mut forced: plugin_conformance::ActiveModel = result.into();
    forced.forced = Set(true);
    forced.forced_by = Set(Some(by.to_owned()));
    forced.update(txn).await?;
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
    let provider = providers::Entity::find_by_id(provider_id)
        .one(txn)
        .await?
        .ok_or(ApiError::NotFound("provider"))?;
    if provider.plugin_version.as_deref() == Some(candidate.version.as_str()) {
        return Err(ApiError::Conflict(format!(
            "version {} already serves this provider",
            candidate.version
        )));
    }
    if provider.plugin_version.is_some() {
        return Ok(());
    }
    let serving: Option<plugins::Model> = plugins::Entity::find()
        .filter(plugins::Column::Name.eq(&candidate.name))
        .filter(plugins::Column::Enabled.eq(true))
        .filter(plugins::Column::Id.ne(candidate.id))
        .order_by_desc(plugins::Column::Id)
        .one(txn)
        .await?;
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
    let provider = providers::Entity::find_by_id(provider_id)
        .one(txn)
        .await?
        .ok_or(ApiError::NotFound("provider"))?;
    let mut row = provider.into_active_model();
    row.plugin_version = Set(version);
    row.update(txn).await?;
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
    let exists = plugin_rollouts::Entity::find_by_id(provider_id)
        .one(txn)
        .await?
        .is_some();
    if exists {
        row.update(txn).await?;
    } else {
        row.insert(txn).await?;
    }
    Ok(())
}
