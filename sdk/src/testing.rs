//! Helpers for a plugin's native unit tests.

use crate::{Provider, Usage, parse_stream};

/// Asserts that `stream` gives `expected` usage when parsed whole, when
/// split in two at every byte, and when fed one byte at a time: a provider
/// parser must not depend on where the network cuts the stream.
pub fn assert_stream_usage<P: Provider>(stream: &[u8], expected: Option<Usage>) {
    assert_eq!(parse_stream::<P>(&[stream]), expected, "whole");
    for cut in 0..=stream.len() {
        let (a, b) = stream.split_at(cut);
        assert_eq!(parse_stream::<P>(&[a, b]), expected, "cut at {cut}");
    }
    let bytes: Vec<&[u8]> = stream.chunks(1).collect();
    assert_eq!(parse_stream::<P>(&bytes), expected, "byte by byte");
}
