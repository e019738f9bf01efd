//! The audit log: every admin change with who made it, when, and the
//! resource before and after. Callers pass views, which never contain
//! secrets. Sign-ins with a password are recorded too, failed and
//! successful, with the client address. `GET /api/audit` reads it (admins
//! only).

use std::net::IpAddr;

use axum::extract::State;
use axum::{Extension, Json};
use chrono::Utc;
use sea_orm::{DatabaseConnection, Set};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::json::ApiQuery;
use super::openapi::{self, BadRequest, Forbidden, Unauthorized};
use super::password::SignIn;
use super::write::{Actor, Entry};
use super::{AdminState, ApiError};
use crate::store::audit_log::{self as stored, AuditFilter};
use crate::store::entities::{audit_log, users};

/// Largest page of audit entries.
pub const MAX_AUDIT_PAGE: u64 = 200;

/// The actor name of changes the gateway makes on its own.
pub const GATEWAY_ACTOR: &str = "gateway";

/// Writes the audit entry of a change through `db`, once the change has
/// committed (see [`super::write`]).
pub async fn record(
    db: &DatabaseConnection,
    actor: Actor<'_>,
    entry: &Entry,
) -> Result<(), sea_orm::DbErr> {
    let (actor_id, actor_name) = match actor {
        Actor::Caller(caller) => (Some(caller.id), caller.username.clone()),
        Actor::Gateway => (None, GATEWAY_ACTOR.to_owned()),
    };
    let row = audit_log::ActiveModel {
        created_at: Set(Utc::now()),
        actor_id: Set(actor_id),
        actor_name: Set(actor_name),
        action: Set(entry.action.to_owned()),
        resource: Set(entry.resource.to_owned()),
        resource_id: Set(entry.resource_id.clone()),
        before: Set(entry.before.as_ref().map(Value::to_string)),
        after: Set(entry.after.as_ref().map(Value::to_string)),
        ..Default::default()
    };
    stored::insert(db, row).await
}

/// Records something the gateway noticed that changed nothing (an alert).
/// A failure to record is logged.
pub async fn note(db: &DatabaseConnection, entry: Entry) {
    if let Err(e) = record(db, Actor::Gateway, &entry).await {
        tracing::error!(error = %e, action = entry.action, "writing the audit log failed");
    }
}

/// Records a sign-in with a password: `sign_in` or `sign_in_failed`, the
/// account when the name exists, and the client address. The password is
/// never recorded, nor a name that matches no account (people type their
/// password into the name field).
pub async fn audit_sign_in(
    state: &AdminState,
    user: Option<&users::Model>,
    ip: Option<IpAddr>,
    via: SignIn,
    succeeded: bool,
) {
    let action = if succeeded {
        "sign_in"
    } else {
        "sign_in_failed"
    };
    let detail = serde_json::json!({
        "address": ip.map(|ip| ip.to_string()),
        "via": match via {
            SignIn::Login => "login",
            SignIn::Basic => "basic",
            SignIn::PasswordChange => "password_change",
        },
    });
    let row = audit_log::ActiveModel {
        created_at: Set(Utc::now()),
        actor_id: Set(user.map(|u| u.id)),
        actor_name: Set(user.map_or_else(|| UNKNOWN_ACCOUNT.to_owned(), |u| u.username.clone())),
        action: Set(action.to_owned()),
        resource: Set("user".to_owned()),
        resource_id: Set(user.map(|u| u.id.to_string())),
        before: Set(None),
        after: Set(Some(detail.to_string())),
        ..Default::default()
    };
    if let Err(e) = stored::insert(&state.db, row).await {
        tracing::error!(error = %e, action, "writing the audit log failed");
    }
}

/// The actor of a failed sign-in whose name matches no account.
pub const UNKNOWN_ACCOUNT: &str = "(unknown account)";

/// Highest page number a list accepts (page 0 is page 1); beyond it the
/// offset would overflow the database's integers.
pub const MAX_PAGE: u64 = 1_000_000;

/// The page asked for, 1 when none.
pub fn check_page(page: Option<u64>) -> Result<u64, ApiError> {
    match page.unwrap_or(1) {
        page if page > MAX_PAGE => Err(ApiError::BadRequest(format!(
            "page must be at most {MAX_PAGE}"
        ))),
        page => Ok(page.max(1)),
    }
}

/// A view as JSON for the audit log.
pub fn snapshot<T: Serialize>(view: &T) -> Option<Value> {
    serde_json::to_value(view).ok()
}

/// Paging and exact-match filters.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// 1-based page number, at most 1000000.
    #[param(maximum = 1_000_000)]
    page: Option<u64>,
    /// Entries per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    page_size: Option<u64>,
    /// `provider`, `upstream_key`, `client_key`, `oauth_client` or `user`
    /// (sign-ins are `user` entries with the action `sign_in` or
    /// `sign_in_failed`).
    resource: Option<String>,
    actor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditEntry {
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

/// A page of audit entries, newest first.
#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    items: Vec<AuditEntry>,
    page: u64,
    page_size: u64,
    /// Entries matching the filters, on all pages.
    total: u64,
}

/// `GET /api/audit`: newest first, paged, filtered by resource or actor.
#[utoipa::path(
    get,
    path = "/api/audit",
    tag = openapi::TAG_AUDIT,
    params(AuditQuery),
    responses((status = 200, body = AuditPage), BadRequest, Unauthorized, Forbidden),
)]
pub async fn list(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    caller.require_admin()?;
    let page = check_page(q.page)?;
    let page_size = q.page_size.unwrap_or(50);
    if !(1..=MAX_AUDIT_PAGE).contains(&page_size) {
        return Err(ApiError::BadRequest(format!(
            "page_size must be between 1 and {MAX_AUDIT_PAGE}"
        )));
    }
    let filter = AuditFilter {
        resource: q.resource,
        actor: q.actor,
    };
    let (rows, total) = stored::page(&state.db, filter, page, page_size).await?;
    let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
    let items: Vec<AuditEntry> = rows
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
    Ok(Json(AuditPage {
        items,
        page,
        page_size,
        total,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_is_bounded_at_max_page_and_zero_means_one() {
        assert_eq!(check_page(None).ok(), Some(1));
        assert_eq!(check_page(Some(0)).ok(), Some(1));
        assert_eq!(check_page(Some(MAX_PAGE)).ok(), Some(MAX_PAGE));
        assert!(check_page(Some(MAX_PAGE + 1)).is_err());
        assert!(check_page(Some(u64::MAX)).is_err());
    }
}
