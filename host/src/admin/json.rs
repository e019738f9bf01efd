//! A JSON body extractor whose rejections are [`ApiError`]s.

use axum::extract::FromRequest;
use axum::extract::rejection::JsonRejection;

use super::ApiError;

/// Like `axum::Json`, but a bad body is a JSON 400 naming the problem.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        ApiError::BadRequest(rejection.body_text())
    }
}
