//! Upstream credentials, encrypted at rest.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "provider_keys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub provider_id: i32,
    pub name: String,
    /// AES-256-GCM: 12-byte nonce followed by ciphertext and tag.
    pub secret_ciphertext: Vec<u8>,
    /// A masked form safe to show (`sk-…abcd`).
    pub secret_hint: String,
    pub auth_type: String,
    pub weight: i32,
    pub enabled: bool,
    pub health_status: String,
    pub rps_limit: Option<i64>,
    pub tokens_per_day_limit: Option<i64>,
    pub expires_at: Option<DateTimeUtc>,
    /// OAuth keys: the refresh token, encrypted like the secret (which
    /// holds the access token).
    pub oauth_refresh_ciphertext: Option<Vec<u8>>,
    /// OAuth keys: when the access token expires.
    pub oauth_expires_at: Option<DateTimeUtc>,
    /// OAuth keys: `disconnected`, `connected`, `failed` or `revoked`.
    pub oauth_state: Option<String>,
    pub oauth_last_refresh_at: Option<DateTimeUtc>,
    pub oauth_last_error: Option<String>,
    /// OAuth keys: an instance refreshing the token holds this lease.
    pub oauth_lease_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
