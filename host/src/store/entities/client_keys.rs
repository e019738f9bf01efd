//! Gateway keys handed to applications ("user service keys"), stored hashed.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "client_keys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub name: String,
    /// Hex SHA-256 of the whole key.
    #[sea_orm(unique)]
    pub key_hash: String,
    /// The first characters of the key, for display.
    pub key_prefix: String,
    pub owner_user_id: Option<i32>,
    pub provider_id: i32,
    /// JSON array of upstream key ids.
    pub pool: String,
    pub strategy: String,
    pub enabled: bool,
    pub expires_at: Option<DateTimeUtc>,
    /// JSON array of model names the key may use; `None` or empty: any.
    pub allowed_models: Option<String>,
    pub rps_limit: Option<i64>,
    pub rpm_limit: Option<i64>,
    pub rpd_limit: Option<i64>,
    pub tokens_per_day_limit: Option<i64>,
    pub cost_per_day_limit_nanos: Option<i64>,
    /// `finish` or `cut`: what a stream does when it crosses a daily quota.
    pub quota_overrun: String,
    /// Disabled by an administrator: its owner cannot enable it again.
    pub disabled_by_admin: bool,
    /// JSON array of the endpoint classes the key may use; `None`: the
    /// default grant.
    pub endpoint_classes: Option<String>,
    /// The team whose budget the key's requests are charged to.
    pub team_id: Option<i32>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
