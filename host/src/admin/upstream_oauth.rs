//! Upstream OAuth accounts: `POST /api/oauth/authorize` starts connecting
//! an OAuth key (PKCE S256 and `state`), `POST /api/oauth/exchange`
//! finishes it with the callback, `…/keys/{id}/oauth/refresh` and
//! `…/oauth/revoke` act on a connected key, `GET /api/oauth/sessions` lists
//! pending authorizations. Admin only. Tokens are stored encrypted and
//! never returned.

mod callback;

use std::sync::Arc;

use axum::extract::State;
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use sea_orm::Set;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::audit::snapshot;
use super::auth::Caller;
use super::json::{ApiJson, ApiPath};
use super::openapi::{self, BadGateway, BadRequest, Forbidden, NotFound, Unauthorized};
use super::upstream_keys::UpstreamKeyView;
use super::write::Entry;
use super::{AdminCore, AdminState, ApiError};
use crate::catalog::{OAuthSettings, OAuthState};
use crate::oauth::RefreshError;
use crate::oauth::client::{self, OAuthError};
use crate::oauth::sessions::{self, SessionError};
use crate::secrets::{Secret, SecretColumn};
use crate::store::entities::upstream_keys;
pub use callback::ExchangeInput;
use callback::{Callback, check_http_url, parse_callback};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorizeInput {
    /// The OAuth key to connect (or reconnect).
    key_id: i32,
    /// Where the provider sends the operator back; ignored when the
    /// provider's settings fix one.
    redirect_uri: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AuthorizeView {
    /// Send the operator here.
    authorization_url: String,
    state: String,
    expires_at: DateTime<Utc>,
    /// The redirect URI the provider will send the code to.
    redirect_uri: String,
}

async fn oauth_key(state: &AdminCore, id: i32) -> Result<upstream_keys::Model, ApiError> {
    let row = crate::store::upstream_keys::find(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound("upstream key"))?;
    if row.auth_type != crate::catalog::AUTH_TYPE_OAUTH {
        return Err(ApiError::BadRequest(format!(
            "upstream key {id} is an API key, not an OAuth account"
        )));
    }
    Ok(row)
}

fn settings_of(state: &AdminCore, provider_id: i32) -> Result<Arc<OAuthSettings>, ApiError> {
    state
        .catalog
        .load()
        .providers
        .get(&provider_id)
        .and_then(|p| p.oauth.clone())
        .ok_or_else(|| {
            ApiError::BadRequest(
                "the key's provider has no OAuth endpoints (its plugin declares none and no override is set)"
                    .into(),
            )
        })
}

#[utoipa::path(
    post,
    path = "/api/oauth/authorize",
    tag = openapi::TAG_UPSTREAM_OAUTH,
    request_body = AuthorizeInput,
    responses((status = 200, body = AuthorizeView), BadRequest, Unauthorized, Forbidden, NotFound),
)]
pub async fn authorize(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiJson(input): ApiJson<AuthorizeInput>,
) -> Result<Json<AuthorizeView>, ApiError> {
    caller.require_admin()?;
    let key = oauth_key(&state, input.key_id).await?;
    let settings = settings_of(&state, key.provider_id)?;
    let redirect_uri = settings
        .redirect_uri
        .clone()
        .or(input.redirect_uri)
        .ok_or_else(|| ApiError::BadRequest("redirect_uri is required".into()))?;
    check_http_url("redirect_uri", &redirect_uri)?;
    let started = client::authorization_url(&settings, &redirect_uri)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let expires_at = sessions::create(
        &state.db,
        &state.secrets,
        key.id,
        &started.state,
        &started.pkce_verifier,
        &redirect_uri,
        state.oauth_session_ttl,
    )
    .await?;
    Ok(Json(AuthorizeView {
        authorization_url: started.url,
        state: started.state,
        expires_at,
        redirect_uri,
    }))
}

fn session_error(e: SessionError) -> ApiError {
    match e {
        SessionError::Unknown => ApiError::OAuthFlow(
            "unknown or already used state: start the authorization again".into(),
            "invalid_state",
        ),
        SessionError::Expired => ApiError::OAuthFlow(
            "the authorization took too long: start it again".into(),
            "session_expired",
        ),
        SessionError::Db(e) => ApiError::internal(e),
    }
}

#[utoipa::path(
    post,
    path = "/api/oauth/exchange",
    tag = openapi::TAG_UPSTREAM_OAUTH,
    request_body = ExchangeInput,
    responses((status = 200, body = UpstreamKeyView), BadRequest, Unauthorized, Forbidden, NotFound),
)]
pub async fn exchange(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiJson(input): ApiJson<ExchangeInput>,
) -> Result<Json<UpstreamKeyView>, ApiError> {
    caller.require_admin()?;
    let (code, state_param) = match parse_callback(input)? {
        Callback::Code { code, state } => (code, state),
        Callback::Denied { error, state: s } => {
            // The session is spent either way.
            if let Some(s) = s {
                let _ = sessions::take(&state.db, &state.secrets, &s).await;
            }
            let error: String = error.chars().take(64).collect();
            return Err(ApiError::OAuthFlow(
                format!("the provider did not authorize: {error}"),
                "access_denied",
            ));
        }
    };
    let session = sessions::take(&state.db, &state.secrets, &state_param)
        .await
        .map_err(session_error)?;
    let key = oauth_key(&state, session.upstream_key_id).await?;
    let settings = settings_of(&state, key.provider_id)?;
    let tokens = client::exchange_code(
        state.accounts.http(),
        &settings,
        &session.redirect_uri,
        &code,
        &session.verifier,
    )
    .await
    .map_err(|e| {
        ApiError::OAuthFlow(format!("the code exchange failed: {e}"), "exchange_failed")
    })?;
    let before = snapshot(&UpstreamKeyView::from(key.clone()));
    state.accounts.forget(key.id);
    state.accounts.store_tokens(key, tokens, None).await?;
    // The tokens are stored by the accounts (the proxy's refresher writes
    // them the same way); the change counts and records them.
    let committed = state.change(&caller).await?.commit().await?;
    let id = session.upstream_key_id;
    let view = key_view(&state, id).await?;
    committed
        .audit(
            Entry::new("oauth_connect", "upstream_key", id)
                .before(before)
                .after(snapshot(&view)),
        )
        .await;
    Ok(Json(view))
}

async fn key_view(state: &AdminCore, id: i32) -> Result<UpstreamKeyView, ApiError> {
    let row = crate::store::upstream_keys::find(&state.db, id)
        .await?
        .ok_or(ApiError::NotFound("upstream key"))?;
    Ok(UpstreamKeyView::from(row).with_health(&state.board))
}

#[utoipa::path(
    post,
    path = "/api/upstream-keys/{id}/oauth/refresh",
    tag = openapi::TAG_UPSTREAM_OAUTH,
    params(("id" = i32, Path)),
    responses((status = 200, body = UpstreamKeyView), BadRequest, Unauthorized, Forbidden, NotFound, BadGateway),
)]
pub async fn refresh(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
) -> Result<Json<UpstreamKeyView>, ApiError> {
    caller.require_admin()?;
    let key = oauth_key(&state, id).await?;
    if OAuthState::of(&key) != OAuthState::Connected {
        return Err(ApiError::OAuthFlow(
            "the key is not connected: connect it first".into(),
            "not_connected",
        ));
    }
    let settings = settings_of(&state, key.provider_id)?;
    match state.accounts.refresh(&settings, id, None).await {
        Ok(_) => {}
        Err(RefreshError::Db(e)) => return Err(ApiError::internal(e)),
        Err(RefreshError::OAuth(OAuthError::Transport(why))) => {
            return Err(ApiError::Upstream(
                format!("the token endpoint could not be reached: {why}"),
                "refresh_failed",
            ));
        }
        Err(e) => {
            return Err(ApiError::Upstream(
                format!("the refresh failed: {e}"),
                "refresh_failed",
            ));
        }
    }
    let committed = state.change(&caller).await?.commit().await?;
    let view = key_view(&state, id).await?;
    committed
        .audit(Entry::new("oauth_refresh", "upstream_key", id).after(snapshot(&view)))
        .await;
    Ok(Json(view))
}

#[utoipa::path(
    post,
    path = "/api/upstream-keys/{id}/oauth/revoke",
    tag = openapi::TAG_UPSTREAM_OAUTH,
    params(("id" = i32, Path)),
    responses((status = 200, body = UpstreamKeyView), BadRequest, Unauthorized, Forbidden, NotFound),
)]
pub async fn revoke(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
) -> Result<Json<UpstreamKeyView>, ApiError> {
    caller.require_admin()?;
    let key = oauth_key(&state, id).await?;
    let before = snapshot(&UpstreamKeyView::from(key.clone()));
    let mut row: upstream_keys::ActiveModel = key.into();
    row.secret_ciphertext = Set(state.secrets.encrypt(
        &Secret::new(String::new()),
        SecretColumn::UpstreamKeySecret,
        i64::from(id),
    ));
    row.secret_hint = Set(String::new());
    row.oauth_refresh_ciphertext = Set(None);
    row.oauth_expires_at = Set(None);
    row.oauth_state = Set(Some(OAuthState::Revoked.as_str().to_owned()));
    row.oauth_last_error = Set(None);
    row.updated_at = Set(Utc::now());
    let change = state.change(&caller).await?;
    crate::store::upstream_keys::update(change.db(), row).await?;
    let committed = change.commit().await?;
    state.accounts.forget(id);
    let view = key_view(&state, id).await?;
    committed
        .audit(
            Entry::new("oauth_revoke", "upstream_key", id)
                .before(before)
                .after(snapshot(&view)),
        )
        .await;
    Ok(Json(view))
}

/// A pending authorization.
#[derive(Serialize, ToSchema)]
pub struct SessionView {
    id: i32,
    upstream_key_id: i32,
    redirect_uri: String,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    /// Expired sessions are deleted on a schedule.
    expired: bool,
}

#[utoipa::path(
    get,
    path = "/api/oauth/sessions",
    tag = openapi::TAG_UPSTREAM_OAUTH,
    responses((status = 200, body = Vec<SessionView>), Unauthorized, Forbidden),
)]
pub async fn list_sessions(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Vec<SessionView>>, ApiError> {
    caller.require_admin()?;
    let now = Utc::now();
    let rows = crate::store::oauth_session_list::list(&state.db).await?;
    Ok(Json(
        rows.into_iter()
            .map(|s| SessionView {
                id: s.id,
                upstream_key_id: s.upstream_key_id,
                redirect_uri: s.redirect_uri,
                created_at: s.created_at,
                expires_at: s.expires_at,
                expired: s.expires_at <= now,
            })
            .collect(),
    ))
}
