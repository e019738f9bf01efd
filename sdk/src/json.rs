//! Small helpers for reading numbers and strings out of provider JSON.

use serde_json::Value;

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
