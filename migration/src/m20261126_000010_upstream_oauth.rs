//! Upstream OAuth accounts: the refresh token, expiry and state of OAuth
//! keys (the access token is the key's encrypted secret), a provider's
//! override of its plugin's OAuth endpoints, and pending authorizations
//! (PKCE verifier and `state`, kept until exchanged or expired).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ProviderKeys {
    Table,
    OauthRefreshCiphertext,
    OauthExpiresAt,
    OauthState,
    OauthLastRefreshAt,
    OauthLastError,
    OauthLeaseUntil,
}

#[derive(DeriveIden)]
enum Providers {
    Table,
    OauthOverride,
    OauthClientSecretCiphertext,
}

#[derive(DeriveIden)]
enum OauthSessions {
    Table,
    Id,
    StateHash,
    ProviderKeyId,
    VerifierCiphertext,
    RedirectUri,
    CreatedAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one column at a time.
        for column in [
            blob_null(ProviderKeys::OauthRefreshCiphertext),
            timestamp_with_time_zone_null(ProviderKeys::OauthExpiresAt),
            string_null(ProviderKeys::OauthState),
            timestamp_with_time_zone_null(ProviderKeys::OauthLastRefreshAt),
            string_null(ProviderKeys::OauthLastError),
            timestamp_with_time_zone_null(ProviderKeys::OauthLeaseUntil),
        ] {
            m.alter_table(
                Table::alter()
                    .table(ProviderKeys::Table)
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
        }
        for column in [
            text_null(Providers::OauthOverride),
            blob_null(Providers::OauthClientSecretCiphertext),
        ] {
            m.alter_table(
                Table::alter()
                    .table(Providers::Table)
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table(OauthSessions::Table)
                .if_not_exists()
                .col(pk_auto(OauthSessions::Id))
                .col(string_uniq(OauthSessions::StateHash))
                .col(integer(OauthSessions::ProviderKeyId))
                .col(blob(OauthSessions::VerifierCiphertext))
                .col(text(OauthSessions::RedirectUri))
                .col(timestamp_with_time_zone(OauthSessions::CreatedAt))
                .col(timestamp_with_time_zone(OauthSessions::ExpiresAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(OauthSessions::Table).to_owned())
            .await?;
        for column in [
            Providers::OauthOverride,
            Providers::OauthClientSecretCiphertext,
        ] {
            m.alter_table(
                Table::alter()
                    .table(Providers::Table)
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        for column in [
            ProviderKeys::OauthRefreshCiphertext,
            ProviderKeys::OauthExpiresAt,
            ProviderKeys::OauthState,
            ProviderKeys::OauthLastRefreshAt,
            ProviderKeys::OauthLastError,
            ProviderKeys::OauthLeaseUntil,
        ] {
            m.alter_table(
                Table::alter()
                    .table(ProviderKeys::Table)
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
