//! A provider's candidate plugin version in shadow or canary (one row per
//! provider at most).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "plugin_rollouts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub provider_id: i32,
    /// The candidate's `plugins` row.
    pub plugin_id: i32,
    /// `shadow` or `canary`.
    pub stage: String,
    /// Share of requests the candidate sees in shadow, 0 to 1.
    pub shadow_sample: f64,
    /// Percentage of client keys the candidate serves in canary, 0 to 100.
    pub canary_percent: i32,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
