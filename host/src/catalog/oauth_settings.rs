//! A provider's OAuth endpoints: the plugin's, or the operator's override.
//! Part of the catalog: a provider's settings are loaded with it, and the
//! `oauth` module (connect, refresh) reads them from there.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::plugins::types::OauthEndpoints;
use crate::secrets::Secret;

/// Longest URL, client id or parameter accepted in an override.
pub const MAX_FIELD_CHARS: usize = 2048;
/// Most scopes or extra parameters in an override.
pub const MAX_LIST_ITEMS: usize = 32;

/// Headers an override may not add: the credential and what the host sets.
const RESERVED_HEADERS: &[&str] = &[
    "authorization",
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
];

/// Where a provider's OAuth settings come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SettingsSource {
    Plugin,
    Override,
}

/// The endpoints an OAuth key of a provider is connected and refreshed with.
#[derive(Clone)]
pub struct OAuthSettings {
    pub authorize_url: String,
    pub token_url: String,
    pub client_id: String,
    pub client_secret: Option<Secret>,
    pub scopes: Vec<String>,
    pub extra_params: Vec<(String, String)>,
    /// A fixed redirect URI (apps whose callback page shows a code to
    /// paste); `None`: the one the operator's console passes.
    pub redirect_uri: Option<String>,
    /// Headers added to requests made with an OAuth key (some providers
    /// want a marker header with account tokens).
    pub request_headers: Vec<(String, String)>,
    pub source: SettingsSource,
}

/// An operator's override, as stored (JSON) and as sent to the API.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct OAuthOverride {
    pub authorize_url: String,
    pub token_url: String,
    pub client_id: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Extra query parameters for the authorization URL.
    #[serde(default)]
    pub extra_params: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub redirect_uri: Option<String>,
    /// Headers added to upstream requests made with an OAuth key, e.g.
    /// `{"anthropic-beta": "oauth-2025-04-20"}`.
    #[serde(default)]
    pub request_headers: std::collections::BTreeMap<String, String>,
    /// For confidential clients; write-only (stored encrypted, apart).
    // `skip_serializing_if` rather than `skip_serializing`: the same on the
    // wire, but the OpenAPI document keeps the field (utoipa drops a field
    // that is never serialized, and the console could not send it).
    #[serde(default, skip_serializing_if = "never_serialized")]
    #[schema(write_only)]
    pub client_secret: Option<String>,
}

/// A field only ever read from requests.
fn never_serialized<T>(_: &T) -> bool {
    true
}

/// The settings in force for a provider, as the API shows them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OAuthSettingsView {
    pub authorize_url: String,
    pub token_url: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub extra_params: std::collections::BTreeMap<String, String>,
    pub redirect_uri: Option<String>,
    pub request_headers: std::collections::BTreeMap<String, String>,
    pub has_client_secret: bool,
    pub source: SettingsSource,
}

impl From<&OAuthSettings> for OAuthSettingsView {
    fn from(s: &OAuthSettings) -> Self {
        OAuthSettingsView {
            authorize_url: s.authorize_url.clone(),
            token_url: s.token_url.clone(),
            client_id: s.client_id.clone(),
            scopes: s.scopes.clone(),
            extra_params: s.extra_params.iter().cloned().collect(),
            redirect_uri: s.redirect_uri.clone(),
            request_headers: s.request_headers.iter().cloned().collect(),
            has_client_secret: s.client_secret.is_some(),
            source: s.source,
        }
    }
}

/// Why an override is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SettingsError {
    #[error("{0} must be an absolute http(s) URL")]
    NotHttpUrl(&'static str),
    #[error("{0} must be 1 to {MAX_FIELD_CHARS} characters")]
    Length(&'static str),
    #[error("at most {MAX_LIST_ITEMS} scopes, extra parameters and request headers")]
    TooMany,
    #[error("request header '{0}' is not a valid header, or one the gateway sets itself")]
    BadHeader(String),
}

impl OAuthOverride {
    pub fn check(&self) -> Result<(), SettingsError> {
        for (name, url) in [
            ("authorize_url", Some(&self.authorize_url)),
            ("token_url", Some(&self.token_url)),
            ("redirect_uri", self.redirect_uri.as_ref()),
        ] {
            let Some(url) = url else { continue };
            check_length(name, url)?;
            if !is_http_url(url) {
                return Err(SettingsError::NotHttpUrl(name));
            }
        }
        check_length("client_id", &self.client_id)?;
        if let Some(secret) = &self.client_secret {
            check_length("client_secret", secret)?;
        }
        if self.scopes.len() > MAX_LIST_ITEMS
            || self.extra_params.len() > MAX_LIST_ITEMS
            || self.request_headers.len() > MAX_LIST_ITEMS
        {
            return Err(SettingsError::TooMany);
        }
        for (name, value) in &self.request_headers {
            let valid = http::HeaderName::from_bytes(name.as_bytes()).is_ok()
                && http::HeaderValue::from_str(value).is_ok()
                && !RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str());
            if !valid {
                return Err(SettingsError::BadHeader(name.clone()));
            }
        }
        for scope in &self.scopes {
            check_length("each scope", scope)?;
        }
        for (name, value) in &self.extra_params {
            check_length("each extra parameter name", name)?;
            if value.len() > MAX_FIELD_CHARS {
                return Err(SettingsError::Length("each extra parameter value"));
            }
        }
        Ok(())
    }
}

fn check_length(name: &'static str, value: &str) -> Result<(), SettingsError> {
    if value.trim().is_empty() || value.chars().count() > MAX_FIELD_CHARS {
        return Err(SettingsError::Length(name));
    }
    Ok(())
}

fn is_http_url(url: &str) -> bool {
    oauth2::url::Url::parse(url)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
}

impl OAuthSettings {
    /// The settings in force: the override when there is one, else the
    /// plugin's endpoints, else none.
    pub fn resolve(
        plugin: Option<&OauthEndpoints>,
        stored_override: Option<&str>,
        client_secret: Option<Secret>,
    ) -> Option<OAuthSettings> {
        if let Some(o) = stored_override.and_then(|s| serde_json::from_str::<OAuthOverride>(s).ok())
        {
            return Some(OAuthSettings {
                authorize_url: o.authorize_url,
                token_url: o.token_url,
                client_id: o.client_id,
                client_secret,
                scopes: o.scopes,
                extra_params: o.extra_params.into_iter().collect(),
                redirect_uri: o.redirect_uri,
                request_headers: o.request_headers.into_iter().collect(),
                source: SettingsSource::Override,
            });
        }
        let p = plugin?;
        Some(OAuthSettings {
            authorize_url: p.authorize_url.clone(),
            token_url: p.token_url.clone(),
            client_id: p.client_id.clone(),
            client_secret: None,
            scopes: p.scopes.clone(),
            extra_params: p.extra_params.clone(),
            redirect_uri: None,
            request_headers: Vec::new(),
            source: SettingsSource::Plugin,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin() -> OauthEndpoints {
        OauthEndpoints {
            authorize_url: "https://a.example/authorize".into(),
            token_url: "https://a.example/token".into(),
            client_id: "plugin-client".into(),
            scopes: vec!["s1".into()],
            extra_params: vec![("code".into(), "true".into())],
        }
    }

    fn over() -> OAuthOverride {
        OAuthOverride {
            authorize_url: "http://127.0.0.1:9/authorize".into(),
            token_url: "http://127.0.0.1:9/token".into(),
            client_id: "mine".into(),
            scopes: vec![],
            extra_params: Default::default(),
            redirect_uri: None,
            request_headers: Default::default(),
            client_secret: None,
        }
    }

    #[test]
    fn an_override_wins_over_the_plugin() {
        let stored = serde_json::to_string(&over()).expect("json");
        let s = OAuthSettings::resolve(Some(&plugin()), Some(&stored), None).expect("settings");
        assert_eq!(s.client_id, "mine");
        assert_eq!(s.source, SettingsSource::Override);
        let s = OAuthSettings::resolve(Some(&plugin()), None, None).expect("settings");
        assert_eq!(s.client_id, "plugin-client");
        assert_eq!(s.extra_params, [("code".to_owned(), "true".to_owned())]);
        assert!(OAuthSettings::resolve(None, None, None).is_none());
    }

    #[test]
    fn the_client_secret_is_never_serialized() {
        let with_secret = OAuthOverride {
            client_secret: Some("cs-123".into()),
            ..over()
        };
        let json = serde_json::to_string(&with_secret).expect("json");
        assert!(!json.contains("cs-123"), "{json}");
    }

    #[test]
    fn overrides_are_checked() {
        assert_eq!(over().check(), Ok(()));
        let bad = OAuthOverride {
            token_url: "ftp://x/token".into(),
            ..over()
        };
        assert_eq!(bad.check(), Err(SettingsError::NotHttpUrl("token_url")));
        let long = OAuthOverride {
            client_id: "x".repeat(MAX_FIELD_CHARS + 1),
            ..over()
        };
        assert_eq!(long.check(), Err(SettingsError::Length("client_id")));
        let at_limit = OAuthOverride {
            client_id: "x".repeat(MAX_FIELD_CHARS),
            scopes: vec!["s".into(); MAX_LIST_ITEMS],
            ..over()
        };
        assert_eq!(at_limit.check(), Ok(()));
        let header = |name: &str| OAuthOverride {
            request_headers: [(name.to_owned(), "v".to_owned())].into(),
            ..over()
        };
        assert_eq!(header("anthropic-beta").check(), Ok(()));
        assert!(matches!(
            header("Authorization").check(),
            Err(SettingsError::BadHeader(_))
        ));
        assert!(matches!(
            header("bad header").check(),
            Err(SettingsError::BadHeader(_))
        ));
        let too_many = OAuthOverride {
            scopes: vec!["s".into(); MAX_LIST_ITEMS + 1],
            ..over()
        };
        assert_eq!(too_many.check(), Err(SettingsError::TooMany));
    }
}
