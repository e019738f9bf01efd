//! Client keys are granted classes of provider endpoints (inference,
//! files, batches, ...): a JSON array of class names; `NULL` is the
//! default grant (inference, embeddings, models, token counting).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ClientKeys {
    Table,
    EndpointClasses,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ClientKeys::Table)
                .add_column(text_null(ClientKeys::EndpointClasses))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ClientKeys::Table)
                .drop_column(ClientKeys::EndpointClasses)
                .to_owned(),
        )
        .await
    }
}
