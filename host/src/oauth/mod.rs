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

pub use accounts::{AccessToken, OAuthAccounts, REQUEST_MARGIN, RefreshError};
pub use refresher::RefreshTask;
