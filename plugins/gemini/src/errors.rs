//! Classifying Gemini error answers.
//!
//! Google errors are `{"error": {"code", "message", "status", "details"}}`
//! (inside a one-element array for `streamGenerateContent` without
//! `alt=sse`). A 429 `RESOURCE_EXHAUSTED` says how long to wait in a
//! `google.rpc.RetryInfo` detail (`"retryDelay": "12s"`), preferred over
//! `retry-after`. A bad key is a 400, not a 401: `API_KEY_INVALID` (or
//! "API key not valid" / "API key expired"), and a key that cannot be used
//! from the gateway's location is a 400 `FAILED_PRECONDITION`; both take the
//! key out of rotation.

use ai_proxy_sdk::{ErrorClass, Header, classify, json};
use serde_json::Value;

/// Message fragments that mean the key itself is bad.
const BAD_KEY_MESSAGES: [&str; 2] = ["API key not valid", "API key expired"];

/// The class of a Gemini error answer.
pub fn classify(status: u16, headers: &[Header], body: &[u8]) -> ErrorClass {
    let parsed = json::parse(body);
    let error = parsed.as_ref().and_then(error_object);
    match status {
        429 => ErrorClass::RateLimited(
            error
                .and_then(retry_delay)
                .or_else(|| classify::retry_after(headers)),
        ),
        400 if error.is_some_and(names_bad_key) => ErrorClass::AuthInvalid,
        401 | 403 => ErrorClass::AuthInvalid,
        _ => classify::by_status(status, headers),
    }
}

/// The `error` object of a body, bare or in an array.
fn error_object(body: &Value) -> Option<&Value> {
    match body {
        Value::Array(items) => items.first()?.get("error"),
        _ => body.get("error"),
    }
}

/// Whether an error blames the key or the key's location.
fn names_bad_key(error: &Value) -> bool {
    let message = json::str_at(error, &["message"]).unwrap_or_default();
    json::str_at(error, &["status"]) == Some("FAILED_PRECONDITION")
        || BAD_KEY_MESSAGES.iter().any(|m| message.contains(m))
        || details(error).any(|d| json::str_at(d, &["reason"]) == Some("API_KEY_INVALID"))
}

/// Whole seconds (rounded up) from a `RetryInfo` detail's `retryDelay`.
fn retry_delay(error: &Value) -> Option<u32> {
    let delay = details(error).find_map(|d| json::str_at(d, &["retryDelay"]))?;
    let seconds = delay.trim().strip_suffix('s')?.parse::<f64>().ok()?;
    seconds
        .is_finite()
        .then(|| seconds.ceil().clamp(0.0, f64::from(u32::MAX)) as u32)
}

/// The entries of `error.details`.
fn details(error: &Value) -> impl Iterator<Item = &Value> {
    error
        .get("details")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE_LIMITED: &[u8] = include_bytes!("../fixtures/error_rate_limited.json");
    const BAD_KEY: &[u8] = include_bytes!("../fixtures/error_api_key_invalid.json");

    fn h(name: &str, value: &str) -> Vec<Header> {
        vec![Header {
            name: name.to_owned(),
            value: value.to_owned(),
        }]
    }

    #[test]
    fn resource_exhausted_429_takes_retry_delay_from_details() {
        assert_eq!(
            classify(429, &h("retry-after", "60"), RATE_LIMITED),
            ErrorClass::RateLimited(Some(12))
        );
    }

    #[test]
    fn fractional_retry_delay_rounds_up() {
        let body = br#"{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"0.250s"}]}}"#;
        assert_eq!(classify(429, &[], body), ErrorClass::RateLimited(Some(1)));
    }

    #[test]
    fn resource_exhausted_429_without_retry_info_uses_retry_after() {
        let body = br#"{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}"#;
        assert_eq!(
            classify(429, &h("retry-after", "30"), body),
            ErrorClass::RateLimited(Some(30))
        );
        assert_eq!(classify(429, &[], body), ErrorClass::RateLimited(None));
    }

    #[test]
    fn error_inside_an_array_is_read() {
        let body = br#"[{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"retryDelay":"7s"}]}}]"#;
        assert_eq!(classify(429, &[], body), ErrorClass::RateLimited(Some(7)));
    }

    #[test]
    fn api_key_invalid_400_is_auth_invalid() {
        assert_eq!(classify(400, &[], BAD_KEY), ErrorClass::AuthInvalid);
        let expired = br#"{"error":{"code":400,"message":"API key expired. Please renew the API key.","status":"INVALID_ARGUMENT"}}"#;
        assert_eq!(classify(400, &[], expired), ErrorClass::AuthInvalid);
    }

    #[test]
    fn failed_precondition_400_is_auth_invalid() {
        let body = br#"{"error":{"code":400,"message":"User location is not supported for the API use.","status":"FAILED_PRECONDITION"}}"#;
        assert_eq!(classify(400, &[], body), ErrorClass::AuthInvalid);
    }

    #[test]
    fn other_invalid_argument_400_is_bad_request() {
        let body = br#"{"error":{"code":400,"message":"* GenerateContentRequest.contents: contents is not specified","status":"INVALID_ARGUMENT"}}"#;
        assert_eq!(classify(400, &[], body), ErrorClass::BadRequest);
        assert_eq!(classify(400, &[], b"not json"), ErrorClass::BadRequest);
    }

    #[test]
    fn unauthenticated_and_permission_denied_are_auth_invalid() {
        let denied = br#"{"error":{"code":403,"message":"Permission denied: Consumer 'api_key:AIza...' has been suspended.","status":"PERMISSION_DENIED"}}"#;
        assert_eq!(classify(403, &[], denied), ErrorClass::AuthInvalid);
        assert_eq!(classify(401, &[], b""), ErrorClass::AuthInvalid);
    }

    #[test]
    fn not_found_is_bad_request_and_5xx_is_server_error() {
        let body = br#"{"error":{"code":404,"message":"models/gemini-9 is not found for API version v1beta","status":"NOT_FOUND"}}"#;
        assert_eq!(classify(404, &[], body), ErrorClass::BadRequest);
        let overloaded = br#"{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}"#;
        assert_eq!(classify(503, &[], overloaded), ErrorClass::ServerError);
        assert_eq!(
            classify(500, &[], br#"{"error":{"code":500,"status":"INTERNAL"}}"#),
            ErrorClass::ServerError
        );
    }
}
