//! `GET /api/health` (liveness) and `GET /api/ready` (readiness), without
//! authentication, for load balancers and Kubernetes probes.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use std::sync::atomic::Ordering::Relaxed;
use utoipa::ToSchema;

use super::AdminState;
use super::openapi;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the admin API answers.
    status: &'static str,
    /// Providers in the catalog.
    providers: usize,
    /// Providers whose plugin is loaded.
    plugins_loaded: usize,
    traces: TraceCounters,
}

/// What the trace writer has done since the start.
#[derive(Serialize, ToSchema)]
pub struct TraceCounters {
    written: u64,
    dropped_queue_full: u64,
    failed: u64,
}

#[utoipa::path(
    get,
    path = "/api/health",
    tag = openapi::TAG_HEALTH,
    security(()),
    responses((status = 200, body = Health)),
)]
pub async fn health(State(state): State<AdminState>) -> Json<Health> {
    let catalog = state.catalog.load();
    let traces = state.traces.stats();
    Json(Health {
        status: "ok",
        providers: catalog.providers.len(),
        plugins_loaded: catalog
            .providers
            .values()
            .filter(|p| p.plugin.is_some())
            .count(),
        traces: TraceCounters {
            written: traces.written.load(Relaxed),
            dropped_queue_full: traces.dropped_queue_full.load(Relaxed),
            failed: traces.failed.load(Relaxed),
        },
    })
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`, or `draining` once a shutdown has begun.
    status: &'static str,
    /// Proxy requests in flight on this instance.
    in_flight: usize,
}

/// 200 while the instance takes traffic; 503 from the first SIGTERM on,
/// while open requests finish, so load balancers send new ones elsewhere.
#[utoipa::path(
    get,
    path = "/api/ready",
    tag = openapi::TAG_HEALTH,
    security(()),
    responses(
        (status = 200, body = Readiness),
        (status = 503, description = "Shutting down", body = Readiness),
    ),
)]
pub async fn ready(State(state): State<AdminState>) -> (StatusCode, Json<Readiness>) {
    let draining = state.drain.is_draining();
    let status = if draining {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    let body = Readiness {
        status: if draining { "draining" } else { "ready" },
        in_flight: state.drain.in_flight(),
    };
    (status, Json(body))
}
