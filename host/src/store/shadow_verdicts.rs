//! `shadow_verdicts`: the comparisons of a candidate plugin version with
//! the serving one, written in batches by the shadow worker's writer task
//! (off the proxy path) and read by the shadow report. Retention deletes
//! them with the traces (`store::trace_rollup`).

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::store::entities::shadow_verdicts::{self, ActiveModel, Column, Entity, Model};

/// Stores a batch of verdicts in one statement.
pub async fn insert_batch(db: &impl ConnectionTrait, rows: Vec<ActiveModel>) -> Result<(), DbErr> {
    Entity::insert_many(rows).exec(db).await?;
    Ok(())
}

/// The candidate compared last for `provider_id`, if any.
pub async fn latest_candidate(
    db: &impl ConnectionTrait,
    provider_id: i32,
) -> Result<Option<i32>, DbErr> {
    Entity::find()
        .select_only()
        .column(Column::CandidatePluginId)
        .filter(Column::ProviderId.eq(provider_id))
        .order_by_desc(Column::Id)
        .into_tuple()
        .one(db)
        .await
}

/// What the comparisons of one candidate add up to.
#[derive(Debug, Default, Clone, Copy, PartialEq, FromQueryResult)]
pub struct Totals {
    pub compared: i64,
    pub agreeing: i64,
    /// The candidate's charge minus the serving one's, in nanodollars.
    pub cost_difference: i64,
}

fn of_candidate(provider_id: i32, plugin_id: i32) -> sea_orm::Select<Entity> {
    Entity::find()
        .filter(Column::ProviderId.eq(provider_id))
        .filter(Column::CandidatePluginId.eq(plugin_id))
}

/// The totals of candidate `plugin_id` for `provider_id`.
pub async fn totals(
    db: &impl ConnectionTrait,
    provider_id: i32,
    plugin_id: i32,
) -> Result<Totals, DbErr> {
    let totals = of_candidate(provider_id, plugin_id)
        .select_only()
        .column_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "compared")
        .column_as(
            Expr::cust("CAST(COALESCE(SUM(CASE WHEN agree THEN 1 ELSE 0 END), 0) AS BIGINT)"),
            "agreeing",
        )
        .column_as(
            Expr::cust(
                "CAST(COALESCE(SUM(COALESCE(candidate_cost_nanos, 0) - COALESCE(serving_cost_nanos, 0)), 0) AS BIGINT)",
            ),
            "cost_difference",
        )
        .into_model::<Totals>()
        .one(db)
        .await?;
    Ok(totals.unwrap_or_default())
}

/// The newest `limit` disagreements of candidate `plugin_id` for
/// `provider_id`, newest first.
pub async fn latest_disagreements(
    db: &impl ConnectionTrait,
    provider_id: i32,
    plugin_id: i32,
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    of_candidate(provider_id, plugin_id)
        .filter(shadow_verdicts::Column::Agree.eq(false))
        .order_by_desc(Column::Id)
        .limit(limit)
        .all(db)
        .await
}
