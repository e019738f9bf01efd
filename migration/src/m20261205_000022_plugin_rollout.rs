//! Rolling a new plugin version out safely (issue 15): a provider's
//! candidate version, in shadow or serving a canary share, and the shadow
//! comparisons of its verdicts with the serving version's.
//!
//! `plugin_rollouts` holds at most one row per provider: the candidate
//! plugin row, its stage (`shadow` or `canary`), the share of requests it
//! is shown in shadow (0 to 1) and the percentage it serves in canary.
//! `shadow_verdicts` holds one row per compared request: both versions'
//! verdicts (model, usage, cost, error class) as JSON, both costs as
//! columns for the totals, and whether they agree.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PluginRollouts {
    Table,
    ProviderId,
    PluginId,
    Stage,
    ShadowSample,
    CanaryPercent,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ShadowVerdicts {
    Table,
    Id,
    ProviderId,
    CandidatePluginId,
    RequestId,
    ServingVersion,
    CandidateVersion,
    Agree,
    Serving,
    Candidate,
    ServingCostNanos,
    CandidateCostNanos,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(PluginRollouts::Table)
                .if_not_exists()
                .col(integer(PluginRollouts::ProviderId).primary_key())
                .col(integer(PluginRollouts::PluginId))
                .col(string_len(PluginRollouts::Stage, 16))
                .col(double(PluginRollouts::ShadowSample))
                .col(integer(PluginRollouts::CanaryPercent))
                .col(timestamp_with_time_zone(PluginRollouts::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ShadowVerdicts::Table)
                .if_not_exists()
                .col(big_pk_auto(ShadowVerdicts::Id))
                .col(integer(ShadowVerdicts::ProviderId))
                .col(integer(ShadowVerdicts::CandidatePluginId))
                .col(string_len(ShadowVerdicts::RequestId, 64))
                .col(string(ShadowVerdicts::ServingVersion))
                .col(string(ShadowVerdicts::CandidateVersion))
                .col(boolean(ShadowVerdicts::Agree))
                .col(text(ShadowVerdicts::Serving))
                .col(text(ShadowVerdicts::Candidate))
                .col(big_integer_null(ShadowVerdicts::ServingCostNanos))
                .col(big_integer_null(ShadowVerdicts::CandidateCostNanos))
                .col(timestamp_with_time_zone(ShadowVerdicts::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_shadow_verdicts_candidate")
                .table(ShadowVerdicts::Table)
                .col(ShadowVerdicts::ProviderId)
                .col(ShadowVerdicts::CandidatePluginId)
                .col(ShadowVerdicts::Agree)
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ShadowVerdicts::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(PluginRollouts::Table).to_owned())
            .await
    }
}
