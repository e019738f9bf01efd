//! One request compared in shadow: the serving and the candidate
//! version's verdicts side by side.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shadow_verdicts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub provider_id: i32,
    pub candidate_plugin_id: i32,
    pub request_id: String,
    pub serving_version: String,
    pub candidate_version: String,
    pub agree: bool,
    /// The serving version's verdict (JSON).
    pub serving: String,
    /// The candidate's verdict (JSON).
    pub candidate: String,
    pub serving_cost_nanos: Option<i64>,
    pub candidate_cost_nanos: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
