//! Strict chunked framing of request bodies (RFC 9112 §7.1), checked as the
//! bytes arrive, before Pingora's body reader sees them.
//!
//! Pingora's chunk parser ignores every byte of a chunk extension up to the
//! CRLF, so an LF inside one is accepted; a proxy in front of the gateway
//! that reads that LF as the end of the line would frame the body
//! differently (request smuggling). [`ChunkCheck`] accepts only: hex digits,
//! an optional extension of tokens, `=`, `;`, blanks and quoted strings
//! (no CR, LF or other control byte), CRLF, exactly the announced data,
//! CRLF; then `0`, trailer lines ending in CRLF, and a final CRLF. A
//! violation fails the read with [`std::io::ErrorKind::InvalidData`], so
//! the request ends with 400 and the connection is closed.
//!
//! [`super::stream::Guarded`] runs it on every read while a chunked body
//! is being read. Data bytes are skipped in bulk, so a body costs a few
//! comparisons per chunk.

/// Longest chunk-size line (size and extensions) accepted.
pub const MAX_CHUNK_LINE_BYTES: usize = 4096;
/// Longest trailer section accepted.
pub const MAX_TRAILER_BYTES: usize = 16 * 1024;
/// Most hex digits of a chunk size (16 fill a u64).
const MAX_SIZE_DIGITS: u8 = 16;

/// Where in a chunked body the next byte falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading the hex size (`digits` so far, value in `ChunkCheck::size`).
    Size {
        digits: u8,
    },
    /// In the extensions after the size; `quoted` inside a quoted string,
    /// `escaped` right after a backslash in one.
    Ext {
        quoted: bool,
        escaped: bool,
    },
    /// After the CR that ends the size line.
    SizeLf,
    Data {
        left: u64,
    },
    DataCr,
    DataLf,
    /// At the start of a trailer line or the final CRLF.
    TrailerStart,
    /// Inside a trailer line.
    TrailerLine,
    TrailerLf,
    FinalLf,
    Done,
}

/// The framing check of one chunked body.
#[derive(Debug, Clone)]
pub struct ChunkCheck {
    state: State,
    /// The size of the chunk whose size line is being read.
    size: u64,
    /// Bytes of the current size line, or of the trailer section.
    line: usize,
}

/// Why a chunked body was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed chunked body: {0}")]
pub struct BadFraming(pub &'static str);

impl Default for ChunkCheck {
    fn default() -> Self {
        ChunkCheck {
            state: State::Size { digits: 0 },
            size: 0,
            line: 0,
        }
    }
}

impl ChunkCheck {
    /// Whether the whole body (with its trailers) has been seen.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Checks the next bytes of the body; bytes after its end are not looked at.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), BadFraming> {
        let mut at = 0;
        while at < bytes.len() {
            if let State::Data { left } = self.state {
                let take = usize::try_from(left)
                    .unwrap_or(usize::MAX)
                    .min(bytes.len() - at);
                at += take;
                let left = left - take as u64;
                self.state = if left == 0 {
                    State::DataCr
                } else {
                    State::Data { left }
                };
                continue;
            }
            if self.state == State::Done {
                return Ok(());
            }
            self.step(bytes[at])?;
            at += 1;
        }
        Ok(())
    }

    /// Moves past one byte outside chunk data: each state's rule is its own
    /// step below, so a reader can check one line of the grammar at a time.
    fn step(&mut self, b: u8) -> Result<(), BadFraming> {
        self.state = match self.state {
            State::Size { digits } => self.size_byte(digits, b)?,
            State::Ext { quoted, escaped } => self.extension_byte(quoted, escaped, b)?,
            State::SizeLf => self.size_line_end(b)?,
            State::DataCr => match b {
                b'\r' => State::DataLf,
                _ => return Err(BadFraming("chunk data longer than its size")),
            },
            State::DataLf => self.data_end(b)?,
            State::TrailerStart | State::TrailerLine => self.trailer_byte(b)?,
            State::TrailerLf => match b {
                b'\n' => State::TrailerStart,
                _ => return Err(BadFraming("trailer line not ended by CRLF")),
            },
            State::FinalLf => match b {
                b'\n' => State::Done,
                _ => return Err(BadFraming("chunked body not ended by CRLF")),
            },
            State::Data { .. } | State::Done => self.state,
        };
        Ok(())
    }

    /// A byte of the hex size: a digit (at most [`MAX_SIZE_DIGITS`]), or
    /// after one at least, the CR ending the line or the start of an extension.
    fn size_byte(&mut self, digits: u8, b: u8) -> Result<State, BadFraming> {
        if b != b'\r' {
            self.count_line(MAX_CHUNK_LINE_BYTES, "chunk size line too long")?;
        }
        Ok(match (b, hex(b)) {
            (_, Some(d)) if digits < MAX_SIZE_DIGITS => {
                self.size = (self.size << 4) | u64::from(d);
                State::Size { digits: digits + 1 }
            }
            (_, Some(_)) => return Err(BadFraming("chunk size too large")),
            (b'\r', None) if digits > 0 => State::SizeLf,
            (b';' | b' ' | b'\t', None) if digits > 0 => State::Ext {
                quoted: false,
                escaped: false,
            },
            _ => return Err(BadFraming("invalid chunk size")),
        })
    }

    /// A byte of the extensions: tokens, `=`, `;`, blanks and quoted
    /// strings with escapes; a CR outside quotes ends the line, and no line
    /// break may appear anywhere else.
    fn extension_byte(&mut self, quoted: bool, escaped: bool, b: u8) -> Result<State, BadFraming> {
        if b != b'\r' {
            self.count_line(MAX_CHUNK_LINE_BYTES, "chunk extension too long")?;
        }
        let visible = b == b'\t' || (b' '..=b'~').contains(&b) || b >= 0x80;
        let in_quotes = |escaped| State::Ext {
            quoted: true,
            escaped,
        };
        Ok(match (quoted, escaped, b) {
            (_, _, b'\r' | b'\n') if quoted => {
                return Err(BadFraming("line break in a chunk extension"));
            }
            (false, _, b'\r') => State::SizeLf,
            (false, _, b'\n') => return Err(BadFraming("line break in a chunk extension")),
            (true, true, _) if visible => in_quotes(false),
            (true, false, b'\\') => in_quotes(true),
            (true, false, b'"') => State::Ext {
                quoted: false,
                escaped: false,
            },
            (true, false, _) if visible => self.state,
            (false, _, b'"') => in_quotes(false),
            (false, _, b';' | b'=' | b' ' | b'\t') => self.state,
            (false, _, _) if is_tchar(b) => self.state,
            _ => return Err(BadFraming("invalid byte in a chunk extension")),
        })
    }

    /// The LF ending a size line: the data of the chunk follows, or for
    /// size 0 the trailer section.
    fn size_line_end(&mut self, b: u8) -> Result<State, BadFraming> {
        match b {
            b'\n' if self.size == 0 => {
                self.line = 0;
                Ok(State::TrailerStart)
            }
            b'\n' => Ok(State::Data { left: self.size }),
            _ => Err(BadFraming("chunk size line not ended by CRLF")),
        }
    }

    /// The LF after a chunk's data: the next size line starts.
    fn data_end(&mut self, b: u8) -> Result<State, BadFraming> {
        match b {
            b'\n' => {
                self.line = 0;
                self.size = 0;
                Ok(State::Size { digits: 0 })
            }
            _ => Err(BadFraming("chunk data not ended by CRLF")),
        }
    }

    /// A byte of the trailer section (at most [`MAX_TRAILER_BYTES`]): a CR
    /// at a line's start begins the final CRLF, any other CR ends a line.
    fn trailer_byte(&mut self, b: u8) -> Result<State, BadFraming> {
        self.count_line(MAX_TRAILER_BYTES, "trailer section too long")?;
        match b {
            b'\r' if self.state == State::TrailerStart => Ok(State::FinalLf),
            b'\r' => Ok(State::TrailerLf),
            b'\n' => Err(BadFraming("bare LF in the trailer section")),
            _ => Ok(State::TrailerLine),
        }
    }

    fn count_line(&mut self, max: usize, what: &'static str) -> Result<(), BadFraming> {
        self.line += 1;
        if self.line > max {
            return Err(BadFraming(what));
        }
        Ok(())
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(body: &[u8]) -> Result<bool, BadFraming> {
        let mut c = ChunkCheck::default();
        c.feed(body)?;
        Ok(c.is_done())
    }

    #[test]
    fn well_formed_bodies_pass_whole_or_byte_by_byte() {
        let body = b"5;name=val;q=\"a b\\\"c\"\r\nhello\r\nA\r\n0123456789\r\n0\r\nx-t: 1\r\n\r\n";
        assert_eq!(check(body), Ok(true));
        let mut c = ChunkCheck::default();
        for b in body.iter() {
            c.feed(&[*b]).expect("byte by byte");
        }
        assert!(c.is_done());
        assert_eq!(check(b"0\r\n\r\n"), Ok(true));
        assert_eq!(check(b"3\r\nab"), Ok(false), "incomplete is not an error");
    }

    #[test]
    fn lf_inside_a_chunk_extension_is_refused() {
        assert!(check(b"5;ext\nmore\r\nhello\r\n0\r\n\r\n").is_err());
        assert!(check(b"5;q=\"a\nb\"\r\nhello\r\n0\r\n\r\n").is_err());
    }

    #[test]
    fn bad_sizes_and_bad_line_ends_are_refused() {
        for body in [
            &b"zz\r\n"[..],
            b"\r\n",
            b"5\nhello\r\n0\r\n\r\n",
            b"5\r\nhello!\r\n",
            b"5\r\nhello\n0\r\n\r\n",
            b"11111111111111111\r\n",
            b"0\r\nx-t: 1\n\r\n",
            b"0\r\n\n",
            b"-5\r\n",
        ] {
            assert!(check(body).is_err(), "{}", body.escape_ascii());
        }
    }

    #[test]
    fn chunk_size_line_is_limited_to_its_maximum() {
        let mut at_limit = b"1;".to_vec();
        at_limit.resize(MAX_CHUNK_LINE_BYTES, b'a');
        at_limit.extend_from_slice(b"\r\nx\r\n0\r\n\r\n");
        assert_eq!(check(&at_limit), Ok(true));
        let mut over = b"1;".to_vec();
        over.resize(MAX_CHUNK_LINE_BYTES + 1, b'a');
        over.extend_from_slice(b"\r\n");
        assert!(check(&over).is_err());
    }
}
