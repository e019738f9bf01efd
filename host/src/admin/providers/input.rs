//! What a provider change may say, and the checks it must pass: the base
//! URL against the egress policy, the OAuth override, the timeouts, the
//! name, and a plugin version binding that exists.

use sea_orm::DatabaseTransaction;
use serde::Deserialize;
use utoipa::ToSchema;

use super::super::{AdminState, ApiError};
use crate::catalog::{OAuthOverride, UpstreamBase};
use crate::secrets::{Secret, SecretColumn};

/// Longest upstream timeout an operator may set.
pub const MAX_TIMEOUT_MS: i32 = 3_600_000;

/// A new provider (`name` and `plugin` required; `base_url` defaults to
/// the plugin's) or a change to one (only the fields given change).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderInput {
    #[schema(min_length = 1, max_length = 64)]
    pub(super) name: Option<String>,
    /// Name of a stored plugin (`openai`, `anthropic`, `gemini`, ...).
    pub(super) plugin: Option<String>,
    /// A version of the plugin to bind to, or `latest`.
    pub(super) plugin_version: Option<String>,
    /// `http(s)://host[:port][/path]`; must not point at internal addresses
    /// unless allow-listed.
    pub(super) base_url: Option<String>,
    /// Milliseconds to open a connection to the upstream (default 5,000).
    #[schema(minimum = 1, maximum = 3_600_000)]
    pub(super) connect_timeout_ms: Option<i32>,
    /// Milliseconds the upstream has, once the request is sent, to send its
    /// answer's whole head (for a completion that is not streamed: all of
    /// its generation), and the longest pause between two reads of the
    /// body after it (default 300,000). An attempt that runs out before
    /// the head came is retried on the next key.
    #[schema(minimum = 1, maximum = 3_600_000)]
    pub(super) read_timeout_ms: Option<i32>,
    pub(super) enabled: Option<bool>,
    /// Pass on the client's `openai-organization`, `openai-project` and
    /// `x-goog-user-project` headers (default false: dropped).
    pub(super) allow_billing_headers: Option<bool>,
    /// OAuth endpoints replacing the plugin's (the whole set, including
    /// `client_secret`); `null` goes back to the plugin's.
    #[serde(default, with = "super::super::json::double_option")]
    pub(super) oauth: Option<Option<OAuthOverride>>,
}

/// The stored form of an OAuth override: its JSON (without the client
/// secret), and the client secret, to be encrypted for the provider's row.
pub(super) fn stored_override(input: Option<OAuthOverride>) -> (Option<String>, Option<Secret>) {
    let Some(mut o) = input else {
        return (None, None);
    };
    let secret = o.client_secret.take().map(Secret::new);
    (serde_json::to_string(&o).ok(), secret)
}

/// A provider's client secret encrypted for its row.
pub(super) fn seal_client_secret(
    state: &AdminState,
    secret: Option<&Secret>,
    id: i32,
) -> Option<Vec<u8>> {
    let column = SecretColumn::ProviderOAuthClientSecret;
    secret.map(|s| state.secrets.encrypt(s, column, i64::from(id)))
}

/// The binding that follows the newest enabled version.
pub const LATEST: &str = "latest";

/// The stored binding for `version` of plugin `name`: `None` for latest,
/// else the version, which must exist.
pub(super) async fn binding(
    db: &DatabaseTransaction,
    name: &str,
    version: &str,
) -> Result<Option<String>, ApiError> {
    if version == LATEST {
        return Ok(None);
    }
    if !crate::store::plugins::version_exists(db, name, version).await? {
        return Err(ApiError::BadRequest(format!(
            "plugin '{name}' has no version '{version}'"
        )));
    }
    Ok(Some(version.to_owned()))
}

/// Validates a provider change; a base URL must parse and, when its host
/// resolves now, every address must pass the egress policy (it is checked
/// again at every connection, after resolution).
pub(super) async fn check(state: &AdminState, input: &ProviderInput) -> Result<(), ApiError> {
    if let Some(url) = &input.base_url {
        let base = UpstreamBase::parse(url).map_err(|e| ApiError::BadRequest(e.to_string()))?;
        if let Ok(addrs) = tokio::net::lookup_host((base.host.as_str(), base.port)).await {
            for addr in addrs {
                state
                    .egress
                    .check(addr.ip())
                    .map_err(|e| ApiError::BadRequest(format!("base_url refused: {e}")))?;
            }
        }
    }
    if let Some(Some(o)) = &input.oauth {
        o.check()
            .map_err(|e| ApiError::BadRequest(format!("oauth: {e}")))?;
    }
    for (name, value) in [
        ("connect_timeout_ms", input.connect_timeout_ms),
        ("read_timeout_ms", input.read_timeout_ms),
    ] {
        if value.is_some_and(|v| !(1..=MAX_TIMEOUT_MS).contains(&v)) {
            return Err(ApiError::BadRequest(format!(
                "{name} must be between 1 and {MAX_TIMEOUT_MS}"
            )));
        }
    }
    if input
        .name
        .as_deref()
        .is_some_and(|n| n.trim().is_empty() || n.len() > 64)
    {
        return Err(ApiError::BadRequest(
            "name must be 1 to 64 characters".into(),
        ));
    }
    Ok(())
}
