//! `shadow_verdicts`: the disagreements of a candidate plugin version with
//! the serving one, both verdicts side by side, stored by the shadow
//! worker's writer task (off the proxy path, see `store::shadow_totals`,
//! which counts every comparison) and listed by the shadow report.
//! Retention deletes them with the traces (`store::trace_rollup`). Rows
//! written before migration 000028 include agreeing comparisons; the list
//! skips them and they expire the same way.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::store::entities::shadow_verdicts::{ActiveModel, Column, Entity, Model};

/// Stores a batch of verdicts in one statement.
pub async fn insert_batch(db: &impl ConnectionTrait, rows: Vec<ActiveModel>) -> Result<(), DbErr> {
    Entity::insert_many(rows).exec(db).await?;
    Ok(())
}

/// The newest `limit` disagreements of candidate `plugin_id` for
/// `provider_id`, newest first.
pub async fn latest_disagreements(
    db: &impl ConnectionTrait,
    provider_id: i32,
    plugin_id: i32,
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::ProviderId.eq(provider_id))
        .filter(Column::CandidatePluginId.eq(plugin_id))
        .filter(Column::Agree.eq(false))
        .order_by_desc(Column::Id)
        .limit(limit)
        .all(db)
        .await
}
