//! `GET /api/master-key/rotation`: where a master key rotation stands, so
//! the operator knows when `AI_PROXY_MASTER_KEY_PREVIOUS` can be dropped.
//! Admins only; read-only. Nothing here holds a key, a check value or a
//! secret: only states and counts.

use axum::extract::State;
use axum::{Extension, Json};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::Caller;
use super::openapi::{self, Forbidden, Unauthorized};
use super::{AdminState, ApiError};
use crate::store::key_check::{self, KeyState};
use crate::store::rotate::{self, Pass, PassReport, Tally};

/// A master key rotation, as the database and this instance see it.
#[derive(Serialize, ToSchema)]
pub struct RotationStatus {
    /// `settled` (no rotation), `rotating` or `rotated` (complete).
    pub state: KeyState,
    /// Whether this instance was started with a previous key.
    pub previous_key_loaded: bool,
    /// Stored secrets counted now, by the key that seals them (`rewritten`
    /// is always 0 here). Without a previous key loaded, secrets under it
    /// count as unreadable.
    pub secrets: Tally,
    /// True when the rotation is complete and nothing is sealed under the
    /// previous key: every instance may be restarted without it.
    pub previous_key_can_be_dropped: bool,
    /// This instance's last re-encryption pass since its start, if any.
    pub last_pass: Option<PassReport>,
}

#[utoipa::path(
    get,
    path = "/api/master-key/rotation",
    tag = openapi::TAG_MASTER_KEY,
    responses((status = 200, body = RotationStatus), Unauthorized, Forbidden),
)]
pub async fn rotation(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<RotationStatus>, ApiError> {
    caller.require_admin()?;
    let recorded = key_check::recorded(&state.db)
        .await
        .map_err(ApiError::internal)?;
    let key_state = recorded.map_or(KeyState::Settled, |r| r.state());
    let secrets = rotate::scan(&state.db, &state.secrets, Pass::Count)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(RotationStatus {
        state: key_state,
        previous_key_loaded: state.secrets.has_previous(),
        previous_key_can_be_dropped: key_state == KeyState::Rotated && secrets.previous == 0,
        secrets,
        last_pass: state.rotation.last_pass(),
    }))
}
