//! An upstream key as the API shows it: never its secret, only a masked
//! hint; its live health on this instance, and for OAuth keys where the
//! account stands.

use chrono::Utc;
use serde::Serialize;
use utoipa::ToSchema;

use super::super::limits::KeyLimitsInput;
use crate::catalog::{AUTH_TYPE_OAUTH, OAuthState};
use crate::scheduler::{KeyBoard, KeyHealthView};
use crate::store::entities::upstream_keys;

#[derive(Serialize, Clone, ToSchema)]
pub struct UpstreamKeyView {
    pub(super) id: i32,
    provider_id: i32,
    name: String,
    secret_hint: String,
    auth_type: String,
    weight: i32,
    enabled: bool,
    health_status: String,
    limits: KeyLimitsInput,
    expires_at: Option<chrono::DateTime<Utc>>,
    created_at: chrono::DateTime<Utc>,
    updated_at: chrono::DateTime<Utc>,
    /// Live state on this instance: health score, latency, cooldown.
    #[serde(skip_serializing_if = "Option::is_none")]
    health: Option<KeyHealthView>,
    /// `null` for API keys; the account's state for OAuth keys.
    oauth: Option<OAuthKeyView>,
}

/// Where an OAuth key stands. Tokens are never shown.
#[derive(Serialize, Clone, ToSchema)]
pub struct OAuthKeyView {
    state: OAuthState,
    /// When the access token expires.
    expires_at: Option<chrono::DateTime<Utc>>,
    last_refresh_at: Option<chrono::DateTime<Utc>>,
    /// Why the last refresh failed, when it did.
    last_error: Option<String>,
}

impl UpstreamKeyView {
    pub(in crate::admin) fn with_health(mut self, board: &KeyBoard) -> Self {
        self.health = Some(board.view(self.id));
        self
    }
}

impl From<upstream_keys::Model> for UpstreamKeyView {
    fn from(k: upstream_keys::Model) -> Self {
        let oauth = (k.auth_type == AUTH_TYPE_OAUTH).then(|| OAuthKeyView {
            state: OAuthState::of(&k),
            expires_at: k.oauth_expires_at,
            last_refresh_at: k.oauth_last_refresh_at,
            last_error: k.oauth_last_error.clone(),
        });
        UpstreamKeyView {
            oauth,
            id: k.id,
            provider_id: k.provider_id,
            name: k.name,
            secret_hint: k.secret_hint,
            auth_type: k.auth_type,
            weight: k.weight,
            enabled: k.enabled,
            health_status: k.health_status,
            limits: KeyLimitsInput {
                requests_per_second: k.rps_limit,
                tokens_per_day: k.tokens_per_day_limit,
            },
            expires_at: k.expires_at,
            created_at: k.created_at,
            updated_at: k.updated_at,
            health: None,
        }
    }
}
