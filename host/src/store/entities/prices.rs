//! Operator-editable model prices (micro-USD per million tokens), seeded
//! from each provider plugin's `default-prices`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "prices")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub provider_id: i32,
    pub model: String,
    pub input: i64,
    pub output: i64,
    pub cached_input: Option<i64>,
    pub cache_write: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
