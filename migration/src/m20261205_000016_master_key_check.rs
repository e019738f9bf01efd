//! A check value of the master key the database was set up with (never the
//! key itself), so an instance started with another key refuses to start
//! instead of failing every request it cannot decrypt. The gateway writes
//! the row at its first start (this migration has no key).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MasterKeyCheck {
    Table,
    Id,
    CheckValue,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(MasterKeyCheck::Table)
                .if_not_exists()
                .col(integer(MasterKeyCheck::Id).primary_key())
                .col(string(MasterKeyCheck::CheckValue))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(MasterKeyCheck::Table).to_owned())
            .await
    }
}
