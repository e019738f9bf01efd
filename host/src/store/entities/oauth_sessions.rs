//! Pending upstream OAuth authorizations: created by `POST
//! /api/oauth/authorize`, consumed once by `POST /api/oauth/exchange`,
//! deleted when expired.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_sessions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// SHA-256 (hex) of the `state` parameter; the state itself is not kept.
    #[sea_orm(unique)]
    pub state_hash: String,
    #[sea_orm(column_name = "provider_key_id")]
    pub upstream_key_id: i32,
    /// The PKCE code verifier, encrypted.
    pub verifier_ciphertext: Vec<u8>,
    pub redirect_uri: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
