//! Admin API errors: a status and `{"error":{"message","code"}}`, never
//! internals (those are logged).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// A failed admin request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("authentication required")]
    Unauthorized,
    #[error("not allowed for this account")]
    Forbidden,
    /// Not allowed for this account, with the reason (which names the
    /// field refused).
    #[error("{0}")]
    Refused(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    /// Well-formed but unusable input (a plugin that fails validation):
    /// the message and a machine-readable code.
    #[error("{0}")]
    Unprocessable(String, &'static str),
    #[error("{0}")]
    TooLarge(String),
    /// A step of an upstream OAuth authorization that cannot go on: the
    /// message and a machine-readable code (`invalid_state`, ...).
    #[error("{0}")]
    OAuthFlow(String, &'static str),
    /// An upstream service the request depended on failed.
    #[error("{0}")]
    Upstream(String, &'static str),
    #[error("too many failed attempts; retry in {0} seconds")]
    TooManyAttempts(u64),
    /// A state change sent with the session cookie from a page that is not
    /// the console's own (cross-site request forgery).
    #[error(
        "cross-origin request refused: send it from the console, or authenticate with a bearer token"
    )]
    CrossOrigin,
    #[error("internal error")]
    Internal,
}

impl ApiError {
    /// Logs the cause and hides it from the client.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "admin request failed");
        ApiError::Internal
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden | ApiError::Refused(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::CrossOrigin => (StatusCode::FORBIDDEN, "cross_origin"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::Unprocessable(_, code) => (StatusCode::UNPROCESSABLE_ENTITY, code),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            ApiError::OAuthFlow(_, code) => (StatusCode::BAD_REQUEST, code),
            ApiError::Upstream(_, code) => (StatusCode::BAD_GATEWAY, code),
            ApiError::TooManyAttempts(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"),
            ApiError::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
        }
    }
}

/// The body of every admin API error.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// What went wrong, for people.
    pub message: String,
    /// What went wrong, for programs: `bad_request`, `unauthorized`,
    /// `forbidden`, `cross_origin`, `not_found`, `conflict`, `too_many_attempts`,
    /// `internal_error`, or for upstream OAuth `invalid_state`,
    /// `session_expired`, `access_denied`, `exchange_failed`,
    /// `not_connected`, `refresh_failed`.
    pub code: String,
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        ApiError::internal(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let body = ErrorBody {
            error: ErrorDetail {
                message: self.to_string(),
                code: code.to_owned(),
            },
        };
        let response = (status, Json(body)).into_response();
        match self {
            ApiError::TooManyAttempts(seconds) => super::auth::with_retry_after(response, seconds),
            _ => response,
        }
    }
}

/// Unknown routes.
pub async fn not_found() -> ApiError {
    ApiError::NotFound("route")
}
