//! Reading an uploaded component from the request: the multipart field
//! `file` (or the first file), or the whole body; and how a component that
//! does not load is answered.

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{StatusCode, header};

use super::super::{AdminState, ApiError};
use crate::plugins::LoadError;

pub(super) fn load_error(e: LoadError) -> ApiError {
    match e {
        LoadError::TooLarge { .. } => ApiError::TooLarge(e.to_string()),
        other => ApiError::Unprocessable(other.to_string(), other.code()),
    }
}

/// The uploaded component: the multipart field `file` (or the first file),
/// or the whole body.
pub(super) async fn upload_bytes(state: &AdminState, request: Request) -> Result<Bytes, ApiError> {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let too_large = || {
        ApiError::TooLarge(format!(
            "plugins may be at most {} bytes",
            state.registry.max_bytes()
        ))
    };
    if !multipart {
        return Bytes::from_request(request, &())
            .await
            .map_err(|_| too_large());
    }
    let mut form = Multipart::from_request(request, &())
        .await
        .map_err(|e| ApiError::BadRequest(e.body_text()))?;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| ApiError::BadRequest(e.body_text()))?
    {
        if field.name() == Some("file") || field.file_name().is_some() {
            return field.bytes().await.map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    too_large()
                } else {
                    ApiError::BadRequest(e.body_text())
                }
            });
        }
    }
    Err(ApiError::BadRequest(
        "the form has no 'file' field with the .wasm component".into(),
    ))
}

/// An upload form: the component in the field `file`. The raw bytes with
/// `content-type: application/wasm` are accepted too.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The `.wasm` component.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}
