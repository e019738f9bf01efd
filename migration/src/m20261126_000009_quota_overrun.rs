//! What a client key's stream does when it crosses the key's daily token
//! or cost quota: `finish` (run to its end, the default and the behaviour
//! before this column) or `cut` (ended cleanly at the next event).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ClientKeys {
    Table,
    QuotaOverrun,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ClientKeys::Table)
                .add_column(string_len(ClientKeys::QuotaOverrun, 16).default("finish"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ClientKeys::Table)
                .drop_column(ClientKeys::QuotaOverrun)
                .to_owned(),
        )
        .await
    }
}
