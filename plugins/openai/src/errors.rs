//! Classifying OpenAI error answers.
//!
//! OpenAI answers both throttling and an exhausted balance with 429; only
//! the body's `error.code` (or `error.type`) tells them apart:
//! `insufficient_quota` means the key's credit is gone, not that it should
//! slow down. A 403 `unsupported_country_region_territory` is about where
//! the gateway runs, not about the key or the request.

use ai_proxy_sdk::{ErrorClass, Header, classify, json};

/// Error codes meaning the account's balance or billing is the problem.
const QUOTA_CODES: [&str; 3] = [
    "insufficient_quota",
    "billing_hard_limit_reached",
    "billing_not_active",
];

/// The gateway's region is not served by OpenAI.
const REGION_CODE: &str = "unsupported_country_region_territory";

/// The class of an OpenAI error answer.
pub fn classify(status: u16, headers: &[Header], body: &[u8]) -> ErrorClass {
    let error = json::parse(body);
    let field = |name: &str| {
        error
            .as_ref()
            .and_then(|e| json::str_at(e, &["error", name]))
    };
    let has_code = |codes: &[&str]| {
        [field("code"), field("type")]
            .into_iter()
            .flatten()
            .any(|c| codes.contains(&c))
    };
    if has_code(&QUOTA_CODES) {
        return ErrorClass::QuotaExhausted;
    }
    if status == 403 && has_code(&[REGION_CODE]) {
        return ErrorClass::Other;
    }
    classify::by_status(status, headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUOTA: &[u8] = include_bytes!("../fixtures/error_insufficient_quota.json");

    fn h(name: &str, value: &str) -> Vec<Header> {
        vec![Header {
            name: name.to_owned(),
            value: value.to_owned(),
        }]
    }

    #[test]
    fn rate_limit_429_honours_retry_after() {
        let body = br#"{"error":{"message":"Rate limit reached for gpt-4o","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#;
        assert_eq!(
            classify(429, &h("retry-after", "20"), body),
            ErrorClass::RateLimited(Some(20))
        );
        assert_eq!(
            classify(429, &h("retry-after-ms", "250"), body),
            ErrorClass::RateLimited(Some(1))
        );
        assert_eq!(classify(429, &[], body), ErrorClass::RateLimited(None));
    }

    #[test]
    fn insufficient_quota_429_is_quota_exhausted() {
        assert_eq!(
            classify(429, &h("retry-after", "20"), QUOTA),
            ErrorClass::QuotaExhausted
        );
    }

    #[test]
    fn insufficient_quota_in_type_only_is_quota_exhausted() {
        let body = br#"{"error":{"message":"quota","type":"insufficient_quota","code":null}}"#;
        assert_eq!(classify(429, &[], body), ErrorClass::QuotaExhausted);
    }

    #[test]
    fn billing_hard_limit_400_is_quota_exhausted() {
        let body = br#"{"error":{"code":"billing_hard_limit_reached","message":"Billing hard limit has been reached","param":null,"type":"invalid_request_error"}}"#;
        assert_eq!(classify(400, &[], body), ErrorClass::QuotaExhausted);
    }

    #[test]
    fn invalid_key_401_is_auth_invalid() {
        let body = br#"{"error":{"message":"Incorrect API key provided: sk-proj-********abcd.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#;
        assert_eq!(classify(401, &[], body), ErrorClass::AuthInvalid);
    }

    #[test]
    fn unsupported_region_403_is_other() {
        let body = br#"{"error":{"code":"unsupported_country_region_territory","message":"Country, region, or territory not supported","param":null,"type":"request_forbidden"}}"#;
        assert_eq!(classify(403, &[], body), ErrorClass::Other);
    }

    #[test]
    fn context_length_400_is_bad_request() {
        let body = br#"{"error":{"message":"This model's maximum context length is 128000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#;
        assert_eq!(classify(400, &[], body), ErrorClass::BadRequest);
        assert_eq!(
            classify(404, &[], br#"{"error":{"code":"model_not_found"}}"#),
            ErrorClass::BadRequest
        );
    }

    #[test]
    fn server_errors_and_non_json_bodies_fall_back_to_status() {
        assert_eq!(
            classify(500, &[], b"<html>oops</html>"),
            ErrorClass::ServerError
        );
        assert_eq!(
            classify(
                503,
                &[],
                br#"{"error":{"message":"The engine is currently overloaded"}}"#
            ),
            ErrorClass::ServerError
        );
        assert_eq!(classify(403, &[], b""), ErrorClass::BadRequest);
    }
}
