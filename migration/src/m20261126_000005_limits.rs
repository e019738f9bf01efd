//! Limits per client key (requests per second, minute and day; tokens and
//! cost per day) and per upstream key (requests per second, tokens per
//! day), and an expiry for upstream keys. Empty means unlimited.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ClientKeys {
    Table,
    RpsLimit,
    RpmLimit,
    RpdLimit,
    TokensPerDayLimit,
    CostPerDayLimitNanos,
}

#[derive(DeriveIden)]
enum ProviderKeys {
    Table,
    RpsLimit,
    TokensPerDayLimit,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one column at a time.
        for column in [
            big_integer_null(ClientKeys::RpsLimit),
            big_integer_null(ClientKeys::RpmLimit),
            big_integer_null(ClientKeys::RpdLimit),
            big_integer_null(ClientKeys::TokensPerDayLimit),
            big_integer_null(ClientKeys::CostPerDayLimitNanos),
        ] {
            m.alter_table(
                Table::alter()
                    .table(ClientKeys::Table)
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
        }
        for column in [
            big_integer_null(ProviderKeys::RpsLimit),
            big_integer_null(ProviderKeys::TokensPerDayLimit),
            timestamp_with_time_zone_null(ProviderKeys::ExpiresAt),
        ] {
            m.alter_table(
                Table::alter()
                    .table(ProviderKeys::Table)
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            ClientKeys::RpsLimit,
            ClientKeys::RpmLimit,
            ClientKeys::RpdLimit,
            ClientKeys::TokensPerDayLimit,
            ClientKeys::CostPerDayLimitNanos,
        ] {
            m.alter_table(
                Table::alter()
                    .table(ClientKeys::Table)
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        for column in [
            ProviderKeys::RpsLimit,
            ProviderKeys::TokensPerDayLimit,
            ProviderKeys::ExpiresAt,
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
