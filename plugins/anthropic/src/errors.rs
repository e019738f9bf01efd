//! Classifying Anthropic error answers.
//!
//! Anthropic answers an empty prepaid balance with a plain 400
//! `invalid_request_error` whose message says the credit balance is too low;
//! that is the key's problem, not the request's. 529 (`overloaded_error`)
//! is a server error like any 5xx, and 403 (`permission_error`: this key may
//! not use this resource) is neither retried nor held against the key.

use ai_proxy_sdk::{ErrorClass, Header, classify, json};

/// What Anthropic's message says when a prepaid balance is used up.
const LOW_CREDIT: &str = "credit balance is too low";

/// The class of an Anthropic error answer.
pub fn classify(status: u16, headers: &[Header], body: &[u8]) -> ErrorClass {
    let error = json::parse(body);
    let field = |name: &str| {
        error
            .as_ref()
            .and_then(|e| json::str_at(e, &["error", name]))
    };
    let low_credit = field("message").is_some_and(|m| m.to_ascii_lowercase().contains(LOW_CREDIT));
    if low_credit || field("type") == Some("billing_error") {
        return ErrorClass::QuotaExhausted;
    }
    match status {
        403 => ErrorClass::Other,
        _ => classify::by_status(status, headers),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OVERLOADED: &[u8] = include_bytes!("../fixtures/error_overloaded.json");
    const CREDIT: &[u8] = include_bytes!("../fixtures/error_credit_balance.json");

    fn h(name: &str, value: &str) -> Vec<Header> {
        vec![Header {
            name: name.to_owned(),
            value: value.to_owned(),
        }]
    }

    #[test]
    fn rate_limit_429_honours_retry_after() {
        let body = br#"{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}"#;
        assert_eq!(
            classify(429, &h("retry-after", "13"), body),
            ErrorClass::RateLimited(Some(13))
        );
        assert_eq!(classify(429, &[], body), ErrorClass::RateLimited(None));
    }

    #[test]
    fn overloaded_529_is_server_error() {
        assert_eq!(classify(529, &[], OVERLOADED), ErrorClass::ServerError);
    }

    #[test]
    fn invalid_key_401_is_auth_invalid() {
        let body = br#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#;
        assert_eq!(classify(401, &[], body), ErrorClass::AuthInvalid);
    }

    #[test]
    fn permission_error_403_is_other() {
        let body = br#"{"type":"error","error":{"type":"permission_error","message":"Your API key does not have permission to use the specified resource."}}"#;
        assert_eq!(classify(403, &[], body), ErrorClass::Other);
    }

    #[test]
    fn low_credit_400_is_quota_exhausted() {
        assert_eq!(classify(400, &[], CREDIT), ErrorClass::QuotaExhausted);
    }

    #[test]
    fn billing_error_type_is_quota_exhausted() {
        let body =
            br#"{"type":"error","error":{"type":"billing_error","message":"Billing issue"}}"#;
        assert_eq!(classify(402, &[], body), ErrorClass::QuotaExhausted);
    }

    #[test]
    fn other_400_is_bad_request() {
        let body = br#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 215000 tokens > 200000 maximum"}}"#;
        assert_eq!(classify(400, &[], body), ErrorClass::BadRequest);
        assert_eq!(
            classify(413, &[], b"request_too_large"),
            ErrorClass::BadRequest
        );
    }

    #[test]
    fn server_errors_fall_back_to_status() {
        assert_eq!(classify(500, &[], br#"{"type":"error","error":{"type":"api_error","message":"Internal server error"}}"#), ErrorClass::ServerError);
        assert_eq!(
            classify(502, &[], b"<html>bad gateway</html>"),
            ErrorClass::ServerError
        );
    }
}
