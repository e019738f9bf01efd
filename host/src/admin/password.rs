//! Checking a presented password: user names longer than
//! [`MAX_USERNAME_BYTES`] are refused before any lookup, attempts are
//! throttled per account name and client address ([`super::throttle`]),
//! unknown names cost the same argon2 time as known ones, and every
//! failure (and every sign-in at `POST /api/auth/login`) is audited.

use std::net::IpAddr;
use std::time::Instant;

use super::audit::audit_sign_in;
use super::{AdminState, ApiError};
use crate::secrets::{hash_password, verify_password};
use crate::store::entities::users;

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest user name a sign-in may present (400 above it); account names
/// are capped to the same at creation.
pub const MAX_USERNAME_BYTES: usize = 64;

/// Refuses passwords shorter than [`MIN_PASSWORD_CHARS`].
pub fn check_new_password(password: &str) -> Result<(), ApiError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ApiError::BadRequest(format!(
            "password must be at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    Ok(())
}

/// Where a password was presented, for the audit log.
#[derive(Debug, Clone, Copy)]
pub enum SignIn {
    /// `POST /api/auth/login`.
    Login,
    /// HTTP Basic on any route (failures only are audited: a script's
    /// every call would otherwise be one entry).
    Basic,
    /// The current password of a password change.
    PasswordChange,
}

pub async fn check_password(
    state: &AdminState,
    username: &str,
    password: &str,
    ip: Option<IpAddr>,
    via: SignIn,
) -> Result<users::Model, ApiError> {
    if username.len() > MAX_USERNAME_BYTES {
        return Err(ApiError::BadRequest(format!(
            "username must be at most {MAX_USERNAME_BYTES} bytes"
        )));
    }
    if let Err(wait) = state.throttle.check(username, ip, Instant::now()) {
        return Err(ApiError::TooManyAttempts(wait.as_secs().max(1)));
    }
    let user = crate::store::users::by_username(&state.db, username).await?;
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
            state.throttle.succeeded(username, ip);
            if matches!(via, SignIn::Login) {
                audit_sign_in(state, Some(&user), ip, via, true).await;
            }
            Ok(user)
        }
        user => {
            state.throttle.failed(username, ip, Instant::now());
            audit_sign_in(state, user.as_ref(), ip, via, false).await;
            Err(ApiError::Unauthorized)
        }
    }
}

fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password(&crate::secrets::random_hex(16)).unwrap_or_default())
}
