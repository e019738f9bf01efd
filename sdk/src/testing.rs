//! Helpers for a plugin's native unit tests.

use crate::{Provider, StreamState, Usage, parse_stream};

/// Asserts that `stream` gives `expected` usage when parsed whole, when
/// split in two at every byte, and when fed one byte at a time: a provider
/// parser must not depend on where the network cuts the stream. Each split
/// is also parsed the way the gateway runs `stream-state`: the state saved
/// to bytes and restored between chunks.
pub fn assert_stream_usage<P: Provider>(stream: &[u8], expected: Option<Usage>) {
    assert_eq!(parse_stream::<P>(&[stream]), expected, "whole");
    assert_eq!(parse_saved::<P>(&[stream]), expected, "whole, saved");
    for cut in 0..=stream.len() {
        let (a, b) = stream.split_at(cut);
        assert_eq!(parse_stream::<P>(&[a, b]), expected, "cut at {cut}");
        assert_eq!(parse_saved::<P>(&[a, b]), expected, "cut at {cut}, saved");
    }
    let bytes: Vec<&[u8]> = stream.chunks(1).collect();
    assert_eq!(parse_stream::<P>(&bytes), expected, "byte by byte");
    assert_eq!(parse_saved::<P>(&bytes), expected, "byte by byte, saved");
}

/// Parses `chunks` with the state saved and restored around every chunk,
/// as the gateway does with a plugin's `stream-state`.
#[allow(
    clippy::expect_used,
    reason = "a test helper: a state this SDK cannot read back is a failed test"
)]
pub fn parse_saved<P: Provider>(chunks: &[&[u8]]) -> Option<Usage> {
    let mut state = Vec::new();
    for chunk in chunks {
        let mut stream = StreamState::restore(&state).expect("a state this SDK wrote");
        stream.feed::<P>(chunk);
        state = stream.save();
    }
    StreamState::restore(&state)
        .expect("a state this SDK wrote")
        .finish::<P>()
}
