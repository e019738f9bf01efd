//! Provider plugin components: bytes, digest and version.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plugins")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub name: String,
    pub version: String,
    pub sha256: String,
    pub wasm: Vec<u8>,
    pub builtin: bool,
    pub enabled: bool,
    pub created_at: DateTimeUtc,
    /// Per-version limits; `None`: the gateway's defaults.
    pub call_timeout_ms: Option<i32>,
    pub memory_mib: Option<i32>,
    /// Why the version was disabled (by an operator or automatically).
    pub disabled_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
