//! Plugins as versioned uploads: a provider may pin a plugin version
//! (none: the newest enabled one), and each version may carry its own call
//! time and memory limits and the reason it was disabled.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Plugins {
    Table,
    CallTimeoutMs,
    MemoryMib,
    DisabledReason,
}

#[derive(DeriveIden)]
enum Providers {
    Table,
    PluginVersion,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            integer_null(Plugins::CallTimeoutMs),
            integer_null(Plugins::MemoryMib),
            text_null(Plugins::DisabledReason),
        ] {
            m.alter_table(
                Table::alter()
                    .table(Plugins::Table)
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table(Providers::Table)
                .add_column(string_null(Providers::PluginVersion))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Plugins::CallTimeoutMs,
            Plugins::MemoryMib,
            Plugins::DisabledReason,
        ] {
            m.alter_table(
                Table::alter()
                    .table(Plugins::Table)
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table(Providers::Table)
                .drop_column(Providers::PluginVersion)
                .to_owned(),
        )
        .await
    }
}
