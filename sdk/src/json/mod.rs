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
}
