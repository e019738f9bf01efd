//! One row per proxied request.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "proxy_tracing")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub request_id: String,
    pub client_key_id: Option<i32>,
    pub client_key_name: Option<String>,
    pub provider_id: Option<i32>,
    pub provider_name: Option<String>,
    #[sea_orm(column_name = "provider_key_id")]
    pub upstream_key_id: Option<i32>,
    #[sea_orm(column_name = "provider_key_name")]
    pub upstream_key_name: Option<String>,
    pub plugin_name: Option<String>,
    pub plugin_version: Option<String>,
    pub model: Option<String>,
    pub method: String,
    pub path: String,
    pub status_code: i32,
    pub is_stream: bool,
    pub attempts: i32,
    /// JSON array of attempts (key, status, error class, latency).
    pub attempt_log: String,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cached_input_tokens: i64,
    pub cache_write_tokens: i64,
    pub reasoning_tokens: i64,
    pub total_tokens: i64,
    pub cost_nanos: Option<i64>,
    pub error_class: Option<String>,
    pub error_message: Option<String>,
    pub first_byte_ms: Option<i64>,
    pub duration_ms: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
