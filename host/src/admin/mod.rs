//! The admin API on port 9090 (Axum): JSON under `/api`, one file per
//! resource. Every route but `/api/health` and `/api/auth/login` needs an
//! authenticated caller ([`auth`]); `admin` accounts may do everything,
//! `user` accounts manage only their own client keys and see only their
//! own traces. Every change is written to the audit log ([`audit`]).
//!
//! Writes go to the database first, then the catalog is reloaded, so the
//! proxy sees a change as soon as the response is sent.

mod audit;
mod auth;
mod client_keys;
mod config_sync;
mod error;
mod health;
mod json;
mod limits;
mod metrics;
mod oauth_clients;
mod plugin_guard;
mod plugins;
mod provider_keys;
mod providers;
mod session;
mod stats;
mod throttle;
mod traces;
mod users;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use arc_swap::ArcSwap;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post, put};
use sea_orm::DatabaseConnection;

pub use config_sync::{current as config_version, spawn_config_sync};
pub use error::ApiError;
pub use plugin_guard::spawn_plugin_guard;
pub use session::SessionSigner;
pub use throttle::LoginThrottle;

use crate::catalog::{Catalog, PluginRegistry, load_catalog};
use crate::egress::{EgressPolicy, Resolver};
use crate::limits::Limiter;
use crate::scheduler::KeyBoard;
use crate::secrets::SecretBox;
use crate::trace::TraceSender;
use pingora::connectors::http::Connector;

/// What admin handlers share.
pub struct AdminCore {
    pub db: DatabaseConnection,
    pub catalog: Arc<ArcSwap<Catalog>>,
    pub registry: Arc<PluginRegistry>,
    pub secrets: SecretBox,
    pub sessions: SessionSigner,
    pub throttle: LoginThrottle,
    pub basic_cache: auth::BasicAuthCache,
    pub traces: TraceSender,
    pub egress: EgressPolicy,
    /// For health checks: the same egress path as the proxy's, with its own pool.
    pub resolver: Resolver,
    pub connector: Connector,
    /// Live key health, shared with the proxy and the health service.
    pub board: Arc<KeyBoard>,
    pub limiter: Arc<Limiter>,
    /// The configuration version this instance's catalog reflects.
    pub config_seen: AtomicI64,
}

impl AdminCore {
    /// After a change: counts it (so other instances reload too), then
    /// rebuilds this instance's catalog and swaps it in.
    pub async fn reload(&self) -> Result<(), ApiError> {
        let version = config_sync::bump(&self.db).await?;
        self.load_and_swap().await?;
        self.config_seen.fetch_max(version, Ordering::Relaxed);
        Ok(())
    }

    /// Rebuilds the catalog from the database and swaps it in.
    pub async fn load_and_swap(&self) -> Result<(), ApiError> {
        let catalog = load_catalog(&self.db, &self.registry, &self.secrets)
            .await
            .map_err(ApiError::internal)?;
        self.catalog.store(Arc::new(catalog));
        Ok(())
    }
}

pub type AdminState = Arc<AdminCore>;

/// Room for multipart framing around an uploaded plugin.
const UPLOAD_FORM_OVERHEAD: usize = 64 * 1024;

/// The admin router.
pub fn router(state: AdminState) -> Router {
    let protected = Router::new()
        .route(
            "/api/providers",
            get(providers::list).post(providers::create),
        )
        .route(
            "/api/providers/{id}",
            put(providers::update)
                .get(providers::get_one)
                .delete(providers::delete),
        )
        .route(
            "/api/plugins",
            get(plugins::list)
                .post(plugins::upload)
                .layer(DefaultBodyLimit::max(
                    state.registry.max_bytes() + UPLOAD_FORM_OVERHEAD,
                )),
        )
        .route(
            "/api/plugins/{id}",
            get(plugins::get_one)
                .put(plugins::update)
                .delete(plugins::delete),
        )
        .route(
            "/api/provider-keys/keys",
            get(provider_keys::list).post(provider_keys::create),
        )
        .route(
            "/api/provider-keys/keys/{id}",
            get(provider_keys::get_one)
                .put(provider_keys::update)
                .delete(provider_keys::delete),
        )
        .route(
            "/api/user-service/keys",
            get(client_keys::list).post(client_keys::create),
        )
        .route(
            "/api/user-service/keys/{id}",
            get(client_keys::get_one)
                .put(client_keys::update)
                .delete(client_keys::delete),
        )
        .route(
            "/api/provider-keys/keys/{id}/stats",
            get(stats::provider_key_stats),
        )
        .route(
            "/api/provider-keys/keys/{id}/health-check",
            post(provider_keys::health_check),
        )
        .route(
            "/api/provider-keys/keys/{id}/trends",
            get(stats::provider_key_trends),
        )
        .route(
            "/api/user-service/keys/{id}/trends",
            get(stats::client_key_trends),
        )
        .route(
            "/api/oauth-clients",
            get(oauth_clients::list).post(oauth_clients::create),
        )
        .route(
            "/api/oauth-clients/{id}",
            get(oauth_clients::get_one)
                .put(oauth_clients::update)
                .delete(oauth_clients::delete),
        )
        .route("/api/stats/overview", get(stats::overview))
        .route("/api/stats/timeseries", get(stats::timeseries))
        .route("/api/logs/traces", get(traces::list))
        .route("/api/logs/traces/{id}", get(traces::get_one))
        .route("/api/users", get(users::list).post(users::create))
        .route("/api/users/{id}", put(users::update).delete(users::delete))
        .route("/api/audit", get(audit::list))
        .route("/api/auth/logout", post(auth::logout))
        .route("/api/auth/me", get(auth::me))
        .route("/api/auth/password", post(auth::change_password))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ));
    Router::new()
        .route("/api/health", get(health::health))
        .route("/metrics", get(metrics::metrics))
        .route("/api/auth/login", post(auth::login))
        .merge(protected)
        .fallback(error::not_found)
        .with_state(state)
}
