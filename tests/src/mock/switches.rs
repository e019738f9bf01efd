//! Per-request behaviour switches, so one mock serves many tests at once.
//!
//! Read before any answer is built, in this order:
//! 1. `x-mock-status: NNN` (400–599) answers that status with the provider's error body.
//! 2. The upstream credential (see [`Provider`]) starting with `mock-429`, `mock-500` or
//!    `mock-401` answers that status; `mock-hang` never answers (sleeps [`HANG`]). A
//!    credential that is a JWT (an OAuth access token) past its `exp` answers 401, as a
//!    provider does for an expired token.
//!    Gateways swap the client's key for the upstream key, so this is how a test behind
//!    a gateway steers the mock.
//! 3. Otherwise the request is answered normally, paced by `x-mock-delay-ms: N` (sleep
//!    between stream events) and cut by `x-mock-abort-after: N` (a stream ends with a
//!    broken body after N events).
//!
//! With no switch set this costs a few header look-ups and no allocation.

use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};

use super::provider::{Provider, header};

/// How long a `mock-hang` request waits before the mock gives up on it.
pub const HANG: Duration = Duration::from_secs(3600);

/// Header that forces an error status.
pub const STATUS_HEADER: &str = "x-mock-status";
/// Header that sets the pause between stream events, in milliseconds.
pub const DELAY_HEADER: &str = "x-mock-delay-ms";
/// Header that breaks a stream after this many events.
pub const ABORT_AFTER_HEADER: &str = "x-mock-abort-after";

/// How a normal answer's stream is paced.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Pacing {
    /// Pause before every event but the first.
    pub delay: Option<Duration>,
    /// Events sent before the body fails.
    pub abort_after: Option<usize>,
}

/// Applies the switches: `Ok` to answer normally with this pacing, `Err` with the error
/// status to answer instead, in `provider`'s error shape (after sleeping, for a hang).
pub(crate) async fn apply(
    provider: Provider,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<Pacing, StatusCode> {
    if let Some(status) = forced_status(headers) {
        return Err(status);
    }
    if let Some(key) = provider.credential(headers, query) {
        if key.starts_with("mock-hang") {
            tokio::time::sleep(HANG).await;
            return Err(StatusCode::GATEWAY_TIMEOUT);
        }
        if let Some(status) = key_status(key) {
            return Err(status);
        }
        if jwt_expired(key) {
            return Err(StatusCode::UNAUTHORIZED);
        }
    }
    Ok(Pacing {
        delay: header(headers, DELAY_HEADER)
            .and_then(|ms| ms.parse().ok())
            .map(Duration::from_millis),
        abort_after: header(headers, ABORT_AFTER_HEADER).and_then(|n| n.parse().ok()),
    })
}

fn forced_status(headers: &HeaderMap) -> Option<StatusCode> {
    let code: u16 = header(headers, STATUS_HEADER)?.trim().parse().ok()?;
    StatusCode::from_u16(code)
        .ok()
        .filter(|status| status.is_client_error() || status.is_server_error())
}

fn key_status(key: &str) -> Option<StatusCode> {
    if key.starts_with("mock-429") {
        Some(StatusCode::TOO_MANY_REQUESTS)
    } else if key.starts_with("mock-500") {
        Some(StatusCode::INTERNAL_SERVER_ERROR)
    } else if key.starts_with("mock-401") {
        Some(StatusCode::UNAUTHORIZED)
    } else {
        None
    }
}

/// Whether `key` is a JWT whose `exp` (seconds since the epoch) has passed.
fn jwt_expired(key: &str) -> bool {
    use base64::Engine;
    let mut parts = key.split('.');
    let (Some(_), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload) else {
        return false;
    };
    let exp = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|claims| claims.get("exp").and_then(serde_json::Value::as_i64));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    exp.is_some_and(|exp| exp <= now)
}

#[cfg(test)]
mod jwt_tests {
    use super::jwt_expired;
    use base64::Engine;

    fn jwt(exp: i64) -> String {
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!(
            "{}.{}.sig",
            b64(r#"{"alg":"RS256"}"#),
            b64(&format!(r#"{{"exp":{exp}}}"#))
        )
    }

    #[test]
    fn only_jwts_past_their_expiry_are_expired() {
        assert!(jwt_expired(&jwt(1)));
        assert!(!jwt_expired(&jwt(i64::from(i32::MAX))));
        assert!(!jwt_expired("sk-plain-key"));
        assert!(!jwt_expired("a.b.c"));
    }
}
