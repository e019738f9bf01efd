//! `/api/plugins`: the stored plugin components.

use axum::extract::State;
use axum::{Extension, Json};
use sea_orm::{EntityTrait, QueryOrder, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::Caller;
use super::openapi::{self, Forbidden, Unauthorized};
use super::{AdminState, ApiError};
use crate::store::entities::plugins;

#[derive(Serialize, ToSchema)]
pub struct PluginView {
    id: i32,
    name: String,
    version: String,
    sha256: String,
    builtin: bool,
    enabled: bool,
    created_at: chrono::DateTime<chrono::Utc>,
}

/// A plugin row without its bytes.
type PluginRow = (
    i32,
    String,
    String,
    String,
    bool,
    bool,
    chrono::DateTime<chrono::Utc>,
);

#[utoipa::path(
    get,
    path = "/api/plugins",
    tag = openapi::TAG_PLUGINS,
    responses((status = 200, body = Vec<PluginView>), Unauthorized, Forbidden),
)]
pub async fn list(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Vec<PluginView>>, ApiError> {
    caller.require_admin()?;
    let rows: Vec<PluginRow> = plugins::Entity::find()
        .select_only()
        .columns([
            plugins::Column::Id,
            plugins::Column::Name,
            plugins::Column::Version,
            plugins::Column::Sha256,
            plugins::Column::Builtin,
            plugins::Column::Enabled,
            plugins::Column::CreatedAt,
        ])
        .order_by_asc(plugins::Column::Id)
        .into_tuple()
        .all(&state.db)
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(
                |(id, name, version, sha256, builtin, enabled, created_at)| PluginView {
                    id,
                    name,
                    version,
                    sha256,
                    builtin,
                    enabled,
                    created_at,
                },
            )
            .collect(),
    ))
}
