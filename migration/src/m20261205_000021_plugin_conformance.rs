//! Conformance of plugin versions: the result of running a version
//! against its provider's vectors when it was uploaded, and the vectors
//! operators added for a provider.
//!
//! `plugin_conformance` has one row per checked version: `passed`, or
//! failed with the differences in `report` (JSON: cases run, the vectors
//! that failed and how). A failed version serves only when `forced` (by
//! `forced_by`). Versions stored before this migration, and the built-in
//! ones, have no row and serve as before.
//!
//! `conformance_vectors` holds an operator's vectors, one case (the
//! `plugin check --samples` format, bodies inline) per row, per provider.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PluginConformance {
    Table,
    PluginId,
    Passed,
    Forced,
    ForcedBy,
    Cases,
    Report,
    CheckedAt,
}

#[derive(DeriveIden)]
enum ConformanceVectors {
    Table,
    Id,
    ProviderId,
    Name,
    Vector,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Plugins {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Providers {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(PluginConformance::Table)
                .if_not_exists()
                .col(integer(PluginConformance::PluginId).primary_key())
                .col(boolean(PluginConformance::Passed))
                .col(boolean(PluginConformance::Forced).default(false))
                .col(string_null(PluginConformance::ForcedBy))
                .col(integer(PluginConformance::Cases))
                .col(text(PluginConformance::Report))
                .col(timestamp_with_time_zone(PluginConformance::CheckedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(PluginConformance::Table, PluginConformance::PluginId)
                        .to(Plugins::Table, Plugins::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ConformanceVectors::Table)
                .if_not_exists()
                .col(pk_auto(ConformanceVectors::Id))
                .col(integer(ConformanceVectors::ProviderId))
                .col(string(ConformanceVectors::Name))
                .col(text(ConformanceVectors::Vector))
                .col(timestamp_with_time_zone(ConformanceVectors::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(ConformanceVectors::Table, ConformanceVectors::ProviderId)
                        .to(Providers::Table, Providers::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("conformance_vectors_provider_name")
                .table(ConformanceVectors::Table)
                .col(ConformanceVectors::ProviderId)
                .col(ConformanceVectors::Name)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ConformanceVectors::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(PluginConformance::Table).to_owned())
            .await
    }
}
