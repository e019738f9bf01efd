//! The OAuth 2.0 conversations with a provider's authorization server,
//! through the `oauth2` crate: the authorization URL (PKCE S256 and
//! `state`), the code exchange and the refresh.

use chrono::{DateTime, Utc};
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope,
    TokenResponse, TokenUrl,
};

use super::http::{EgressHttp, HttpError};
use crate::catalog::OAuthSettings;
use crate::secrets::Secret;

/// Longest error description from a server that is kept (it is shown to
/// operators and stored).
pub const MAX_ERROR_DESCRIPTION_CHARS: usize = 200;

/// Tokens from a successful exchange or refresh.
pub struct TokenSet {
    pub access_token: Secret,
    /// `None` when the server sent none (a refresh keeps the old one).
    pub refresh_token: Option<Secret>,
    /// `None` when the server did not say.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Why the server gave no tokens.
#[derive(Debug, Clone, thiserror::Error)]
pub enum OAuthError {
    /// The server refused (`invalid_grant`, `invalid_client`, ...): retrying
    /// the same request will not help.
    #[error("the authorization server refused: {code}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Rejected {
        code: String,
        description: Option<String>,
    },
    /// No usable answer (network, timeout, egress, a malformed answer):
    /// may work later.
    #[error("{0}")]
    Transport(String),
    /// The provider's OAuth settings cannot be used.
    #[error("OAuth settings: {0}")]
    Settings(String),
}

impl OAuthError {
    /// Whether the refresh token (or the client) is no good anymore.
    pub fn is_permanent(&self) -> bool {
        !matches!(self, OAuthError::Transport(_))
    }
}

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

fn client(settings: &OAuthSettings, redirect_uri: Option<&str>) -> Result<Client, OAuthError> {
    let bad = |what: &str| OAuthError::Settings(format!("{what} is not a valid URL"));
    let mut client = BasicClient::new(ClientId::new(settings.client_id.clone()))
        .set_auth_uri(
            AuthUrl::new(settings.authorize_url.clone()).map_err(|_| bad("authorize_url"))?,
        )
        .set_token_uri(TokenUrl::new(settings.token_url.clone()).map_err(|_| bad("token_url"))?);
    if let Some(secret) = &settings.client_secret {
        client = client.set_client_secret(ClientSecret::new(secret.expose().to_owned()));
    }
    if let Some(uri) = redirect_uri {
        client = client
            .set_redirect_uri(RedirectUrl::new(uri.to_owned()).map_err(|_| bad("redirect_uri"))?);
    }
    Ok(client)
}

/// An authorization URL and what must be kept to finish it.
pub struct Authorization {
    pub url: String,
    pub state: String,
    pub pkce_verifier: Secret,
}

/// Starts an authorization: the URL to send the operator to, with a fresh
/// `state` and PKCE S256 challenge.
pub fn authorization_url(
    settings: &OAuthSettings,
    redirect_uri: &str,
) -> Result<Authorization, OAuthError> {
    let client = client(settings, Some(redirect_uri))?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(settings.scopes.iter().cloned().map(Scope::new))
        .set_pkce_challenge(challenge);
    for (name, value) in &settings.extra_params {
        request = request.add_extra_param(name.clone(), value.clone());
    }
    let (url, state) = request.url();
    Ok(Authorization {
        url: url.to_string(),
        state: state.secret().clone(),
        pkce_verifier: Secret::new(verifier.secret().clone()),
    })
}

/// Exchanges an authorization code (with its PKCE verifier) for tokens.
pub async fn exchange_code(
    http: &EgressHttp,
    settings: &OAuthSettings,
    redirect_uri: &str,
    code: &str,
    verifier: &Secret,
) -> Result<TokenSet, OAuthError> {
    let client = client(settings, Some(redirect_uri))?;
    let send = sender(http);
    let answer = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .set_pkce_verifier(PkceCodeVerifier::new(verifier.expose().to_owned()))
        .request_async(&send)
        .await;
    token_set(answer)
}

/// Trades a refresh token for a new access token.
pub async fn refresh(
    http: &EgressHttp,
    settings: &OAuthSettings,
    refresh_token: &Secret,
) -> Result<TokenSet, OAuthError> {
    let client = client(settings, None)?;
    let send = sender(http);
    let token = RefreshToken::new(refresh_token.expose().to_owned());
    let answer = client
        .exchange_refresh_token(&token)
        .request_async(&send)
        .await;
    token_set(answer)
}

fn sender(
    http: &EgressHttp,
) -> impl Fn(
    oauth2::HttpRequest,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<oauth2::HttpResponse, HttpError>> + Send>,
> {
    let http = http.clone();
    move |request| {
        let http = http.clone();
        Box::pin(async move { http.send(request).await })
    }
}

fn token_set(
    answer: Result<
        oauth2::basic::BasicTokenResponse,
        RequestTokenError<HttpError, oauth2::basic::BasicErrorResponse>,
    >,
) -> Result<TokenSet, OAuthError> {
    match answer {
        Ok(token) => Ok(TokenSet {
            access_token: Secret::new(token.access_token().secret().clone()),
            refresh_token: token
                .refresh_token()
                .map(|t| Secret::new(t.secret().clone())),
            expires_at: token
                .expires_in()
                .and_then(|d| chrono::Duration::from_std(d).ok())
                .map(|d| Utc::now() + d),
        }),
        Err(RequestTokenError::ServerResponse(e)) => Err(OAuthError::Rejected {
            code: e.error().as_ref().to_owned(),
            description: e
                .error_description()
                .map(|d| d.chars().take(MAX_ERROR_DESCRIPTION_CHARS).collect()),
        }),
        Err(RequestTokenError::Request(e)) => Err(OAuthError::Transport(e.to_string())),
        Err(RequestTokenError::Parse(_, _)) => Err(OAuthError::Transport(
            "the token endpoint's answer is not a token response".into(),
        )),
        Err(RequestTokenError::Other(_)) => Err(OAuthError::Transport(
            "the token endpoint answered unexpectedly".into(),
        )),
    }
}
