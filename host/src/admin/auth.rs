//! Who is calling the admin API.
//!
//! `POST /api/auth/login` checks a username and password (argon2) and
//! returns a signed session token, also set as an HttpOnly, SameSite=Strict
//! cookie for the web UI. Every other route except `/api/health` passes
//! [`authenticate`]: a session token (`Authorization: Bearer` or the
//! cookie) or HTTP Basic credentials, for scripts. Handlers then ask the
//! [`Caller`] for the role they need. Failed logins are throttled.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use axum::Json;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{AUTHORIZATION, COOKIE, RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::audit::audit;
use super::json::ApiJson;
use super::openapi::{self, BadRequest, Unauthorized};
use super::session::{Claims, SESSION_COOKIE, SESSION_TTL, password_version};
use super::{AdminState, ApiError, Done};
use crate::secrets::{hash_password, verify_password};
use crate::store::entities::{revoked_sessions, users};

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;

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
    ApiJson(body): ApiJson<Login>,
) -> Result<Response, ApiError> {
    let user = check_password(&state, &body.username, &body.password, Some(peer.ip())).await?;
    let token = state
        .sessions
        .issue(user.id, &user.username, &user.role, &user.password_hash)
        .map_err(ApiError::internal)?;
    let cookie = format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        SESSION_TTL.as_secs()
    );
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
pub async fn logout(State(state): State<AdminState>, caller: axum::Extension<Caller>) -> Response {
    if let Some(claims) = &caller.claims {
        state.sessions.revoke(claims);
        // Other instances learn of it at their next configuration poll.
        let stored = revoked_sessions::ActiveModel {
            jti: Set(claims.jti.clone()),
            expires_at: Set(claims.exp),
        }
        .insert(&state.db)
        .await;
        // A version bump makes the other instances reload, revocations included.
        let announced = match stored {
            Ok(_) => super::config_sync::bump(&state.db).await.map(|_| ()),
            Err(e) => Err(e),
        };
        if let Err(e) = announced {
            tracing::warn!(error = %e, "storing a session revocation failed");
        }
    }
    let mut response = Json(Done { ok: true }).into_response();
    let clear = format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
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
    let user = check_password(&state, &caller.username, &body.current_password, None).await?;
    let hash = hash_password(&body.new_password).map_err(ApiError::internal)?;
    let mut row: users::ActiveModel = user.into();
    row.password_hash = Set(hash);
    row.updated_at = Set(Utc::now());
    row.update(&state.db).await?;
    audit(
        &state,
        &caller,
        "change_password",
        "user",
        Some(caller.id.to_string()),
        None,
        None,
    )
    .await;
    Ok(Json(Done { ok: true }))
}

/// Refuses passwords shorter than [`MIN_PASSWORD_CHARS`].
pub fn check_new_password(password: &str) -> Result<(), ApiError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ApiError::BadRequest(format!(
            "password must be at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    Ok(())
}

async fn check_password(
    state: &AdminState,
    username: &str,
    password: &str,
    ip: Option<IpAddr>,
) -> Result<users::Model, ApiError> {
    if let Err(wait) = state.throttle.check(username, ip, Instant::now()) {
        return Err(ApiError::TooManyAttempts(wait.as_secs().max(1)));
    }
    let user = users::Entity::find()
        .filter(users::Column::Username.eq(username))
        .one(&state.db)
        .await?;
    // Unknown names are checked against a real hash too, so timing does
    // not reveal which names exist.
    let stored = user
        .as_ref()
        .map_or_else(|| dummy_hash().to_owned(), |u| u.password_hash.clone());
    let pw = password.to_owned();
    let ok = tokio::task::spawn_blocking(move || verify_password(&pw, &stored))
        .await
        .unwrap_or(false);
    match user {
        Some(user) if ok && user.enabled => {
            state.throttle.succeeded(username);
            Ok(user)
        }
        _ => {
            state.throttle.failed(username, ip, Instant::now());
            Err(ApiError::Unauthorized)
        }
    }
}

/// How long a verified Basic credential is remembered.
pub const BASIC_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// Recently verified Basic credentials, by a digest of name and password
/// (never the password itself), with the account and its password version.
#[derive(Default)]
pub struct BasicAuthCache {
    entries: std::sync::Mutex<std::collections::HashMap<[u8; 32], (i32, String, Instant)>>,
}

impl BasicAuthCache {
    fn digest(name: &str, password: &str) -> [u8; 32] {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(name.as_bytes());
        h.update([0u8]);
        h.update(password.as_bytes());
        h.finalize().into()
    }

    fn get(&self, name: &str, password: &str) -> Option<(i32, String)> {
        let map = self.entries.lock().ok()?;
        let (id, pwv, at) = map.get(&Self::digest(name, password))?;
        (at.elapsed() < BASIC_CACHE_TTL).then(|| (*id, pwv.clone()))
    }

    fn put(&self, name: &str, password: &str, id: i32, pwv: String) {
        if let Ok(mut map) = self.entries.lock() {
            map.retain(|_, (_, _, at)| at.elapsed() < BASIC_CACHE_TTL);
            map.insert(Self::digest(name, password), (id, pwv, Instant::now()));
        }
    }
}

fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password(&crate::secrets::random_hex(16)).unwrap_or_default())
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

/// Admits sessions and Basic credentials of enabled accounts; the account
/// is re-read on every request, so disabling it or changing its role or
/// password takes effect at once.
pub async fn authenticate(
    State(state): State<AdminState>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let headers = req.headers();
    let caller = if let Some(token) = bearer(headers).or_else(|| cookie(headers)) {
        let claims = state
            .sessions
            .verify(&token)
            .ok_or(ApiError::Unauthorized)?;
        let user = users::Entity::find_by_id(claims.sub)
            .one(&state.db)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        if !user.enabled || password_version(&user.password_hash) != claims.pwv {
            return Err(ApiError::Unauthorized);
        }
        Caller {
            id: user.id,
            username: user.username,
            role: user.role,
            claims: Some(claims),
        }
    } else if let Some((name, password)) = basic(headers) {
        let ip = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let user = match state.basic_cache.get(&name, &password) {
            // A recent successful check: skip argon2 (tens of MiB and ms per
            // hash), but still re-read the account so changes apply at once.
            Some((id, pwv)) => {
                let user = users::Entity::find_by_id(id)
                    .one(&state.db)
                    .await?
                    .ok_or(ApiError::Unauthorized)?;
                if !user.enabled || password_version(&user.password_hash) != pwv {
                    return Err(ApiError::Unauthorized);
                }
                user
            }
            None => {
                let user = check_password(&state, &name, &password, ip).await?;
                state.basic_cache.put(
                    &name,
                    &password,
                    user.id,
                    password_version(&user.password_hash),
                );
                user
            }
        };
        Caller {
            id: user.id,
            username: user.username,
            role: user.role,
            claims: None,
        }
    } else {
        return Err(ApiError::Unauthorized);
    };
    req.extensions_mut().insert(caller);
    Ok(next.run(req).await)
}

/// Adds `retry-after` to throttled answers.
pub fn with_retry_after(mut response: Response, seconds: u64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(RETRY_AFTER, v);
    }
    response
}
