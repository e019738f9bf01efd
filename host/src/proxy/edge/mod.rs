//! The proxy port's edge: what a client connection must respect before
//! Pingora parses a request from it.
//!
//! [`Edge`] is the application Pingora's listener hands every accepted
//! connection to. It holds a cap on concurrent connections (503 past it),
//! reads each request head itself within a deadline measured from the
//! first byte (408 and the connection closed when it runs out, however
//! slowly the bytes trickle in), holds the head to [`HeadLimits`] (request
//! line 414; header count and section size 431; `_` in a header name 400),
//! and then hands the head, already read, to Pingora's HTTP/1 session as a
//! prefix. While a chunked body is read, every read passes the strict
//! framing check of [`framing`] (400, connection closed). Responses are
//! written with an idle write timeout, so a client that stops reading is
//! dropped. Refusals are JSON in the proxy's error shape, and the
//! connection is closed after them.
//!
//! The cost on the plain path: one scan for line ends over the head (the
//! bytes Pingora parses anyway), and a counter per body read.

mod framing;
mod head;
mod stream;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::BytesMut;
use pingora::apps::{HttpPersistentSettings, HttpServerApp, ServerApp};
use pingora::protocols::http::ServerSession;
use pingora::protocols::{ALPN, Stream};
use pingora::proxy::HttpProxy;
use pingora::server::ShutdownWatch;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Semaphore;
use tokio::time::{Instant, timeout, timeout_at};

pub use framing::{MAX_CHUNK_LINE_BYTES, MAX_TRAILER_BYTES};

use super::Gateway;
use crate::config::EdgeLimits;
use framing::ChunkCheck;
use head::{Head, HeadScan};
use stream::Guarded;

/// How long a kept-alive connection may wait for its next request.
pub const KEEPALIVE_IDLE: Duration = Duration::from_secs(60);
/// Bytes read at a time while a head arrives.
const READ_CHUNK: usize = 8 * 1024;
/// Spare room past which a head's buffer is copied to one of its size.
const COMPACT_SLACK_BYTES: usize = 1024;
/// How long a refusal may take to write, and how long the rest of the
/// refused request is read and dropped afterwards so that the client sees
/// the answer instead of a reset.
const REFUSAL_LINGER: Duration = Duration::from_secs(1);
/// Most bytes read and dropped after a refusal.
const REFUSAL_DRAIN_BYTES: usize = 256 * 1024;
/// Bytes read at a time while a refused request is drained.
const REFUSAL_DRAIN_CHUNK: usize = 4096;

/// Why a connection was refused before Pingora saw its request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    RequestLineTooLong,
    HeaderSectionTooLarge,
    TooManyHeaders,
    UnderscoreInHeaderName,
    BadFraming,
    HeadTimeout,
    TooManyConnections,
}

impl Refusal {
    fn status(self) -> (u16, &'static str) {
        match self {
            Refusal::RequestLineTooLong => (414, "URI Too Long"),
            Refusal::HeaderSectionTooLarge | Refusal::TooManyHeaders => {
                (431, "Request Header Fields Too Large")
            }
            Refusal::UnderscoreInHeaderName | Refusal::BadFraming => (400, "Bad Request"),
            Refusal::HeadTimeout => (408, "Request Timeout"),
            Refusal::TooManyConnections => (503, "Service Unavailable"),
        }
    }

    fn message(self) -> (&'static str, &'static str) {
        match self {
            Refusal::RequestLineTooLong => ("request_line_too_long", "request line is too long"),
            Refusal::HeaderSectionTooLarge => {
                ("headers_too_large", "request header section is too large")
            }
            Refusal::TooManyHeaders => ("too_many_headers", "request has too many headers"),
            Refusal::UnderscoreInHeaderName => (
                "invalid_header_name",
                "header names containing '_' are not accepted",
            ),
            Refusal::BadFraming => ("invalid_chunked_body", "malformed chunked request body"),
            Refusal::HeadTimeout => ("request_timeout", "request head not received in time"),
            Refusal::TooManyConnections => (
                "too_many_connections",
                "the gateway has too many open connections; retry later",
            ),
        }
    }

    /// The whole HTTP/1.1 answer, closing the connection.
    fn answer(self) -> Vec<u8> {
        let (status, reason) = self.status();
        let (code, message) = self.message();
        let kind = if status == 503 {
            "service_unavailable"
        } else {
            "invalid_request_error"
        };
        let body = serde_json::json!({
            "error": {"message": message, "type": kind, "param": null, "code": code}
        })
        .to_string();
        format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }
}

/// The proxy service's application: the edge checks, then Pingora.
pub struct Edge {
    proxy: Arc<HttpProxy<Gateway>>,
    limits: EdgeLimits,
    connections: Arc<Semaphore>,
}

impl Edge {
    pub fn new(proxy: HttpProxy<Gateway>, limits: EdgeLimits) -> Edge {
        Edge {
            proxy: Arc::new(proxy),
            connections: Arc::new(Semaphore::new(limits.max_connections)),
            limits,
        }
    }

    /// Reads until the head is complete: `Ok(None)` when the client closed
    /// the connection or went quiet before sending anything.
    async fn read_head(
        &self,
        conn: &mut Guarded,
        buf: &mut BytesMut,
        deadline: Instant,
    ) -> Result<Option<Head>, Refusal> {
        let mut scan = HeadScan::default();
        loop {
            if !buf.is_empty()
                && let Some(head) = scan.advance(buf, &self.limits.head)?
            {
                return Ok(Some(head));
            }
            buf.reserve(READ_CHUNK);
            match timeout_at(deadline, conn.read_buf(buf)).await {
                Err(_) if buf.is_empty() => return Ok(None),
                Err(_) => return Err(Refusal::HeadTimeout),
                Ok(Ok(0) | Err(_)) => return Ok(None),
                Ok(Ok(_)) => {}
            }
        }
    }
}

/// The head (and whatever followed it in the same reads) in a buffer of its
/// own size. Pingora keeps the buffer it parsed a head from for the whole
/// request, and an open stream should not hold a read chunk's spare room
/// for minutes; copying a few hundred bytes once is cheaper.
fn compact(buf: BytesMut) -> BytesMut {
    if buf.capacity() - buf.len() <= COMPACT_SLACK_BYTES {
        buf
    } else {
        BytesMut::from(&buf[..])
    }
}

/// Waits for the first byte of the next request on a kept-alive
/// connection; `false` when it does not come (or the server stops).
async fn await_next_request(
    conn: &mut Guarded,
    buf: &mut BytesMut,
    shutdown: &ShutdownWatch,
) -> bool {
    if *shutdown.borrow() {
        return false;
    }
    let mut stopping = shutdown.clone();
    buf.reserve(READ_CHUNK);
    tokio::select! {
        read = timeout(KEEPALIVE_IDLE, conn.read_buf(buf)) => matches!(read, Ok(Ok(n)) if n > 0),
        _ = stopping.changed() => false,
    }
}

/// Writes the refusal, closes the sending side, and reads what the client
/// still sends for a moment, so that it reads the answer.
async fn refuse(conn: &mut (impl AsyncReadExt + AsyncWriteExt + Unpin), refusal: Refusal) {
    let answer = refusal.answer();
    let written = timeout(REFUSAL_LINGER, async {
        conn.write_all(&answer).await?;
        conn.flush().await?;
        conn.shutdown().await
    })
    .await;
    if !matches!(written, Ok(Ok(()))) || refusal == Refusal::TooManyConnections {
        return;
    }
    let _ = timeout(REFUSAL_LINGER, async {
        let mut drained = 0;
        // On the heap: an array here would be part of the future of every
        // connection (4 KiB each, for as long as it is open), since each
        // one may come to refuse a request.
        let mut sink = vec![0u8; REFUSAL_DRAIN_CHUNK];
        while drained < REFUSAL_DRAIN_BYTES {
            match conn.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => drained += n,
            }
        }
    })
    .await;
}

#[async_trait]
impl ServerApp for Edge {
    async fn process_new(
        self: &Arc<Self>,
        mut stream: Stream,
        shutdown: &ShutdownWatch,
    ) -> Option<Stream> {
        let Ok(_permit) = self.connections.clone().try_acquire_owned() else {
            refuse(&mut stream, Refusal::TooManyConnections).await;
            return None;
        };
        if matches!(stream.selected_alpn_proto(), Some(ALPN::H2)) {
            // HTTP/2 frames its own heads and bodies; Pingora's limits apply.
            return self.proxy.process_new(stream, shutdown).await;
        }
        let mut conn = Box::new(Guarded::new(stream));
        let mut persisted: Option<HttpPersistentSettings> = None;
        let mut first = true;
        loop {
            let mut buf = BytesMut::with_capacity(READ_CHUNK);
            if !first && !await_next_request(&mut conn, &mut buf, shutdown).await {
                return None;
            }
            let deadline = Instant::now() + self.limits.head_timeout;
            let head = match self.read_head(&mut conn, &mut buf, deadline).await {
                Ok(Some(head)) => head,
                Ok(None) => return None,
                Err(refusal) => {
                    refuse(&mut conn, refusal).await;
                    return None;
                }
            };
            let check = if head.chunked {
                let mut check = ChunkCheck::default();
                if check.feed(&buf[head.len..]).is_err() {
                    refuse(&mut conn, Refusal::BadFraming).await;
                    return None;
                }
                Some(check)
            } else {
                None
            };
            conn.check_chunks(check);

            let mut session = ServerSession::new_http1(conn);
            match persisted.take() {
                Some(settings) => settings.apply_to_session(&mut session),
                None if first => session.set_keepalive(Some(KEEPALIVE_IDLE.as_secs())),
                None => {}
            }
            if *shutdown.borrow() {
                session.set_keepalive(None);
            }
            session.set_write_timeout(Some(self.limits.write_timeout));
            session.set_pipelined_prefix(compact(buf));
            first = false;

            let reused = self.proxy.process_new_http(session, shutdown).await?;
            let (stream, settings) = reused.consume();
            conn = Guarded::from_stream(stream)?;
            persisted = settings;
        }
    }

    async fn cleanup(&self) {
        self.proxy.http_cleanup().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_buffer_with_more_spare_room_than_the_slack_is_copied_to_its_size() {
        let head = b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n\r\n{}";
        let mut buf = BytesMut::with_capacity(READ_CHUNK);
        buf.extend_from_slice(head);
        let out = compact(buf);
        assert_eq!(&out[..], &head[..]);
        assert!(out.capacity() - out.len() <= COMPACT_SLACK_BYTES);

        let mut buf = BytesMut::with_capacity(COMPACT_SLACK_BYTES + head.len());
        buf.extend_from_slice(head);
        assert_eq!(buf.capacity() - buf.len(), COMPACT_SLACK_BYTES);
        let at = buf.as_ptr();
        assert_eq!(compact(buf).as_ptr(), at, "at the slack the buffer is kept");

        let mut buf = BytesMut::with_capacity(COMPACT_SLACK_BYTES + head.len() + 1);
        buf.extend_from_slice(head);
        let at = buf.as_ptr();
        assert_ne!(
            compact(buf).as_ptr(),
            at,
            "one byte past the slack it is copied"
        );
    }

    /// The most a connection's future may hold for the refusal it might
    /// come to write (debug build): every open connection carries it.
    const MAX_REFUSE_FUTURE_BYTES: usize = 512;

    #[test]
    fn the_refusal_every_connection_may_write_holds_no_buffer_in_its_future() {
        fn future_size<C, F: Future>(_: impl FnOnce(C, Refusal) -> F) -> usize {
            size_of::<F>()
        }
        let size = future_size::<&mut tokio::io::DuplexStream, _>(refuse);
        assert!(size <= MAX_REFUSE_FUTURE_BYTES, "{size} bytes");
    }
}
