//! OAuth accounts at run time: the access token to send for a key, fresh
//! when it is sent, and the refresh that keeps it so.
//!
//! The access token is the key's encrypted secret, so the catalog carries
//! it like any API key. A refresh stores the new tokens (the refresh token
//! may rotate, so they must be stored before they are used), keeps the
//! token in memory for this instance at once, and asks for a catalog reload
//! so every instance picks it up. One refresh per key at a time: a lock per
//! key on this instance, and a lease on the key's row across instances
//! (the database is the one thing all instances share).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::Notify;

use super::client::{self, OAuthError, TokenSet};
use super::http::{EgressHttp, TOKEN_REQUEST_TIMEOUT};
use crate::catalog::UpstreamKey;
use crate::catalog::{OAuthSettings, OAuthState};
use crate::scheduler::HealthStatus;
use crate::scheduler::KeyBoard;
use crate::secrets::{Secret, SecretBox, SecretColumn, mask};
use crate::store::entities::upstream_keys;
use crate::store::upstream_key_state::{self as key_state, Tokens};

/// A token this close to its expiry is refreshed before it is sent.
pub const REQUEST_MARGIN: Duration = Duration::from_secs(5);
/// How long an instance may hold a key's refresh lease.
pub const LEASE: Duration = Duration::from_secs(TOKEN_REQUEST_TIMEOUT.as_secs() + 5);
/// How long a request waits for another instance's refresh.
pub const LEASE_WAIT: Duration = Duration::from_secs(5);
/// How often the row is re-read while waiting.
const LEASE_POLL: Duration = Duration::from_millis(100);

/// An access token and when it expires (`None`: not said).
#[derive(Clone)]
pub struct AccessToken {
    pub secret: Secret,
    pub expires_at: Option<DateTime<Utc>>,
}

impl AccessToken {
    /// Whether it is still good `margin` from now.
    pub fn good_for(&self, margin: Duration) -> bool {
        let margin = chrono::Duration::from_std(margin).unwrap_or(chrono::Duration::MAX);
        self.expires_at.is_none_or(|at| at - Utc::now() > margin)
    }

    fn newer_than(&self, other: &AccessToken) -> bool {
        match (self.expires_at, other.expires_at) {
            (Some(a), Some(b)) => a > b,
            (Some(_), None) => false,
            (None, _) => self.secret != other.secret,
        }
    }
}

/// Why no fresh token could be had.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("the key is not connected")]
    NotConnected,
    #[error("the key has no refresh token; reconnect it")]
    NoRefreshToken,
    #[error("the provider has no OAuth settings")]
    NoSettings,
    #[error("another instance is refreshing this key")]
    Busy,
    #[error(transparent)]
    OAuth(#[from] OAuthError),
    #[error("storing the tokens failed")]
    Db(#[from] DbErr),
}

impl RefreshError {
    /// A short code for traces and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            RefreshError::NotConnected => "oauth_not_connected",
            RefreshError::NoRefreshToken | RefreshError::OAuth(_) | RefreshError::NoSettings => {
                "oauth_refresh_failed"
            }
            RefreshError::Busy => "oauth_refresh_busy",
            RefreshError::Db(_) => "oauth_store_failed",
        }
    }
}

/// The OAuth accounts of this instance.
pub struct OAuthAccounts {
    db: DatabaseConnection,
    secrets: SecretBox,
    http: EgressHttp,
    board: Arc<KeyBoard>,
    /// Tokens refreshed here that the catalog may not show yet.
    newest: Mutex<HashMap<i32, AccessToken>>,
    locks: Mutex<HashMap<i32, Arc<tokio::sync::Mutex<()>>>>,
    /// Signalled after tokens or states change, for a catalog reload.
    changed: Arc<Notify>,
}

impl OAuthAccounts {
    pub fn new(
        db: DatabaseConnection,
        secrets: SecretBox,
        http: EgressHttp,
        board: Arc<KeyBoard>,
    ) -> OAuthAccounts {
        OAuthAccounts {
            db,
            secrets,
            http,
            board,
            newest: Mutex::default(),
            locks: Mutex::default(),
            changed: Arc::new(Notify::new()),
        }
    }

    pub fn http(&self) -> &EgressHttp {
        &self.http
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Notified after a change the catalog should reflect.
    pub fn changes(&self) -> Arc<Notify> {
        self.changed.clone()
    }

    /// The newest token known for an OAuth `key`.
    pub fn current(&self, key: &UpstreamKey) -> Option<AccessToken> {
        let from_catalog = key.secret.clone().map(|secret| AccessToken {
            secret,
            expires_at: key.oauth.as_ref().and_then(|o| o.expires_at),
        });
        let here = lock(&self.newest).get(&key.id).cloned();
        match (from_catalog, here) {
            (Some(c), Some(h)) if h.newer_than(&c) => Some(h),
            (Some(c), _) => Some(c),
            // No token in the catalog: not connected (or revoked), whatever was here.
            (None, _) => None,
        }
    }

    /// The credential to send with `key` now: its secret, or for an OAuth
    /// key a token good for at least [`REQUEST_MARGIN`] (refreshed now, once
    /// for all concurrent requests, when it is not).
    pub async fn credential(
        &self,
        settings: Option<&OAuthSettings>,
        key: &UpstreamKey,
    ) -> Result<Secret, RefreshError> {
        if key.oauth.is_none() {
            return key.secret.clone().ok_or(RefreshError::NotConnected);
        }
        let token = self.current(key).ok_or(RefreshError::NotConnected)?;
        if token.good_for(REQUEST_MARGIN) {
            return Ok(token.secret);
        }
        let settings = settings.ok_or(RefreshError::NoSettings)?;
        Ok(self
            .refresh(settings, key.id, Some(&token.secret))
            .await?
            .secret)
    }

    /// Replaces `stale` (a token that expires soon or that the upstream
    /// refused) with a fresh one, unless another request or instance
    /// already did; `None` refreshes whatever the current token is.
    pub async fn refresh(
        &self,
        settings: &OAuthSettings,
        key_id: i32,
        stale: Option<&Secret>,
    ) -> Result<AccessToken, RefreshError> {
        let key_lock = lock(&self.locks).entry(key_id).or_default().clone();
        let _held = key_lock.lock().await;
        if let Some(stale) = stale
            && let Some(token) = lock(&self.newest).get(&key_id)
            && token.secret != *stale
            && token.good_for(REQUEST_MARGIN)
        {
            return Ok(token.clone());
        }
        let stale = match stale {
            Some(s) => s.clone(),
            None => self
                .stored_token(&self.row(key_id).await?)
                .map_or_else(|| Secret::new(String::new()), |t| t.secret),
        };
        let stale = &stale;
        if !self.take_lease(key_id).await? {
            return self.wait_for_other_instance(key_id, stale).await;
        }
        let outcome = self.refresh_leased(settings, key_id, stale).await;
        if let Err(e) = self.release_lease(key_id).await {
            tracing::warn!(upstream_key = key_id, error = %e, "releasing the refresh lease failed");
        }
        outcome
    }

    async fn refresh_leased(
        &self,
        settings: &OAuthSettings,
        key_id: i32,
        stale: &Secret,
    ) -> Result<AccessToken, RefreshError> {
        let row = self.row(key_id).await?;
        if OAuthState::of(&row) != OAuthState::Connected {
            return Err(RefreshError::NotConnected);
        }
        if let Some(stored) = self.stored_token(&row)
            && stored.secret != *stale
            && stored.good_for(REQUEST_MARGIN)
        {
            // Another instance refreshed it.
            lock(&self.newest).insert(key_id, stored.clone());
            return Ok(stored);
        }
        let Some(refresh_token) = row.oauth_refresh_ciphertext.as_deref().and_then(|c| {
            let column = SecretColumn::UpstreamKeyRefreshToken;
            self.secrets.decrypt(c, column, i64::from(row.id)).ok()
        }) else {
            self.mark_failed(row, "no refresh token stored").await?;
            return Err(RefreshError::NoRefreshToken);
        };
        match client::refresh(&self.http, settings, &refresh_token).await {
            Ok(tokens) => {
                let token = self.store_tokens(row, tokens, Some(refresh_token)).await?;
                tracing::info!(upstream_key = key_id, "upstream OAuth token refreshed");
                Ok(token)
            }
            Err(e) if e.is_permanent() => {
                tracing::warn!(upstream_key = key_id, error = %e, "upstream OAuth refresh refused; the key leaves rotation");
                self.mark_failed(row, &e.to_string()).await?;
                Err(e.into())
            }
            Err(e) => {
                tracing::warn!(upstream_key = key_id, error = %e, "upstream OAuth refresh failed; will retry");
                key_state::store_refresh_error(&self.db, row, &e.to_string()).await?;
                Err(e.into())
            }
        }
    }

    /// Stores the tokens of an exchange or a refresh and puts the key back
    /// in rotation. `previous_refresh` is kept when the server sent no new one.
    pub async fn store_tokens(
        &self,
        row: upstream_keys::Model,
        tokens: TokenSet,
        previous_refresh: Option<Secret>,
    ) -> Result<AccessToken, DbErr> {
        let key_id = row.id;
        let refresh = tokens.refresh_token.or(previous_refresh);
        let row_id = i64::from(key_id);
        let stored = Tokens {
            secret_ciphertext: self.secrets.encrypt(
                &tokens.access_token,
                SecretColumn::UpstreamKeySecret,
                row_id,
            ),
            secret_hint: mask(tokens.access_token.expose()),
            refresh_ciphertext: refresh.as_ref().map(|r| {
                let column = SecretColumn::UpstreamKeyRefreshToken;
                self.secrets.encrypt(r, column, row_id)
            }),
            expires_at: tokens.expires_at,
            oauth_state: OAuthState::Connected.as_str(),
            health_status: HealthStatus::Healthy.as_str(),
            refreshed_at: Utc::now(),
        };
        key_state::store_tokens(&self.db, row, stored).await?;
        let token = AccessToken {
            secret: tokens.access_token,
            expires_at: tokens.expires_at,
        };
        lock(&self.newest).insert(key_id, token.clone());
        self.board.forget(key_id);
        self.changed.notify_one();
        Ok(token)
    }

    /// Takes the key out of rotation until an operator reconnects it.
    async fn mark_failed(&self, row: upstream_keys::Model, why: &str) -> Result<(), DbErr> {
        let key_id = row.id;
        let (state, health) = (OAuthState::Failed, HealthStatus::AuthInvalid);
        key_state::store_failure(&self.db, row, state.as_str(), health.as_str(), why).await?;
        self.forget(key_id);
        self.board.record_failure(
            key_id,
            HealthStatus::AuthInvalid,
            None,
            "OAuth refresh failed",
        );
        self.changed.notify_one();
        Ok(())
    }

    /// Drops what this instance remembers of a key's token (revoked,
    /// reconnected, failed or deleted).
    pub fn forget(&self, key_id: i32) {
        lock(&self.newest).remove(&key_id);
    }

    async fn row(&self, key_id: i32) -> Result<upstream_keys::Model, RefreshError> {
        key_state::find(&self.db, key_id)
            .await?
            .ok_or(RefreshError::NotConnected)
    }

    fn stored_token(&self, row: &upstream_keys::Model) -> Option<AccessToken> {
        let column = SecretColumn::UpstreamKeySecret;
        let secret = self
            .secrets
            .decrypt(&row.secret_ciphertext, column, i64::from(row.id))
            .ok()?;
        Some(AccessToken {
            secret,
            expires_at: row.oauth_expires_at,
        })
    }

    /// Claims the key's refresh lease; `false` when another instance holds it.
    async fn take_lease(&self, key_id: i32) -> Result<bool, DbErr> {
        let now = Utc::now();
        let until = now + chrono::Duration::from_std(LEASE).unwrap_or(chrono::Duration::MAX);
        key_state::take_lease(&self.db, key_id, now, until).await
    }

    async fn release_lease(&self, key_id: i32) -> Result<(), DbErr> {
        key_state::release_lease(&self.db, key_id).await
    }

    /// Waits (bounded) for the instance holding the lease to store a token.
    async fn wait_for_other_instance(
        &self,
        key_id: i32,
        stale: &Secret,
    ) -> Result<AccessToken, RefreshError> {
        let deadline = tokio::time::Instant::now() + LEASE_WAIT;
        while tokio::time::Instant::now() < deadline {
            tokio::time::sleep(LEASE_POLL).await;
            let row = self.row(key_id).await?;
            if let Some(stored) = self.stored_token(&row)
                && stored.secret != *stale
                && stored.good_for(REQUEST_MARGIN)
            {
                lock(&self.newest).insert(key_id, stored.clone());
                return Ok(stored);
            }
        }
        Err(RefreshError::Busy)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(secret: &str, in_secs: Option<i64>) -> AccessToken {
        AccessToken {
            secret: Secret::new(secret),
            expires_at: in_secs.map(|s| Utc::now() + chrono::Duration::seconds(s)),
        }
    }

    #[test]
    fn a_token_is_good_until_the_margin_before_its_expiry() {
        assert!(token("a", Some(60)).good_for(REQUEST_MARGIN));
        assert!(!token("a", Some(4)).good_for(REQUEST_MARGIN));
        assert!(!token("a", Some(-1)).good_for(Duration::ZERO));
        assert!(token("a", None).good_for(REQUEST_MARGIN));
    }

    #[test]
    fn the_later_expiry_is_the_newer_token() {
        assert!(token("b", Some(120)).newer_than(&token("a", Some(60))));
        assert!(!token("a", Some(60)).newer_than(&token("b", Some(120))));
        assert!(token("b", None).newer_than(&token("a", None)));
        assert!(!token("a", None).newer_than(&token("a", None)));
    }
}
