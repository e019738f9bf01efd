//! One request/response exchange with an upstream over Pingora's pooled
//! connector: send the head and body, read the response head. The caller
//! reads the body and hands the connection back to the pool.

use std::time::Instant;

use bytes::Bytes;
use pingora::ErrorType;
use pingora::connectors::http::Connector;
use pingora::http::RequestHeader;
use pingora::protocols::http::client::HttpSession;
use pingora::upstreams::peer::HttpPeer;

/// Why no response head arrived.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExchangeError {
    #[error("the upstream did not answer in time")]
    Timeout,
    #[error("the upstream is unreachable: {0}")]
    Unreachable(String),
}

/// Connects (or reuses a pooled connection), sends the request and reads
/// the response header. A pooled connection the upstream closed meanwhile
/// fails before anything was processed; that case is retried once on a
/// fresh connection.
pub async fn open_exchange(
    connector: &Connector,
    peer: &HttpPeer,
    request: &RequestHeader,
    body: &Bytes,
) -> Result<HttpSession, ExchangeError> {
    let started = Instant::now();
    let mut last_error = None;
    for _ in 0..2 {
        let (mut session, reused) = connector.get_http_session(peer).await.map_err(|e| match e
            .etype()
        {
            ErrorType::ConnectTimedout => ExchangeError::Timeout,
            _ => ExchangeError::Unreachable(describe(&e)),
        })?;
        // The connector does not apply the peer's timeouts to the session;
        // without this a stalled upstream would hold the request forever.
        session.set_read_timeout(peer.options.read_timeout);
        session.set_write_timeout(peer.options.write_timeout);
        match exchange(&mut session, request, body).await {
            Ok(()) => return Ok(session),
            Err(e)
                if reused
                    && started.elapsed() < std::time::Duration::from_secs(1)
                    && !is_timeout(&e) =>
            {
                last_error = Some(e);
            }
            Err(e) => return Err(map_exchange_error(&e)),
        }
    }
    Err(
        last_error.map_or(ExchangeError::Unreachable("retry exhausted".into()), |e| {
            map_exchange_error(&e)
        }),
    )
}

async fn exchange(
    session: &mut HttpSession,
    request: &RequestHeader,
    body: &Bytes,
) -> pingora::Result<()> {
    session
        .write_request_header(Box::new(request.clone()))
        .await?;
    if !body.is_empty() {
        session.write_request_body(body.clone(), true).await?;
    }
    session.finish_request_body().await?;
    session.read_response_header().await?;
    Ok(())
}

fn is_timeout(e: &pingora::Error) -> bool {
    matches!(
        e.etype(),
        ErrorType::ReadTimedout | ErrorType::WriteTimedout | ErrorType::ConnectTimedout
    )
}

fn map_exchange_error(e: &pingora::Error) -> ExchangeError {
    if is_timeout(e) {
        ExchangeError::Timeout
    } else {
        ExchangeError::Unreachable(describe(e))
    }
}

/// The error's kind and, when the operating system refused something (no
/// file descriptor left, no local port, a reset), that cause: what an
/// operator needs to tell a full open-file table from a dead upstream.
/// Only the OS error's kind and number: no address, header or body.
fn describe(e: &pingora::Error) -> String {
    let kind = e.etype().as_str();
    match os_cause(e) {
        Some(cause) => format!("{kind}: {cause}"),
        None => kind.to_owned(),
    }
}

fn os_cause(e: &pingora::Error) -> Option<String> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e.root_cause());
    for _ in 0..MAX_CAUSE_DEPTH {
        let current = cause?;
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            return Some(match io.raw_os_error() {
                Some(code) => format!("{} (os error {code})", io.kind()),
                None => io.kind().to_string(),
            });
        }
        cause = current.source();
    }
    None
}

/// How far down an error's sources [`os_cause`] looks.
const MAX_CAUSE_DEPTH: usize = 8;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_socket_names_the_os_error_and_nothing_else() {
        let io = std::io::Error::from_raw_os_error(24);
        let inner = pingora::Error::because(ErrorType::SocketError, "failed to create socket", io);
        let e = pingora::Error::because(
            ErrorType::InternalError,
            "Fail to connect to addr: 127.0.0.1:9 secret-looking-context",
            inner,
        );
        let described = describe(&e);
        assert!(described.starts_with("InternalError: "), "{described}");
        assert!(described.contains("(os error 24)"), "{described}");
        assert!(!described.contains("127.0.0.1"), "{described}");
        assert!(!described.contains("secret"), "{described}");
    }

    #[test]
    fn an_error_without_an_os_cause_is_its_kind() {
        let e = pingora::Error::explain(ErrorType::InvalidHTTPHeader, "bad header from upstream");
        assert_eq!(describe(&e), "InvalidHTTPHeader");
    }
}
