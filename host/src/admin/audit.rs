//! The audit log: every admin change with who made it, when, and the
//! resource before and after. Callers pass views, which never contain
//! secrets. `GET /api/audit` reads it (admins only).

use axum::extract::{Query, State};
use axum::{Extension, Json};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    Set,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::auth::Caller;
use super::{AdminState, ApiError};
use crate::store::entities::audit_log;

/// Largest page of audit entries.
pub const MAX_AUDIT_PAGE: u64 = 200;

/// Records one change. A failure to record is logged, not returned: the
/// change itself has already happened.
pub async fn audit(
    state: &AdminState,
    caller: &Caller,
    action: &str,
    resource: &str,
    resource_id: Option<String>,
    before: Option<Value>,
    after: Option<Value>,
) {
    let row = audit_log::ActiveModel {
        created_at: Set(Utc::now()),
        actor_id: Set(Some(caller.id)),
        actor_name: Set(caller.username.clone()),
        action: Set(action.to_owned()),
        resource: Set(resource.to_owned()),
        resource_id: Set(resource_id),
        before: Set(before.map(|v| v.to_string())),
        after: Set(after.map(|v| v.to_string())),
        ..Default::default()
    };
    if let Err(e) = row.insert(&state.db).await {
        tracing::error!(error = %e, action, resource, "writing the audit log failed");
    }
}

/// A view as JSON for the audit log.
pub fn snapshot<T: Serialize>(view: &T) -> Option<Value> {
    serde_json::to_value(view).ok()
}

#[derive(Deserialize)]
pub struct AuditQuery {
    page: Option<u64>,
    page_size: Option<u64>,
    resource: Option<String>,
    actor: Option<String>,
}

#[derive(Serialize)]
struct AuditEntry {
    id: i64,
    created_at: chrono::DateTime<Utc>,
    actor_id: Option<i32>,
    actor_name: String,
    action: String,
    resource: String,
    resource_id: Option<String>,
    before: Option<Value>,
    after: Option<Value>,
}

/// `GET /api/audit`: newest first, paged, filtered by resource or actor.
pub async fn list(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Value>, ApiError> {
    caller.require_admin()?;
    let page = q.page.unwrap_or(1).max(1);
    let page_size = q.page_size.unwrap_or(50);
    if !(1..=MAX_AUDIT_PAGE).contains(&page_size) {
        return Err(ApiError::BadRequest(format!(
            "page_size must be between 1 and {MAX_AUDIT_PAGE}"
        )));
    }
    let mut cond = Condition::all();
    if let Some(r) = q.resource {
        cond = cond.add(audit_log::Column::Resource.eq(r));
    }
    if let Some(a) = q.actor {
        cond = cond.add(audit_log::Column::ActorName.eq(a));
    }
    let paginator = audit_log::Entity::find()
        .filter(cond)
        .order_by_desc(audit_log::Column::Id)
        .paginate(&state.db, page_size);
    let total = paginator.num_items().await?;
    let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
    let items: Vec<AuditEntry> = paginator
        .fetch_page(page - 1)
        .await?
        .into_iter()
        .map(|r| AuditEntry {
            id: r.id,
            created_at: r.created_at,
            actor_id: r.actor_id,
            actor_name: r.actor_name,
            action: r.action,
            resource: r.resource,
            resource_id: r.resource_id,
            before: parse(r.before),
            after: parse(r.after),
        })
        .collect();
    Ok(Json(
        serde_json::json!({"items": items, "page": page, "page_size": page_size, "total": total}),
    ))
}
