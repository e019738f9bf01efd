//! One request/response exchange with an upstream over the pooled
//! connections of Pingora's transport connector: send the head and body,
//! read the response head (past any informational one). The caller reads
//! the body ([`UpstreamBody`]) and hands the connection back to the pool.
//!
//! HTTP/1.1 is written and read here rather than by Pingora's client
//! session, whose body buffer an open stream would keep (see
//! [`super::upstream_body`]).

use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};
use pingora::ErrorType;
use pingora::http::{RequestHeader, ResponseHeader};
use pingora::protocols::Stream;
use pingora::protocols::http::v1::client::http_req_header_to_wire;
use pingora::upstreams::peer::HttpPeer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::Connector;
use super::response_head::{HeadError, informational, parse};
use super::upstream_body::UpstreamBody;

/// What a read of the response head asks for at a time.
const HEAD_READ_BYTES: usize = 4 * 1024;
/// A request body up to this size goes out in one write with its head.
const COALESCED_BODY_BYTES: usize = 64 * 1024;

/// Why no response head arrived.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExchangeError {
    #[error("the upstream did not answer in time")]
    Timeout,
    #[error("the upstream is unreachable: {0}")]
    Unreachable(String),
}

/// How one exchange on one connection failed.
#[derive(Debug)]
enum Failure {
    Timeout,
    /// The request head cannot be written (a forbidden byte in its target).
    Request,
    Io(&'static str, std::io::Error),
    /// The upstream closed the connection before a whole head.
    Closed,
    Head(HeadError),
}

/// Connects (or reuses a pooled connection), sends the request and reads
/// the response head. A pooled connection the upstream closed meanwhile
/// fails before anything was processed; that case is retried once on a
/// fresh connection.
pub async fn open_exchange(
    connector: &Connector,
    peer: &HttpPeer,
    request: &RequestHeader,
    body: &Bytes,
) -> Result<(ResponseHeader, UpstreamBody), ExchangeError> {
    let started = Instant::now();
    let mut last_error = None;
    for _ in 0..2 {
        let (stream, reused) = connector
            .get_stream(peer)
            .await
            .map_err(|e| match e.etype() {
                ErrorType::ConnectTimedout => ExchangeError::Timeout,
                _ => ExchangeError::Unreachable(describe(&e)),
            })?;
        match exchange(stream, peer, request, body).await {
            Ok(answer) => return Ok(answer),
            Err(e)
                if reused
                    && started.elapsed() < Duration::from_secs(1)
                    && !matches!(e, Failure::Timeout) =>
            {
                last_error = Some(e);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(last_error.map_or(
        ExchangeError::Unreachable("retry exhausted".into()),
        Into::into,
    ))
}

async fn exchange(
    mut stream: Stream,
    peer: &HttpPeer,
    request: &RequestHeader,
    body: &Bytes,
) -> Result<(ResponseHeader, UpstreamBody), Failure> {
    let mut wire = http_req_header_to_wire(request).ok_or(Failure::Request)?;
    let separate_body = body.len() > COALESCED_BODY_BYTES;
    if !separate_body {
        wire.extend_from_slice(body);
    }
    let write = async {
        stream.write_all(&wire).await?;
        if separate_body {
            stream.write_all(body).await?;
        }
        stream.flush().await
    };
    timed(peer.options.write_timeout, write)
        .await?
        .map_err(|e| Failure::Io("WriteError", e))?;
    drop(wire);
    let head_request = request.method == http::Method::HEAD;
    let read_timeout = peer.options.read_timeout;
    let mut buf = BytesMut::with_capacity(HEAD_READ_BYTES);
    loop {
        while let Some(head) = parse(&buf, head_request).map_err(Failure::Head)? {
            if informational(&head.header) {
                buf.advance(head.len);
                continue;
            }
            let rest = buf.split_off(head.len);
            let body = UpstreamBody::new(stream, head.framing, rest, read_timeout, head.keep_alive);
            return Ok((head.header, body));
        }
        if buf.capacity() - buf.len() < HEAD_READ_BYTES / 4 {
            buf.reserve(HEAD_READ_BYTES);
        }
        let read = timed(read_timeout, stream.read_buf(&mut buf)).await?;
        if read.map_err(|e| Failure::Io("ReadError", e))? == 0 {
            return Err(Failure::Closed);
        }
    }
}

/// `work` within `limit`, when there is one.
async fn timed<T>(limit: Option<Duration>, work: impl Future<Output = T>) -> Result<T, Failure> {
    match limit {
        Some(limit) => tokio::time::timeout(limit, work)
            .await
            .map_err(|_| Failure::Timeout),
        None => Ok(work.await),
    }
}

impl From<Failure> for ExchangeError {
    fn from(failure: Failure) -> ExchangeError {
        let why = match failure {
            Failure::Timeout => return ExchangeError::Timeout,
            Failure::Request => "InvalidHTTPHeader: request target".to_owned(),
            Failure::Io(stage, io) => format!("{stage}: {}", describe_io(&io)),
            Failure::Closed => "ConnectionClosed: before a response head".to_owned(),
            Failure::Head(e) => format!("InvalidHTTPHeader: {e}"),
        };
        ExchangeError::Unreachable(why)
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
            return Some(describe_io(io));
        }
        cause = current.source();
    }
    None
}

/// An I/O error's kind and OS error number, nothing else.
fn describe_io(io: &std::io::Error) -> String {
    match io.raw_os_error() {
        Some(code) => format!("{} (os error {code})", io.kind()),
        None => io.kind().to_string(),
    }
}

/// How far down an error's sources [`os_cause`] looks.
const MAX_CAUSE_DEPTH: usize = 8;

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::net::TcpListener;

    /// An upstream that answers every request on a connection with a
    /// chunked `hello`; counts the connections it accepted.
    async fn chunked_upstream() -> (std::net::SocketAddr, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut seen = Vec::new();
                    let mut buf = [0u8; 1024];
                    while let Ok(n @ 1..) = socket.read(&mut buf).await {
                        seen.extend_from_slice(&buf[..n]);
                        while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                            seen.drain(..end + 4);
                            let answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
                            if socket.write_all(answer).await.is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        (addr, accepted)
    }

    #[tokio::test]
    async fn a_body_read_to_its_end_hands_the_connection_back_for_the_next_request() {
        let (addr, accepted) = chunked_upstream().await;
        let connector = Connector::new(None);
        let peer = HttpPeer::new(addr, false, String::new());
        let mut head = RequestHeader::build("GET", b"/x", None).expect("head");
        head.insert_header("host", "upstream").expect("host");
        head.insert_header("content-length", "0").expect("length");
        for _ in 0..3 {
            let (answer, mut body) = open_exchange(&connector, &peer, &head, &Bytes::new())
                .await
                .expect("answered");
            assert_eq!(answer.status.as_u16(), 200);
            assert_eq!(
                body.read().await.expect("data").as_deref(),
                Some(&b"hello"[..])
            );
            assert_eq!(body.read().await.expect("end"), None);
            body.release(&connector, &peer);
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1, "one connection, reused");
    }

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
