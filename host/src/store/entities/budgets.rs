//! The budget of a user or a team: requests, tokens and cost per day and
//! per calendar month (`None`: unlimited), and the share of a limit past
//! which an alert is recorded.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "budgets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// `user` or `team`.
    pub scope: String,
    /// The user's or the team's id.
    pub subject_id: i32,
    pub requests_per_day: Option<i64>,
    pub requests_per_month: Option<i64>,
    pub tokens_per_day: Option<i64>,
    pub tokens_per_month: Option<i64>,
    pub cost_per_day_nanos: Option<i64>,
    pub cost_per_month_nanos: Option<i64>,
    /// Percent of a limit that raises an alert (1 to 100).
    pub alert_percent: i32,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
