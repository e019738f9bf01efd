//! The few protocol-buffer wire forms an OTLP trace export needs: varints,
//! length-delimited fields (strings, bytes, nested messages), fixed-width
//! integers and doubles. Written by hand so the export costs no code
//! generator and no extra crates; the field numbers live in `spans.rs`,
//! next to the message each belongs to, and the end-to-end test decodes
//! the output with the published OpenTelemetry definitions.

/// Wire types of the protobuf encoding.
const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;
const FIXED32: u8 = 5;

/// A message being written. Nested messages are written into their own
/// buffer and then appended as a length-delimited field.
#[derive(Default)]
pub struct Message {
    buf: Vec<u8>,
}

impl Message {
    pub fn new() -> Message {
        Message::default()
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    fn key(&mut self, field: u32, wire: u8) {
        self.varint((u64::from(field) << 3) | u64::from(wire));
    }

    /// An unsigned or enum field. Written even when zero: a member of a
    /// `oneof` (an attribute's value) must be, and a decoder takes an
    /// explicit zero for the default everywhere else.
    pub fn uint(&mut self, field: u32, v: u64) -> &mut Self {
        self.key(field, VARINT);
        self.varint(v);
        self
    }

    /// An `int64` field (two's complement, as the protobuf `int64` type).
    pub fn int(&mut self, field: u32, v: i64) -> &mut Self {
        self.uint(field, v as u64)
    }

    pub fn boolean(&mut self, field: u32, v: bool) -> &mut Self {
        self.uint(field, u64::from(v))
    }

    pub fn fixed64(&mut self, field: u32, v: u64) -> &mut Self {
        self.key(field, FIXED64);
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }

    pub fn fixed32(&mut self, field: u32, v: u32) -> &mut Self {
        self.key(field, FIXED32);
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }

    pub fn double(&mut self, field: u32, v: f64) -> &mut Self {
        self.fixed64(field, v.to_bits())
    }

    /// A `bytes` field, written even when empty (a oneof member must be).
    pub fn bytes(&mut self, field: u32, v: &[u8]) -> &mut Self {
        self.key(field, LEN);
        self.varint(v.len() as u64);
        self.buf.extend_from_slice(v);
        self
    }

    pub fn string(&mut self, field: u32, v: &str) -> &mut Self {
        self.bytes(field, v.as_bytes())
    }

    pub fn message(&mut self, field: u32, m: Message) -> &mut Self {
        self.bytes(field, &m.buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_match_the_protobuf_examples() {
        // The encoding guide's examples: 1 → 08 01, 150 → 08 96 01.
        let mut m = Message::new();
        m.uint(1, 1).uint(1, 150);
        assert_eq!(m.into_bytes(), [0x08, 0x01, 0x08, 0x96, 0x01]);
    }

    #[test]
    fn a_negative_int64_takes_ten_bytes() {
        let mut m = Message::new();
        m.int(3, -1);
        let bytes = m.into_bytes();
        assert_eq!(bytes.len(), 11);
        assert_eq!(bytes[0], 0x18);
        assert_eq!(bytes[10], 0x01);
    }

    #[test]
    fn strings_and_nested_messages_are_length_delimited() {
        let mut inner = Message::new();
        inner.string(1, "testing");
        let mut outer = Message::new();
        outer.message(3, inner);
        // 1a 09 | 0a 07 "testing"
        let mut want = vec![0x1a, 0x09, 0x0a, 0x07];
        want.extend_from_slice(b"testing");
        assert_eq!(outer.into_bytes(), want);
    }

    #[test]
    fn fixed_fields_are_little_endian() {
        let mut m = Message::new();
        m.fixed64(7, 1).fixed32(16, 0x0102_0304);
        assert_eq!(
            m.into_bytes(),
            [0x39, 1, 0, 0, 0, 0, 0, 0, 0, 0x85, 0x01, 4, 3, 2, 1]
        );
    }

    #[test]
    fn zero_scalars_are_still_written() {
        let mut m = Message::new();
        m.boolean(2, false);
        assert_eq!(m.into_bytes(), [0x10, 0x00]);
    }
}
