//! How an upstream answer's body ends (RFC 9112 §6.3), and taking its
//! bytes out of a read buffer as they come: a known length, chunked
//! transfer coding, or the connection's close.
//!
//! Pure: the bytes arrive in a buffer someone else reads into
//! ([`super::upstream_body`]); [`Framing::take`] hands out the body's data
//! without copying it and consumes the framing around it. A chunked
//! body's data comes out one chunk (or part of one) at a time, as the
//! upstream wrote it, so a streamed event reaches the client as soon as
//! its chunk arrived.

use bytes::{Buf, Bytes, BytesMut};

/// Longest chunk-size or trailer line accepted (hex size, extensions and
/// line end): a line beyond it is not a chunked body this gateway reads.
pub const MAX_CHUNK_LINE_BYTES: usize = 4 * 1024;
/// Longest trailer section accepted (its lines with their line ends, the
/// blank line closing it not counted). Trailers are read and dropped; past
/// this the body would never end.
pub const MAX_TRAILER_BYTES: usize = 16 * 1024;
/// Most hex digits of a chunk size: 15 fit a u64 with room to spare.
const MAX_SIZE_DIGITS: usize = 15;

/// How the body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// This many bytes of body remain.
    Length(u64),
    /// Chunked transfer coding, at this point of it.
    Chunked(Chunked),
    /// Everything until the upstream closes the connection.
    Close,
    /// The body has ended.
    Done,
}

/// Where a chunked body's reading stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunked {
    /// Before a chunk-size line.
    Size,
    /// Inside a chunk's data, this many bytes left.
    Data(u64),
    /// After a chunk's data, before its line end.
    DataEnd,
    /// After the last chunk: trailer lines until a blank one; this many
    /// bytes of them so far.
    Trailer(usize),
}

/// What [`Framing::take`] found in the buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Taken {
    /// Body data.
    Data(Bytes),
    /// More bytes must be read first.
    More,
    /// The body has ended.
    Done,
}

/// Why a body cannot be read on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    #[error("invalid chunk framing")]
    InvalidChunk,
    #[error("the connection closed before the body's end")]
    Closed,
}

impl Framing {
    /// Takes the next data out of `buf`, consuming the framing before it.
    pub fn take(&mut self, buf: &mut BytesMut) -> Result<Taken, FramingError> {
        loop {
            match self {
                Framing::Done => return Ok(Taken::Done),
                Framing::Close if buf.is_empty() => return Ok(Taken::More),
                Framing::Close => return Ok(Taken::Data(buf.split().freeze())),
                Framing::Length(0) => *self = Framing::Done,
                Framing::Length(_) if buf.is_empty() => return Ok(Taken::More),
                Framing::Length(left) => {
                    let n = bounded(*left, buf.len());
                    *left -= n as u64;
                    return Ok(Taken::Data(buf.split_to(n).freeze()));
                }
                Framing::Chunked(state) => match step(state, buf)? {
                    Step::Data(data) => return Ok(Taken::Data(data)),
                    Step::More => return Ok(Taken::More),
                    Step::Again => {}
                    Step::End => *self = Framing::Done,
                },
            }
        }
    }

    /// The connection closed: whether that ends the body or breaks it.
    pub fn closed(&mut self) -> Result<(), FramingError> {
        match self {
            Framing::Close | Framing::Done => {
                *self = Framing::Done;
                Ok(())
            }
            Framing::Length(_) | Framing::Chunked(_) => Err(FramingError::Closed),
        }
    }

    /// Whether a connection whose answer ends this way can carry another
    /// request once the body is read.
    pub fn reusable(&self) -> bool {
        !matches!(self, Framing::Close)
    }
}

enum Step {
    Data(Bytes),
    More,
    Again,
    End,
}

fn step(state: &mut Chunked, buf: &mut BytesMut) -> Result<Step, FramingError> {
    match *state {
        Chunked::Size => {
            let Some(line) = line(buf)? else {
                return Ok(Step::More);
            };
            let size = chunk_size(&line)?;
            *state = if size == 0 {
                Chunked::Trailer(0)
            } else {
                Chunked::Data(size)
            };
            Ok(Step::Again)
        }
        Chunked::Data(_) if buf.is_empty() => Ok(Step::More),
        Chunked::Data(left) => {
            let n = bounded(left, buf.len());
            let left = left - n as u64;
            *state = if left == 0 {
                Chunked::DataEnd
            } else {
                Chunked::Data(left)
            };
            Ok(Step::Data(buf.split_to(n).freeze()))
        }
        Chunked::DataEnd => data_end(state, buf),
        Chunked::Trailer(seen) => {
            let before = buf.len();
            // A line still arriving is bounded by `line`.
            let Some(line) = line(buf)? else {
                return Ok(Step::More);
            };
            if line.is_empty() {
                return Ok(Step::End);
            }
            let seen = seen + (before - buf.len());
            if seen > MAX_TRAILER_BYTES {
                return Err(FramingError::InvalidChunk);
            }
            *state = Chunked::Trailer(seen);
            Ok(Step::Again)
        }
    }
}

/// The line end after a chunk's data: `\r\n` or a bare `\n`, refused at
/// the first byte that cannot start one (a chunk longer than announced)
/// rather than after waiting for a line feed that may never come.
fn data_end(state: &mut Chunked, buf: &mut BytesMut) -> Result<Step, FramingError> {
    let end = match buf.as_ref() {
        [] | [b'\r'] => return Ok(Step::More),
        [b'\n', ..] => 1,
        [b'\r', b'\n', ..] => 2,
        _ => return Err(FramingError::InvalidChunk),
    };
    buf.advance(end);
    *state = Chunked::Size;
    Ok(Step::Again)
}

/// `left` capped to `available`.
fn bounded(left: u64, available: usize) -> usize {
    usize::try_from(left).map_or(available, |left| left.min(available))
}

/// The next line in `buf` without its line end (`\r\n`, or a bare `\n`),
/// consumed; `None` until the line is complete.
fn line(buf: &mut BytesMut) -> Result<Option<Bytes>, FramingError> {
    let Some(end) = buf.iter().position(|&b| b == b'\n') else {
        if buf.len() > MAX_CHUNK_LINE_BYTES {
            return Err(FramingError::InvalidChunk);
        }
        return Ok(None);
    };
    if end >= MAX_CHUNK_LINE_BYTES {
        return Err(FramingError::InvalidChunk);
    }
    let mut line = buf.split_to(end + 1);
    line.truncate(end);
    if line.last() == Some(&b'\r') {
        line.truncate(end - 1);
    }
    Ok(Some(line.freeze()))
}

/// The size a chunk-size line gives (hex digits, then optional
/// whitespace and extensions after `;`, which are ignored).
fn chunk_size(line: &[u8]) -> Result<u64, FramingError> {
    let digits = line
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii_end();
    if digits.is_empty() || digits.len() > MAX_SIZE_DIGITS {
        return Err(FramingError::InvalidChunk);
    }
    let mut size = 0u64;
    for &b in digits {
        let digit = (b as char).to_digit(16).ok_or(FramingError::InvalidChunk)?;
        size = size * 16 + u64::from(digit);
    }
    Ok(size)
}

/// Bytes after the body's end in `buf` (the upstream sent more than the
/// answer): the connection is not reused.
pub fn overread(buf: &BytesMut) -> bool {
    !buf.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `parts` one at a time; the data taken, and whether it ended.
    fn run(mut framing: Framing, parts: &[&[u8]]) -> Result<(Vec<u8>, bool, usize), FramingError> {
        let mut buf = BytesMut::new();
        let mut data = Vec::new();
        let mut pieces = 0;
        for part in parts {
            buf.extend_from_slice(part);
            loop {
                match framing.take(&mut buf)? {
                    Taken::Data(d) => {
                        data.extend_from_slice(&d);
                        pieces += 1;
                    }
                    Taken::More => break,
                    Taken::Done => return Ok((data, true, pieces)),
                }
            }
        }
        Ok((data, false, pieces))
    }

    #[test]
    fn a_chunked_body_split_anywhere_reads_the_same() {
        let wire: &[u8] = b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nx-trailer: 1\r\n\r\n";
        for cut in 0..wire.len() {
            let (a, b) = wire.split_at(cut);
            let (data, done, _) = run(Framing::Chunked(Chunked::Size), &[a, b]).expect("read");
            assert_eq!(data, b"hello world", "cut at {cut}");
            assert!(done, "cut at {cut}");
        }
    }

    #[test]
    fn each_chunk_comes_out_as_it_arrived() {
        let parts: &[&[u8]] = &[b"3\r\nabc\r\n", b"2\r\nde\r\n", b"0\r\n\r\n"];
        let (data, done, pieces) = run(Framing::Chunked(Chunked::Size), parts).expect("read");
        assert_eq!((data.as_slice(), done, pieces), (&b"abcde"[..], true, 2));
    }

    #[test]
    fn bare_line_feeds_and_uppercase_hex_are_read() {
        let (data, done, _) =
            run(Framing::Chunked(Chunked::Size), &[b"A\nabcdefghij\n0\n\n"]).expect("read");
        assert_eq!((data.len(), done), (10, true));
    }

    #[test]
    fn bad_chunk_sizes_and_missing_line_ends_are_refused() {
        for wire in [
            &b"zz\r\n"[..],
            b"\r\n",
            b"1234567890abcdef0\r\n",
            b"3\r\nabcX",
            b"3\r\nabc\rX",
            b"-5\r\n",
            b" 5\r\n",
        ] {
            let read = run(Framing::Chunked(Chunked::Size), &[wire]);
            assert_eq!(read, Err(FramingError::InvalidChunk), "{wire:?}");
        }
    }

    #[test]
    fn a_chunk_size_is_read_at_its_most_digits_and_refused_past_them() {
        let at = "f".repeat(MAX_SIZE_DIGITS) + "\r\nab";
        let (data, done, _) =
            run(Framing::Chunked(Chunked::Size), &[at.as_bytes()]).expect("at the limit");
        assert_eq!((data.as_slice(), done), (&b"ab"[..], false));
        let over = "0".repeat(MAX_SIZE_DIGITS + 1) + "\r\n";
        let read = run(Framing::Chunked(Chunked::Size), &[over.as_bytes()]);
        assert_eq!(read, Err(FramingError::InvalidChunk));
    }

    #[test]
    fn a_trailer_section_is_read_at_its_limit_and_refused_past_it() {
        let field = |len: usize| {
            let mut line = b"x-t: ".to_vec();
            line.resize(len - 1, b'a');
            line.push(b'\n');
            line
        };
        let mut at = b"0\r\n".to_vec();
        for _ in 0..MAX_TRAILER_BYTES / MAX_CHUNK_LINE_BYTES {
            at.extend(field(MAX_CHUNK_LINE_BYTES));
        }
        let mut over = at.clone();
        at.extend_from_slice(b"\r\n");
        assert_eq!(at.len(), 3 + MAX_TRAILER_BYTES + 2);
        // The closing line split from the rest, one byte at a time.
        let (head, tail) = at.split_at(at.len() - 2);
        let parts = [head, &tail[..1], &tail[1..]];
        let (_, done, _) = run(Framing::Chunked(Chunked::Size), &parts).expect("at the limit");
        assert!(done);
        over.extend(field(6));
        over.extend_from_slice(b"\r\n");
        let read = run(Framing::Chunked(Chunked::Size), &[&over]);
        assert_eq!(read, Err(FramingError::InvalidChunk));
    }

    #[test]
    fn a_chunk_line_is_refused_past_its_limit_and_read_at_it() {
        let mut at = b"1".to_vec();
        at.resize(MAX_CHUNK_LINE_BYTES - 1, b' ');
        at.extend_from_slice(b"\n");
        assert_eq!(at.len(), MAX_CHUNK_LINE_BYTES);
        at.extend_from_slice(b"x\r\n0\r\n\r\n");
        let (data, done, _) = run(Framing::Chunked(Chunked::Size), &[&at]).expect("at the limit");
        assert_eq!((data.as_slice(), done), (&b"x"[..], true));
        let over = vec![b'1'; MAX_CHUNK_LINE_BYTES + 1];
        let read = run(Framing::Chunked(Chunked::Size), &[&over]);
        assert_eq!(read, Err(FramingError::InvalidChunk));
    }

    #[test]
    fn a_length_body_ends_at_its_length_and_leaves_the_rest() {
        let mut framing = Framing::Length(5);
        let mut buf = BytesMut::from(&b"helloEXTRA"[..]);
        assert_eq!(
            framing.take(&mut buf),
            Ok(Taken::Data(Bytes::from_static(b"hello")))
        );
        assert_eq!(framing.take(&mut buf), Ok(Taken::Done));
        assert!(overread(&buf));
    }

    #[test]
    fn a_close_ends_a_close_delimited_body_and_breaks_the_others() {
        assert_eq!(Framing::Close.closed(), Ok(()));
        assert_eq!(Framing::Length(3).closed(), Err(FramingError::Closed));
        let mut chunked = Framing::Chunked(Chunked::Data(2));
        assert_eq!(chunked.closed(), Err(FramingError::Closed));
        assert!(!Framing::Close.reusable());
        assert!(Framing::Length(0).reusable());
    }
}
