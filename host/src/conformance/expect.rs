//! The `expect` block of a sample or conformance vector: what a plugin
//! should extract from the exchange, field by field, and the comparison
//! that names every field that differs.
//!
//! Every field is optional (a case checks what it states); a stated
//! field is compared exactly. `null` is a value: `"usage": null` says the
//! plugin must find no usage. `usage` lists all five counts, so a case
//! cannot pass by forgetting the one a plugin drops.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// The error class names (`error-class` in the WIT, as traces spell them).
pub const ERROR_CLASSES: [&str; 6] = [
    "rate_limited",
    "quota_exhausted",
    "auth_invalid",
    "bad_request",
    "server_error",
    "other",
];

/// What the case expects. Field names are the printed ones, so a
/// difference names the field as the author wrote it.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The model `inspect` reads (`null`: none).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub model: Option<Option<String>>,
    /// The stream flag `inspect` reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Where `prepare` puts the credential: `header NAME` or `query NAME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
    /// The path and query `prepare` sends upstream, the credential
    /// written as `{credential}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_path: Option<String>,
    /// The usage read from the answer (`null`: none).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub usage: Option<Option<ExpectedUsage>>,
    /// The cost of that usage at the plugin's default prices, in
    /// nano-USD (`null`: unknown).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub cost_nano_usd: Option<Option<u64>>,
    /// The class `classify` gives an answer with status >= 400 (`null`
    /// for an answer below 400, which is not classified).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub error_class: Option<Option<String>>,
    /// The seconds of a `rate_limited` class (`null`: none given).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub retry_after: Option<Option<u32>>,
}

/// Every count of the WIT's `usage` record, by its name there.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cached_input_tokens: u64,
    pub cache_write_tokens: u64,
    pub reasoning_tokens: u64,
}

/// A field stated (even as `null`) is `Some`; an absent one stays `None`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

impl Expect {
    /// Refuses values no plugin could produce, so a typo is an error at
    /// load rather than a difference at every run.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(Some(class)) = &self.error_class
            && !ERROR_CLASSES.contains(&class.as_str())
        {
            return Err(format!(
                "expect.error_class {class:?} is none of {}",
                ERROR_CLASSES.join(", ")
            ));
        }
        if let Some(credential) = &self.credential {
            let valid = credential
                .split_once(' ')
                .is_some_and(|(kind, name)| matches!(kind, "header" | "query") && !name.is_empty());
            if !valid {
                return Err(format!(
                    "expect.credential {credential:?} must read `header NAME` or `query NAME`"
                ));
            }
        }
        Ok(())
    }

    /// Each stated field that differs from `observed`, as
    /// `field: expected X, got Y` (nested fields dotted:
    /// `usage.output_tokens`). A field the run never reached (an `inspect`
    /// that refused, a sample without an answer) is a difference too.
    pub fn differences(&self, observed: &BTreeMap<&'static str, Value>) -> Vec<String> {
        let Ok(Value::Object(expected)) = serde_json::to_value(self) else {
            return vec!["expect: cannot be compared".to_owned()];
        };
        let mut out = Vec::new();
        for (field, want) in &expected {
            match observed.get(field.as_str()) {
                Some(got) => diff(field, want, got, &mut out),
                None => out.push(format!("{field}: expected {want}, not reached")),
            }
        }
        out
    }
}

/// Appends the differences of `got` from `want` under `path`.
fn diff(path: &str, want: &Value, got: &Value, out: &mut Vec<String>) {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (key, value) in w {
                diff(
                    &format!("{path}.{key}"),
                    value,
                    g.get(key).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        _ if want != got => out.push(format!("{path}: expected {want}, got {got}")),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn expect(text: &str) -> Expect {
        serde_json::from_str(text).unwrap()
    }

    fn observed(pairs: &[(&'static str, Value)]) -> BTreeMap<&'static str, Value> {
        pairs.iter().cloned().collect()
    }

    #[test]
    fn only_stated_fields_are_compared_and_each_difference_is_named() {
        let e = expect(
            r#"{"model": "m", "usage": {"input_tokens": 5, "output_tokens": 9,
                "cached_input_tokens": 0, "cache_write_tokens": 0, "reasoning_tokens": 0}}"#,
        );
        let got = observed(&[
            ("model", json!("m")),
            ("stream", json!(true)),
            (
                "usage",
                json!({"input_tokens": 5, "output_tokens": 10, "cached_input_tokens": 0,
                       "cache_write_tokens": 0, "reasoning_tokens": 0}),
            ),
        ]);
        assert_eq!(
            e.differences(&got),
            vec!["usage.output_tokens: expected 9, got 10"]
        );
        let none = observed(&[("model", json!("m")), ("usage", Value::Null)]);
        // No usage at all is one difference, not five.
        assert_eq!(
            e.differences(&none),
            vec![
                "usage: expected {\"cache_write_tokens\":0,\"cached_input_tokens\":0,\"input_tokens\":5,\"output_tokens\":9,\"reasoning_tokens\":0}, got null"
            ]
        );
    }

    #[test]
    fn null_is_a_value_and_unreached_fields_differ() {
        let e = expect(r#"{"usage": null, "cost_nano_usd": null, "error_class": "rate_limited"}"#);
        let got = observed(&[("usage", Value::Null), ("cost_nano_usd", json!(12))]);
        assert_eq!(
            e.differences(&got),
            vec![
                "cost_nano_usd: expected null, got 12",
                "error_class: expected \"rate_limited\", not reached",
            ]
        );
    }

    #[test]
    fn typos_are_refused_at_load() {
        assert!(serde_json::from_str::<Expect>(r#"{"modle": "m"}"#).is_err());
        assert!(
            serde_json::from_str::<Expect>(r#"{"usage": {"input_tokens": 1}}"#).is_err(),
            "usage lists every count"
        );
        assert!(
            expect(r#"{"error_class": "throttled"}"#)
                .validate()
                .is_err()
        );
        assert!(expect(r#"{"credential": "bearer"}"#).validate().is_err());
        assert!(
            expect(r#"{"credential": "header authorization"}"#)
                .validate()
                .is_ok()
        );
    }
}
