//! `shadow_totals`: the running totals of each candidate's shadow
//! comparisons per provider (compared, agreeing, cost difference), since
//! the candidate was first put in shadow. The shadow worker's writer task
//! adds a batch's counts with one upsert per (provider, candidate) and, in
//! the same transaction, stores a `shadow_verdicts` row only for each
//! disagreement: an agreeing comparison costs no row. Retention deletes
//! verdict rows with the traces but never these totals, so they do not
//! shrink as rows expire.
//!
//! Arithmetic: a batch's counts are summed in Rust, saturating at the
//! bounds of `i64`; the database adds them to the stored totals with `+`
//! (a sum past `i64::MAX`, 9.2 billion dollars of difference, fails the
//! write on PostgreSQL and is counted as a write failure).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};

use crate::store::entities::shadow_totals::{ActiveModel, Column, Entity};
use crate::store::entities::shadow_verdicts;
use crate::store::shadow_verdicts::insert_batch;

/// What the comparisons of one candidate add up to.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub compared: i64,
    pub agreeing: i64,
    /// The candidate's charge minus the serving one's, in nanodollars.
    pub cost_difference: i64,
}

impl Totals {
    /// Counts one comparison in, saturating rather than wrapping.
    pub fn count(&mut self, agree: bool, cost_difference: i64) {
        self.compared = self.compared.saturating_add(1);
        if agree {
            self.agreeing = self.agreeing.saturating_add(1);
        }
        self.cost_difference = self.cost_difference.saturating_add(cost_difference);
    }
}

/// A cost in nanodollars as a column holds it (`i64`, clamped).
pub fn cost_column(nanos: Option<u64>) -> Option<i64> {
    nanos.map(|c| i64::try_from(c).unwrap_or(i64::MAX))
}

/// The candidate's cost minus the serving version's, a missing cost
/// counting 0 (as the report always summed them).
pub fn cost_difference(serving: Option<u64>, candidate: Option<u64>) -> i64 {
    let nanos = |c: Option<u64>| cost_column(c).unwrap_or(0);
    nanos(candidate).saturating_sub(nanos(serving))
}

/// One comparison as the writer stores it.
pub struct Comparison {
    pub provider_id: i32,
    pub candidate_plugin_id: i32,
    pub agree: bool,
    /// See [`cost_difference`].
    pub cost_difference: i64,
    /// The row kept when the verdicts disagree; an agreeing comparison
    /// has none (a row passed with one is not stored).
    pub row: Option<shadow_verdicts::ActiveModel>,
}

/// Comparisons waiting to be written: totals per (provider, candidate)
/// and the rows of the disagreements.
#[derive(Default)]
pub struct Batch {
    totals: BTreeMap<(i32, i32), Totals>,
    disagreements: Vec<shadow_verdicts::ActiveModel>,
    len: usize,
}

impl Batch {
    /// Adds one comparison.
    pub fn push(&mut self, c: Comparison) {
        self.totals
            .entry((c.provider_id, c.candidate_plugin_id))
            .or_default()
            .count(c.agree, c.cost_difference);
        if let (false, Some(row)) = (c.agree, c.row) {
            self.disagreements.push(row);
        }
        self.len += 1;
    }

    /// Comparisons in the batch.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Adds the batch to the totals and stores its disagreements, in one
/// transaction. The upserts go in (provider, candidate) order, so two
/// instances' writers lock the same rows in the same order.
pub async fn record(
    db: &DatabaseConnection,
    batch: Batch,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    for (&(provider_id, plugin_id), totals) in &batch.totals {
        add(&txn, provider_id, plugin_id, *totals, now).await?;
    }
    if !batch.disagreements.is_empty() {
        insert_batch(&txn, batch.disagreements).await?;
    }
    txn.commit().await
}

/// Adds `totals` to the stored ones of candidate `plugin_id` for
/// `provider_id` (a row is created at the first comparison).
pub async fn add(
    db: &impl ConnectionTrait,
    provider_id: i32,
    plugin_id: i32,
    totals: Totals,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let row = ActiveModel {
        provider_id: Set(provider_id),
        candidate_plugin_id: Set(plugin_id),
        compared: Set(totals.compared),
        agreeing: Set(totals.agreeing),
        cost_difference_nanos: Set(totals.cost_difference),
        updated_at: Set(now),
    };
    let plus = |c: Column| {
        let stored = Expr::col((Entity, c));
        (c, stored.add(Expr::col((Alias::new("excluded"), c))))
    };
    let upsert = OnConflict::columns([Column::ProviderId, Column::CandidatePluginId])
        .values([
            plus(Column::Compared),
            plus(Column::Agreeing),
            plus(Column::CostDifferenceNanos),
        ])
        .update_column(Column::UpdatedAt)
        .to_owned();
    Entity::insert(row)
        .on_conflict(upsert)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The totals of candidate `plugin_id` for `provider_id` (zero when it
/// was never compared).
pub async fn find(
    db: &impl ConnectionTrait,
    provider_id: i32,
    plugin_id: i32,
) -> Result<Totals, DbErr> {
    let row = Entity::find_by_id((provider_id, plugin_id)).one(db).await?;
    Ok(row.map_or_else(Totals::default, |r| Totals {
        compared: r.compared,
        agreeing: r.agreeing,
        cost_difference: r.cost_difference_nanos,
    }))
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
        .order_by_desc(Column::UpdatedAt)
        .order_by_desc(Column::CandidatePluginId)
        .into_tuple()
        .one(db)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_rows;
    use crate::store::trace_rollup::{Expiring, delete_batch_before};

    fn comparison(plugin_id: i32, agree: bool, cost_difference: i64) -> Comparison {
        let row = shadow_verdicts::ActiveModel {
            provider_id: Set(1),
            candidate_plugin_id: Set(plugin_id),
            request_id: Set(format!("req_{plugin_id}_{cost_difference}")),
            serving_version: Set("0.1.0".into()),
            candidate_version: Set("0.2.0".into()),
            agree: Set(agree),
            serving: Set("{}".into()),
            candidate: Set("{}".into()),
            serving_cost_nanos: Set(Some(0)),
            candidate_cost_nanos: Set(Some(cost_difference)),
            created_at: Set(Utc::now()),
            ..Default::default()
        };
        Comparison {
            provider_id: 1,
            candidate_plugin_id: plugin_id,
            agree,
            cost_difference,
            row: Some(row),
        }
    }

    async fn verdict_rows(db: &DatabaseConnection) -> Vec<(i32, bool)> {
        shadow_verdicts::Entity::find()
            .select_only()
            .column(shadow_verdicts::Column::CandidatePluginId)
            .column(shadow_verdicts::Column::Agree)
            .order_by_asc(shadow_verdicts::Column::Id)
            .into_tuple()
            .all(db)
            .await
            .expect("rows")
    }

    #[test]
    fn a_cost_past_i64_is_clamped_and_a_missing_cost_counts_zero() {
        assert_eq!(cost_column(Some(i64::MAX as u64)), Some(i64::MAX));
        assert_eq!(cost_column(Some(i64::MAX as u64 + 1)), Some(i64::MAX));
        assert_eq!(cost_column(None), None);
        assert_eq!(cost_difference(Some(5), Some(8)), 3);
        assert_eq!(cost_difference(Some(8), Some(5)), -3);
        assert_eq!(cost_difference(None, Some(7)), 7);
        assert_eq!(cost_difference(Some(7), None), -7);
        assert_eq!(cost_difference(None, None), 0);
        assert_eq!(cost_difference(Some(0), Some(u64::MAX)), i64::MAX);
        assert_eq!(cost_difference(Some(u64::MAX), Some(0)), -i64::MAX);
    }

    #[test]
    fn counting_saturates_at_the_bounds_of_i64() {
        let mut totals = Totals {
            compared: i64::MAX - 1,
            agreeing: i64::MAX - 1,
            cost_difference: i64::MAX - 1,
        };
        totals.count(true, 1);
        assert_eq!(
            totals,
            Totals {
                compared: i64::MAX,
                agreeing: i64::MAX,
                cost_difference: i64::MAX
            }
        );
        totals.count(true, 1);
        assert_eq!(totals.compared, i64::MAX, "saturated, not wrapped");
        assert_eq!(totals.cost_difference, i64::MAX);
        let mut low = Totals {
            cost_difference: -i64::MAX,
            ..Totals::default()
        };
        low.count(false, -1);
        assert_eq!(low.cost_difference, i64::MIN);
        low.count(false, -1);
        assert_eq!(low.cost_difference, i64::MIN);
        assert_eq!((low.compared, low.agreeing), (2, 0));
    }

    #[test]
    fn a_batch_sums_per_candidate_and_keeps_rows_only_for_disagreements() {
        let mut batch = Batch::default();
        assert!(batch.is_empty());
        batch.push(comparison(2, true, 0));
        batch.push(comparison(2, false, 40));
        batch.push(comparison(3, true, -5));
        assert_eq!(batch.len(), 3);
        assert_eq!(
            batch.disagreements.len(),
            1,
            "the agreeing rows are not kept"
        );
        assert_eq!(
            batch.totals[&(1, 2)],
            Totals {
                compared: 2,
                agreeing: 1,
                cost_difference: 40
            }
        );
        assert_eq!(
            batch.totals[&(1, 3)],
            Totals {
                compared: 1,
                agreeing: 1,
                cost_difference: -5
            }
        );
    }

    #[tokio::test]
    async fn batches_add_up_in_the_totals_and_only_disagreements_are_rows() {
        let db = test_rows::db().await;
        assert_eq!(find(&db, 1, 2).await.expect("find"), Totals::default());
        assert_eq!(latest_candidate(&db, 1).await.expect("latest"), None);
        let t0 = Utc::now();
        let mut first = Batch::default();
        first.push(comparison(2, true, 0));
        first.push(comparison(2, false, 40));
        record(&db, first, t0).await.expect("first");
        let mut second = Batch::default();
        second.push(comparison(2, true, 0));
        second.push(comparison(2, false, -15));
        second.push(comparison(3, true, 0));
        record(&db, second, t0 + chrono::Duration::seconds(1))
            .await
            .expect("second");
        assert_eq!(
            find(&db, 1, 2).await.expect("find"),
            Totals {
                compared: 4,
                agreeing: 2,
                cost_difference: 25
            }
        );
        assert_eq!(
            find(&db, 1, 3).await.expect("find"),
            Totals {
                compared: 1,
                agreeing: 1,
                cost_difference: 0
            }
        );
        assert_eq!(find(&db, 2, 2).await.expect("find"), Totals::default());
        assert_eq!(verdict_rows(&db).await, [(2, false), (2, false)]);

        let mut third = Batch::default();
        third.push(comparison(2, true, 0));
        record(&db, third, t0 + chrono::Duration::seconds(2))
            .await
            .expect("third");
        assert_eq!(
            latest_candidate(&db, 1).await.expect("latest"),
            Some(2),
            "compared last"
        );
        assert_eq!(latest_candidate(&db, 2).await.expect("latest"), None);
    }

    #[tokio::test]
    async fn the_stored_totals_add_up_to_i64_max_exactly() {
        let db = test_rows::db().await;
        let now = Utc::now();
        let near = Totals {
            compared: i64::MAX - 1,
            agreeing: 0,
            cost_difference: i64::MAX - 1,
        };
        add(&db, 1, 2, near, now).await.expect("first");
        let one = Totals {
            compared: 1,
            agreeing: 1,
            cost_difference: 1,
        };
        add(&db, 1, 2, one, now).await.expect("second");
        let stored = find(&db, 1, 2).await.expect("find");
        assert_eq!(
            stored,
            Totals {
                compared: i64::MAX,
                agreeing: 1,
                cost_difference: i64::MAX
            }
        );
        let negative = Totals {
            compared: 0,
            agreeing: 0,
            cost_difference: i64::MIN,
        };
        add(&db, 1, 3, negative, now).await.expect("negative");
        assert_eq!(
            find(&db, 1, 3).await.expect("find").cost_difference,
            i64::MIN
        );
    }

    #[tokio::test]
    async fn totals_survive_the_retention_delete_of_verdict_rows() {
        let db = test_rows::db().await;
        let mut batch = Batch::default();
        batch.push(comparison(2, false, 10));
        batch.push(comparison(2, false, 20));
        batch.push(comparison(2, true, 0));
        record(&db, batch, Utc::now()).await.expect("record");
        let later = Utc::now() + chrono::Duration::days(1);
        let deleted = delete_batch_before(&db, Expiring::ShadowVerdicts, later, 1000)
            .await
            .expect("delete");
        assert_eq!(deleted, 2);
        assert!(verdict_rows(&db).await.is_empty());
        assert_eq!(
            find(&db, 1, 2).await.expect("find"),
            Totals {
                compared: 3,
                agreeing: 1,
                cost_difference: 30
            }
        );
        assert_eq!(latest_candidate(&db, 1).await.expect("latest"), Some(2));
    }
}
