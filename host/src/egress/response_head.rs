//! An upstream answer's head, parsed from the bytes read so far, and what
//! it says about the body that follows: its framing ([`Framing`]) and
//! whether the connection can carry another request afterwards.
//!
//! The upstream is outside the trust boundary, so anything that could be
//! read two ways is refused rather than guessed: a status outside
//! 100-599, a protocol switch nobody asked for (101), a content length
//! that is not plain digits or disagrees with another, a transfer coding
//! other than `chunked` (its bytes would reach the client undecoded). An
//! answer with both a transfer coding and a content length is read as
//! chunked (RFC 9112 §6.3) and its connection is not reused.

use http::header::{CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{HeaderMap, Version};
use pingora::http::ResponseHeader;

use super::framing::{Chunked, Framing};

/// Longest response head accepted.
pub const MAX_RESPONSE_HEAD_BYTES: usize = 64 * 1024;
/// Most header fields accepted in a response head.
pub const MAX_RESPONSE_HEADERS: usize = 256;

/// Why a response head is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    #[error("invalid response head")]
    Invalid,
    #[error("response head longer than {MAX_RESPONSE_HEAD_BYTES} bytes")]
    TooLong,
    #[error("more than {MAX_RESPONSE_HEADERS} header fields")]
    TooManyHeaders,
    #[error("invalid or conflicting content-length")]
    ContentLength,
    #[error("a transfer coding other than chunked")]
    TransferEncoding,
    #[error("a status outside 100-599, or a protocol switch nobody asked for")]
    Status,
    #[error("more than {MAX_INFORMATIONAL_HEADS} informational (1xx) answers")]
    TooManyInformational,
}

/// Most informational (1xx) heads skipped before the final one.
pub const MAX_INFORMATIONAL_HEADS: usize = 16;

/// A parsed head and the framing of the body after it.
#[derive(Debug)]
pub struct Head {
    pub header: ResponseHeader,
    pub framing: Framing,
    /// Whether the upstream keeps the connection open after the answer.
    pub keep_alive: bool,
    /// How many bytes of the buffer the head took.
    pub len: usize,
}

/// Parses the head at the start of `bytes`; `None` until it is complete.
/// An informational (1xx) head is returned like any other: the caller
/// skips it. `head_request` says the request was a `HEAD` (no body).
pub fn parse(bytes: &[u8], head_request: bool) -> Result<Option<Head>, HeadError> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_RESPONSE_HEADERS];
    let mut response = httparse::Response::new(&mut fields);
    let len = match response.parse(bytes) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if bytes.len() > MAX_RESPONSE_HEAD_BYTES => {
            return Err(HeadError::TooLong);
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooManyHeaders),
        Err(_) => return Err(HeadError::Invalid),
    };
    if len > MAX_RESPONSE_HEAD_BYTES {
        return Err(HeadError::TooLong);
    }
    let status = response.code.ok_or(HeadError::Invalid)?;
    // No request asks to switch protocols (`upgrade` is not forwarded).
    if !(100..600).contains(&status) || status == 101 {
        return Err(HeadError::Status);
    }
    let mut header = ResponseHeader::build_no_case(status, Some(response.headers.len()))
        .map_err(|_| HeadError::Invalid)?;
    header.set_version(match response.version {
        Some(1) => Version::HTTP_11,
        _ => Version::HTTP_10,
    });
    for field in response.headers.iter() {
        let name =
            http::HeaderName::from_bytes(field.name.as_bytes()).map_err(|_| HeadError::Invalid)?;
        let value = http::HeaderValue::from_bytes(field.value).map_err(|_| HeadError::Invalid)?;
        header
            .append_header(name, value)
            .map_err(|_| HeadError::Invalid)?;
    }
    // Both framings given: a sign of an attempt to split the answer, so
    // the connection carries nothing after it.
    let both = header.headers.contains_key(TRANSFER_ENCODING)
        && header.headers.contains_key(CONTENT_LENGTH);
    let framing = framing(&mut header, head_request)?;
    let keep_alive = header.version == Version::HTTP_11
        && !both
        && !has_token(&header.headers, CONNECTION, "close")
        && framing.reusable();
    Ok(Some(Head {
        header,
        framing,
        keep_alive,
        len,
    }))
}

/// Whether `header` is informational (1xx; [`parse`] refuses 101):
/// another head follows it.
pub fn informational(header: &ResponseHeader) -> bool {
    (100..200).contains(&header.status.as_u16())
}

/// How the body after `header` ends (RFC 9112 §6.3). A transfer coding
/// overrides a content length, which is then removed from the head; the
/// only transfer coding read is `chunked`, once.
fn framing(header: &mut ResponseHeader, head_request: bool) -> Result<Framing, HeadError> {
    let status = header.status.as_u16();
    if head_request || (100..200).contains(&status) || status == 204 || status == 304 {
        return Ok(Framing::Length(0));
    }
    if header.headers.contains_key(TRANSFER_ENCODING) {
        header.remove_header(&CONTENT_LENGTH);
        let values = header.headers.get_all(TRANSFER_ENCODING);
        let readable = values.iter().all(|v| v.to_str().is_ok());
        let mut codings = tokens(&header.headers, TRANSFER_ENCODING);
        let chunked = codings
            .next()
            .is_some_and(|t| t.eq_ignore_ascii_case("chunked"));
        if !readable || !chunked || codings.next().is_some() {
            return Err(HeadError::TransferEncoding);
        }
        return Ok(Framing::Chunked(Chunked::Size));
    }
    let mut length = None;
    for value in header.headers.get_all(CONTENT_LENGTH) {
        let text = value.to_str().map_err(|_| HeadError::ContentLength)?;
        for part in text.split(',') {
            let n = content_length(part.trim()).ok_or(HeadError::ContentLength)?;
            if length.is_some_and(|l| l != n) {
                return Err(HeadError::ContentLength);
            }
            length = Some(n);
        }
    }
    Ok(length.map_or(Framing::Close, Framing::Length))
}

/// A content length: plain digits (no sign, no space) that fit a u64.
fn content_length(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The comma-separated tokens of every `name` field.
fn tokens(headers: &HeaderMap, name: http::HeaderName) -> impl Iterator<Item = &str> {
    headers
        .get_all(name)
        .into_iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

fn has_token(headers: &HeaderMap, name: http::HeaderName, token: &str) -> bool {
    tokens(headers, name).any(|t| t.eq_ignore_ascii_case(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(wire: &str) -> Head {
        parse(wire.as_bytes(), false)
            .expect("valid")
            .expect("complete")
    }

    #[test]
    fn a_head_gives_its_length_status_headers_and_framing() {
        let head = parsed(
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\ndata",
        );
        assert_eq!(head.header.status.as_u16(), 200);
        assert_eq!(head.len, 80);
        assert_eq!(head.framing, Framing::Chunked(Chunked::Size));
        assert!(head.keep_alive);
        let kind = head.header.headers.get("content-type").expect("kept");
        assert_eq!(kind, "text/event-stream");
    }

    #[test]
    fn an_incomplete_head_waits_and_garbage_is_refused() {
        assert!(
            parse(b"HTTP/1.1 200 OK\r\nContent-", false)
                .expect("ok")
                .is_none()
        );
        assert_eq!(
            parse(b"SSH-2.0-x\r\n\r\n", false).err(),
            Some(HeadError::Invalid)
        );
    }

    #[test]
    fn the_framing_follows_rfc_9112() {
        let cases = [
            (
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
                Framing::Length(5),
            ),
            (
                "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n",
                Framing::Length(5),
            ),
            (
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
                Framing::Chunked(Chunked::Size),
            ),
            (
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n",
                Framing::Chunked(Chunked::Size),
            ),
            ("HTTP/1.1 200 OK\r\n\r\n", Framing::Close),
            (
                "HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n",
                Framing::Length(0),
            ),
            ("HTTP/1.1 304 Not Modified\r\n\r\n", Framing::Length(0)),
        ];
        for (wire, framing) in cases {
            assert_eq!(parsed(wire).framing, framing, "{wire}");
        }
        let head = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", true);
        assert_eq!(
            head.expect("ok").expect("complete").framing,
            Framing::Length(0)
        );
        let conflicting = parse(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            false,
        );
        assert_eq!(conflicting.err(), Some(HeadError::ContentLength));
    }

    #[test]
    fn only_an_http_1_1_answer_with_a_known_end_keeps_the_connection() {
        assert!(parsed("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").keep_alive);
        assert!(
            !parsed("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").keep_alive
        );
        assert!(!parsed("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keep_alive);
        assert!(!parsed("HTTP/1.1 200 OK\r\n\r\n").keep_alive);
    }

    #[test]
    fn informational_heads_are_told_apart() {
        assert!(informational(
            &parsed("HTTP/1.1 100 Continue\r\n\r\n").header
        ));
        assert!(informational(
            &parsed("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n").header
        ));
        assert!(!informational(&parsed("HTTP/1.1 200 OK\r\n\r\n").header));
    }

    fn refused(wire: &str) -> Option<HeadError> {
        parse(wire.as_bytes(), false).err()
    }

    #[test]
    fn a_transfer_coding_other_than_chunked_once_is_refused() {
        for coding in [
            "gzip",
            "gzip, chunked",
            "chunked, chunked",
            "chunked, gzip",
            "",
        ] {
            let wire = format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: {coding}\r\n\r\n");
            assert_eq!(
                refused(&wire),
                Some(HeadError::TransferEncoding),
                "{coding}"
            );
        }
    }

    #[test]
    fn both_framings_read_as_chunked_without_the_length_and_end_the_connection() {
        let head =
            parsed("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert_eq!(head.framing, Framing::Chunked(Chunked::Size));
        assert!(!head.header.headers.contains_key(CONTENT_LENGTH));
        assert!(!head.keep_alive);
    }

    #[test]
    fn a_content_length_that_is_not_plain_digits_is_refused() {
        for value in [
            "+5",
            "-5",
            "5 5",
            "0x5",
            "5,",
            "18446744073709551616",
            "five",
        ] {
            let wire = format!("HTTP/1.1 200 OK\r\nContent-Length: {value}\r\n\r\n");
            assert_eq!(refused(&wire), Some(HeadError::ContentLength), "{value}");
        }
        let max = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", u64::MAX);
        assert_eq!(parsed(&max).framing, Framing::Length(u64::MAX));
    }

    #[test]
    fn statuses_outside_the_range_and_a_switch_nobody_asked_for_are_refused() {
        for status in ["099", "101", "600", "999"] {
            let wire = format!("HTTP/1.1 {status} X\r\n\r\n");
            assert_eq!(refused(&wire), Some(HeadError::Status), "{status}");
        }
        assert_eq!(parsed("HTTP/1.1 599 X\r\n\r\n").header.status.as_u16(), 599);
        for line in [
            "HTTP/2 200 OK",
            "HTTP/1.2 200 OK",
            "ICY 200 OK",
            "HTTP/1.1 2000 OK",
        ] {
            let wire = format!("{line}\r\n\r\n");
            assert_eq!(refused(&wire), Some(HeadError::Invalid), "{line}");
        }
    }

    #[test]
    fn control_bytes_and_folded_lines_in_a_header_are_refused() {
        for field in [
            "x-a: 1\0 2",
            "x-a: 1\r2",
            "x-a: 1\r\n 2",
            "x-a : 1",
            "x a: 1",
        ] {
            let wire = format!("HTTP/1.1 200 OK\r\n{field}\r\nContent-Length: 0\r\n\r\n");
            assert_eq!(refused(&wire), Some(HeadError::Invalid), "{field:?}");
        }
    }

    #[test]
    fn bare_line_feeds_end_lines_too() {
        let head = parsed("HTTP/1.1 200 OK\nContent-Length: 2\n\nok");
        assert_eq!((head.framing, head.len), (Framing::Length(2), 35));
    }

    #[test]
    fn header_fields_are_read_at_their_limit_and_refused_past_it() {
        let wire = |count: usize| {
            let fields: String = (0..count).map(|i| format!("x-{i}: v\r\n")).collect();
            format!("HTTP/1.1 200 OK\r\n{fields}\r\n")
        };
        let at = parsed(&wire(MAX_RESPONSE_HEADERS));
        assert_eq!(at.header.headers.len(), MAX_RESPONSE_HEADERS);
        assert_eq!(
            refused(&wire(MAX_RESPONSE_HEADERS + 1)),
            Some(HeadError::TooManyHeaders)
        );
    }

    #[test]
    fn a_head_is_read_at_its_limit_and_refused_past_it() {
        let start = "HTTP/1.1 200 OK\r\nx-pad: ";
        let end = "\r\nContent-Length: 0\r\n\r\n";
        let pad = MAX_RESPONSE_HEAD_BYTES - start.len() - end.len();
        let at = format!("{start}{}{end}", "a".repeat(pad));
        assert_eq!(at.len(), MAX_RESPONSE_HEAD_BYTES);
        assert!(parse(at.as_bytes(), false).expect("at the limit").is_some());
        let over = format!("{start}{}{end}", "a".repeat(pad + 1));
        assert_eq!(
            parse(over.as_bytes(), false).err(),
            Some(HeadError::TooLong)
        );
    }
}
