//! What an operator granted a `user` account: the providers and upstream
//! keys its client keys may pool, and the limits of keys it creates.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_grants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i32,
    /// JSON array of provider ids: every upstream key of these providers.
    pub provider_ids: String,
    /// JSON array of single upstream key ids.
    #[sea_orm(column_name = "provider_key_ids")]
    pub upstream_key_ids: String,
    pub default_rps_limit: Option<i64>,
    pub default_rpm_limit: Option<i64>,
    pub default_rpd_limit: Option<i64>,
    pub default_tokens_per_day_limit: Option<i64>,
    pub default_cost_per_day_limit_nanos: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
