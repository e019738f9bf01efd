//! Default error classification from the status code and `retry-after`.

use crate::{ErrorClass, Header, http};

/// The class most providers mean by `status`: 429 rate-limited (with
/// `retry-after` seconds), 401 auth-invalid, 402 quota-exhausted, other 4xx
/// bad-request, 408 and 5xx server-error.
pub fn by_status(status: u16, headers: &[Header]) -> ErrorClass {
    match status {
        429 => ErrorClass::RateLimited(retry_after(headers)),
        401 => ErrorClass::AuthInvalid,
        402 => ErrorClass::QuotaExhausted,
        408 => ErrorClass::ServerError,
        400..=499 => ErrorClass::BadRequest,
        500..=599 => ErrorClass::ServerError,
        _ => ErrorClass::Other,
    }
}

/// Seconds from `retry-after` (delta-seconds form) or `retry-after-ms`,
/// rounded up.
pub fn retry_after(headers: &[Header]) -> Option<u32> {
    if let Some(ms) =
        http::header(headers, "retry-after-ms").and_then(|v| v.trim().parse::<f64>().ok())
    {
        return Some((ms / 1000.0).ceil().clamp(0.0, f64::from(u32::MAX)) as u32);
    }
    let secs = http::header(headers, "retry-after")?
        .trim()
        .parse::<f64>()
        .ok()?;
    Some(secs.ceil().clamp(0.0, f64::from(u32::MAX)) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(name: &str, value: &str) -> Vec<Header> {
        vec![Header {
            name: name.into(),
            value: value.into(),
        }]
    }

    #[test]
    fn statuses_map_to_classes() {
        assert_eq!(
            by_status(429, &h("retry-after", "7")),
            ErrorClass::RateLimited(Some(7))
        );
        assert_eq!(by_status(429, &[]), ErrorClass::RateLimited(None));
        assert_eq!(by_status(401, &[]), ErrorClass::AuthInvalid);
        assert_eq!(by_status(404, &[]), ErrorClass::BadRequest);
        assert_eq!(by_status(503, &[]), ErrorClass::ServerError);
    }

    #[test]
    fn retry_after_ms_rounds_up() {
        assert_eq!(retry_after(&h("Retry-After-Ms", "1500")), Some(2));
        assert_eq!(
            retry_after(&h("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")),
            None
        );
    }
}
