//! Classifying Azure OpenAI error answers.
//!
//! Azure writes `{"error":{"code","message",...}}` where `code` is sometimes
//! the status as a string (`"429"`, `"401"`), sometimes a name
//! (`content_filter`, `DeploymentNotFound`, `insufficient_quota`). What the
//! gateway needs from it:
//! - 429: throttled; wait `retry-after` / `retry-after-ms`, or, when neither
//!   header came, the seconds the message names ("Please retry after 6
//!   seconds.");
//! - `insufficient_quota`: the subscription's quota is gone, whatever the
//!   status;
//! - 400 `content_filter`: the prompt was refused by the content filter,
//!   the client's problem, not the key's;
//! - 403 from network rules ("Virtual Network/Firewall rules"): about
//!   where the gateway runs, not the key or the request.
//!
//! Everything else falls back to the status.

use ai_proxy_sdk::{ErrorClass, Header, classify, json};

/// Codes meaning the subscription's quota or billing is the problem.
const QUOTA_CODES: [&str; 2] = ["insufficient_quota", "InsufficientQuota"];

/// The prompt or the completion tripped Azure's content filter.
pub const CONTENT_FILTER_CODE: &str = "content_filter";

/// The words before the number of seconds in a 429 message.
const RETRY_AFTER_PHRASE: &str = "retry after ";

/// The class of an Azure OpenAI error answer.
pub fn classify(status: u16, headers: &[Header], body: &[u8]) -> ErrorClass {
    let error = json::parse(body);
    let field = |name: &str| {
        error
            .as_ref()
            .and_then(|e| json::str_at(e, &["error", name]))
    };
    let code = field("code").unwrap_or_default();
    if QUOTA_CODES.contains(&code) {
        return ErrorClass::QuotaExhausted;
    }
    match status {
        429 => ErrorClass::RateLimited(
            classify::retry_after(headers).or_else(|| field("message").and_then(seconds_named)),
        ),
        400 if code == CONTENT_FILTER_CODE => ErrorClass::BadRequest,
        403 if field("message").is_some_and(|m| m.contains("Virtual Network/Firewall")) => {
            ErrorClass::Other
        }
        _ => classify::by_status(status, headers),
    }
}

/// The seconds in "... retry after N second(s) ...", if the message says so.
fn seconds_named(message: &str) -> Option<u32> {
    let lower = message.to_ascii_lowercase();
    let start = lower.find(RETRY_AFTER_PHRASE)? + RETRY_AFTER_PHRASE.len();
    let digits: String = lower[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE_LIMIT: &[u8] = include_bytes!("../fixtures/error_rate_limit.json");
    const CONTENT_FILTER: &[u8] = include_bytes!("../fixtures/error_content_filter.json");

    fn h(name: &str, value: &str) -> Vec<Header> {
        vec![Header {
            name: name.to_owned(),
            value: value.to_owned(),
        }]
    }

    #[test]
    fn rate_limit_429_honours_retry_after_headers() {
        assert_eq!(
            classify(429, &h("retry-after", "6"), RATE_LIMIT),
            ErrorClass::RateLimited(Some(6))
        );
        assert_eq!(
            classify(429, &h("retry-after-ms", "5200"), RATE_LIMIT),
            ErrorClass::RateLimited(Some(6))
        );
    }

    #[test]
    fn rate_limit_429_without_headers_reads_the_message() {
        assert_eq!(
            classify(429, &[], RATE_LIMIT),
            ErrorClass::RateLimited(Some(6))
        );
        assert_eq!(
            classify(
                429,
                &[],
                br#"{"error":{"code":"429","message":"Too many"}}"#
            ),
            ErrorClass::RateLimited(None)
        );
        assert_eq!(classify(429, &[], b""), ErrorClass::RateLimited(None));
    }

    #[test]
    fn content_filter_400_is_bad_request() {
        assert_eq!(classify(400, &[], CONTENT_FILTER), ErrorClass::BadRequest);
    }

    #[test]
    fn invalid_key_401_is_auth_invalid() {
        let body = br#"{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."}}"#;
        assert_eq!(classify(401, &[], body), ErrorClass::AuthInvalid);
    }

    #[test]
    fn insufficient_quota_is_quota_exhausted_whatever_the_status() {
        let body = br#"{"error":{"code":"insufficient_quota","message":"You exceeded your current quota."}}"#;
        assert_eq!(classify(429, &[], body), ErrorClass::QuotaExhausted);
        assert_eq!(classify(403, &[], body), ErrorClass::QuotaExhausted);
    }

    #[test]
    fn deployment_not_found_404_is_bad_request() {
        let body = br#"{"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist."}}"#;
        assert_eq!(classify(404, &[], body), ErrorClass::BadRequest);
    }

    #[test]
    fn firewall_403_is_other() {
        let body = br#"{"error":{"code":"403","message":"Access denied due to Virtual Network/Firewall rules."}}"#;
        assert_eq!(classify(403, &[], body), ErrorClass::Other);
        assert_eq!(classify(403, &[], b"{}"), ErrorClass::BadRequest);
    }

    #[test]
    fn server_errors_and_non_json_bodies_fall_back_to_status() {
        assert_eq!(
            classify(500, &[], br#"{"error":{"code":"InternalServerError"}}"#),
            ErrorClass::ServerError
        );
        assert_eq!(
            classify(503, &[], b"<html>unavailable</html>"),
            ErrorClass::ServerError
        );
        assert_eq!(classify(408, &[], b""), ErrorClass::ServerError);
    }

    #[test]
    fn seconds_named_needs_digits_after_the_phrase() {
        assert_eq!(seconds_named("Please retry after 12 seconds."), Some(12));
        assert_eq!(seconds_named("Please Retry After a while"), None);
        assert_eq!(seconds_named("no hint"), None);
    }
}
