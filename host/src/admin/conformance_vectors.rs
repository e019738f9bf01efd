//! `/api/providers/{id}/vectors`: conformance vectors an operator adds
//! for a provider, beside the built-in ones of its plugin. Each is one
//! case in the `plugin check --samples` format with its bodies inline
//! (`body`, not `body_file`), checked as strictly as a file is; every
//! new version of the provider's plugin must meet them at upload.
//!
//! Bounded: a vector is at most [`MAX_VECTOR_BYTES`] of JSON and a
//! provider has at most [`MAX_VECTORS_PER_PROVIDER`], so the run at
//! upload stays short.

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use chrono::Utc;
use sea_orm::Set;
use serde::Serialize;
use serde_json::Value;

use super::audit::snapshot;
use super::auth::Caller;
use super::json::{ApiJson, ApiPath};
use super::openapi::{self, BadRequest, Conflict, Forbidden, NotFound, Unauthorized};
use super::write::Entry;
use super::{AdminState, ApiError, Deleted};
use crate::conformance::samples;
use crate::store::conformance_vectors as stored;
use crate::store::entities::conformance_vectors;

/// The largest vector, as JSON text.
pub const MAX_VECTOR_BYTES: usize = 256 * 1024;

/// The most vectors one provider may have.
pub const MAX_VECTORS_PER_PROVIDER: u64 = 100;

/// One case in the `plugin check --samples` format (sdk/README.md,
/// "Samples and expectations"), its bodies inline.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct VectorInput(Value);

/// A stored vector.
#[derive(Serialize, utoipa::ToSchema)]
pub struct VectorView {
    id: i32,
    provider_id: i32,
    name: String,
    /// The case as added.
    #[schema(value_type = Object)]
    vector: Value,
    created_at: chrono::DateTime<Utc>,
}

fn view(row: conformance_vectors::Model) -> VectorView {
    VectorView {
        vector: serde_json::from_str(&row.vector).unwrap_or(Value::Null),
        id: row.id,
        provider_id: row.provider_id,
        name: row.name,
        created_at: row.created_at,
    }
}

async fn provider_exists(state: &AdminState, id: i32) -> Result<(), ApiError> {
    crate::store::providers::find(&state.db, id)
        .await?
        .map(|_| ())
        .ok_or(ApiError::NotFound("provider"))
}

#[utoipa::path(
    get,
    path = "/api/providers/{id}/vectors",
    operation_id = "vectors_list",
    tag = openapi::TAG_PLUGINS,
    params(("id" = i32, Path)),
    responses((status = 200, body = Vec<VectorView>), BadRequest, Unauthorized, Forbidden, NotFound),
)]
pub async fn list(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
) -> Result<Json<Vec<VectorView>>, ApiError> {
    caller.require_admin()?;
    provider_exists(&state, id).await?;
    let rows = stored::of_provider(&state.db, id).await?;
    Ok(Json(rows.into_iter().map(view).collect()))
}

/// The case's name, after the same strict checks a file gets.
fn validate(text: &str) -> Result<String, ApiError> {
    if text.len() > MAX_VECTOR_BYTES {
        return Err(ApiError::TooLarge(format!(
            "a vector may be at most {MAX_VECTOR_BYTES} bytes of JSON"
        )));
    }
    let sample = samples::from_case_text(text)
        .map_err(|e| ApiError::BadRequest(format!("not a vector: {e}")))?;
    if sample.expect.is_none() {
        return Err(ApiError::BadRequest(
            "a vector needs an `expect` block: what the plugin must extract".into(),
        ));
    }
    Ok(sample.name)
}

#[utoipa::path(
    post,
    path = "/api/providers/{id}/vectors",
    operation_id = "vectors_add",
    tag = openapi::TAG_PLUGINS,
    params(("id" = i32, Path)),
    request_body = VectorInput,
    responses((status = 201, body = VectorView), BadRequest, Unauthorized, Forbidden, NotFound, Conflict),
)]
pub async fn add(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i32>,
    ApiJson(VectorInput(input)): ApiJson<VectorInput>,
) -> Result<(StatusCode, Json<VectorView>), ApiError> {
    caller.require_admin()?;
    provider_exists(&state, id).await?;
    let text = input.to_string();
    let name = validate(&text)?;
    let change = state.change(&caller).await?;
    let (existing, named) = stored::count_of_provider(change.db(), id, &name).await?;
    if existing >= MAX_VECTORS_PER_PROVIDER {
        return Err(ApiError::Conflict(format!(
            "a provider may have at most {MAX_VECTORS_PER_PROVIDER} vectors; delete one first"
        )));
    }
    if named > 0 {
        return Err(ApiError::Conflict(format!(
            "this provider already has a vector named {name:?}"
        )));
    }
    let row = conformance_vectors::ActiveModel {
        provider_id: Set(id),
        name: Set(name),
        vector: Set(text),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    let row = stored::insert(change.db(), row).await?;
    let view = view(row);
    change
        .commit()
        .await?
        .audit(Entry::created(
            "conformance_vector",
            view.id,
            snapshot(&view),
        ))
        .await;
    Ok((StatusCode::CREATED, Json(view)))
}

#[utoipa::path(
    delete,
    path = "/api/providers/{id}/vectors/{vector_id}",
    operation_id = "vectors_delete",
    tag = openapi::TAG_PLUGINS,
    params(("id" = i32, Path), ("vector_id" = i32, Path)),
    responses((status = 200, body = Deleted), BadRequest, Unauthorized, Forbidden, NotFound),
)]
pub async fn delete(
    State(state): State<AdminState>,
    Extension(caller): Extension<Caller>,
    ApiPath((id, vector_id)): ApiPath<(i32, i32)>,
) -> Result<Json<Deleted>, ApiError> {
    caller.require_admin()?;
    let change = state.change(&caller).await?;
    let row = stored::find_of_provider(change.db(), id, vector_id)
        .await?
        .ok_or(ApiError::NotFound("vector"))?;
    stored::delete(change.db(), vector_id).await?;
    let before = snapshot(&view(row));
    change
        .commit()
        .await?
        .audit(Entry::deleted("conformance_vector", vector_id, before))
        .await;
    Ok(Json(Deleted { deleted: vector_id }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CASE: &str = r#"{"name":"n","method":"POST","path":"/v1/x","body":"PAD",
        "expect":{"model":null}}"#;

    #[test]
    fn a_vector_at_the_size_limit_is_taken_one_byte_more_is_refused() {
        let pad = MAX_VECTOR_BYTES - CASE.len() + 3;
        let at = CASE.replace("PAD", &"x".repeat(pad));
        assert_eq!(at.len(), MAX_VECTOR_BYTES);
        assert_eq!(validate(&at).ok().as_deref(), Some("n"));
        let over = CASE.replace("PAD", &"x".repeat(pad + 1));
        assert!(matches!(validate(&over), Err(ApiError::TooLarge(_))));
    }

    #[test]
    fn a_vector_without_expectations_or_with_a_file_is_refused() {
        let no_expect = r#"{"name":"n","method":"POST","path":"/v1/x"}"#;
        assert!(matches!(validate(no_expect), Err(ApiError::BadRequest(_))));
        let file =
            r#"{"name":"n","method":"POST","path":"/v1/x","body_file":"a.body","expect":{}}"#;
        let e = validate(file)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("inline"), "{e}");
    }
}
