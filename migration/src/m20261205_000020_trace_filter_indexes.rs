//! Indexes behind every filter of the console's request log. The log is
//! newest first (`ORDER BY id DESC`), so each filtered column is indexed
//! together with `id`: a page is a short walk down one index, not a scan
//! and sort of every matching row. Time ranges use the existing
//! `created_at` index.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum ProxyTracing {
    Table,
    Id,
    Model,
    StatusCode,
    ProviderName,
    ProviderKeyName,
    ClientKeyId,
}

const INDEXES: [(&str, ProxyTracing); 5] = [
    ("idx_proxy_tracing_model_id", ProxyTracing::Model),
    ("idx_proxy_tracing_status_id", ProxyTracing::StatusCode),
    ("idx_proxy_tracing_provider_id", ProxyTracing::ProviderName),
    (
        "idx_proxy_tracing_provider_key_id",
        ProxyTracing::ProviderKeyName,
    ),
    ("idx_proxy_tracing_client_key_id", ProxyTracing::ClientKeyId),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, col) in INDEXES {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(ProxyTracing::Table)
                    .col(col)
                    .col(ProxyTracing::Id)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in INDEXES {
            m.drop_index(
                Index::drop()
                    .name(name)
                    .table(ProxyTracing::Table)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
