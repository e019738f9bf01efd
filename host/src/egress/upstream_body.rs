//! An upstream answer's body, read off its connection with a buffer sized
//! to what arrives, and the connection handed back to the pool when the
//! body was read to its end.
//!
//! Why not Pingora's HTTP/1 client session: it reads every body into a
//! 64 KiB buffer allocated when the head arrives (`BODY_BUFFER_SIZE`,
//! private in pingora-core 0.9.1), and a stream keeps it for as long as it
//! is open, for events of a few hundred bytes (bench/RESULTS.md, session
//! 7: the largest single cost of an open stream). Here a read asks for
//! [`BODY_READ_MIN_BYTES`], and for twice as much after a read that filled
//! what it asked for (a large answer arriving), up to
//! [`BODY_READ_MAX_BYTES`]; a read that does not fill it goes back to the
//! minimum. A read at the minimum with nothing pending holds no buffer
//! while it waits: what arrives lands on the stack and is copied into one
//! of its own size, so the thousands of streams waiting for their next
//! event hold none ([`read_arrived`]).

use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use pingora::protocols::Stream;
use pingora::upstreams::peer::{HttpPeer, Peer};
use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};

use super::Connector;
use super::framing::{Framing, FramingError, Taken, overread};

/// What a body read asks for at first and after a read of fewer bytes.
pub const BODY_READ_MIN_BYTES: usize = 4 * 1024;
/// The most a body read asks for.
pub const BODY_READ_MAX_BYTES: usize = 64 * 1024;

/// Why a body could not be read to its end. [`BodyError::code`] names it
/// in the trace the way Pingora's error kinds did.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the upstream sent nothing within the read timeout")]
    Timeout,
    #[error(transparent)]
    Framing(#[from] FramingError),
    #[error("reading the body: {0}")]
    Io(#[from] std::io::Error),
}

impl BodyError {
    pub fn code(&self) -> &'static str {
        match self {
            BodyError::Timeout => "ReadTimedout",
            BodyError::Framing(FramingError::Closed) => "ConnectionClosed",
            BodyError::Framing(FramingError::InvalidChunk) => "InvalidChunk",
            BodyError::Io(_) => "ReadError",
        }
    }
}

/// The body of one answer and the connection it arrives on.
pub struct UpstreamBody {
    stream: Stream,
    framing: Framing,
    /// Bytes read and not handed out yet.
    buf: BytesMut,
    /// What the next read asks for.
    next_read: usize,
    read_timeout: Option<Duration>,
    /// Whether the upstream keeps the connection after this answer.
    keep_alive: bool,
}

impl UpstreamBody {
    /// The body after a head: `rest` holds the bytes read past the head.
    pub fn new(
        stream: Stream,
        framing: Framing,
        rest: BytesMut,
        read_timeout: Option<Duration>,
        keep_alive: bool,
    ) -> UpstreamBody {
        UpstreamBody {
            stream,
            framing,
            buf: rest,
            next_read: BODY_READ_MIN_BYTES,
            read_timeout,
            keep_alive,
        }
    }

    /// The next part of the body, `None` at its end.
    pub async fn read(&mut self) -> Result<Option<Bytes>, BodyError> {
        loop {
            match self.framing.take(&mut self.buf)? {
                Taken::Data(data) => return Ok(Some(data)),
                Taken::Done => return Ok(None),
                Taken::More => {}
            }
            if self.fill().await? == 0 {
                self.framing.closed()?;
                self.keep_alive = false;
            }
        }
    }

    /// Reads more bytes into the buffer; how many (0 at the connection's end).
    async fn fill(&mut self) -> Result<usize, BodyError> {
        let asked = self.next_read;
        let read = async {
            if self.buf.is_empty() && asked == BODY_READ_MIN_BYTES {
                // Nothing pending, nothing flowing: maybe a long wait.
                return read_arrived(&mut self.stream, &mut self.buf).await;
            }
            if self.buf.is_empty() {
                // A fresh buffer of the size asked: the last one may still
                // be on its way to the client.
                self.buf = BytesMut::with_capacity(asked);
            } else {
                self.buf.reserve(asked);
            }
            self.stream.read_buf(&mut self.buf).await
        };
        let n = match self.read_timeout {
            Some(limit) => tokio::time::timeout(limit, read)
                .await
                .map_err(|_| BodyError::Timeout)??,
            None => read.await?,
        };
        self.next_read = next_read(asked, n);
        Ok(n)
    }

    /// Whether the body was read to its end.
    pub fn is_done(&self) -> bool {
        self.framing == Framing::Done
    }

    /// Hands the connection back to `connector`'s pool when the body was
    /// read to its end, nothing came after it and the upstream keeps it
    /// open; closes it otherwise.
    pub fn release(self, connector: &Connector, pool: PoolKey) {
        if self.is_done() && self.keep_alive && !overread(&self.buf) {
            connector.release_stream(self.stream, pool.hash, pool.idle_timeout);
        }
    }
}

/// Where a connection to a peer goes back in the pool: what an answer
/// keeps of its peer (a few bytes, not the whole peer) while it is relayed.
#[derive(Debug, Clone, Copy)]
pub struct PoolKey {
    hash: u64,
    idle_timeout: Option<std::time::Duration>,
}

impl PoolKey {
    pub fn of(peer: &HttpPeer) -> PoolKey {
        PoolKey {
            hash: peer.reuse_hash(),
            idle_timeout: peer.options.idle_timeout,
        }
    }
}

/// Reads up to [`BODY_READ_MIN_BYTES`] of what has arrived into `buf`
/// (empty), which is given exactly their size; holds no buffer while
/// nothing arrives, since the bytes land on the stack during the poll
/// that reads them.
async fn read_arrived(stream: &mut Stream, buf: &mut BytesMut) -> std::io::Result<usize> {
    std::future::poll_fn(|cx| {
        let mut landing = [MaybeUninit::<u8>::uninit(); BODY_READ_MIN_BYTES];
        let mut read = ReadBuf::uninit(&mut landing);
        std::task::ready!(Pin::new(&mut *stream).poll_read(cx, &mut read))?;
        *buf = BytesMut::from(read.filled());
        Poll::Ready(Ok(read.filled().len()))
    })
    .await
}

/// What the read after one that asked for `asked` and got `got` asks for.
fn next_read(asked: usize, got: usize) -> usize {
    if got >= asked {
        (asked * 2).min(BODY_READ_MAX_BYTES)
    } else {
        BODY_READ_MIN_BYTES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body on a real connection; the upstream's end of it.
    async fn body_on_connection() -> (UpstreamBody, tokio::net::TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let client = tokio::net::TcpStream::connect(listener.local_addr().expect("addr"));
        let (client, accepted) = tokio::join!(client, listener.accept());
        let stream: Stream = Box::new(pingora::protocols::l4::stream::Stream::from(
            client.expect("connect"),
        ));
        let body = UpstreamBody::new(stream, Framing::Close, BytesMut::new(), None, false);
        (body, accepted.expect("accept").0)
    }

    #[tokio::test]
    async fn a_read_waiting_for_the_next_event_holds_no_buffer_and_what_comes_fits() {
        use tokio::io::AsyncWriteExt;
        let (mut body, mut upstream) = body_on_connection().await;
        {
            let read = std::pin::pin!(body.read());
            let waited = tokio::time::timeout(Duration::from_millis(50), read).await;
            assert!(waited.is_err(), "nothing was sent");
        }
        assert_eq!(body.buf.capacity(), 0, "a waiting read holds no buffer");
        upstream.write_all(b"data: {}\n\n").await.expect("write");
        let event = body.read().await.expect("read").expect("data");
        assert_eq!(&event[..], b"data: {}\n\n");
        // A burst longer than one landing is read whole, in more reads.
        let burst = vec![b'x'; 3 * BODY_READ_MIN_BYTES + 7];
        upstream.write_all(&burst).await.expect("write");
        drop(upstream);
        let mut got = Vec::new();
        while let Some(part) = body.read().await.expect("read") {
            got.extend_from_slice(&part);
        }
        assert_eq!(got, burst);
    }

    #[test]
    fn reads_grow_while_they_fill_up_to_the_maximum_and_fall_back_after() {
        let mut asked = BODY_READ_MIN_BYTES;
        let mut sizes = vec![asked];
        for _ in 0..6 {
            asked = next_read(asked, asked);
            sizes.push(asked);
        }
        assert_eq!(sizes.last(), Some(&BODY_READ_MAX_BYTES));
        assert!(sizes.windows(2).all(|w| w[1] >= w[0]));
        assert_eq!(
            next_read(BODY_READ_MAX_BYTES, BODY_READ_MAX_BYTES),
            BODY_READ_MAX_BYTES
        );
        assert_eq!(next_read(BODY_READ_MAX_BYTES, 300), BODY_READ_MIN_BYTES);
    }
}
