//! A recorded stream fed to a plugin the ways the gateway may feed it:
//! whole, split in two at every byte (spread points in a long one), one
//! byte at a time, and cut at random points several times over, each
//! through the `stream-parser` resource and, when the plugin exports it,
//! through `stream-state` (every batch on a fresh instance, only the
//! state carried between them, as the proxy does). Every way must read
//! the usage the whole stream reads; the first that does not is named.
//!
//! The random cuts come from a generator seeded by the stream's length,
//! so a difference found once is found again at the same bytes. How many
//! splits each path gets is a [`Plan`]: an author's offline check splits
//! at every byte of both paths; an upload, which an operator waits for,
//! at spread points.

use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::usage_json;
use crate::plugins::types::Usage;
use crate::plugins::{LoadedPlugin, PluginFailure};

/// The most points a stream is split in two at: every byte of a stream
/// up to this size, evenly spread points in a longer one.
pub const MAX_SPLIT_POINTS: usize = 2048;

/// Random partitions tried per stream, each of up to [`MAX_RANDOM_CUTS`].
pub const RANDOM_PARTITIONS: usize = 32;

/// The most cuts in one random partition.
pub const MAX_RANDOM_CUTS: usize = 12;

/// The request id plugin log lines of a conformance run carry.
pub const CONFORMANCE_REQUEST_ID: &str = "conformance";

/// How thoroughly a stream is re-fed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Most points the stream is split in two at through `stream-parser`.
    pub parser_splits: usize,
    /// The same through `stream-state`.
    pub state_splits: usize,
    /// Whether `stream-state` is also fed one byte at a time (an instance
    /// per byte).
    pub state_byte_by_byte: bool,
}

impl Plan {
    /// `plugin check --vectors` and the test suite: every byte, both paths.
    pub const THOROUGH: Plan = Plan {
        parser_splits: MAX_SPLIT_POINTS,
        state_splits: MAX_SPLIT_POINTS,
        state_byte_by_byte: true,
    };
    /// At upload: every byte of short streams through `stream-parser`,
    /// spread points through `stream-state`, random cuts through both.
    pub const AT_UPLOAD: Plan = Plan {
        parser_splits: 512,
        state_splits: 64,
        state_byte_by_byte: false,
    };
}

/// The points a stream of `len` bytes is split at: `0..=len` when that is
/// fewer than `max`, else `max` points spread from 0 to `len`.
pub fn split_points(len: usize, max: usize) -> Vec<usize> {
    if len < max || max < 2 {
        return (0..=len).collect();
    }
    let last = max - 1;
    (0..max).map(|i| i * len / last).collect()
}

/// The partitions tried, as sorted cut positions: a split in two at each
/// of at most `splits` points, one byte at a time when `byte_by_byte`,
/// and [`RANDOM_PARTITIONS`] random ones.
pub fn partitions(len: usize, splits: usize, byte_by_byte: bool) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = split_points(len, splits)
        .into_iter()
        .map(|cut| vec![cut])
        .collect();
    if byte_by_byte {
        out.push((1..len).collect());
    }
    let mut rng = StdRng::seed_from_u64(len as u64);
    for _ in 0..RANDOM_PARTITIONS {
        if len < 2 {
            break;
        }
        let count = rng.gen_range(2..=MAX_RANDOM_CUTS);
        let mut cuts: Vec<usize> = (0..count).map(|_| rng.gen_range(1..len)).collect();
        cuts.sort_unstable();
        cuts.dedup();
        out.push(cuts);
    }
    out
}

/// `body` cut at `cuts` (sorted).
fn pieces<'a>(body: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::with_capacity(cuts.len() + 1);
    let mut from = 0;
    for &cut in cuts {
        let cut = cut.clamp(from, body.len());
        out.push(&body[from..cut]);
        from = cut;
    }
    out.push(&body[from..]);
    out
}

/// The usage a fresh `stream-parser` ends with after `chunks` (or the
/// last running one).
pub async fn through_parser(
    plugin: &Arc<LoadedPlugin>,
    chunks: &[&[u8]],
) -> Result<Option<Usage>, PluginFailure> {
    let mut instance = plugin.instantiate(CONFORMANCE_REQUEST_ID).await?;
    let parser = instance.stream_parser().await?;
    let mut last = None;
    for chunk in chunks {
        if let Some(usage) = instance.feed(&parser, chunk).await? {
            last = Some(usage);
        }
    }
    Ok(instance.finish(&parser).await?.or(last))
}

/// The same through `stream-state`: each chunk on a fresh instance with
/// the state the previous one returned.
pub async fn through_state(
    plugin: &Arc<LoadedPlugin>,
    chunks: &[&[u8]],
) -> Result<Option<Usage>, PluginFailure> {
    let mut state = Vec::new();
    let mut last = None;
    for chunk in chunks {
        let mut instance = plugin.instantiate(CONFORMANCE_REQUEST_ID).await?;
        let fed = instance.feed_state(&state, chunk).await?;
        state = fed.state;
        if fed.usage.is_some() {
            last = fed.usage;
        }
    }
    let mut instance = plugin.instantiate(CONFORMANCE_REQUEST_ID).await?;
    Ok(instance.finish_state(&state).await?.or(last))
}

fn shown(usage: &Option<Usage>) -> String {
    usage
        .as_ref()
        .map_or_else(|| "no usage".to_owned(), |u| usage_json(u).to_string())
}

fn cut_name(cuts: &[usize], len: usize) -> String {
    if cuts.len() + 1 == len && len > 1 {
        "fed one byte at a time".to_owned()
    } else {
        format!("split at bytes {cuts:?}")
    }
}

/// The stream's usage fed whole; every other feeding that reads
/// differently is a problem (at most one per path, naming the cuts).
pub async fn stream_usage(
    plugin: &Arc<LoadedPlugin>,
    body: &[u8],
    plan: Plan,
    problems: &mut Vec<String>,
) -> Result<Option<Usage>, PluginFailure> {
    let whole = through_parser(plugin, &[body]).await?;
    for cuts in &partitions(body.len(), plan.parser_splits, true) {
        let got = through_parser(plugin, &pieces(body, cuts)).await?;
        if shown(&got) != shown(&whole) {
            problems.push(format!(
                "stream usage {} (stream-parser): {}, whole stream: {}",
                cut_name(cuts, body.len()),
                shown(&got),
                shown(&whole)
            ));
            break;
        }
    }
    if plugin.keeps_stream_state() {
        let whole_state = through_state(plugin, &[body]).await?;
        let mut tried = vec![Vec::new()];
        tried.extend(partitions(
            body.len(),
            plan.state_splits,
            plan.state_byte_by_byte,
        ));
        for cuts in &tried {
            let got = if cuts.is_empty() {
                whole_state
            } else {
                through_state(plugin, &pieces(body, cuts)).await?
            };
            if shown(&got) != shown(&whole) {
                problems.push(format!(
                    "stream usage {} (stream-state, saved and restored between pieces): {}, whole stream: {}",
                    if cuts.is_empty() { "whole".to_owned() } else { cut_name(cuts, body.len()) },
                    shown(&got),
                    shown(&whole)
                ));
                break;
            }
        }
    }
    Ok(whole)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_streams_are_split_at_every_byte_long_ones_at_spread_points() {
        let below = split_points(MAX_SPLIT_POINTS - 1, MAX_SPLIT_POINTS);
        assert_eq!(below, (0..MAX_SPLIT_POINTS).collect::<Vec<_>>());
        let at = split_points(MAX_SPLIT_POINTS, MAX_SPLIT_POINTS);
        assert_eq!(at.len(), MAX_SPLIT_POINTS);
        assert_eq!((at[0], at[MAX_SPLIT_POINTS - 1]), (0, MAX_SPLIT_POINTS));
        let long = split_points(1_000_000, MAX_SPLIT_POINTS);
        assert_eq!(long.len(), MAX_SPLIT_POINTS);
        assert!(long.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn partitions_cover_every_byte_one_at_a_time_and_repeatable_random_cuts() {
        let all = partitions(100, MAX_SPLIT_POINTS, true);
        assert_eq!(all.len(), 101 + 1 + RANDOM_PARTITIONS);
        assert_eq!(all[101], (1..100).collect::<Vec<_>>());
        assert_eq!(
            all,
            partitions(100, MAX_SPLIT_POINTS, true),
            "seeded by the length"
        );
        let spread = partitions(100, 10, false);
        assert_eq!(
            spread.len(),
            10 + RANDOM_PARTITIONS,
            "no byte-by-byte feeding"
        );
        assert_eq!(spread[..10].concat(), split_points(100, 10));
        for cuts in &all[102..] {
            assert!(cuts.len() <= MAX_RANDOM_CUTS && !cuts.is_empty());
            assert!(cuts.iter().all(|&c| (1..100).contains(&c)));
        }
        let joined: Vec<u8> = pieces(b"abcdef", &[1, 3, 3]).concat();
        assert_eq!(joined, b"abcdef");
        assert_eq!(pieces(b"abc", &[]), vec![&b"abc"[..]]);
    }
}
