//! The providers of a client key that uses several ("routes"): one row per
//! provider, with its pool and how a request picks it. A key without rows
//! here uses the single provider of its `client_keys` row.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "client_key_providers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub client_key_id: i32,
    pub provider_id: i32,
    /// Order in which the key lists its providers (the first is mirrored
    /// into `client_keys`).
    pub position: i32,
    /// JSON array of upstream key ids of this provider.
    pub pool: String,
    /// One path segment (`deepseek`): requests under `/deepseek/...` go to
    /// this provider, with the segment removed; `None`: picked by the API
    /// shape its plugin declares.
    pub path_prefix: Option<String>,
    /// JSON array of model-name prefixes that pick this provider when
    /// several serve the same path; `None` or empty: none.
    pub model_prefixes: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
