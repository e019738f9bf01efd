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
//! minimum.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use pingora::protocols::Stream;
use pingora::upstreams::peer::{HttpPeer, Peer};
use tokio::io::AsyncReadExt;

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
        if self.buf.is_empty() {
            // A fresh buffer of the size asked: the last one may still be
            // on its way to the client, and one grown by a burst is not
            // kept through a stream's quiet minutes.
            self.buf = BytesMut::with_capacity(asked);
        } else {
            self.buf.reserve(asked);
        }
        let read = self.stream.read_buf(&mut self.buf);
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
    pub fn release(self, connector: &Connector, peer: &HttpPeer) {
        if self.is_done() && self.keep_alive && !overread(&self.buf) {
            connector.release_stream(self.stream, peer.reuse_hash(), peer.options.idle_timeout);
        }
    }
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
