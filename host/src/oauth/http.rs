//! The HTTP client the OAuth library talks to token endpoints with: the
//! gateway's own egress path (resolution checked against the egress
//! policy, Pingora's connector, TLS verified), a deadline, and a cap on
//! the answer's size. Nothing here logs a request or answer body: both
//! carry secrets.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use pingora::http::RequestHeader;
use pingora::upstreams::peer::HttpPeer;

use crate::egress::exchange::open_exchange;
use crate::egress::{Connector, Resolver};

/// Longest a token request may take, connection included.
pub const TOKEN_REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// Largest token endpoint answer read.
pub const MAX_TOKEN_RESPONSE_BYTES: usize = 64 * 1024;

/// Why a token endpoint gave no usable HTTP answer.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("token URL is not an absolute http(s) URL")]
    BadUrl,
    #[error("token endpoint refused by the egress policy or unresolvable: {0}")]
    Egress(String),
    #[error("token endpoint unreachable: {0}")]
    Unreachable(String),
    #[error("token endpoint did not answer within {0:?}")]
    Timeout(Duration),
    #[error("token endpoint answer is larger than {MAX_TOKEN_RESPONSE_BYTES} bytes")]
    TooLarge,
}

/// Sends OAuth requests through the egress path.
#[derive(Clone)]
pub struct EgressHttp {
    resolver: Arc<Resolver>,
    connector: Arc<Connector>,
}

impl EgressHttp {
    /// Requests through `resolver` and `connector` (the core's).
    pub fn new(resolver: Arc<Resolver>, connector: Arc<Connector>) -> EgressHttp {
        EgressHttp {
            resolver,
            connector,
        }
    }

    /// One request and its whole answer.
    pub async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, HttpError> {
        tokio::time::timeout(TOKEN_REQUEST_TIMEOUT, self.exchange(request))
            .await
            .map_err(|_| HttpError::Timeout(TOKEN_REQUEST_TIMEOUT))?
    }

    async fn exchange(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, HttpError> {
        let (parts, body) = request.into_parts();
        let uri = &parts.uri;
        let tls = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(HttpError::BadUrl),
        };
        let host = uri.host().ok_or(HttpError::BadUrl)?;
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let addr = self
            .resolver
            .resolve(host.trim_start_matches('[').trim_end_matches(']'), port)
            .await
            .map_err(|e| HttpError::Egress(e.to_string()))?;
        let mut peer = HttpPeer::new(addr, tls, host.to_owned());
        peer.options.connection_timeout = Some(TOKEN_REQUEST_TIMEOUT);
        peer.options.read_timeout = Some(TOKEN_REQUEST_TIMEOUT);
        peer.options.write_timeout = Some(TOKEN_REQUEST_TIMEOUT);
        peer.options.verify_cert = true;
        peer.options.verify_hostname = true;

        let target = uri.path_and_query().map_or("/", |p| p.as_str());
        let mut head = RequestHeader::build(parts.method.as_str(), target.as_bytes(), None)
            .map_err(|_| HttpError::BadUrl)?;
        for (name, value) in &parts.headers {
            let _ = head.append_header(name.clone(), value.clone());
        }
        let authority = uri.authority().map_or(host, |a| a.as_str()).to_owned();
        let _ = head.insert_header("host", authority);
        let _ = head.insert_header("content-length", body.len().to_string());

        let (answer, mut upstream) =
            open_exchange(&self.connector, &peer, &head, &Bytes::from(body))
                .await
                .map_err(|e| HttpError::Unreachable(e.to_string()))?;
        let mut bytes = Vec::new();
        loop {
            match upstream.read().await {
                Ok(Some(chunk)) => {
                    if bytes.len() + chunk.len() > MAX_TOKEN_RESPONSE_BYTES {
                        return Err(HttpError::TooLarge);
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return Err(HttpError::Unreachable(e.code().to_owned())),
            }
        }
        let mut response = http::Response::builder().status(answer.status);
        for (name, value) in &answer.headers {
            response = response.header(name, value);
        }
        response
            .body(bytes)
            .map_err(|_| HttpError::Unreachable("malformed response".into()))
    }
}
