//! The admin API on port 9090 (Axum): JSON under `/api`, one file per
//! resource, described by `GET /api/openapi.json` ([`openapi`]). Every
//! route but that one, `/api/health`, `/api/ready` and `/api/auth/login` needs an
//! authenticated caller ([`auth`]); `/metrics` takes an admin or the scrape
//! token ([`metrics`]); `admin` accounts may do everything,
//! `user` accounts manage only their own client keys (within what they
//! were granted, and only to narrow them) and see only their own traces.
//! Every change takes one path ([`write`]): a transaction, a configuration
//! version counted with it, the catalog reloaded once it commits (so the
//! proxy sees a change as soon as the response is sent), and an entry in
//! the audit log ([`audit`]).

mod audit;
mod auth;
mod basic_cache;
mod budget_report;
mod budgets;
mod client_key_input;
mod client_key_providers;
mod client_keys;
mod conformance_vectors;
mod console;
mod endpoint_grant;
mod error;
mod gateway_info;
mod grants;
mod health;
mod json;
mod key_stats;
mod limits;
mod master_key;
mod metrics;
mod narrowing;
mod oauth_clients;
mod openapi;
mod origin;
mod password;
mod plugin_conformance;
mod plugin_guard;
mod plugin_rollout;
mod plugins;
mod providers;
mod renamed_routes;
mod rollout_store;
mod session;
mod shadow_report;
mod stats;
mod team_view;
mod teams;
mod test_request;
mod throttle;
mod trace_filter;
mod trace_search;
mod traces;
mod transport;
mod upstream_keys;
mod upstream_oauth;
mod users;
mod web;
mod write;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use tower::ServiceExt;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::ApiError;
pub use gateway_info::ProxyEndpoint;
pub use openapi::document as openapi_document;
pub use session::SessionSigner;
pub use throttle::LoginThrottle;
pub use transport::ConsoleTransport;

use crate::core::{Core, GuardRule, spawn_plugin_guard};

/// What admin handlers share: the core (through `Deref`, so `state.db`,
/// `state.catalog`, ... are the core's) and the admin port's own parts.
pub struct AdminCore {
    pub core: Arc<Core>,
    pub sessions: SessionSigner,
    pub throttle: LoginThrottle,
    pub basic_cache: basic_cache::BasicAuthCache,
    /// A built web UI to serve at `/` instead of the embedded one.
    pub web_dir: Option<std::path::PathBuf>,
    /// How long an upstream OAuth authorization may stay pending.
    pub oauth_session_ttl: std::time::Duration,
    /// The token a Prometheus scraper may present for `/metrics`.
    pub metrics_token: Option<crate::secrets::Secret>,
    /// TLS and trusted proxies: the scheme and client address of a request.
    pub transport: ConsoleTransport,
    /// The proxy's port and scheme, for the console's SDK snippets.
    pub proxy_endpoint: ProxyEndpoint,
    /// Where the proxy listens, for the console's test requests.
    pub proxy_addr: std::net::SocketAddr,
}

impl std::ops::Deref for AdminCore {
    type Target = Core;

    fn deref(&self) -> &Core {
        &self.core
    }
}

impl AdminCore {
    /// The admin port's view of `core`, with its session revocations
    /// loaded; starts what the admin port keeps current (revocations after
    /// every catalog load, the plugin guard's action).
    pub async fn start(core: Arc<Core>) -> Result<AdminState, ApiError> {
        let config = core.config.clone();
        let state = Arc::new(AdminCore {
            sessions: SessionSigner::new(&core.keys.current)
                .with_previous_key(core.keys.previous.as_ref()),
            throttle: LoginThrottle::default(),
            basic_cache: Default::default(),
            web_dir: config.admin.web_dir.clone(),
            oauth_session_ttl: config.upstream.oauth.session_ttl,
            metrics_token: config.admin.metrics_token.clone(),
            transport: ConsoleTransport::new(
                config.listen.tls.is_some(),
                config.listen.trusted_proxies.clone(),
            ),
            proxy_endpoint: ProxyEndpoint {
                proxy_port: config.listen.proxy_addr.port(),
                proxy_tls: config.listen.tls.is_some(),
            },
            proxy_addr: config.listen.proxy_addr,
            core,
        });
        state.load_revocations().await?;
        spawn_revocation_reloads(state.clone());
        let rule = GuardRule {
            failures: config.plugins.failure_limit,
            sources: config.plugins.failure_sources,
            window: config.plugins.failure_window,
        };
        spawn_plugin_guard(state.registry.clone(), rule, state.clone());
        Ok(state)
    }

    /// Rebuilds the catalog for configuration `version` (see
    /// [`crate::core::CatalogReload::load_version`]).
    pub async fn load_version(&self, version: i64) -> Result<(), ApiError> {
        self.reload
            .load_version(version)
            .await
            .map_err(ApiError::internal)
    }

    /// Picks up session revocations made on any instance.
    pub async fn load_revocations(&self) -> Result<(), ApiError> {
        session::load_revocations(&self.db, &self.sessions).await?;
        Ok(())
    }
}

/// Picks up session revocations made on any instance after every catalog
/// load (a logout elsewhere counts a configuration change).
fn spawn_revocation_reloads(state: AdminState) {
    let mut loaded = state.reload.loaded();
    tokio::spawn(async move {
        while loaded.changed().await.is_ok() {
            if let Err(e) = state.load_revocations().await {
                tracing::warn!(error = %e, "loading session revocations failed");
            }
        }
    });
}

pub type AdminState = Arc<AdminCore>;

/// The answer to a successful delete.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Deleted {
    /// Id of the resource that is gone.
    pub deleted: i32,
}

/// The answer of an action that returns nothing else.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Done {
    /// Always `true`.
    pub ok: bool,
}

/// Room for multipart framing around an uploaded plugin.
const UPLOAD_FORM_OVERHEAD: usize = 64 * 1024;

/// The admin router: the routes of [`routes`], with authentication in
/// front of all but the public ones.
pub fn router(state: AdminState) -> Router {
    let upload_limit = state.registry.max_bytes() + UPLOAD_FORM_OVERHEAD;
    let protected = protected_routes(upload_limit).route_layer(middleware::from_fn_with_state(
        state.clone(),
        auth::authenticate,
    ));
    let metrics = metrics_routes().route_layer(middleware::from_fn_with_state(
        state.clone(),
        metrics::authorize,
    ));
    let (router, _) = public_routes()
        .merge(protected)
        .merge(metrics)
        .split_for_parts();
    // The UI last: static files at `/`, JSON 404 for unknown `/api` paths.
    let app = router
        .merge(web::routes(state.web_dir.clone()))
        .with_state(state);
    // Renamed routes are rewritten before routing (routing happens before
    // any layer of `app` runs).
    Router::new().fallback_service(app.map_request(renamed_routes::renamed))
}

/// Every route with its OpenAPI operation, from the handlers'
/// `#[utoipa::path]` attributes (one `routes!` per path).
fn routes() -> OpenApiRouter<AdminState> {
    public_routes()
        .merge(protected_routes(usize::MAX))
        .merge(metrics_routes())
}

/// Routes anyone may call.
fn public_routes() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new()
        .routes(routes!(health::health))
        .routes(routes!(health::ready))
        .routes(routes!(auth::login))
        .routes(routes!(openapi::serve))
}

/// `/metrics`: an admin account or the scrape token.
fn metrics_routes() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new().routes(routes!(metrics::metrics))
}

/// Routes for authenticated callers; handlers check the role. Plugin
/// uploads may be up to `upload_limit` bytes.
fn protected_routes(upload_limit: usize) -> OpenApiRouter<AdminState> {
    let plugins = OpenApiRouter::new()
        .routes(routes!(plugins::list, plugins::upload))
        .layer(DefaultBodyLimit::max(upload_limit));
    OpenApiRouter::new()
        .merge(plugins)
        .routes(routes!(plugins::get_one, plugins::update, plugins::delete))
        .routes(routes!(plugin_rollout::get_rollout))
        .routes(routes!(plugin_rollout::shadow))
        .routes(routes!(plugin_rollout::canary))
        .routes(routes!(plugin_rollout::promote))
        .routes(routes!(plugin_rollout::rollback))
        .routes(routes!(
            plugin_conformance::get_result,
            plugin_conformance::recheck
        ))
        .routes(routes!(conformance_vectors::list, conformance_vectors::add))
        .routes(routes!(conformance_vectors::delete))
        .routes(routes!(providers::list, providers::create))
        .routes(routes!(
            providers::get_one,
            providers::update,
            providers::delete
        ))
        .routes(routes!(upstream_keys::list, upstream_keys::create))
        .routes(routes!(
            upstream_keys::get_one,
            upstream_keys::update,
            upstream_keys::delete
        ))
        .routes(routes!(key_stats::upstream_key_stats))
        .routes(routes!(upstream_oauth::authorize))
        .routes(routes!(upstream_oauth::exchange))
        .routes(routes!(upstream_oauth::list_sessions))
        .routes(routes!(upstream_oauth::refresh))
        .routes(routes!(upstream_oauth::revoke))
        .routes(routes!(upstream_keys::health_check))
        .routes(routes!(key_stats::upstream_key_trends))
        .routes(routes!(client_keys::list, client_keys::create))
        .routes(routes!(
            client_keys::get_one,
            client_keys::update,
            client_keys::delete
        ))
        .routes(routes!(key_stats::client_key_trends))
        .routes(routes!(
            client_key_providers::get_providers,
            client_key_providers::put_providers
        ))
        .routes(routes!(oauth_clients::list, oauth_clients::create))
        .routes(routes!(
            oauth_clients::get_one,
            oauth_clients::update,
            oauth_clients::delete
        ))
        .routes(routes!(stats::overview))
        .routes(routes!(stats::timeseries))
        .routes(routes!(traces::list))
        .routes(routes!(traces::get_one))
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::update, users::delete))
        .routes(routes!(grants::get_grants, grants::put_grants))
        .routes(routes!(audit::list))
        .routes(routes!(master_key::rotation))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me))
        .routes(routes!(gateway_info::gateway))
        .routes(routes!(test_request::test_request))
        .routes(routes!(auth::change_password))
        .merge(budget_routes())
}

/// Teams, budgets and the budget report (issue 19).
fn budget_routes() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new()
        .routes(routes!(teams::list, teams::create))
        .routes(routes!(teams::get_one, teams::delete))
        .routes(routes!(teams::add_member))
        .routes(routes!(teams::remove_member))
        .routes(routes!(teams::add_key))
        .routes(routes!(teams::remove_key))
        .routes(routes!(budgets::get_team_budget, budgets::put_team_budget))
        .routes(routes!(budgets::get_user_budget, budgets::put_user_budget))
        .routes(routes!(budget_report::report))
}
