//! `GET /api/health`: liveness without authentication.

use axum::Json;
use axum::extract::State;
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
