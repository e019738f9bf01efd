//! Ending a stream when its client's daily token or cost quota runs out
//! while the answer is being generated (client keys set to
//! `quota_overrun: cut`).
//!
//! Every request holds a reservation of its estimated usage ([`QuotaHold`]). While a
//! stream runs, each running usage the plugin's parser reports (real
//! counts, or its estimate from the generated text) is covered by growing
//! that reservation, atomically in the counter store, so concurrent
//! streams of one key share what it has left. When the store refuses, the
//! stream is over its quota: the gateway writes the chunk up to its last
//! complete event, then the plugin's terminal event (`stream-control`),
//! and closes the stream. A plugin that cannot end streams lets the stream
//! run to its end, and the trace says so.
//!
//! With `quota_overrun: finish` (the default) nothing here runs: no counter
//! is touched while the stream goes by.

use super::hold::{QuotaHold, cost_nanos};
use super::usage::Meter;
use crate::limits::LimitError;
use crate::plugins::types::Usage;
use crate::plugins::{EndReason, PluginCalls};

/// The trace's error class of a stream cut at its quota.
pub const CUT_CLASS: &str = "quota_cut";
/// The trace's error class of a stream that crossed its quota but could
/// not be cut (the plugin cannot end streams).
pub const NOT_CUT_CLASS: &str = "quota_not_cut";

/// How the watched stream goes on after a chunk.
pub enum Verdict {
    /// Write the chunk and read on.
    Go,
    /// Write the first `keep` bytes of the chunk, then `end`, then close.
    Cut { keep: usize, end: Vec<u8> },
}

/// What happened to a stream that crossed its quota.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Crossed {
    /// Ended by the gateway; `limit` names the quota.
    Cut { limit: &'static str },
    /// Ran on: the plugin could not end it (`why`).
    NotCut { limit: &'static str, why: String },
}

/// Watches one stream's running usage against its client's quotas (only
/// made when [`QuotaHold::cuts`]).
pub struct StreamWatch<'a> {
    hold: &'a mut QuotaHold,
    boundary: EventBoundary,
    crossed: Option<Crossed>,
}

impl<'a> StreamWatch<'a> {
    pub fn new(hold: &'a mut QuotaHold) -> StreamWatch<'a> {
        StreamWatch {
            hold,
            boundary: EventBoundary::default(),
            crossed: None,
        }
    }

    /// Looks at the next chunk before it is written, with the running
    /// usage the plugin's parser reported for it (if it changed).
    pub async fn check(
        &mut self,
        chunk: &[u8],
        running: Option<Usage>,
        calls: &mut PluginCalls,
        meter: &Meter,
    ) -> Verdict {
        let boundary = self.boundary.scan(chunk);
        let (Some(usage), None) = (running, &self.crossed) else {
            return Verdict::Go;
        };
        let usage = self.hold.with_prompt(usage);
        let tokens = i64::try_from(usage.input_tokens.saturating_add(usage.output_tokens))
            .unwrap_or(i64::MAX);
        let priced = self.hold.cut_pricing();
        let cost = match priced {
            Some((model, prices)) => cost_nanos(calls, model, usage, prices).await,
            None => 0,
        };
        let limit = match self.hold.reservation.cover(tokens, cost).await {
            Ok(()) | Err(LimitError::Unavailable) => return Verdict::Go,
            Err(LimitError::Exceeded { limit, .. }) => limit,
        };
        let end = match boundary {
            Some(_) => meter.terminal_event(calls, EndReason::QuotaExhausted).await,
            None => Err("no event boundary in the chunk".to_owned()),
        };
        match (end, boundary) {
            (Ok(Some(end)), Some(keep)) => {
                self.crossed = Some(Crossed::Cut { limit });
                Verdict::Cut { keep, end }
            }
            (outcome, _) => {
                let why = match outcome {
                    Ok(_) if !calls.plugin().has_stream_control() => {
                        "the plugin does not export stream-control".to_owned()
                    }
                    Ok(_) => "the plugin wrote no terminal event for this stream".to_owned(),
                    Err(why) => why,
                };
                self.crossed = Some(Crossed::NotCut { limit, why });
                Verdict::Go
            }
        }
    }

    /// Whether (and how) the stream crossed its quota.
    pub fn crossed(&self) -> Option<&Crossed> {
        self.crossed.as_ref()
    }
}

impl Crossed {
    /// The trace's error class and message.
    pub fn trace(&self) -> (&'static str, String) {
        match self {
            Crossed::Cut { limit } => (
                CUT_CLASS,
                format!("stream cut: the client key's {limit} quota is spent"),
            ),
            Crossed::NotCut { limit, why } => (
                NOT_CUT_CLASS,
                format!(
                    "the client key's {limit} quota ran out mid-stream, but the stream could not be cut ({why}); it ran to its end"
                ),
            ),
        }
    }
}

/// Finds where server-sent events end in a byte stream split anywhere,
/// with the framing rules of the plugins' parsers: lines end in `\n`,
/// `\r\n` or `\r`, and a blank line ends an event.
#[derive(Debug, Default)]
pub struct EventBoundary {
    after_cr: bool,
    line_has_bytes: bool,
    /// Whether everything scanned so far ends exactly at a boundary.
    at_boundary: bool,
}

impl EventBoundary {
    /// Scans the next chunk; returns the length of its longest prefix that
    /// ends at an event boundary (0 when the chunk starts at one), `None`
    /// when no boundary falls within or at the start of it.
    pub fn scan(&mut self, chunk: &[u8]) -> Option<usize> {
        let mut last = self.at_boundary.then_some(0);
        for (i, &byte) in chunk.iter().enumerate() {
            let lf_of_crlf = self.after_cr && byte == b'\n';
            self.after_cr = byte == b'\r';
            if lf_of_crlf {
                // `\r\n` is one line ending: a boundary moves past its `\n`.
                if last == Some(i) {
                    last = Some(i + 1);
                }
                continue;
            }
            if byte == b'\n' || byte == b'\r' {
                if !self.line_has_bytes {
                    last = Some(i + 1);
                }
                self.line_has_bytes = false;
            } else {
                self.line_has_bytes = true;
            }
        }
        self.at_boundary = last == Some(chunk.len());
        last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The boundaries found in `chunks`, as offsets into their concatenation.
    fn boundaries(chunks: &[&[u8]]) -> Vec<Option<usize>> {
        let mut scanner = EventBoundary::default();
        let mut offset = 0;
        chunks
            .iter()
            .map(|chunk| {
                let found = scanner.scan(chunk).map(|k| offset + k);
                offset += chunk.len();
                found
            })
            .collect()
    }

    #[test]
    fn events_end_at_blank_lines_with_any_line_ending() {
        assert_eq!(boundaries(&[b"data: a\n\ndata: b"]), [Some(9)]);
        assert_eq!(boundaries(&[b"data: a\r\n\r\ndata: b"]), [Some(11)]);
        assert_eq!(boundaries(&[b"data: a\r\rdata: b"]), [Some(9)]);
        assert_eq!(boundaries(&[b"event: x\ndata: a\n"]), [None]);
    }

    #[test]
    fn a_boundary_split_across_chunks_is_found_where_it_completes() {
        assert_eq!(boundaries(&[b"data: a\n", b"\ndata: b"]), [None, Some(9)]);
        // `\r\n\r` | `\n`: the event ends at the `\r`, and its `\n` belongs to it.
        assert_eq!(
            boundaries(&[b"data: a\r\n\r", b"\ndata: b"]),
            [Some(10), Some(11)]
        );
        // A chunk that starts right after a boundary can be cut before its first byte.
        assert_eq!(
            boundaries(&[b"data: a\n\n", b"data: b"]),
            [Some(9), Some(9)]
        );
    }

    #[test]
    fn the_last_of_several_boundaries_is_reported() {
        assert_eq!(boundaries(&[b"data: a\n\ndata: b\n\ndata: c"]), [Some(18)]);
    }
}
