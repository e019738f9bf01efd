//! The audit log: every admin change, who made it, and the resource
//! before and after (never secrets).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    CreatedAt,
    ActorId,
    ActorName,
    Action,
    Resource,
    ResourceId,
    Before,
    After,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AuditLog::Table)
                .if_not_exists()
                .col(big_pk_auto(AuditLog::Id))
                .col(timestamp_with_time_zone(AuditLog::CreatedAt))
                .col(integer_null(AuditLog::ActorId))
                .col(string(AuditLog::ActorName))
                .col(string(AuditLog::Action))
                .col(string(AuditLog::Resource))
                .col(string_null(AuditLog::ResourceId))
                .col(text_null(AuditLog::Before))
                .col(text_null(AuditLog::After))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_audit_log_created_at")
                .table(AuditLog::Table)
                .col(AuditLog::CreatedAt)
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(AuditLog::Table).if_exists().to_owned())
            .await
    }
}
