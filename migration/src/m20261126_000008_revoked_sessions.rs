//! Admin sessions ended before their expiry (logout), so every instance
//! refuses them, not only the one that saw the logout.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RevokedSessions {
    Table,
    Jti,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(RevokedSessions::Table)
                .if_not_exists()
                .col(string(RevokedSessions::Jti).primary_key())
                .col(big_integer(RevokedSessions::ExpiresAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(RevokedSessions::Table).to_owned())
            .await
    }
}
