//! Admin changes: who, what, when, before and after.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub created_at: DateTimeUtc,
    pub actor_id: Option<i32>,
    pub actor_name: String,
    pub action: String,
    pub resource: String,
    pub resource_id: Option<String>,
    /// JSON of the resource before the change (no secrets).
    pub before: Option<String>,
    /// JSON of the resource after the change (no secrets).
    pub after: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
