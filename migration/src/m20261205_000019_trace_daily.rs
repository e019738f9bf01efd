//! Per-day aggregates of request traces, so statistics stay right after
//! raw rows older than the retention period are deleted.
//!
//! `proxy_tracing_daily` holds, for each UTC day already rolled up, one
//! row per (client key, its name, upstream key, model) with requests,
//! errors (status ≥ 400), tokens and cost. `proxy_tracing_rollup` holds
//! one row: the first day not rolled up yet (`1970-01-01` until the first
//! roll-up). Statistics read aggregates for days before it and raw rows
//! from it on, so a day is never counted twice nor lost, whatever part of
//! its raw rows is already deleted.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum ProxyTracingDaily {
    Table,
    Id,
    Day,
    ClientKeyId,
    ClientKeyName,
    ProviderKeyId,
    Model,
    Requests,
    Errors,
    ServerErrors,
    Tokens,
    CostNanos,
    DurationMs,
}

#[derive(DeriveIden)]
enum ProxyTracingRollup {
    Table,
    Id,
    RolledUntil,
}

/// The roll-up mark before any day is rolled up.
const NOTHING_ROLLED: &str = "1970-01-01";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ProxyTracingDaily::Table)
                .if_not_exists()
                .col(big_pk_auto(ProxyTracingDaily::Id))
                .col(string_len(ProxyTracingDaily::Day, 10))
                .col(integer_null(ProxyTracingDaily::ClientKeyId))
                .col(string_null(ProxyTracingDaily::ClientKeyName))
                .col(integer_null(ProxyTracingDaily::ProviderKeyId))
                .col(string_null(ProxyTracingDaily::Model))
                .col(big_integer(ProxyTracingDaily::Requests))
                .col(big_integer(ProxyTracingDaily::Errors))
                .col(big_integer(ProxyTracingDaily::ServerErrors))
                .col(big_integer(ProxyTracingDaily::Tokens))
                .col(big_integer(ProxyTracingDaily::CostNanos))
                .col(big_integer(ProxyTracingDaily::DurationMs))
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            ("idx_proxy_tracing_daily_day", &[ProxyTracingDaily::Day][..]),
            (
                "idx_proxy_tracing_daily_client_key_day",
                &[ProxyTracingDaily::ClientKeyId, ProxyTracingDaily::Day][..],
            ),
            (
                "idx_proxy_tracing_daily_provider_key_day",
                &[ProxyTracingDaily::ProviderKeyId, ProxyTracingDaily::Day][..],
            ),
        ] {
            let mut index = Index::create();
            index
                .name(name)
                .table(ProxyTracingDaily::Table)
                .if_not_exists();
            for col in cols {
                index.col(*col);
            }
            m.create_index(index.to_owned()).await?;
        }
        m.create_table(
            Table::create()
                .table(ProxyTracingRollup::Table)
                .if_not_exists()
                .col(integer(ProxyTracingRollup::Id).primary_key())
                .col(string_len(ProxyTracingRollup::RolledUntil, 10))
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::insert()
                .into_table(ProxyTracingRollup::Table)
                .columns([ProxyTracingRollup::Id, ProxyTracingRollup::RolledUntil])
                .values_panic([1.into(), NOTHING_ROLLED.into()])
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ProxyTracingRollup::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(ProxyTracingDaily::Table).to_owned())
            .await
    }
}
