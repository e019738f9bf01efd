//! The W3C Trace Context `traceparent` header a client may send, so the
//! gateway's spans join the client's trace instead of starting a new one.
//!
//! Parsing follows the W3C rules: lower-case hex only, neither id all
//! zeros, version `ff` refused, a future version accepted when its first
//! four fields have the version-00 shape. Anything else is ignored (the
//! request then starts a trace of its own), never an error for the client.

/// Length of a version-00 `traceparent` value.
const VERSION_00_LEN: usize = 55;

/// Bit of the trace flags saying the caller records this trace.
pub const SAMPLED: u8 = 0x01;

/// The caller's position in its trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    pub trace_id: [u8; 16],
    /// The caller's span, parent of the gateway's request span.
    pub span_id: [u8; 8],
    pub flags: u8,
}

impl TraceParent {
    /// Parses a header value; `None` when it does not follow the rules.
    pub fn parse(value: &str) -> Option<TraceParent> {
        let value = value.trim();
        if value.len() < VERSION_00_LEN || !value.is_ascii() {
            return None;
        }
        let version = value.get(0..2)?;
        if version == "ff" || hex_array::<1>(version).is_none() {
            return None;
        }
        if version == "00" && value.len() != VERSION_00_LEN {
            return None;
        }
        if value.len() > VERSION_00_LEN && value.as_bytes()[VERSION_00_LEN] != b'-' {
            return None;
        }
        let b = value.as_bytes();
        if b[2] != b'-' || b[35] != b'-' || b[52] != b'-' {
            return None;
        }
        let trace_id = hex_array::<16>(&value[3..35])?;
        let span_id = hex_array::<8>(&value[36..52])?;
        let [flags] = hex_array::<1>(&value[53..55])?;
        if trace_id == [0; 16] || span_id == [0; 8] {
            return None;
        }
        Some(TraceParent {
            trace_id,
            span_id,
            flags,
        })
    }

    pub fn sampled(&self) -> bool {
        self.flags & SAMPLED != 0
    }
}

/// `N` bytes from exactly `2N` lower-case hex digits.
fn hex_array<const N: usize>(s: &str) -> Option<[u8; N]> {
    if s.len() != 2 * N || !s.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_version_00_header_gives_ids_and_flags() {
        let p = TraceParent::parse(VALID).expect("valid");
        assert_eq!(hex::encode(p.trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(hex::encode(p.span_id), "00f067aa0ba902b7");
        assert!(p.sampled());
        let unsampled = TraceParent::parse(&VALID.replace("-01", "-00")).expect("valid");
        assert!(!unsampled.sampled());
    }

    #[test]
    fn malformed_headers_are_ignored() {
        for bad in [
            "",
            "garbage",
            &VALID.to_uppercase(),
            &VALID.replace("00-4bf", "ff-4bf"),
            &format!("{VALID}-extra"),
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",
        ] {
            assert_eq!(TraceParent::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_future_version_is_read_by_its_version_00_prefix() {
        let future = format!("01{}-more", &VALID[2..]);
        assert!(TraceParent::parse(&future).is_some());
        let glued = format!("01{}more", &VALID[2..]);
        assert_eq!(TraceParent::parse(&glued), None);
    }
}
