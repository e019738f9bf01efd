//! The trace record as the proxy fills it in.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::otlp::TraceParent;
use crate::plugins::PluginCallLog;
use crate::store::entities::proxy_tracing;

/// One upstream attempt of a request.
#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    pub upstream_key_id: i32,
    pub upstream_key_name: String,
    /// Upstream status, `None` when no answer came.
    pub status: Option<u16>,
    pub error_class: Option<String>,
    /// The gateway's code for an attempt without an answer (`connect_failed`, ...).
    pub error: Option<String>,
    /// The upstream's own error message, masked and bounded
    /// (`proxy::upstream_message`); `None` for a success or no answer.
    pub message: Option<String>,
    pub duration_ms: u64,
    /// When the attempt began, in ms after the request arrived (for its
    /// span; the stored attempt log keeps only the duration).
    #[serde(skip)]
    pub started_ms: u64,
}

/// Everything recorded about one request.
#[derive(Debug, Clone, Default)]
pub struct TraceRecord {
    pub request_id: String,
    pub client_key_id: Option<i32>,
    pub client_key_name: Option<String>,
    pub provider_id: Option<i32>,
    pub provider_name: Option<String>,
    pub upstream_key_id: Option<i32>,
    pub upstream_key_name: Option<String>,
    pub plugin_name: Option<String>,
    pub plugin_version: Option<String>,
    pub model: Option<String>,
    pub method: String,
    pub path: String,
    pub status_code: u16,
    pub is_stream: bool,
    pub attempts: Vec<Attempt>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cached_input_tokens: u64,
    pub cache_write_tokens: u64,
    pub reasoning_tokens: u64,
    pub cost_nanos: Option<u64>,
    pub error_class: Option<String>,
    pub error_message: Option<String>,
    pub first_byte_ms: Option<u64>,
    pub duration_ms: u64,
    pub created_at: Option<DateTime<Utc>>,
    /// The client's W3C trace context, continued by the exported spans.
    pub parent: Option<TraceParent>,
    /// The request's plugin calls, logged only when spans are exported.
    pub plugin_calls: Option<PluginCallLog>,
}

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl TraceRecord {
    /// The row to insert.
    pub fn into_active_model(self) -> proxy_tracing::ActiveModel {
        use sea_orm::ActiveValue::{NotSet, Set};
        let total = self
            .input_tokens
            .saturating_add(self.output_tokens)
            .saturating_add(self.cache_write_tokens);
        proxy_tracing::ActiveModel {
            id: NotSet,
            request_id: Set(self.request_id),
            client_key_id: Set(self.client_key_id),
            client_key_name: Set(self.client_key_name),
            provider_id: Set(self.provider_id),
            provider_name: Set(self.provider_name),
            upstream_key_id: Set(self.upstream_key_id),
            upstream_key_name: Set(self.upstream_key_name),
            plugin_name: Set(self.plugin_name),
            plugin_version: Set(self.plugin_version),
            model: Set(self.model),
            method: Set(self.method),
            path: Set(self.path),
            status_code: Set(i32::from(self.status_code)),
            is_stream: Set(self.is_stream),
            attempts: Set(i32::try_from(self.attempts.len()).unwrap_or(i32::MAX)),
            attempt_log: Set(serde_json::to_string(&self.attempts).unwrap_or_else(|_| "[]".into())),
            input_tokens: Set(i64_of(self.input_tokens)),
            output_tokens: Set(i64_of(self.output_tokens)),
            cached_input_tokens: Set(i64_of(self.cached_input_tokens)),
            cache_write_tokens: Set(i64_of(self.cache_write_tokens)),
            reasoning_tokens: Set(i64_of(self.reasoning_tokens)),
            total_tokens: Set(i64_of(total)),
            cost_nanos: Set(self.cost_nanos.map(i64_of)),
            error_class: Set(self.error_class),
            error_message: Set(self.error_message),
            first_byte_ms: Set(self.first_byte_ms.map(i64_of)),
            duration_ms: Set(i64_of(self.duration_ms)),
            created_at: Set(self.created_at.unwrap_or_else(Utc::now)),
        }
    }
}
