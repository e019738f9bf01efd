//! The request head as it arrives: where it ends, and whether it is within
//! the edge limits, found in one pass over the bytes (a search for line
//! ends, resumed where the last read stopped), before Pingora parses it.
//!
//! Sizes, exactly: the request line is counted without its line end; the
//! header section is every header line after the request line with its
//! line end, plus the empty line that ends the head. A header is any
//! non-empty line of that section.

use super::Refusal;
use crate::config::HeadLimits;

/// A complete head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// Bytes of the head, including the empty line that ends it.
    pub len: usize,
    /// Whether the body is chunked (the last transfer coding is `chunked`,
    /// as Pingora decides it).
    pub chunked: bool,
}

/// The state of the search through a head that is still arriving.
#[derive(Debug, Default)]
pub struct HeadScan {
    /// Index just past the request line's `\n`, once seen.
    line_end: Option<usize>,
    /// Where the search for the next `\n` resumes.
    resume: usize,
}

impl HeadScan {
    /// Looks at the bytes read so far (`buf` only grows between calls):
    /// `Ok(None)` while the head is incomplete and within the limits.
    pub fn advance(&mut self, buf: &[u8], limits: &HeadLimits) -> Result<Option<Head>, Refusal> {
        let line_end = match self.line_end {
            Some(end) => end,
            None => match find_lf(buf, self.resume) {
                Some(lf) => {
                    let len = if lf > 0 && buf[lf - 1] == b'\r' {
                        lf - 1
                    } else {
                        lf
                    };
                    if len > limits.max_request_line {
                        return Err(Refusal::RequestLineTooLong);
                    }
                    self.line_end = Some(lf + 1);
                    self.resume = lf;
                    lf + 1
                }
                None => {
                    // Even a CR just read could not make the line short enough.
                    if buf.len() > limits.max_request_line + 1 {
                        return Err(Refusal::RequestLineTooLong);
                    }
                    self.resume = buf.len();
                    return Ok(None);
                }
            },
        };
        let mut from = self.resume;
        while let Some(lf) = find_lf(buf, from) {
            match (buf.get(lf + 1), buf.get(lf + 2)) {
                (Some(b'\n'), _) => return self.complete(buf, line_end, lf + 2, limits),
                (Some(b'\r'), Some(b'\n')) => {
                    return self.complete(buf, line_end, lf + 3, limits);
                }
                (None, _) | (Some(b'\r'), None) => break,
                _ => from = lf + 1,
            }
        }
        self.resume = find_lf(buf, from).unwrap_or(buf.len());
        if buf.len() - line_end > limits.max_header_bytes {
            return Err(Refusal::HeaderSectionTooLarge);
        }
        Ok(None)
    }

    fn complete(
        &self,
        buf: &[u8],
        line_end: usize,
        end: usize,
        limits: &HeadLimits,
    ) -> Result<Option<Head>, Refusal> {
        // The request line's own `\n` can be the first of the two ending a head without headers.
        let section = buf.get(line_end..end).unwrap_or_default();
        if section.len() > limits.max_header_bytes {
            return Err(Refusal::HeaderSectionTooLarge);
        }
        let mut count = 0;
        let mut chunked = false;
        for line in section.split(|b| *b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                continue;
            }
            count += 1;
            if count > limits.max_headers {
                return Err(Refusal::TooManyHeaders);
            }
            let (name, value) = match line.iter().position(|b| *b == b':') {
                Some(colon) => (&line[..colon], &line[colon + 1..]),
                None => (line, &b""[..]),
            };
            if limits.reject_underscores && name.contains(&b'_') {
                return Err(Refusal::UnderscoreInHeaderName);
            }
            if name.eq_ignore_ascii_case(b"transfer-encoding") {
                chunked = last_coding_is_chunked(value);
            }
        }
        Ok(Some(Head {
            len: end.max(line_end),
            chunked,
        }))
    }
}

fn find_lf(buf: &[u8], from: usize) -> Option<usize> {
    buf.get(from..)?
        .iter()
        .position(|b| *b == b'\n')
        .map(|i| from + i)
}

fn last_coding_is_chunked(value: &[u8]) -> bool {
    value
        .rsplit(|b| *b == b',')
        .next()
        .map(|c| c.trim_ascii())
        .is_some_and(|c| c.eq_ignore_ascii_case(b"chunked"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: HeadLimits = HeadLimits {
        max_request_line: 32,
        max_header_bytes: 64,
        max_headers: 3,
        reject_underscores: true,
    };

    fn scan(head: &[u8]) -> Result<Option<Head>, Refusal> {
        HeadScan::default().advance(head, &LIMITS)
    }

    fn scan_bytewise(head: &[u8]) -> Result<Option<Head>, Refusal> {
        let mut scan = HeadScan::default();
        for end in 1..=head.len() {
            if let Some(done) = scan.advance(&head[..end], &LIMITS)? {
                return Ok(Some(done));
            }
        }
        Ok(None)
    }

    #[test]
    fn heads_end_at_the_empty_line_whole_or_byte_by_byte() {
        let head =
            b"POST /v1/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\nbody";
        let want = Head {
            len: head.len() - 4,
            chunked: true,
        };
        assert_eq!(scan(head), Ok(Some(want)));
        assert_eq!(scan_bytewise(head), Ok(Some(want)));
        let bare = b"GET / HTTP/1.1\n\n";
        assert_eq!(scan_bytewise(bare).map(|h| h.map(|h| h.len)), Ok(Some(16)));
        assert_eq!(scan(b"GET / HTTP/1.1\r\nHost: a\r\n"), Ok(None));
    }

    #[test]
    fn request_line_is_refused_one_byte_past_its_limit() {
        let at = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(32 - 14));
        assert!(matches!(scan(at.as_bytes()), Ok(Some(_))), "{at}");
        let over = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(33 - 14));
        assert_eq!(scan(over.as_bytes()), Err(Refusal::RequestLineTooLong));
        assert_eq!(
            scan_bytewise(over.as_bytes()),
            Err(Refusal::RequestLineTooLong)
        );
    }

    #[test]
    fn header_count_and_section_size_are_refused_past_their_limits() {
        let three = b"GET / HTTP/1.1\r\na: 1\r\nb: 2\r\nc: 3\r\n\r\n";
        assert!(matches!(scan(three), Ok(Some(_))));
        let four = b"GET / HTTP/1.1\r\na: 1\r\nb: 2\r\nc: 3\r\nd: 4\r\n\r\n";
        assert_eq!(scan(four), Err(Refusal::TooManyHeaders));
        // Section = "x: " + value + CRLF + CRLF.
        let at = format!("GET / HTTP/1.1\r\nx: {}\r\n\r\n", "v".repeat(64 - 7));
        assert!(matches!(scan(at.as_bytes()), Ok(Some(_))));
        let over = format!("GET / HTTP/1.1\r\nx: {}\r\n\r\n", "v".repeat(64 - 6));
        assert_eq!(scan(over.as_bytes()), Err(Refusal::HeaderSectionTooLarge));
        assert_eq!(
            scan_bytewise(over.as_bytes()),
            Err(Refusal::HeaderSectionTooLarge)
        );
    }

    #[test]
    fn underscore_in_a_header_name_is_refused_unless_allowed() {
        let head = b"GET / HTTP/1.1\r\nx_api_key: k\r\n\r\n";
        assert_eq!(scan(head), Err(Refusal::UnderscoreInHeaderName));
        let allowed = HeadLimits {
            reject_underscores: false,
            ..LIMITS
        };
        assert!(matches!(
            HeadScan::default().advance(head, &allowed),
            Ok(Some(_))
        ));
        let in_value = b"GET / HTTP/1.1\r\nx-id: a_b\r\n\r\n";
        assert!(matches!(scan(in_value), Ok(Some(_))));
    }
}
