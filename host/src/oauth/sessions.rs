//! Pending authorizations: the PKCE verifier (encrypted) and the hash of
//! `state`, kept until the exchange consumes them once or they expire.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbErr};
use sha2::{Digest, Sha256};

use crate::secrets::{Secret, SecretBox, SecretColumn};
use crate::store::oauth_sessions::{self, NewSession};

/// A session taken for an exchange.
pub struct PendingSession {
    pub upstream_key_id: i32,
    pub verifier: Secret,
    pub redirect_uri: String,
}

/// Why a `state` cannot be exchanged.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("unknown or already used state")]
    Unknown,
    #[error("the authorization session expired; start again")]
    Expired,
    #[error(transparent)]
    Db(#[from] DbErr),
}

fn state_hash(state: &str) -> String {
    hex::encode(Sha256::digest(state.as_bytes()))
}

/// Stores a new session; returns when it expires.
pub async fn create(
    db: &DatabaseConnection,
    secrets: &SecretBox,
    upstream_key_id: i32,
    state: &str,
    verifier: &Secret,
    redirect_uri: &str,
    ttl: Duration,
) -> Result<DateTime<Utc>, DbErr> {
    let now = Utc::now();
    let expires_at = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
    // The verifier is bound to the row's id, known once the row exists.
    let session = NewSession {
        state_hash: state_hash(state),
        upstream_key_id,
        redirect_uri,
        created_at: now,
        expires_at,
    };
    let column = SecretColumn::OAuthSessionVerifier;
    oauth_sessions::insert(db, session, |id| {
        secrets.encrypt(verifier, column, i64::from(id))
    })
    .await?;
    Ok(expires_at)
}

/// Takes the session of `state`: at most one caller gets it, and it is
/// gone afterwards whatever the outcome of the exchange.
pub async fn take(
    db: &DatabaseConnection,
    secrets: &SecretBox,
    state: &str,
) -> Result<PendingSession, SessionError> {
    let Some(row) = oauth_sessions::take(db, &state_hash(state)).await? else {
        // Unknown, or another exchange took it first.
        return Err(SessionError::Unknown);
    };
    if row.expires_at <= Utc::now() {
        return Err(SessionError::Expired);
    }
    let verifier = secrets
        .decrypt(
            &row.verifier_ciphertext,
            SecretColumn::OAuthSessionVerifier,
            i64::from(row.id),
        )
        .map_err(|_| SessionError::Unknown)?;
    Ok(PendingSession {
        upstream_key_id: row.upstream_key_id,
        verifier,
        redirect_uri: row.redirect_uri,
    })
}

/// Deletes expired sessions; returns how many.
pub async fn delete_expired(db: &DatabaseConnection) -> Result<u64, DbErr> {
    oauth_sessions::delete_expired(db, Utc::now()).await
}
