//! Admin sessions: login with username and password (argon2), an opaque
//! session token kept in memory with an expiry, and the middleware that
//! admits only enabled admin accounts. HTTP Basic is accepted too, for
//! scripts and curl.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::json::ApiJson;
use super::{AdminState, ApiError};
use crate::secrets::{random_hex, verify_password};
use crate::store::entities::users;

/// How long a session token is valid.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);

/// The signed-in account, for handlers.
#[derive(Debug, Clone)]
pub struct AdminUser {
    pub id: i32,
    pub username: String,
}

/// Live sessions by token digest.
#[derive(Default)]
pub struct Sessions {
    by_digest: Mutex<HashMap<[u8; 32], (AdminUser, Instant)>>,
}

impl Sessions {
    fn issue(&self, user: AdminUser) -> String {
        let token = format!("aips-{}", random_hex(24));
        if let Ok(mut map) = self.by_digest.lock() {
            map.retain(|_, (_, expires)| *expires > Instant::now());
            map.insert(
                Sha256::digest(token.as_bytes()).into(),
                (user, Instant::now() + SESSION_TTL),
            );
        }
        token
    }

    fn find(&self, token: &str) -> Option<AdminUser> {
        let map = self.by_digest.lock().ok()?;
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        map.get(&digest)
            .filter(|(_, expires)| *expires > Instant::now())
            .map(|(u, _)| u.clone())
    }

    fn revoke(&self, token: &str) {
        if let Ok(mut map) = self.by_digest.lock() {
            map.remove(&<[u8; 32]>::from(Sha256::digest(token.as_bytes())));
        }
    }
}

#[derive(Deserialize)]
pub struct Login {
    username: String,
    password: String,
}

/// `POST /api/auth/login`.
pub async fn login(
    State(state): State<AdminState>,
    ApiJson(body): ApiJson<Login>,
) -> Result<Json<Value>, ApiError> {
    let user = check_password(&state, &body.username, &body.password).await?;
    let token = state.sessions.issue(user.clone());
    Ok(Json(json!({
        "token": token,
        "expires_in": SESSION_TTL.as_secs(),
        "user": {"id": user.id, "username": user.username, "role": "admin"},
    })))
}

/// `POST /api/auth/logout`.
pub async fn logout(State(state): State<AdminState>, req: Request) -> Json<Value> {
    if let Some(token) = bearer(&req) {
        state.sessions.revoke(&token);
    }
    Json(json!({"ok": true}))
}

async fn check_password(
    state: &AdminState,
    username: &str,
    password: &str,
) -> Result<AdminUser, ApiError> {
    let user = users::Entity::find()
        .filter(users::Column::Username.eq(username))
        .one(&state.db)
        .await?;
    let Some(user) = user else {
        // Same cost as a real check, so timing does not reveal which names exist.
        let _ = verify_password(
            password,
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$ZmFrZWhhc2g",
        );
        return Err(ApiError::Unauthorized);
    };
    let hash = user.password_hash.clone();
    let pw = password.to_owned();
    let ok = tokio::task::spawn_blocking(move || verify_password(&pw, &hash))
        .await
        .unwrap_or(false);
    if !ok || !user.enabled {
        return Err(ApiError::Unauthorized);
    }
    if user.role != "admin" {
        return Err(ApiError::Forbidden);
    }
    Ok(AdminUser {
        id: user.id,
        username: user.username,
    })
}

fn bearer(req: &Request) -> Option<String> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(|t| t.trim().to_owned())
}

fn basic(req: &Request) -> Option<(String, String)> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(value.strip_prefix("Basic ")?.trim())
        .ok()?;
    let (user, pass) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((user.to_owned(), pass.to_owned()))
}

/// Admits admin sessions (or Basic credentials) and refuses the rest.
pub async fn require_admin(
    State(state): State<AdminState>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let user = if let Some(token) = bearer(&req) {
        state.sessions.find(&token).ok_or(ApiError::Unauthorized)?
    } else if let Some((name, password)) = basic(&req) {
        check_password(&state, &name, &password).await?
    } else {
        return Err(ApiError::Unauthorized);
    };
    req.extensions_mut().insert(user);
    Ok(next.run(req).await)
}
