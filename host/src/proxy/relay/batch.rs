//! A stream's bytes on their way to a plugin that keeps its parser's state
//! in the host (`stream-state`): gathered into batches, each fed on a
//! fresh instance that is let go right after, with the state the previous
//! batch returned. Between batches a stream holds its state and the bytes
//! not fed yet, and no instance.
//!
//! A batch is fed once [`STREAM_BATCH_BYTES`] have gathered, up to the last
//! event boundary (a blank line) so that the state carries no half event;
//! when no boundary has come by [`MAX_PENDING_BYTES`], everything is fed.
//! What is left is fed when the stream ends. A stream whose client key
//! cuts at its quota needs the running usage of every chunk: its batches
//! are single chunks, fed on one instance kept for the stream.

use crate::plugins::types::Usage;
use crate::plugins::{PluginCalls, PluginFailure};

/// Bytes gathered before a batch is fed.
pub const STREAM_BATCH_BYTES: usize = 16 * 1024;
/// Bytes gathered without an event boundary before they are fed anyway.
pub const MAX_PENDING_BYTES: usize = 256 * 1024;

/// One stream's state and unfed bytes.
pub struct StreamBatch {
    state: Vec<u8>,
    pending: Vec<u8>,
    /// Feed every chunk as it comes, on an instance kept for the stream.
    eager: bool,
}

impl StreamBatch {
    pub fn new(eager: bool) -> StreamBatch {
        StreamBatch {
            state: Vec::new(),
            pending: Vec::new(),
            eager,
        }
    }

    /// Takes the next chunk; feeds a batch when one is due. Returns the
    /// running usage when a fed batch changed it.
    pub async fn push(
        &mut self,
        calls: &mut PluginCalls,
        chunk: &[u8],
    ) -> Result<Option<Usage>, PluginFailure> {
        if self.eager {
            return self.feed(calls, chunk).await;
        }
        self.pending.extend_from_slice(chunk);
        if self.pending.len() < STREAM_BATCH_BYTES {
            return Ok(None);
        }
        let cut = match last_event_end(&self.pending) {
            Some(end) => end,
            None if self.pending.len() >= MAX_PENDING_BYTES => self.pending.len(),
            None => return Ok(None),
        };
        let rest = self.pending.split_off(cut);
        let batch = std::mem::replace(&mut self.pending, rest);
        let usage = self.feed(calls, &batch).await;
        calls.release();
        usage
    }

    /// Feeds what is left and ends the stream: the usage the provider
    /// reported, and the running usage of that last batch when it changed
    /// it. The instance stays with `calls` for the request's last calls
    /// (cost).
    pub async fn finish(
        &mut self,
        calls: &mut PluginCalls,
    ) -> Result<(Option<Usage>, Option<Usage>), PluginFailure> {
        let mut running = None;
        if !self.pending.is_empty() {
            let batch = std::mem::take(&mut self.pending);
            running = self.feed(calls, &batch).await?;
        }
        let reported = calls.instance().await?.finish_state(&self.state).await?;
        Ok((reported, running))
    }

    /// The state after every byte fed so far, for `terminal-event`; `None`
    /// while bytes wait unfed (the end would not follow the last event).
    pub fn fed_state(&self) -> Option<&[u8]> {
        self.pending.is_empty().then_some(&self.state[..])
    }

    async fn feed(
        &mut self,
        calls: &mut PluginCalls,
        bytes: &[u8],
    ) -> Result<Option<Usage>, PluginFailure> {
        let fed = calls
            .instance()
            .await?
            .feed_state(&self.state, bytes)
            .await?;
        self.state = fed.state;
        Ok(fed.usage)
    }
}

/// Where the last complete event in `bytes` ends (just past its blank
/// line), if one does. A boundary found wrong only costs efficiency: the
/// plugin's parser takes bytes split anywhere.
fn last_event_end(bytes: &[u8]) -> Option<usize> {
    let ends_at = |pattern: &[u8]| {
        bytes
            .windows(pattern.len())
            .rposition(|w| w == pattern)
            .map(|at| at + pattern.len())
    };
    [&b"\n\n"[..], b"\n\r\n", b"\r\r"]
        .into_iter()
        .filter_map(ends_at)
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_blank_line_of_any_line_ending_ends_the_batch() {
        assert_eq!(last_event_end(b"data: a\n\ndata: b"), Some(9));
        assert_eq!(
            last_event_end(b"data: a\r\n\r\ndata: b\r\n\r\nda"),
            Some(22)
        );
        assert_eq!(last_event_end(b"data: a\r\rdata"), Some(9));
        assert_eq!(last_event_end(b"data: a\ndata: b\n"), None);
        assert_eq!(last_event_end(b""), None);
    }
}
