//! Who is calling the admin API.
//!
//! `POST /api/auth/login` checks a username and password (argon2) and
//! returns a signed session token, also set as an HttpOnly, SameSite=Strict
//! cookie for the web UI. Every other route except `/api/health`, `/api/ready` passes
//! [`authenticate`]: a session token (`Authorization: Bearer` or the
//! cookie) or HTTP Basic credentials, for scripts. Handlers then ask the
//! [`Caller`] for the role they need. Passwords are checked by
//! [`super::password`]: throttled, audited, and with capped user names.

use std::net::{IpAddr, SocketAddr};

use axum::Json;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{AUTHORIZATION, COOKIE, RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::Utc;
use sea_orm::Set;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::json::ApiJson;
use super::openapi::{self, BadRequest, Unauthorized};
use super::origin::check_same_origin;
use super::password::{SignIn, check_new_password, check_password};
use super::session::{Claims, SESSION_COOKIE, SESSION_TTL, password_version};
use super::write::Entry;
use super::{AdminState, ApiError, Done};
use crate::secrets::hash_password;
use crate::store::entities::users;

/// Account roles.
pub const ROLE_ADMIN: &str = "admin";
pub const ROLE_USER: &str = "user";

/// The authenticated caller, for handlers.
#[derive(Debug, Clone)]
pub struct Caller {
    pub id: i32,
    pub username: String,
    pub role: String,
    /// The session, when the caller used one (not for Basic auth).
    claims: Option<Claims>,
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.role == ROLE_ADMIN
    }

    /// 403 unless the caller is an admin.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct Login {
    username: String,
    password: String,
}

/// An account as the caller sees it.
#[derive(Serialize, ToSchema)]
pub struct Account {
    id: i32,
    username: String,
    /// `admin` or `user`.
    role: String,
}

/// A new session.
#[derive(Serialize, ToSchema)]
pub struct Session {
    /// Send as `Authorization: Bearer <token>`; also set as the cookie.
    token: String,
    /// Seconds until the token expires.
    expires_in: u64,
    user: Account,
}

/// `POST /api/auth/login`.
#[utoipa::path(
    post,
    path = "/api/auth/login",
    tag = openapi::TAG_AUTH,
    security(()),
    request_body = Login,
    responses(
        (status = 200, body = Session, description = "Also sets the session cookie"),
        BadRequest,
        Unauthorized,
    ),
)]
pub async fn login(
    State(state): State<AdminState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Login>,
) -> Result<Response, ApiError> {
    let ip = state.transport.client_ip(Some(peer.ip()), &headers);
    let user = check_password(&state, &body.username, &body.password, ip, SignIn::Login).await?;
    let token = state
        .sessions
        .issue(user.id, &user.username, &user.role, &user.password_hash)
        .map_err(ApiError::internal)?;
    let https = state.transport.is_https(Some(peer.ip()), &headers);
    let cookie = session_cookie(&token, SESSION_TTL.as_secs(), https);
    let body = Json(Session {
        token,
        expires_in: SESSION_TTL.as_secs(),
        user: Account {
            id: user.id,
            username: user.username,
            role: user.role,
        },
    });
    let mut response = body.into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    Ok(response)
}

/// `POST /api/auth/logout`: ends the session and clears the cookie.
#[utoipa::path(
    post,
    path = "/api/auth/logout",
    tag = openapi::TAG_AUTH,
    responses((status = 200, body = Done), Unauthorized),
)]
pub async fn logout(
    State(state): State<AdminState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    caller: axum::Extension<Caller>,
) -> Response {
    if let Some(claims) = &caller.claims {
        state.sessions.revoke(claims);
        // Other instances learn of it at their next configuration poll.
        let stored =
            crate::store::revoked_sessions::insert(&state.db, &claims.jti, claims.exp).await;
        // A version bump makes the other instances reload, revocations included.
        let announced = match stored {
            Ok(_) => crate::store::config_version::bump(&state.db)
                .await
                .map(|_| ()),
            Err(e) => Err(e),
        };
        if let Err(e) = announced {
            tracing::warn!(error = %e, "storing a session revocation failed");
        }
    }
    let mut response = Json(Done { ok: true }).into_response();
    let https = state.transport.is_https(Some(peer.ip()), &headers);
    let clear = session_cookie("", 0, https);
    if let Ok(value) = HeaderValue::from_str(&clear) {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    response
}

/// `GET /api/auth/me`.
#[utoipa::path(
    get,
    path = "/api/auth/me",
    tag = openapi::TAG_AUTH,
    responses((status = 200, body = Account), Unauthorized),
)]
pub async fn me(caller: axum::Extension<Caller>) -> Json<Account> {
    Json(Account {
        id: caller.id,
        username: caller.username.clone(),
        role: caller.role.clone(),
    })
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordChange {
    current_password: String,
    #[schema(min_length = 8)]
    new_password: String,
}

/// `POST /api/auth/password`: changes the caller's own password, which
/// ends every session opened with the old one.
#[utoipa::path(
    post,
    path = "/api/auth/password",
    tag = openapi::TAG_AUTH,
    request_body = PasswordChange,
    responses((status = 200, body = Done), BadRequest, Unauthorized),
)]
pub async fn change_password(
    State(state): State<AdminState>,
    caller: axum::Extension<Caller>,
    ApiJson(body): ApiJson<PasswordChange>,
) -> Result<Json<Done>, ApiError> {
    check_new_password(&body.new_password)?;
    let user = check_password(
        &state,
        &caller.username,
        &body.current_password,
        None,
        SignIn::PasswordChange,
    )
    .await?;
    let hash = hash_password(&body.new_password).map_err(ApiError::internal)?;
    let mut row: users::ActiveModel = user.into();
    row.password_hash = Set(hash);
    row.updated_at = Set(Utc::now());
    let change = state.change(&caller).await?;
    crate::store::users::update(change.db(), row).await?;
    change
        .commit()
        .await?
        .audit(Entry::new("change_password", "user", caller.id))
        .await;
    Ok(Json(Done { ok: true }))
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(|t| t.trim().to_owned())
}

fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == SESSION_COOKIE && !value.is_empty()).then(|| value.to_owned())
        })
}

fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(value.strip_prefix("Basic ")?.trim())
        .ok()?;
    let (user, pass) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((user.to_owned(), pass.to_owned()))
}

/// How a request proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// A session token in `Authorization: Bearer`.
    Bearer,
    /// The session cookie: sent by browsers on their own, so state changes
    /// must also prove they come from the console's own pages.
    Cookie,
    /// HTTP Basic name and password.
    Basic,
}

/// The enabled account a request's session (bearer or cookie) or Basic
/// credentials name. The account is re-read every time, so disabling it or
/// changing its role or password takes effect at once.
pub async fn identify(
    state: &AdminState,
    headers: &HeaderMap,
    ip: Option<IpAddr>,
) -> Result<(Caller, Credential), ApiError> {
    let session = bearer(headers)
        .map(|t| (t, Credential::Bearer))
        .or_else(|| cookie(headers).map(|t| (t, Credential::Cookie)));
    if let Some((token, credential)) = session {
        let claims = state
            .sessions
            .verify(&token)
            .ok_or(ApiError::Unauthorized)?;
        let user = crate::store::users::find(&state.db, claims.sub)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        if !user.enabled || password_version(&user.password_hash) != claims.pwv {
            return Err(ApiError::Unauthorized);
        }
        let caller = Caller {
            id: user.id,
            username: user.username,
            role: user.role,
            claims: Some(claims),
        };
        return Ok((caller, credential));
    }
    let (name, password) = basic(headers).ok_or(ApiError::Unauthorized)?;
    let user = match state.basic_cache.get(&name, &password) {
        // A recent successful check: skip argon2, but still re-read the account.
        Some((id, pwv)) => {
            let user = crate::store::users::find(&state.db, id)
                .await?
                .ok_or(ApiError::Unauthorized)?;
            if !user.enabled || password_version(&user.password_hash) != pwv {
                return Err(ApiError::Unauthorized);
            }
            user
        }
        None => {
            let user = check_password(state, &name, &password, ip, SignIn::Basic).await?;
            state.basic_cache.put(
                &name,
                &password,
                user.id,
                password_version(&user.password_hash),
            );
            user
        }
    };
    let caller = Caller {
        id: user.id,
        username: user.username,
        role: user.role,
        claims: None,
    };
    Ok((caller, Credential::Basic))
}

/// The connection's peer address.
fn peer_of(req: &Request) -> Option<IpAddr> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// The client's address: the peer, or the one a trusted proxy names.
pub fn client_ip(state: &AdminState, req: &Request) -> Option<IpAddr> {
    state.transport.client_ip(peer_of(req), req.headers())
}

/// Admits requests of enabled accounts ([`identify`]) and hands handlers
/// the [`Caller`]; a state change sent with the session cookie must come
/// from the console's own origin ([`check_same_origin`]).
pub async fn authenticate(
    State(state): State<AdminState>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let (caller, credential) = identify(&state, req.headers(), client_ip(&state, &req)).await?;
    if credential == Credential::Cookie {
        let https = state.transport.is_https(peer_of(&req), req.headers());
        check_same_origin(req.method(), req.uri(), req.headers(), https)?;
    }
    req.extensions_mut().insert(caller);
    Ok(next.run(req).await)
}

/// The session cookie, `Secure` when the caller came over HTTPS (the
/// browser then never sends it over plain HTTP); empty with `Max-Age=0`
/// to clear it.
fn session_cookie(token: &str, max_age: u64, https: bool) -> String {
    let secure = if https { "; Secure" } else { "" };
    format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}"
    )
}

/// Adds `retry-after` to throttled answers.
pub fn with_retry_after(mut response: Response, seconds: u64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(RETRY_AFTER, v);
    }
    response
}
