//! Upstream OAuth accounts: keys whose credential is an OAuth 2.0 account
//! (an access token that expires and a refresh token) rather than a static
//! API key. Operators connect them with PKCE ([`client`], [`sessions`]);
//! [`OAuthAccounts`] hands the proxy a token that is fresh when sent and
//! refreshes on demand; [`RefreshTask`] refreshes ahead of expiry.
//!
//! (The gateway's own OAuth *server*, for its clients, is `proxy::oauth`.)

mod accounts;
pub mod client;
pub mod http;
mod refresher;
pub mod sessions;
mod settings;
mod state;

pub use accounts::{AccessToken, OAuthAccounts, REQUEST_MARGIN, RefreshError};
pub use refresher::RefreshTask;
pub use settings::{
    OAuthOverride, OAuthSettings, OAuthSettingsView, SettingsError, SettingsSource,
};
pub use state::{AUTH_TYPE_API_KEY, AUTH_TYPE_OAUTH, OAuthState};
