//! One row counting configuration changes, so every gateway instance on
//! the same database notices a change made through another and reloads.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ConfigVersion {
    Table,
    Id,
    Version,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ConfigVersion::Table)
                .if_not_exists()
                .col(integer(ConfigVersion::Id).primary_key())
                .col(big_integer(ConfigVersion::Version))
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::insert()
                .into_table(ConfigVersion::Table)
                .columns([ConfigVersion::Id, ConfigVersion::Version])
                .values_panic([1.into(), 0.into()])
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ConfigVersion::Table).to_owned())
            .await
    }
}
