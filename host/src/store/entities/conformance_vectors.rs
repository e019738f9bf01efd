//! Conformance vectors an operator added for a provider: one case each,
//! in the `plugin check --samples` format with its bodies inline. A new
//! version of the provider's plugin runs them at upload, beside the
//! built-in vectors of its kind.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "conformance_vectors")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub provider_id: i32,
    /// The case's `name`, unique per provider.
    pub name: String,
    /// The case as JSON.
    pub vector: String,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
