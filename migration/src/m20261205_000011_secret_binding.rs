//! One row saying whether every stored secret is bound to its table,
//! column and row. The gateway binds the secrets of older gateways at
//! start (it holds the master key, this migration does not) and sets
//! `complete` once none is left; from then on an unbound ciphertext (one
//! restored from an old backup into another row, say) is never read.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SecretBinding {
    Table,
    Id,
    Complete,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(SecretBinding::Table)
                .if_not_exists()
                .col(integer(SecretBinding::Id).primary_key())
                .col(boolean(SecretBinding::Complete))
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::insert()
                .into_table(SecretBinding::Table)
                .columns([SecretBinding::Id, SecretBinding::Complete])
                .values_panic([1.into(), false.into()])
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(SecretBinding::Table).to_owned())
            .await
    }
}
