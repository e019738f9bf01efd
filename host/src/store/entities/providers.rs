//! Upstream providers: which plugin speaks to them and where they are.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "providers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub name: String,
    pub plugin_name: String,
    /// The pinned plugin version; `None`: the newest enabled one.
    pub plugin_version: Option<String>,
    pub base_url: String,
    pub connect_timeout_ms: i32,
    pub read_timeout_ms: i32,
    pub enabled: bool,
    /// The operator's OAuth endpoints (JSON), replacing the plugin's.
    pub oauth_override: Option<String>,
    /// The override's client secret, encrypted.
    pub oauth_client_secret_ciphertext: Option<Vec<u8>>,
    /// Whether clients may choose the organisation or project an upstream
    /// key bills (`openai-organization`, ...); dropped when false.
    pub allow_billing_headers: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
