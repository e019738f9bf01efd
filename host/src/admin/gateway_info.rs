//! `GET /api/gateway`: where the proxy listens, for the console's
//! "use this key" snippets. The console shows the proxy's base URL as the
//! host the operator reached the console at, with the proxy's port and
//! scheme: the listen address itself (`0.0.0.0`) is no address to send to.

use axum::extract::State;
use axum::{Extension, Json};
use serde::Serialize;
use utoipa::ToSchema;

use super::AdminState;
use super::auth::Caller;
use super::openapi::{self, Unauthorized};

/// The proxy's port and scheme, as configured.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct ProxyEndpoint {
    /// The port of `AI_PROXY_PROXY_ADDR`.
    pub proxy_port: u16,
    /// Whether the proxy speaks HTTPS (`AI_PROXY_TLS_CERT` is set).
    pub proxy_tls: bool,
}

#[utoipa::path(
    get,
    path = "/api/gateway",
    tag = openapi::TAG_HEALTH,
    responses((status = 200, body = ProxyEndpoint), Unauthorized),
)]
pub async fn gateway(
    State(state): State<AdminState>,
    Extension(_caller): Extension<Caller>,
) -> Json<ProxyEndpoint> {
    Json(state.proxy_endpoint)
}
