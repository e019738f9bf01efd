//! The first schema: accounts, plugins, providers, upstream keys, client
//! keys, prices and the per-request trace table.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Username,
    PasswordHash,
    Role,
    Enabled,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Plugins {
    Table,
    Id,
    Name,
    Version,
    Sha256,
    Wasm,
    Builtin,
    Enabled,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Providers {
    Table,
    Id,
    Name,
    PluginName,
    BaseUrl,
    ConnectTimeoutMs,
    ReadTimeoutMs,
    Enabled,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ProviderKeys {
    Table,
    Id,
    ProviderId,
    Name,
    SecretCiphertext,
    SecretHint,
    AuthType,
    Weight,
    Enabled,
    HealthStatus,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ClientKeys {
    Table,
    Id,
    Name,
    KeyHash,
    KeyPrefix,
    OwnerUserId,
    ProviderId,
    Pool,
    Strategy,
    Enabled,
    ExpiresAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Prices {
    Table,
    Id,
    ProviderId,
    Model,
    Input,
    Output,
    CachedInput,
    CacheWrite,
}

#[derive(DeriveIden)]
enum ProxyTracing {
    Table,
    Id,
    RequestId,
    ClientKeyId,
    ClientKeyName,
    ProviderId,
    ProviderName,
    ProviderKeyId,
    ProviderKeyName,
    PluginName,
    PluginVersion,
    Model,
    Method,
    Path,
    StatusCode,
    IsStream,
    Attempts,
    AttemptLog,
    InputTokens,
    OutputTokens,
    CachedInputTokens,
    CacheWriteTokens,
    ReasoningTokens,
    TotalTokens,
    CostNanos,
    ErrorClass,
    ErrorMessage,
    FirstByteMs,
    DurationMs,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Users::Table)
                .if_not_exists()
                .col(pk_auto(Users::Id))
                .col(string_uniq(Users::Username))
                .col(string(Users::PasswordHash))
                .col(string(Users::Role))
                .col(boolean(Users::Enabled))
                .col(timestamp_with_time_zone(Users::CreatedAt))
                .col(timestamp_with_time_zone(Users::UpdatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Plugins::Table)
                .if_not_exists()
                .col(pk_auto(Plugins::Id))
                .col(string(Plugins::Name))
                .col(string(Plugins::Version))
                .col(string(Plugins::Sha256))
                .col(blob(Plugins::Wasm))
                .col(boolean(Plugins::Builtin))
                .col(boolean(Plugins::Enabled))
                .col(timestamp_with_time_zone(Plugins::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_plugins_name_version")
                .table(Plugins::Table)
                .col(Plugins::Name)
                .col(Plugins::Version)
                .unique()
                .if_not_exists()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Providers::Table)
                .if_not_exists()
                .col(pk_auto(Providers::Id))
                .col(string_uniq(Providers::Name))
                .col(string(Providers::PluginName))
                .col(string(Providers::BaseUrl))
                .col(integer(Providers::ConnectTimeoutMs))
                .col(integer(Providers::ReadTimeoutMs))
                .col(boolean(Providers::Enabled))
                .col(timestamp_with_time_zone(Providers::CreatedAt))
                .col(timestamp_with_time_zone(Providers::UpdatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ProviderKeys::Table)
                .if_not_exists()
                .col(pk_auto(ProviderKeys::Id))
                .col(integer(ProviderKeys::ProviderId))
                .col(string(ProviderKeys::Name))
                .col(blob(ProviderKeys::SecretCiphertext))
                .col(string(ProviderKeys::SecretHint))
                .col(string(ProviderKeys::AuthType))
                .col(integer(ProviderKeys::Weight))
                .col(boolean(ProviderKeys::Enabled))
                .col(string(ProviderKeys::HealthStatus))
                .col(timestamp_with_time_zone(ProviderKeys::CreatedAt))
                .col(timestamp_with_time_zone(ProviderKeys::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(ProviderKeys::Table, ProviderKeys::ProviderId)
                        .to(Providers::Table, Providers::Id),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ClientKeys::Table)
                .if_not_exists()
                .col(pk_auto(ClientKeys::Id))
                .col(string(ClientKeys::Name))
                .col(string_uniq(ClientKeys::KeyHash))
                .col(string(ClientKeys::KeyPrefix))
                .col(integer_null(ClientKeys::OwnerUserId))
                .col(integer(ClientKeys::ProviderId))
                .col(text(ClientKeys::Pool))
                .col(string(ClientKeys::Strategy))
                .col(boolean(ClientKeys::Enabled))
                .col(timestamp_with_time_zone_null(ClientKeys::ExpiresAt))
                .col(timestamp_with_time_zone(ClientKeys::CreatedAt))
                .col(timestamp_with_time_zone(ClientKeys::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(ClientKeys::Table, ClientKeys::ProviderId)
                        .to(Providers::Table, Providers::Id),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Prices::Table)
                .if_not_exists()
                .col(pk_auto(Prices::Id))
                .col(integer(Prices::ProviderId))
                .col(string(Prices::Model))
                .col(big_integer(Prices::Input))
                .col(big_integer(Prices::Output))
                .col(big_integer_null(Prices::CachedInput))
                .col(big_integer_null(Prices::CacheWrite))
                .foreign_key(
                    ForeignKey::create()
                        .from(Prices::Table, Prices::ProviderId)
                        .to(Providers::Table, Providers::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_prices_provider_model")
                .table(Prices::Table)
                .col(Prices::ProviderId)
                .col(Prices::Model)
                .unique()
                .if_not_exists()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ProxyTracing::Table)
                .if_not_exists()
                .col(big_pk_auto(ProxyTracing::Id))
                .col(string_uniq(ProxyTracing::RequestId))
                .col(integer_null(ProxyTracing::ClientKeyId))
                .col(string_null(ProxyTracing::ClientKeyName))
                .col(integer_null(ProxyTracing::ProviderId))
                .col(string_null(ProxyTracing::ProviderName))
                .col(integer_null(ProxyTracing::ProviderKeyId))
                .col(string_null(ProxyTracing::ProviderKeyName))
                .col(string_null(ProxyTracing::PluginName))
                .col(string_null(ProxyTracing::PluginVersion))
                .col(string_null(ProxyTracing::Model))
                .col(string(ProxyTracing::Method))
                .col(text(ProxyTracing::Path))
                .col(integer(ProxyTracing::StatusCode))
                .col(boolean(ProxyTracing::IsStream))
                .col(integer(ProxyTracing::Attempts))
                .col(text(ProxyTracing::AttemptLog))
                .col(big_integer(ProxyTracing::InputTokens))
                .col(big_integer(ProxyTracing::OutputTokens))
                .col(big_integer(ProxyTracing::CachedInputTokens))
                .col(big_integer(ProxyTracing::CacheWriteTokens))
                .col(big_integer(ProxyTracing::ReasoningTokens))
                .col(big_integer(ProxyTracing::TotalTokens))
                .col(big_integer_null(ProxyTracing::CostNanos))
                .col(string_null(ProxyTracing::ErrorClass))
                .col(text_null(ProxyTracing::ErrorMessage))
                .col(big_integer_null(ProxyTracing::FirstByteMs))
                .col(big_integer(ProxyTracing::DurationMs))
                .col(timestamp_with_time_zone(ProxyTracing::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_proxy_tracing_created_at")
                .table(ProxyTracing::Table)
                .col(ProxyTracing::CreatedAt)
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_proxy_tracing_client_key_created_at")
                .table(ProxyTracing::Table)
                .col(ProxyTracing::ClientKeyId)
                .col(ProxyTracing::CreatedAt)
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ProxyTracing::Table.into_iden(),
            Prices::Table.into_iden(),
            ClientKeys::Table.into_iden(),
            ProviderKeys::Table.into_iden(),
            Providers::Table.into_iden(),
            Plugins::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
