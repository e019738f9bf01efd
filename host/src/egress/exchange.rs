//! One request/response exchange with an upstream over the pooled
//! connections of Pingora's transport connector: send the head and body,
//! read the response head (past any informational one). The caller reads
//! the body ([`UpstreamBody`]) and hands the connection back to the pool.
//!
//! HTTP/1.1 is written and read here rather than by Pingora's client
//! session, whose body buffer an open stream would keep (see
//! [`super::upstream_body`]).
//!
//! The whole response head, informational ones included, must arrive
//! within the read timeout of the request's end (a head trickled in byte
//! by byte, or a flood of 1xx, cannot hold a request open), and at most
//! [`MAX_INFORMATIONAL_HEADS`] informational heads are skipped. A request
//! is sent again, once, only when a pooled connection failed before a
//! single byte of an answer arrived: anything else may have been served.

use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};
use pingora::ErrorType;
use pingora::http::{RequestHeader, ResponseHeader};
use pingora::protocols::Stream;
use pingora::protocols::http::v1::client::http_req_header_to_wire;
use pingora::upstreams::peer::HttpPeer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::Connector;
use super::response_head::{
    Head, HeadError, MAX_INFORMATIONAL_HEADS, MAX_RESPONSE_HEAD_BYTES, informational, parse,
};
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
    /// The upstream answered with something that is not an HTTP/1.1 head
    /// this gateway reads (the detail says what); it may have served the
    /// request.
    #[error("the upstream's answer is not valid HTTP/1.1: {0}")]
    Invalid(String),
}

/// How one exchange on one connection failed.
#[derive(Debug)]
enum Failure {
    Timeout,
    /// The request head cannot be written (a forbidden byte in its target).
    Request,
    /// Writing, or reading before any byte of an answer arrived.
    Io(&'static str, std::io::Error),
    /// The upstream closed the connection before any byte of an answer.
    Closed,
    /// The connection closed or broke after part of a head.
    Cut,
    Head(HeadError),
}

impl Failure {
    /// Whether this is a pooled connection the upstream had closed: it
    /// failed before any byte of an answer arrived.
    fn stale(&self) -> bool {
        matches!(self, Failure::Io(..) | Failure::Closed)
    }
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
            Err(e) if reused && started.elapsed() < Duration::from_secs(1) && e.stale() => {
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
    let deadline = read_timeout.map(|limit| tokio::time::Instant::now() + limit);
    let (head, rest) = read_head(&mut stream, deadline, head_request).await?;
    let body = UpstreamBody::new(stream, head.framing, rest, read_timeout, head.keep_alive);
    Ok((head.header, body))
}

/// Reads the final response head (skipping informational ones) by
/// `deadline`; the head and the bytes read past it.
async fn read_head(
    stream: &mut Stream,
    deadline: Option<tokio::time::Instant>,
    head_request: bool,
) -> Result<(Head, BytesMut), Failure> {
    let mut buf = BytesMut::with_capacity(HEAD_READ_BYTES);
    let mut skipped = 0;
    let mut received = false;
    // Parsed again only when a line may have ended: a head trickled in a
    // byte at a time is not parsed once per byte.
    let mut look = false;
    loop {
        while look && let Some(head) = parse(&buf, head_request).map_err(Failure::Head)? {
            if !informational(&head.header) {
                let rest = buf.split_off(head.len);
                return Ok((head, rest));
            }
            skipped += 1;
            if skipped > MAX_INFORMATIONAL_HEADS {
                return Err(Failure::Head(HeadError::TooManyInformational));
            }
            buf.advance(head.len);
        }
        if buf.capacity() - buf.len() < HEAD_READ_BYTES / 4 {
            buf.reserve(HEAD_READ_BYTES);
        }
        let before = buf.len();
        let read = match deadline {
            Some(at) => tokio::time::timeout_at(at, stream.read_buf(&mut buf))
                .await
                .map_err(|_| Failure::Timeout)?,
            None => stream.read_buf(&mut buf).await,
        };
        match read {
            Ok(0) | Err(_) if received => return Err(Failure::Cut),
            Ok(0) => return Err(Failure::Closed),
            Ok(_) => {}
            Err(e) => return Err(Failure::Io("ReadError", e)),
        }
        look = !received || buf[before..].contains(&b'\n') || buf.len() > MAX_RESPONSE_HEAD_BYTES;
        received = true;
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
            Failure::Cut => {
                return ExchangeError::Invalid("the connection ended inside the head".to_owned());
            }
            Failure::Head(e) => return ExchangeError::Invalid(e.to_string()),
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
    use crate::egress::upstream_body::PoolKey;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::net::TcpListener;

    const HELLO: &[u8] =
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";

    /// Connections accepted and request heads received.
    #[derive(Default)]
    struct Seen {
        connections: AtomicUsize,
        requests: AtomicUsize,
    }

    /// An upstream that answers the n-th request it receives (over all
    /// connections) with `answers[n]`, the last one past the end, written
    /// a byte every `pace` when there is one.
    async fn upstream(
        answers: Vec<&'static [u8]>,
        pace: Option<Duration>,
    ) -> (std::net::SocketAddr, Arc<Seen>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let seen = Arc::new(Seen::default());
        let counts = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                counts.connections.fetch_add(1, Ordering::SeqCst);
                let (counts, answers) = (counts.clone(), answers.clone());
                tokio::spawn(async move {
                    let mut got = Vec::new();
                    let mut buf = [0u8; 1024];
                    while let Ok(n @ 1..) = socket.read(&mut buf).await {
                        got.extend_from_slice(&buf[..n]);
                        while let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                            got.drain(..end + 4);
                            let n = counts.requests.fetch_add(1, Ordering::SeqCst);
                            let answer = answers[n.min(answers.len() - 1)];
                            if write_paced(&mut socket, answer, pace).await.is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        (addr, seen)
    }

    async fn write_paced(
        socket: &mut tokio::net::TcpStream,
        answer: &[u8],
        pace: Option<Duration>,
    ) -> std::io::Result<()> {
        let Some(pace) = pace else {
            return socket.write_all(answer).await;
        };
        for byte in answer {
            socket.write_all(&[*byte]).await?;
            tokio::time::sleep(pace).await;
        }
        Ok(())
    }

    fn get() -> RequestHeader {
        let mut head = RequestHeader::build("GET", b"/x", None).expect("head");
        head.insert_header("host", "upstream").expect("host");
        head.insert_header("content-length", "0").expect("length");
        head
    }

    #[tokio::test]
    async fn a_body_read_to_its_end_hands_the_connection_back_for_the_next_request() {
        let (addr, seen) = upstream(vec![HELLO], None).await;
        let connector = Connector::new(None);
        let peer = HttpPeer::new(addr, false, String::new());
        for _ in 0..3 {
            let (answer, mut body) = open_exchange(&connector, &peer, &get(), &Bytes::new())
                .await
                .expect("answered");
            assert_eq!(answer.status.as_u16(), 200);
            assert_eq!(
                body.read().await.expect("data").as_deref(),
                Some(&b"hello"[..])
            );
            assert_eq!(body.read().await.expect("end"), None);
            body.release(&connector, PoolKey::of(&peer));
        }
        let connections = seen.connections.load(Ordering::SeqCst);
        assert_eq!(connections, 1, "one connection, reused");
    }

    #[tokio::test]
    async fn informational_heads_are_skipped_up_to_their_limit_and_refused_past_it() {
        let continues = |n: usize| -> &'static [u8] {
            let mut wire = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(n);
            wire.extend_from_slice(HELLO);
            Vec::leak(wire)
        };
        let connector = Connector::new(None);
        let (addr, _) = upstream(vec![continues(MAX_INFORMATIONAL_HEADS)], None).await;
        let peer = HttpPeer::new(addr, false, String::new());
        let (answer, _) = open_exchange(&connector, &peer, &get(), &Bytes::new())
            .await
            .expect("at the limit");
        assert_eq!(answer.status.as_u16(), 200);
        let (addr, _) = upstream(vec![continues(MAX_INFORMATIONAL_HEADS + 1)], None).await;
        let peer = HttpPeer::new(addr, false, String::new());
        let refused = open_exchange(&connector, &peer, &get(), &Bytes::new()).await;
        let expected = HeadError::TooManyInformational.to_string();
        assert_eq!(refused.err(), Some(ExchangeError::Invalid(expected)));
    }

    #[tokio::test]
    async fn a_head_trickled_in_slower_than_the_read_timeout_in_all_times_out() {
        // Every byte well within the timeout; the whole head not.
        let (addr, _) = upstream(vec![HELLO], Some(Duration::from_millis(20))).await;
        let connector = Connector::new(None);
        let mut peer = HttpPeer::new(addr, false, String::new());
        peer.options.read_timeout = Some(Duration::from_millis(300));
        let started = Instant::now();
        let answer = open_exchange(&connector, &peer, &get(), &Bytes::new()).await;
        assert_eq!(answer.err(), Some(ExchangeError::Timeout));
        assert!(started.elapsed() < Duration::from_millis(900));
    }

    #[tokio::test]
    async fn an_invalid_answer_on_a_pooled_connection_is_not_sent_again() {
        let bad: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n";
        let (addr, seen) = upstream(vec![HELLO, bad, HELLO], None).await;
        let connector = Connector::new(None);
        let peer = HttpPeer::new(addr, false, String::new());
        let (_, mut body) = open_exchange(&connector, &peer, &get(), &Bytes::new())
            .await
            .expect("answered");
        while body.read().await.expect("read").is_some() {}
        body.release(&connector, PoolKey::of(&peer));
        let refused = open_exchange(&connector, &peer, &get(), &Bytes::new()).await;
        assert!(
            matches!(refused, Err(ExchangeError::Invalid(_))),
            "{:?}",
            refused.err()
        );
        assert_eq!(seen.requests.load(Ordering::SeqCst), 2, "sent once each");
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
