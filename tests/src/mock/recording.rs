//! What crossed the wire: every request the mock received, in arrival order.
//!
//! The recording layer buffers the body, stores method, path and query, lower-cased
//! headers and body, then hands the same bytes on to the handler — before any switch or
//! answer runs, so even a `mock-hang` request is on record. The layer is left out
//! entirely when recording is off (the benchmark's setting).

use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Largest request body the mock accepts.
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// One request as the mock received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// Path and query exactly as sent, e.g. `/v1beta/models/m:streamGenerateContent?alt=sse`.
    pub path_and_query: String,
    /// Headers in arrival order; names are lower-case, values decoded lossily as UTF-8.
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// The first value of header `name` (matched case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// The shared, ordered list of recorded requests.
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
}

impl Recorder {
    /// A copy of every request recorded so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().clone()
    }

    /// Forgets every recorded request.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn push(&self, request: RecordedRequest) {
        self.lock().push(request);
    }

    /// The list, even if a holder panicked: a recording is still worth reading then.
    fn lock(&self) -> MutexGuard<'_, Vec<RecordedRequest>> {
        self.requests
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Middleware: records the request, then runs the handler on the same bytes.
pub(crate) async fn record(
    State(recorder): State<Recorder>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY_BYTES).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    recorder.push(RecordedRequest {
        method: parts.method.as_str().to_owned(),
        path_and_query: parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned()),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: bytes.to_vec(),
    });
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// `GET /__mock/requests`: the recording as JSON, for out-of-process users of the
/// `mock-upstream` binary. Bodies are given as lossy UTF-8 text.
pub(crate) async fn dump(State(recorder): State<Recorder>) -> Response {
    let requests: Vec<serde_json::Value> = recorder
        .requests()
        .into_iter()
        .map(|request| {
            serde_json::json!({
                "method": request.method,
                "path_and_query": request.path_and_query,
                "headers": request.headers,
                "body": String::from_utf8_lossy(&request.body),
            })
        })
        .collect();
    axum::Json(requests).into_response()
}

/// `DELETE /__mock/requests`: forgets the recording.
pub(crate) async fn forget(State(recorder): State<Recorder>) -> StatusCode {
    recorder.clear();
    StatusCode::NO_CONTENT
}
