//! `POST /api/gateway/test-request`: the console's "send a test request"
//! for a client key it has just shown. The browser cannot call the proxy
//! itself (another origin, and the proxy answers no CORS preflight), so
//! the admin API sends one `GET` of a model listing to this instance's
//! proxy over loopback, with the key as a bearer token, and answers the
//! status and the request id; the console then finds the trace by that id.
//!
//! Only listing paths are sent ([`TEST_PATHS`]): they cost nothing at the
//! upstream and change nothing. Nothing of the answer but its status and
//! request id is returned, so the endpoint tells a caller no more than the
//! proxy itself would.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use axum::extract::State;
use axum::{Extension, Json};
use bytes::Bytes;
use pingora::http::RequestHeader;
use pingora::upstreams::peer::HttpPeer;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Caller;
use super::json::ApiJson;
use super::openapi::{self, BadRequest, Unauthorized};
use super::{AdminState, ApiError};
use crate::egress::exchange::open_exchange;

/// The paths a test request may ask for: the model listings of the
/// OpenAI and Anthropic dialects, and of Gemini.
pub const TEST_PATHS: &[&str] = &["/v1/models", "/v1beta/models"];

/// Longest client key accepted, in bytes (the gateway's are 68).
pub const MAX_TEST_KEY_BYTES: usize = 512;

/// How long the proxy may take to answer the test request.
const TEST_TIMEOUT: Duration = Duration::from_secs(15);

/// The key to test and the listing to ask for.
#[derive(Deserialize, ToSchema)]
pub struct TestRequest {
    /// A client key (or a token from `POST /oauth/token`).
    key: String,
    /// One of `/v1/models`, `/v1beta/models`.
    path: String,
}

/// What the proxy answered.
#[derive(Serialize, ToSchema)]
pub struct TestAnswer {
    /// The proxy's HTTP status.
    status: u16,
    /// The `x-request-id` of the answer: `q=` of `GET /api/logs/traces` finds its trace.
    request_id: Option<String>,
}

/// Checks the body; the key must be a header-safe token.
fn check(body: &TestRequest) -> Result<(), ApiError> {
    if !TEST_PATHS.contains(&body.path.as_str()) {
        return Err(ApiError::BadRequest(format!(
            "path must be one of {}",
            TEST_PATHS.join(", ")
        )));
    }
    let key = body.key.as_bytes();
    if key.is_empty() || key.len() > MAX_TEST_KEY_BYTES || !key.iter().all(u8::is_ascii_graphic) {
        return Err(ApiError::BadRequest(format!(
            "key must be 1 to {MAX_TEST_KEY_BYTES} visible ASCII characters"
        )));
    }
    Ok(())
}

/// Where to reach this instance's proxy: its listen address, loopback
/// when it listens on every address.
pub fn loopback(addr: SocketAddr) -> SocketAddr {
    let ip = match addr.ip() {
        ip if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, addr.port())
}

#[utoipa::path(
    post,
    path = "/api/gateway/test-request",
    tag = openapi::TAG_CLIENT_KEYS,
    request_body = TestRequest,
    responses((status = 200, body = TestAnswer), BadRequest, Unauthorized,
        (status = 502, description = "The proxy did not answer")),
)]
pub async fn test_request(
    State(state): State<AdminState>,
    Extension(_caller): Extension<Caller>,
    ApiJson(body): ApiJson<TestRequest>,
) -> Result<Json<TestAnswer>, ApiError> {
    check(&body)?;
    let addr = loopback(state.proxy_addr);
    let tls = state.proxy_endpoint.proxy_tls;
    let mut peer = HttpPeer::new(addr, tls, "localhost".to_owned());
    peer.options.connection_timeout = Some(TEST_TIMEOUT);
    peer.options.read_timeout = Some(TEST_TIMEOUT);
    peer.options.write_timeout = Some(TEST_TIMEOUT);
    // Our own proxy over loopback: its certificate names the public host.
    peer.options.verify_cert = false;
    peer.options.verify_hostname = false;
    let unreachable =
        |_| ApiError::Upstream("the proxy did not answer".into(), "proxy_unreachable");
    let mut head = RequestHeader::build("GET", body.path.as_bytes(), None).map_err(unreachable)?;
    let _ = head.insert_header("host", addr.to_string());
    let _ = head.insert_header("authorization", format!("Bearer {}", body.key));
    let (answer, _body) = open_exchange(&state.connector, &peer, &head, &Bytes::new())
        .await
        .map_err(|_| ApiError::Upstream("the proxy did not answer".into(), "proxy_unreachable"))?;
    let request_id = answer
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Ok(Json(TestAnswer {
        status: answer.status.as_u16(),
        request_id,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(key: &str, path: &str) -> TestRequest {
        TestRequest {
            key: key.into(),
            path: path.into(),
        }
    }

    #[test]
    fn only_listing_paths_are_sent() {
        assert!(check(&req("aip-x", "/v1/models")).is_ok());
        assert!(check(&req("aip-x", "/v1beta/models")).is_ok());
        for path in [
            "/v1/chat/completions",
            "/v1/models/../files",
            "",
            "http://evil/v1/models",
        ] {
            assert!(check(&req("aip-x", path)).is_err(), "{path}");
        }
    }

    #[test]
    fn the_key_is_a_bounded_header_safe_token() {
        assert!(check(&req(&"k".repeat(MAX_TEST_KEY_BYTES), "/v1/models")).is_ok());
        assert!(check(&req(&"k".repeat(MAX_TEST_KEY_BYTES + 1), "/v1/models")).is_err());
        for key in ["", "a b", "a\r\nx-evil: 1", "ключ"] {
            assert!(check(&req(key, "/v1/models")).is_err(), "{key:?}");
        }
    }

    #[test]
    fn an_unspecified_listen_address_is_reached_over_loopback() {
        let any: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert_eq!(loopback(any), "127.0.0.1:8080".parse().unwrap());
        let v6: SocketAddr = "[::]:8080".parse().unwrap();
        assert_eq!(loopback(v6), "127.0.0.1:8080".parse().unwrap());
        let bound: SocketAddr = "10.1.2.3:9000".parse().unwrap();
        assert_eq!(loopback(bound), bound);
    }
}
