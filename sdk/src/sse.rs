//! Server-sent-events framing that tolerates chunks split anywhere.
//!
//! Lines end in `\n`, `\r\n` or `\r` (a `\r\n` split across two chunks is
//! one line ending); an event ends at a blank line. Bytes are buffered until
//! a line is complete, so a UTF-8 character split across chunks is decoded
//! whole. A line longer than [`MAX_LINE_BYTES`] is dropped rather than
//! buffered without end.

/// The longest SSE line kept; longer lines are discarded.
pub const MAX_LINE_BYTES: usize = 8 * 1024 * 1024;

/// One complete server-sent event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event:` field, when present.
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

impl SseEvent {
    /// The event's data parsed as JSON; `None` for `[DONE]` and non-JSON data.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.data).ok()
    }

    /// The event's type: its `event:` field when it has one (Anthropic,
    /// Cohere), else the `type` string at the top level of its JSON data
    /// (OpenAI's Responses API); `None` for untyped events (chat
    /// completions, `[DONE]`). The data is scanned for that one member,
    /// never parsed whole.
    pub fn kind(&self) -> Option<String> {
        if let Some(event) = &self.event {
            return Some(event.clone());
        }
        match crate::json::field(self.data.as_bytes(), "type") {
            Ok(Some(serde_json::Value::String(kind))) => Some(kind),
            _ => None,
        }
    }
}

/// Incremental SSE parser.
#[derive(Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    line_too_long: bool,
    after_cr: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
}

impl SseParser {
    /// A parser with nothing buffered.
    pub fn new() -> Self {
        Self::default()
    }

    /// Consumes `chunk`, calling `on_event` for each event it completes.
    pub fn push(&mut self, chunk: &[u8], mut on_event: impl FnMut(&SseEvent)) {
        self.push_owned(chunk, |event| on_event(&event));
    }

    /// [`SseParser::push`], handing each event over: a caller that keeps
    /// events (the latest one, say) need not copy them.
    pub fn push_owned(&mut self, chunk: &[u8], mut on_event: impl FnMut(SseEvent)) {
        // Whole runs of bytes up to the next line end are copied at once:
        // this runs on every byte of every stream.
        let mut rest = chunk;
        while let Some((&first, after)) = rest.split_first() {
            if std::mem::take(&mut self.after_cr) && first == b'\n' {
                rest = after; // The `\n` of a `\r\n` split across chunks.
                continue;
            }
            match rest.iter().position(|&b| b == b'\n' || b == b'\r') {
                Some(end) => {
                    self.extend_line(rest.get(..end).unwrap_or_default());
                    self.after_cr = rest.get(end) == Some(&b'\r');
                    self.end_line(&mut on_event);
                    rest = rest.get(end + 1..).unwrap_or_default();
                }
                None => {
                    self.extend_line(rest);
                    return;
                }
            }
        }
    }

    /// Appends to the line, up to [`MAX_LINE_BYTES`]; past it the line is
    /// marked too long.
    fn extend_line(&mut self, bytes: &[u8]) {
        let room = MAX_LINE_BYTES.saturating_sub(self.line.len());
        if bytes.len() > room {
            self.line_too_long = true;
        }
        self.line
            .extend_from_slice(bytes.get(..room.min(bytes.len())).unwrap_or_default());
    }

    /// Ends the input: an event that was not followed by a blank line is
    /// still delivered.
    pub fn finish(&mut self, mut on_event: impl FnMut(&SseEvent)) {
        self.finish_owned(|event| on_event(&event));
    }

    /// [`SseParser::finish`], handing the event over.
    pub fn finish_owned(&mut self, mut on_event: impl FnMut(SseEvent)) {
        if !self.line.is_empty() {
            self.end_line(&mut on_event);
        }
        self.dispatch(&mut on_event);
    }

    /// Writes what the parser holds (a partial line, a partial event).
    pub(crate) fn save(&self, out: &mut crate::snapshot::Writer) {
        out.bytes(&self.line);
        out.flag(self.line_too_long);
        out.flag(self.after_cr);
        out.text(self.event.as_deref());
        out.bytes(self.data.as_bytes());
        out.flag(self.has_data);
    }

    /// The parser [`SseParser::save`] wrote.
    pub(crate) fn restore(
        from: &mut crate::snapshot::Reader<'_>,
    ) -> Result<Self, crate::snapshot::BadState> {
        Ok(SseParser {
            line: from.bytes()?.to_vec(),
            line_too_long: from.flag()?,
            after_cr: from.flag()?,
            event: from.text()?,
            data: from.string()?,
            has_data: from.flag()?,
        })
    }

    fn end_line(&mut self, on_event: &mut impl FnMut(SseEvent)) {
        if std::mem::take(&mut self.line_too_long) {
            self.line.clear();
            return;
        }
        if self.line.is_empty() {
            self.dispatch(on_event);
            return;
        }
        // The line's buffer is kept for the next line.
        let raw = std::mem::take(&mut self.line);
        let line = String::from_utf8_lossy(&raw);
        if !line.starts_with(':') {
            let (field, value) = match line.split_once(':') {
                Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
                None => (line.as_ref(), ""),
            };
            match field {
                "event" => self.event = Some(value.to_owned()),
                "data" => {
                    if self.has_data {
                        self.data.push('\n');
                    }
                    self.data.push_str(value);
                    self.has_data = true;
                }
                _ => {}
            }
        }
        drop(line);
        self.line = raw;
        self.line.clear();
    }

    fn dispatch(&mut self, on_event: &mut impl FnMut(SseEvent)) {
        let event = self.event.take();
        if !std::mem::take(&mut self.has_data) {
            return;
        }
        let data = std::mem::take(&mut self.data);
        on_event(SseEvent { event, data });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut parser = SseParser::new();
        let mut out = Vec::new();
        for chunk in chunks {
            parser.push(chunk, |e| out.push(e.clone()));
        }
        parser.finish(|e| out.push(e.clone()));
        out
    }

    const STREAM: &[u8] =
        "event: a\ndata: {\"x\":\"é\"}\n\n: comment\ndata: 1\ndata: 2\r\n\r\ndata: [DONE]\r\r"
            .as_bytes();

    #[test]
    fn events_are_framed_by_blank_lines_with_any_line_ending() {
        let got = events(&[STREAM]);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].event.as_deref(), Some("a"));
        assert_eq!(got[0].data, "{\"x\":\"é\"}");
        assert_eq!(got[1].data, "1\n2");
        assert_eq!(got[2].data, "[DONE]");
    }

    #[test]
    fn split_at_every_byte_boundary_gives_the_same_events() {
        let whole = events(&[STREAM]);
        for cut in 0..=STREAM.len() {
            let (a, b) = STREAM.split_at(cut);
            assert_eq!(events(&[a, b]), whole, "cut at {cut}");
        }
        let bytes: Vec<&[u8]> = STREAM.chunks(1).collect();
        assert_eq!(events(&bytes), whole);
    }

    #[test]
    fn last_event_without_blank_line_is_delivered_at_finish() {
        let got = events(&[b"data: tail"]);
        assert_eq!(
            got,
            vec![SseEvent {
                event: None,
                data: "tail".into()
            }]
        );
    }

    #[test]
    fn the_kind_is_the_event_field_or_the_datas_type() {
        let named = SseEvent {
            event: Some("message-end".into()),
            data: r#"{"type":"ignored"}"#.into(),
        };
        assert_eq!(named.kind().as_deref(), Some("message-end"));
        let typed = SseEvent {
            event: None,
            data: r#"{"item":{"type":"inner"},"type":"response.completed"}"#.into(),
        };
        assert_eq!(typed.kind().as_deref(), Some("response.completed"));
        let untyped = |data: &str| SseEvent {
            event: None,
            data: data.into(),
        };
        assert_eq!(untyped(r#"{"choices":[]}"#).kind(), None);
        assert_eq!(untyped("[DONE]").kind(), None);
        assert_eq!(untyped(r#"{"type":7}"#).kind(), None);
    }

    #[test]
    fn event_without_data_is_not_dispatched() {
        assert!(events(&[b"event: ping\n\n"]).is_empty());
    }

    #[test]
    fn line_over_the_limit_is_dropped() {
        let mut long = b"data: ".to_vec();
        long.resize(MAX_LINE_BYTES + 10, b'x');
        long.extend_from_slice(b"\n\ndata: ok\n\n");
        let got = events(&[&long]);
        assert_eq!(
            got,
            vec![SseEvent {
                event: None,
                data: "ok".into()
            }]
        );
    }
}
