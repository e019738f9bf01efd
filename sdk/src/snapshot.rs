//! A stream parser's state as bytes (`stream-state` in the WIT), so that
//! the gateway keeps no plugin instance alive while a stream is open: it
//! keeps these bytes instead and hands them back with the next batch.
//!
//! The encoding is private to this SDK version: a version byte, then each
//! field length-prefixed (little-endian `u32`) or fixed-width. The host
//! gives a state back only to the plugin version that wrote it, within one
//! stream, so it never has to be read by other code.

use crate::Usage;
use crate::sse::SseEvent;

/// Marks the layout below; a state of another layout is refused.
const LAYOUT: u8 = 1;

/// Appends fields to a state.
#[derive(Default)]
pub(crate) struct Writer(Vec<u8>);

impl Writer {
    pub(crate) fn new() -> Self {
        Writer(vec![LAYOUT])
    }

    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        // A field cannot reach 4 GiB in a 32-bit guest; natively it is cut
        // rather than written with a wrong length.
        let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        self.0.extend_from_slice(&len.to_le_bytes());
        self.0.extend_from_slice(&bytes[..len as usize]);
    }

    pub(crate) fn flag(&mut self, flag: bool) {
        self.0.push(u8::from(flag));
    }

    pub(crate) fn u64(&mut self, value: u64) {
        self.0.extend_from_slice(&value.to_le_bytes());
    }

    pub(crate) fn text(&mut self, text: Option<&str>) {
        self.flag(text.is_some());
        if let Some(text) = text {
            self.bytes(text.as_bytes());
        }
    }

    pub(crate) fn usage(&mut self, usage: Option<Usage>) {
        self.flag(usage.is_some());
        if let Some(u) = usage {
            for value in [
                u.input_tokens,
                u.output_tokens,
                u.cached_input_tokens,
                u.cache_write_tokens,
                u.reasoning_tokens,
            ] {
                self.u64(value);
            }
        }
    }

    pub(crate) fn event(&mut self, event: Option<&SseEvent>) {
        self.flag(event.is_some());
        if let Some(e) = event {
            self.text(e.event.as_deref());
            self.bytes(e.data.as_bytes());
        }
    }

    pub(crate) fn finish(self) -> Vec<u8> {
        self.0
    }
}

/// Why a state cannot be read.
#[derive(Debug, PartialEq, Eq)]
pub struct BadState;

/// Reads fields back in the order they were written.
pub(crate) struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    pub(crate) fn new(state: &'a [u8]) -> Result<Self, BadState> {
        match state.split_first() {
            Some((&LAYOUT, rest)) => Ok(Reader(rest)),
            _ => Err(BadState),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], BadState> {
        if self.0.len() < n {
            return Err(BadState);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], BadState> {
        let len = u32::from_le_bytes(self.take(4)?.try_into().map_err(|_| BadState)?);
        self.take(len as usize)
    }

    pub(crate) fn flag(&mut self) -> Result<bool, BadState> {
        match self.take(1)? {
            [0] => Ok(false),
            [1] => Ok(true),
            _ => Err(BadState),
        }
    }

    pub(crate) fn u64(&mut self) -> Result<u64, BadState> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().map_err(|_| BadState)?,
        ))
    }

    pub(crate) fn string(&mut self) -> Result<String, BadState> {
        String::from_utf8(self.bytes()?.to_vec()).map_err(|_| BadState)
    }

    pub(crate) fn text(&mut self) -> Result<Option<String>, BadState> {
        if self.flag()? {
            self.string().map(Some)
        } else {
            Ok(None)
        }
    }

    pub(crate) fn usage(&mut self) -> Result<Option<Usage>, BadState> {
        if !self.flag()? {
            return Ok(None);
        }
        Ok(Some(Usage {
            input_tokens: self.u64()?,
            output_tokens: self.u64()?,
            cached_input_tokens: self.u64()?,
            cache_write_tokens: self.u64()?,
            reasoning_tokens: self.u64()?,
        }))
    }

    pub(crate) fn event(&mut self) -> Result<Option<SseEvent>, BadState> {
        if !self.flag()? {
            return Ok(None);
        }
        Ok(Some(SseEvent {
            event: self.text()?,
            data: self.string()?,
        }))
    }

    /// Everything was read: trailing bytes mean a state of another shape.
    pub(crate) fn end(self) -> Result<(), BadState> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(BadState)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StreamState;

    #[test]
    fn a_state_reads_back_to_what_was_written_and_nothing_else_reads() {
        let mut out = Writer::new();
        out.bytes(b"partial li");
        out.text(Some("message_delta"));
        out.text(None);
        out.usage(Some(Usage {
            input_tokens: 1,
            output_tokens: 2,
            cached_input_tokens: 3,
            cache_write_tokens: 4,
            reasoning_tokens: 5,
        }));
        out.event(Some(&SseEvent {
            event: None,
            data: "{}".into(),
        }));
        let state = out.finish();
        let mut from = Reader::new(&state).unwrap();
        assert_eq!(from.bytes().unwrap(), b"partial li");
        assert_eq!(from.text().unwrap().as_deref(), Some("message_delta"));
        assert_eq!(from.text().unwrap(), None);
        assert_eq!(from.usage().unwrap().unwrap().cache_write_tokens, 4);
        assert_eq!(from.event().unwrap().unwrap().data, "{}");
        from.end().unwrap();

        // Truncated, extended, or of another layout: refused, never guessed.
        assert!(StreamState::restore(&state[..state.len() - 1]).is_err());
        assert!(StreamState::restore(&[2]).is_err());
        let fresh = StreamState::default().save();
        let mut longer = fresh.clone();
        longer.push(0);
        assert!(StreamState::restore(&longer).is_err());
        assert!(StreamState::restore(&fresh).is_ok());
        assert!(StreamState::restore(&[]).is_ok(), "empty is a new stream");
    }
}
