//! OAuth 2.0 clients: applications that trade a client id and secret for a
//! short-lived token (client-credentials grant) instead of holding a key.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OauthClients {
    Table,
    Id,
    Name,
    ClientId,
    SecretHash,
    ClientKeyId,
    Enabled,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ClientKeys {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(OauthClients::Table)
                .if_not_exists()
                .col(pk_auto(OauthClients::Id))
                .col(string(OauthClients::Name))
                .col(string_uniq(OauthClients::ClientId))
                .col(string(OauthClients::SecretHash))
                .col(integer(OauthClients::ClientKeyId))
                .col(boolean(OauthClients::Enabled))
                .col(timestamp_with_time_zone(OauthClients::CreatedAt))
                .col(timestamp_with_time_zone(OauthClients::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(OauthClients::Table, OauthClients::ClientKeyId)
                        .to(ClientKeys::Table, ClientKeys::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(OauthClients::Table).to_owned())
            .await
    }
}
