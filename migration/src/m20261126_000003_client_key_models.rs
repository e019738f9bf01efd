//! Client keys may be limited to a list of models.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ClientKeys {
    Table,
    AllowedModels,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ClientKeys::Table)
                .add_column(text_null(ClientKeys::AllowedModels))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ClientKeys::Table)
                .drop_column(ClientKeys::AllowedModels)
                .to_owned(),
        )
        .await
    }
}
