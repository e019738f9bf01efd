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
mod error;
mod health;
mod json;
mod plugins;
mod provider_keys;
mod providers;
mod session;
mod stats;
mod throttle;
mod traces;
mod users;
mod web;

use std::sync::Arc;

use arc_swap::ArcSwap;
use axum::Router;
use axum::middleware;
use axum::routing::{get, post, put};
use sea_orm::DatabaseConnection;

pub use error::ApiError;
pub use session::SessionSigner;
pub use throttle::LoginThrottle;

use crate::catalog::{Catalog, PluginRegistry, load_catalog};
use crate::egress::{EgressPolicy, Resolver};
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
    /// The built web UI, served at `/`.
    pub web_dir: std::path::PathBuf,
}

impl AdminCore {
    /// Rebuilds the catalog from the database and swaps it in.
    pub async fn reload(&self) -> Result<(), ApiError> {
        let catalog = load_catalog(&self.db, &self.registry, &self.secrets)
            .await
            .map_err(ApiError::internal)?;
        self.catalog.store(Arc::new(catalog));
        Ok(())
    }
}

pub type AdminState = Arc<AdminCore>;

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
        .route("/api/plugins", get(plugins::list))
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
        .route("/api/auth/login", post(auth::login))
        .merge(protected)
        .merge(web::routes(state.web_dir.clone()))
        .with_state(state)
}
