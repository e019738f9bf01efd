//! The id each proxied request gets (`x-request-id`, the trace's
//! `request_id`).
//!
//! `req_`, then the milliseconds since the Unix epoch (12 hex digits), then
//! 48 random bits (12 hex digits). Ids made later sort after earlier ones,
//! so a trace row's entry in the unique index on `request_id` lands at the
//! index's end: a batch of traces touches a few index pages instead of one
//! page per row (random ids cost the trace writer about 4 µs a row in
//! writes to SQLite's WAL; bench/RESULTS.md, session 11). Two requests in
//! the same millisecond share an id only if their 48 random bits do.

use std::time::{SystemTime, UNIX_EPOCH};

/// The prefix every request id starts with.
pub const PREFIX: &str = "req_";
/// Hex digits of the time part (12 cover the next 8,000 years).
const TIME_DIGITS: usize = 12;
/// Random bytes after the time part.
const RANDOM_BYTES: usize = 6;

/// A new request id.
pub fn new_request_id() -> String {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    at(millis, &crate::secrets::random_hex(RANDOM_BYTES))
}

fn at(millis: u128, random: &str) -> String {
    let time = millis & ((1u128 << (4 * TIME_DIGITS)) - 1);
    format!("{PREFIX}{time:0width$x}{random}", width = TIME_DIGITS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_made_later_sort_after_earlier_ones() {
        let earlier = at(1_765_000_000_000, "ffffffffffff");
        let later = at(1_765_000_000_001, "000000000000");
        assert!(earlier < later, "{earlier} !< {later}");
        assert_eq!(earlier.len(), PREFIX.len() + TIME_DIGITS + 2 * RANDOM_BYTES);
    }

    #[test]
    fn an_id_is_the_prefix_and_hex_digits() {
        let id = new_request_id();
        assert!(id.starts_with(PREFIX), "{id}");
        let digits = &id[PREFIX.len()..];
        assert_eq!(digits.len(), 24, "{id}");
        assert!(digits.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
        assert_ne!(new_request_id(), new_request_id());
    }
}
