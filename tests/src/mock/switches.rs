//! Per-request behaviour switches, so one mock serves many tests at once.
//!
//! Read before any answer is built, in this order:
//! 0. `x-mock-fail: reset`, or an upstream credential starting with `mock-reset`: the
//!    request is read, then the connection closed without a byte of answer (no status
//!    line), as an upstream that drops or resets the connection would ([`reset`]).
//! 1. `x-mock-status: NNN` (400–599) answers that status with the provider's error body.
//! 2. The upstream credential (see [`Provider`]) starting with `mock-429`, `mock-500` or
//!    `mock-401` answers that status; `mock-hang` never answers (sleeps [`HANG`]). A
//!    credential that is a JWT (an OAuth access token) past its `exp` answers 401, as a
//!    provider does for an expired token.
//!    Gateways swap the client's key for the upstream key, so this is how a test behind
//!    a gateway steers the mock.
//! 3. Otherwise the request is answered normally, after `x-mock-head-delay-ms: N` (sleep
//!    N ms before the answer's head: a long completion that is not streamed), paced by
//!    `x-mock-delay-ms: N` (sleep
//!    between stream events) and cut by `x-mock-abort-after: N` (a stream ends with a
//!    broken body after N events). `x-mock-repeat: N` makes OpenAI chat, Anthropic and
//!    Gemini (`alt=sse`) streams N times longer: every text delta is sent N times over;
//!    OpenAI and Anthropic report N times [`COMPLETION_TOKENS`](super::COMPLETION_TOKENS)
//!    output tokens, Gemini's running usage still ends at it. `x-mock-no-usage: 1` makes
//!    an OpenAI chat completion (JSON) report `"usage":null`.
//!
//! With no switch set this costs a few header look-ups and no allocation.

use std::io;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use futures_util::stream;

use super::provider::{Provider, header};
use super::recording::MAX_BODY_BYTES;

/// How long a `mock-hang` request waits before the mock gives up on it.
pub const HANG: Duration = Duration::from_secs(3600);

/// Header that makes the mock close the connection instead of answering (`reset`).
pub const FAIL_HEADER: &str = "x-mock-fail";
/// Upstream credential prefix with the same effect as `x-mock-fail: reset`.
pub const RESET_KEY_PREFIX: &str = "mock-reset";

/// Header that forces an error status.
pub const STATUS_HEADER: &str = "x-mock-status";
/// Header that sets the pause between stream events, in milliseconds.
pub const DELAY_HEADER: &str = "x-mock-delay-ms";
/// Header that delays the answer's head, in milliseconds.
pub const HEAD_DELAY_HEADER: &str = "x-mock-head-delay-ms";
/// Header that breaks a stream after this many events.
pub const ABORT_AFTER_HEADER: &str = "x-mock-abort-after";
/// Header that repeats a stream's text deltas this many times.
pub const REPEAT_HEADER: &str = "x-mock-repeat";
/// Header that makes an OpenAI chat completion (JSON) report `"usage":null`,
/// as an endpoint that reports no usage would.
pub const NO_USAGE_HEADER: &str = "x-mock-no-usage";
/// Most repeats honoured (larger values are clamped).
pub const MAX_REPEAT: usize = 10_000;

/// How a normal answer's stream is paced.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Pacing {
    /// Pause before every event but the first.
    pub delay: Option<Duration>,
    /// Events sent before the body fails.
    pub abort_after: Option<usize>,
    /// Times each text delta of a stream is sent (1 when unset).
    pub repeat: usize,
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
    if let Some(ms) = header(headers, HEAD_DELAY_HEADER).and_then(|ms| ms.parse().ok()) {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    Ok(Pacing {
        delay: header(headers, DELAY_HEADER)
            .and_then(|ms| ms.parse().ok())
            .map(Duration::from_millis),
        abort_after: header(headers, ABORT_AFTER_HEADER).and_then(|n| n.parse().ok()),
        repeat: header(headers, REPEAT_HEADER)
            .and_then(|n| n.parse::<usize>().ok())
            .map_or(1, |n| n.clamp(1, MAX_REPEAT)),
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

/// Middleware for every provider route: answers a request that asks for a reset with a
/// connection closed after reading it. The answer's body fails before its first byte,
/// which makes hyper drop the connection without writing the response head (checked by
/// `tests/tests/mock_wire.rs`).
pub(crate) async fn reset(request: Request, next: Next) -> Response {
    if !wants_reset(request.headers(), request.uri().query()) {
        return next.run(request).await;
    }
    let _ = axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES).await;
    let failed = stream::once(async {
        Err::<Bytes, _>(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "x-mock-fail: reset",
        ))
    });
    Response::new(Body::from_stream(failed))
}

fn wants_reset(headers: &HeaderMap, query: Option<&str>) -> bool {
    if header(headers, FAIL_HEADER).is_some_and(|v| v.trim().eq_ignore_ascii_case("reset")) {
        return true;
    }
    [
        Provider::OpenAi,
        Provider::Anthropic,
        Provider::Gemini,
        Provider::Azure,
    ]
    .iter()
    .filter_map(|provider| provider.credential(headers, query))
    .any(|key| key.starts_with(RESET_KEY_PREFIX))
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
