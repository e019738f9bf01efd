//! An OAuth client's token generation: advanced whenever the client is
//! disabled, and carried in every token it is issued, so re-enabling a
//! client does not revive the tokens issued before it was disabled.
//! Clients disabled when this migration runs start at generation 1, so
//! their older tokens (generation 0) stay dead if they are re-enabled.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OauthClients {
    Table,
    Enabled,
    TokenGeneration,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(OauthClients::Table)
                .add_column(big_integer(OauthClients::TokenGeneration).default(0))
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::update()
                .table(OauthClients::Table)
                .value(OauthClients::TokenGeneration, 1)
                .and_where(Expr::col(OauthClients::Enabled).eq(false))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(OauthClients::Table)
                .drop_column(OauthClients::TokenGeneration)
                .to_owned(),
        )
        .await
    }
}
