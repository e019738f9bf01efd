//! Error answers in each provider's real shape.
//!
//! - OpenAI: `{"error":{"message","type","param","code"}}`
//! - Anthropic: `{"type":"error","error":{"type","message"},"request_id"}`
//! - Gemini: `{"error":{"code","message","status"}}`
//! - Azure: `{"error":{"code","message"}}`, `code` the status as a string
//!
//! A 429 also carries `retry-after: 3` ([`RETRY_AFTER_SECS`]), as the providers send it.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::provider::Provider;

/// Seconds in the `retry-after` header of every 429 answer.
pub const RETRY_AFTER_SECS: u64 = 3;

/// The request id every answer carries in its provider's request-id header.
pub const REQUEST_ID: &str = "req_mock0000000000000000";

/// The exact body the mock answers `status` with, in `provider`'s shape.
pub fn error_body(provider: Provider, status: StatusCode) -> String {
    match provider {
        Provider::OpenAi => openai(status),
        Provider::Anthropic => anthropic(status),
        Provider::Gemini => gemini(status),
        Provider::Azure => azure(status),
    }
}

/// The whole error answer: status, provider headers, and `retry-after` on a 429.
pub(crate) fn error_response(provider: Provider, status: StatusCode) -> Response {
    let mut response = (
        status,
        [
            (header::CONTENT_TYPE, provider.json_content_type()),
            (
                header::HeaderName::from_static(provider.request_id_header()),
                REQUEST_ID,
            ),
        ],
        error_body(provider, status),
    )
        .into_response();
    if status == StatusCode::TOO_MANY_REQUESTS {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    }
    response
}

fn openai(status: StatusCode) -> String {
    let (message, kind, code) = match status.as_u16() {
        400 => (
            "We could not parse the JSON body of your request.",
            "invalid_request_error",
            "null",
        ),
        401 => (
            "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            "\"invalid_api_key\"",
        ),
        403 => (
            "You are not allowed to sample from this model",
            "invalid_request_error",
            "null",
        ),
        404 => (
            "The model does not exist or you do not have access to it.",
            "invalid_request_error",
            "\"model_not_found\"",
        ),
        429 => (
            "Rate limit reached for requests. Please try again in 3s.",
            "requests",
            "\"rate_limit_exceeded\"",
        ),
        503 => (
            "The engine is currently overloaded, please try again later",
            "server_error",
            "null",
        ),
        _ => (
            "The server had an error while processing your request. Sorry about that!",
            "server_error",
            "null",
        ),
    };
    format!(r#"{{"error":{{"message":"{message}","type":"{kind}","param":null,"code":{code}}}}}"#)
}

fn anthropic(status: StatusCode) -> String {
    let (kind, message) = match status.as_u16() {
        400 => ("invalid_request_error", "Invalid request body."),
        401 => ("authentication_error", "invalid x-api-key"),
        403 => (
            "permission_error",
            "Your API key does not have permission to use the specified resource.",
        ),
        404 => (
            "not_found_error",
            "The requested resource could not be found.",
        ),
        413 => (
            "request_too_large",
            "Request exceeds the maximum allowed number of bytes.",
        ),
        429 => (
            "rate_limit_error",
            "Number of request tokens has exceeded your per-minute rate limit.",
        ),
        529 => ("overloaded_error", "Overloaded"),
        _ => ("api_error", "Internal server error"),
    };
    format!(
        r#"{{"type":"error","error":{{"type":"{kind}","message":"{message}"}},"request_id":"{REQUEST_ID}"}}"#
    )
}

fn azure(status: StatusCode) -> String {
    let message = match status.as_u16() {
        401 => {
            "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."
        }
        404 => "Resource not found",
        429 => {
            "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 3 seconds."
        }
        400 => "Could not parse the JSON body of your request.",
        _ => "The server had an error processing your request.",
    };
    let code = status.as_u16();
    format!(r#"{{"error":{{"code":"{code}","message":"{message}"}}}}"#)
}

fn gemini(status: StatusCode) -> String {
    let (rpc_status, message) = match status.as_u16() {
        400 => ("INVALID_ARGUMENT", "Invalid JSON payload received."),
        401 => (
            "UNAUTHENTICATED",
            "API key not valid. Please pass a valid API key.",
        ),
        403 => ("PERMISSION_DENIED", "The caller does not have permission"),
        404 => ("NOT_FOUND", "Requested entity was not found."),
        429 => (
            "RESOURCE_EXHAUSTED",
            "Resource has been exhausted (e.g. check quota).",
        ),
        503 => (
            "UNAVAILABLE",
            "The model is overloaded. Please try again later.",
        ),
        504 => (
            "DEADLINE_EXCEEDED",
            "Deadline expired before operation could complete.",
        ),
        _ => (
            "INTERNAL",
            "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
        ),
    };
    let code = status.as_u16();
    format!(r#"{{"error":{{"code":{code},"message":"{message}","status":"{rpc_status}"}}}}"#)
}
