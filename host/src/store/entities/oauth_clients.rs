//! OAuth 2.0 clients of the client-credentials grant, each bound to one
//! client key whose identity and limits its tokens carry.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_clients")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub name: String,
    /// The public client identifier (`aipc-…`).
    #[sea_orm(unique)]
    pub client_id: String,
    /// Hex SHA-256 of the client secret.
    pub secret_hash: String,
    pub client_key_id: i32,
    pub enabled: bool,
    /// Advanced at every disable; tokens of an earlier generation are refused.
    pub token_generation: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
