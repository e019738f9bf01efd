//! Small helpers for reading numbers and strings out of provider JSON.
//!
//! Bodies a client or an upstream sends may be as large as the gateway
//! accepts: read their top level with [`scan`] (or [`field`]), which never
//! builds the whole document, and parse with [`parse`] only what is known
//! to be small.

pub mod scan;

use serde_json::Value;

pub use scan::JsonError;

/// The value of the top-level member `name` of a JSON object, parsed
/// alone: `Ok(None)` when the document is no object or lacks it; an error
/// when the document is not valid JSON.
pub fn field(doc: &[u8], name: &str) -> Result<Option<Value>, JsonError> {
    let [range] = scan::fields(doc, [name])?;
    Ok(range
        .and_then(|r| doc.get(r))
        .and_then(|raw| serde_json::from_slice(raw).ok()))
}

/// Whether `doc` may hold a member named `name` at any depth: `false` only
/// when neither the name nor a `\u` escape (the only way to write a
/// letter, digit or `_` of a key otherwise) appears in it. A cheap test
/// before a scan, for names of ASCII letters, digits and `_`; any other
/// name is always "may".
pub fn may_contain_key(doc: &[u8], name: &str) -> bool {
    let plain = name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    !plain || name.is_empty() || contains(doc, name.as_bytes()) || contains(doc, b"\\u")
}

/// Whether `needle` occurs in `hay`.
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    let mut from = 0;
    while let Some(at) = hay
        .get(from..)
        .and_then(|h| h.iter().position(|&b| b == first))
    {
        let start = from + at + 1;
        if hay.get(start..).is_some_and(|h| h.starts_with(rest)) {
            return true;
        }
        from = start;
    }
    false
}

/// The length in bytes (UTF-8, escapes decoded) of the JSON string whose
/// text is `raw` (quotes included, as [`scan`] reports a value); `None`
/// when `raw` is no string.
pub fn string_len(raw: &[u8]) -> Option<usize> {
    let inner = raw.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
    if !inner.contains(&b'\\') {
        return Some(inner.len());
    }
    serde_json::from_slice::<String>(raw).ok().map(|s| s.len())
}

/// The text of the top-level member `name` of `doc`, found with [`scan`]
/// and not parsed; `None` when `doc` is no object, lacks it or is not JSON.
pub fn raw_field<'a>(doc: &'a [u8], name: &str) -> Option<&'a [u8]> {
    let [at] = scan::fields(doc, [name]).ok()?;
    member(doc, at)
}

/// The text of a member [`scan::fields`] found in `doc`.
pub fn member(doc: &[u8], at: Option<std::ops::Range<usize>>) -> Option<&[u8]> {
    at.and_then(|at| doc.get(at))
}

/// The length of the string member `at` of `doc` ([`string_len`]); 0 when
/// it is absent or no string.
pub fn string_len_at(doc: &[u8], at: Option<std::ops::Range<usize>>) -> usize {
    member(doc, at).and_then(string_len).unwrap_or(0)
}

/// The sum of `each` over the elements of `array`, read with [`scan`]; 0
/// when it is absent, no array or not JSON.
pub fn sum_elements(array: Option<&[u8]>, each: impl Fn(&[u8]) -> usize) -> usize {
    let Some(array) = array else {
        return 0;
    };
    let mut total = 0usize;
    let walked = scan::walk(array, |m| {
        if let scan::Member::Element(at) = m {
            total = total.saturating_add(array.get(at).map_or(0, &each));
        }
    });
    if walked.is_ok() { total } else { 0 }
}

/// Whether the JSON text `raw` is the string `want` (escapes decoded).
pub fn string_is(raw: &[u8], want: &str) -> bool {
    raw.strip_prefix(b"\"")
        .and_then(|r| r.strip_suffix(b"\""))
        .is_some_and(|inner| scan::key_is(inner, want))
}

/// Parses a body as JSON; `None` when it is not JSON.
pub fn parse(body: &[u8]) -> Option<Value> {
    serde_json::from_slice(body).ok()
}

/// The value at `path` (object keys), if every step exists.
pub fn at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, key| v.get(*key))
}

/// The unsigned integer at `path`, or 0 when absent or not a number.
pub fn u64_at(value: &Value, path: &[&str]) -> u64 {
    at(value, path).and_then(Value::as_u64).unwrap_or(0)
}

/// The string at `path`, if present.
pub fn str_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(value, path).and_then(Value::as_str)
}

/// The boolean at `path`, or `false` when absent.
pub fn bool_at(value: &Value, path: &[&str]) -> bool {
    at(value, path).and_then(Value::as_bool).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_steps_give_defaults() {
        let v = parse(br#"{"a":{"b":3,"s":"x","t":true}}"#).unwrap_or_default();
        assert_eq!(u64_at(&v, &["a", "b"]), 3);
        assert_eq!(u64_at(&v, &["a", "zz"]), 0);
        assert_eq!(str_at(&v, &["a", "s"]), Some("x"));
        assert!(bool_at(&v, &["a", "t"]));
        assert!(!bool_at(&v, &["nope"]));
        assert!(parse(b"not json").is_none());
    }

    #[test]
    fn a_key_is_ruled_out_only_without_its_name_and_without_escapes() {
        assert!(may_contain_key(br#"{"usage":null}"#, "usage"));
        assert!(may_contain_key(br#"{"a":{"usage":1}}"#, "usage"));
        assert!(may_contain_key(br#"{"\u0075sage":1}"#, "usage"));
        assert!(!may_contain_key(
            br#"{"choices":[{"delta":"u\nsage"}]}"#,
            "usage"
        ));
        assert!(!may_contain_key(b"[DONE]", "usage"));
        assert!(may_contain_key(b"{}", "a-b"), "other names: always may");
        assert!(!contains(b"usag", b"usage"));
        assert!(contains(b"uusage", b"usage"));
    }

    #[test]
    fn string_lengths_count_decoded_utf8_bytes() {
        assert_eq!(string_len(br#""hello""#), Some(5));
        assert_eq!(string_len(br#""""#), Some(0));
        assert_eq!(string_len("\"é\"".as_bytes()), Some(2));
        assert_eq!(string_len(br#""a\nb""#), Some(3));
        assert_eq!(string_len(br#""\u00e9""#), Some(2));
        assert_eq!(string_len(b"12"), None);
        assert_eq!(string_len(b"null"), None);
        assert_eq!(string_len(b"\""), None);
    }
}
