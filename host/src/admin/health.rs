//! `GET /api/health`: liveness without authentication.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use std::sync::atomic::Ordering::Relaxed;

use super::AdminState;

pub async fn health(State(state): State<AdminState>) -> Json<Value> {
    let catalog = state.catalog.load();
    let traces = state.traces.stats();
    Json(json!({
        "status": "ok",
        "providers": catalog.providers.len(),
        "plugins_loaded": catalog.providers.values().filter(|p| p.plugin.is_some()).count(),
        "traces": {
            "written": traces.written.load(Relaxed),
            "dropped_queue_full": traces.dropped_queue_full.load(Relaxed),
            "failed": traces.failed.load(Relaxed),
        },
    }))
}
