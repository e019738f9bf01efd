//! The running totals of one candidate's shadow comparisons for one
//! provider, since it was first put in shadow: added to by the shadow
//! worker's writer, never deleted by retention.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shadow_totals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub provider_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub candidate_plugin_id: i32,
    /// Comparisons made.
    pub compared: i64,
    /// Of those, how many agreed.
    pub agreeing: i64,
    /// The candidate's charge minus the serving version's, summed, in
    /// nanodollars (a missing cost counts 0).
    pub cost_difference_nanos: i64,
    /// When a comparison was last added.
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
