//! Answers that leak what an upstream should keep to itself, for tests of
//! what the gateway lets through to its client.
//!
//! - `x-mock-account-headers: 1`: the answer (whatever it is) also carries
//!   [`ACCOUNT_HEADERS`]: a session cookie and the organisation and project
//!   the upstream key belongs to, as OpenAI and Anthropic send them.
//! - `x-mock-quote-key: 1`: the request is refused with 401 in OpenAI's
//!   shape, quoting the credential it was sent as OpenAI does
//!   ("Incorrect API key provided: sk-abc1***wxyz"), whole and in pieces.

use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::provider::{Provider, header};

/// Header that adds [`ACCOUNT_HEADERS`] to the answer.
pub const ACCOUNT_HEADERS_HEADER: &str = "x-mock-account-headers";
/// Header that answers 401 quoting the credential.
pub const QUOTE_KEY_HEADER: &str = "x-mock-quote-key";

/// The headers added by `x-mock-account-headers`.
pub const ACCOUNT_HEADERS: &[(&str, &str)] = &[
    ("set-cookie", "__cf_bm=upstream-session; path=/; HttpOnly"),
    ("openai-organization", "org-upstream-owner"),
    ("openai-project", "proj_upstream"),
    ("anthropic-organization-id", "7d3c0e9a-upstream-org"),
];

/// Middleware for every provider route.
pub(crate) async fn leak(request: Request, next: Next) -> Response {
    let headers = request.headers();
    let quote = header(headers, QUOTE_KEY_HEADER).is_some();
    let account = header(headers, ACCOUNT_HEADERS_HEADER).is_some();
    let credential = [
        Provider::OpenAi,
        Provider::Anthropic,
        Provider::Gemini,
        Provider::Azure,
    ]
    .iter()
    .find_map(|p| p.credential(headers, request.uri().query()))
    .map(str::to_owned);
    let mut response = match (quote, credential) {
        (true, Some(key)) => quoting(&key),
        _ => next.run(request).await,
    };
    if account {
        for (name, value) in ACCOUNT_HEADERS {
            response.headers_mut().append(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
    }
    response
}

/// A 401 whose message quotes `key`: its masked form, its last four
/// characters, and the key itself.
fn quoting(key: &str) -> Response {
    let head: String = key.chars().take(6).collect();
    let tail: String = key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let message = format!(
        "Incorrect API key provided: {head}************{tail}. Key ending in {tail}; sent: {key}"
    );
    let body = serde_json::json!({
        "error": {"message": message, "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}
    });
    (
        StatusCode::UNAUTHORIZED,
        [(CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}
