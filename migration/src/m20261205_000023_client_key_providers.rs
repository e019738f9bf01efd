//! One client key, several providers: `client_key_providers` holds, per
//! client key, one row for each provider the key may use, with that
//! provider's pool of upstream keys and how a request picks it (a path
//! prefix, or model-name prefixes).
//!
//! Additive: a key without rows here is the single-provider key it always
//! was (`client_keys.provider_id` and `pool`), so existing keys keep
//! working unchanged. A key with rows uses only them; its row in
//! `client_keys` mirrors the first one.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ClientKeyProviders {
    Table,
    Id,
    ClientKeyId,
    ProviderId,
    Position,
    Pool,
    PathPrefix,
    ModelPrefixes,
}

/// The unique index: a provider at most once per key.
const KEY_PROVIDER_INDEX: &str = "client_key_providers_key_provider";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ClientKeyProviders::Table)
                .if_not_exists()
                .col(pk_auto(ClientKeyProviders::Id))
                .col(integer(ClientKeyProviders::ClientKeyId))
                .col(integer(ClientKeyProviders::ProviderId))
                .col(integer(ClientKeyProviders::Position).default(0))
                .col(text(ClientKeyProviders::Pool).default("[]"))
                .col(string_null(ClientKeyProviders::PathPrefix))
                .col(text_null(ClientKeyProviders::ModelPrefixes))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name(KEY_PROVIDER_INDEX)
                .table(ClientKeyProviders::Table)
                .col(ClientKeyProviders::ClientKeyId)
                .col(ClientKeyProviders::ProviderId)
                .unique()
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ClientKeyProviders::Table).to_owned())
            .await
    }
}
