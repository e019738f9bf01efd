//! Shadow totals kept as running counts (issue 15): `shadow_totals` holds
//! one row per provider and candidate plugin row with the comparisons made
//! (`compared`), how many agreed (`agreeing`), the candidate's charge minus
//! the serving version's summed in nanodollars (`cost_difference_nanos`,
//! a missing cost counting 0) and when a comparison was last added.
//!
//! From now on the shadow worker adds each batch's counts here and keeps a
//! `shadow_verdicts` row only for a disagreement, so an agreeing comparison
//! costs no row, and the totals no longer shrink when retention deletes
//! verdict rows. The table is filled from the verdict rows already stored
//! (one `GROUP BY`), so a report reads the same totals before and after
//! (comparisons whose rows retention deleted earlier are in neither); the
//! agreeing rows left behind expire with retention as before.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ShadowTotals {
    Table,
    ProviderId,
    CandidatePluginId,
    Compared,
    Agreeing,
    CostDifferenceNanos,
    UpdatedAt,
}

/// The totals of the verdict rows stored before this migration, with the
/// same arithmetic as the report's former `SUM`s.
const FILL: &str = "INSERT INTO shadow_totals \
     (provider_id, candidate_plugin_id, compared, agreeing, cost_difference_nanos, updated_at) \
     SELECT provider_id, candidate_plugin_id, CAST(COUNT(*) AS BIGINT), \
     CAST(COALESCE(SUM(CASE WHEN agree THEN 1 ELSE 0 END), 0) AS BIGINT), \
     CAST(COALESCE(SUM(COALESCE(candidate_cost_nanos, 0) - COALESCE(serving_cost_nanos, 0)), 0) AS BIGINT), \
     MAX(created_at) \
     FROM shadow_verdicts GROUP BY provider_id, candidate_plugin_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ShadowTotals::Table)
                .if_not_exists()
                .col(integer(ShadowTotals::ProviderId))
                .col(integer(ShadowTotals::CandidatePluginId))
                .col(big_integer(ShadowTotals::Compared).default(0))
                .col(big_integer(ShadowTotals::Agreeing).default(0))
                .col(big_integer(ShadowTotals::CostDifferenceNanos).default(0))
                .col(timestamp_with_time_zone(ShadowTotals::UpdatedAt))
                .primary_key(
                    Index::create()
                        .col(ShadowTotals::ProviderId)
                        .col(ShadowTotals::CandidatePluginId),
                )
                .to_owned(),
        )
        .await?;
        m.get_connection().execute_unprepared(FILL).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ShadowTotals::Table).to_owned())
            .await
    }
}
