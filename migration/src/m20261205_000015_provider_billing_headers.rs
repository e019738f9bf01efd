//! Whether a provider passes on the headers by which a client chooses
//! which organisation, project or billing account an upstream key bills
//! (`openai-organization`, `openai-project`, `x-goog-user-project`).
//! Off by default: the operator, not the client, decides who pays.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Providers {
    Table,
    AllowBillingHeaders,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Providers::Table)
                .add_column(boolean(Providers::AllowBillingHeaders).default(false))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Providers::Table)
                .drop_column(Providers::AllowBillingHeaders)
                .to_owned(),
        )
        .await
    }
}
