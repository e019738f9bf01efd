//! Budgets above client keys (issue 19): teams, their members, the team a
//! client key belongs to (`client_keys.team_id`, nullable: a key without a
//! team is charged to no team), the budgets of users and teams, and the
//! alerts recorded once per budget line and period.
//!
//! `budgets` has one row per `(scope, subject_id)`: scope `user` or `team`.
//! `budget_alerts` is unique per `(scope, subject_id, limit_name, period)`,
//! which makes an alert once per period even across gateway instances.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Teams {
    Table,
    Id,
    Name,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TeamMembers {
    Table,
    Id,
    TeamId,
    UserId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Budgets {
    Table,
    Id,
    Scope,
    SubjectId,
    RequestsPerDay,
    RequestsPerMonth,
    TokensPerDay,
    TokensPerMonth,
    CostPerDayNanos,
    CostPerMonthNanos,
    AlertPercent,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum BudgetAlerts {
    Table,
    Id,
    Scope,
    SubjectId,
    LimitName,
    Period,
    Used,
    Budget,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ClientKeys {
    Table,
    TeamId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Teams::Table)
                .if_not_exists()
                .col(pk_auto(Teams::Id))
                .col(string_len(Teams::Name, 128).unique_key())
                .col(timestamp_with_time_zone(Teams::CreatedAt))
                .col(timestamp_with_time_zone(Teams::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(TeamMembers::Table)
                .if_not_exists()
                .col(pk_auto(TeamMembers::Id))
                .col(integer(TeamMembers::TeamId))
                .col(integer(TeamMembers::UserId))
                .col(timestamp_with_time_zone(TeamMembers::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_team_members_team_user")
                .table(TeamMembers::Table)
                .col(TeamMembers::TeamId)
                .col(TeamMembers::UserId)
                .unique()
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Budgets::Table)
                .if_not_exists()
                .col(pk_auto(Budgets::Id))
                .col(string_len(Budgets::Scope, 8))
                .col(integer(Budgets::SubjectId))
                .col(big_integer_null(Budgets::RequestsPerDay))
                .col(big_integer_null(Budgets::RequestsPerMonth))
                .col(big_integer_null(Budgets::TokensPerDay))
                .col(big_integer_null(Budgets::TokensPerMonth))
                .col(big_integer_null(Budgets::CostPerDayNanos))
                .col(big_integer_null(Budgets::CostPerMonthNanos))
                .col(integer(Budgets::AlertPercent).default(80))
                .col(timestamp_with_time_zone(Budgets::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_budgets_scope_subject")
                .table(Budgets::Table)
                .col(Budgets::Scope)
                .col(Budgets::SubjectId)
                .unique()
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(BudgetAlerts::Table)
                .if_not_exists()
                .col(pk_auto(BudgetAlerts::Id))
                .col(string_len(BudgetAlerts::Scope, 8))
                .col(integer(BudgetAlerts::SubjectId))
                .col(string_len(BudgetAlerts::LimitName, 64))
                .col(string_len(BudgetAlerts::Period, 16))
                .col(big_integer(BudgetAlerts::Used))
                .col(big_integer(BudgetAlerts::Budget))
                .col(timestamp_with_time_zone(BudgetAlerts::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_budget_alerts_once")
                .table(BudgetAlerts::Table)
                .col(BudgetAlerts::Scope)
                .col(BudgetAlerts::SubjectId)
                .col(BudgetAlerts::LimitName)
                .col(BudgetAlerts::Period)
                .unique()
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(ClientKeys::Table)
                .add_column(integer_null(ClientKeys::TeamId))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ClientKeys::Table)
                .drop_column(ClientKeys::TeamId)
                .to_owned(),
        )
        .await?;
        for table in [
            BudgetAlerts::Table.into_iden(),
            Budgets::Table.into_iden(),
            TeamMembers::Table.into_iden(),
            Teams::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
