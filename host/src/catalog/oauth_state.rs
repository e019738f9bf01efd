//! The state of an OAuth key, as stored and shown.
//! Part of the catalog, which loads it with the key; the `oauth` module
//! (connect, refresh) and the admin API read and write it.

use serde::Serialize;
use utoipa::ToSchema;

use crate::store::entities::upstream_keys;

/// Where an OAuth key stands. Only a `connected` key takes traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OAuthState {
    /// Never connected: authorize and exchange first.
    Disconnected,
    Connected,
    /// The refresh was refused; reconnect.
    Failed,
    /// An operator revoked it; reconnect to use it again.
    Revoked,
}

impl OAuthState {
    pub fn as_str(self) -> &'static str {
        match self {
            OAuthState::Disconnected => "disconnected",
            OAuthState::Connected => "connected",
            OAuthState::Failed => "failed",
            OAuthState::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<OAuthState> {
        Some(match s {
            "disconnected" => OAuthState::Disconnected,
            "connected" => OAuthState::Connected,
            "failed" => OAuthState::Failed,
            "revoked" => OAuthState::Revoked,
            _ => return None,
        })
    }

    /// The state of a stored key (a missing or unknown value: disconnected).
    pub fn of(row: &upstream_keys::Model) -> OAuthState {
        row.oauth_state
            .as_deref()
            .and_then(OAuthState::parse)
            .unwrap_or(OAuthState::Disconnected)
    }
}

/// `auth_type` of a key whose credential is an OAuth account.
pub const AUTH_TYPE_OAUTH: &str = "oauth";
/// `auth_type` of a key whose credential is a static API key.
pub const AUTH_TYPE_API_KEY: &str = "api_key";
