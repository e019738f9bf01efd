//! Budget alerts recorded: one row per budget line and period (unique),
//! so an alert is recorded once even when several instances notice it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "budget_alerts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub scope: String,
    pub subject_id: i32,
    /// Such as `team_cost_per_month`.
    pub limit_name: String,
    /// `2026-12` or `2026-12-05`.
    pub period: String,
    pub used: i64,
    pub budget: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
