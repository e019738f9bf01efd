//! `GET /api/health`: liveness without authentication.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::AdminState;

pub async fn health(State(state): State<AdminState>) -> Json<Value> {
    let catalog = state.catalog.load();
    Json(json!({
        "status": "ok",
        "providers": catalog.providers.len(),
        "plugins_loaded": catalog.providers.values().filter(|p| p.plugin.is_some()).count(),
    }))
}
