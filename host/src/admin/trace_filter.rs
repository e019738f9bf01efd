//! The request log's filters beyond exact matches, as the API takes them:
//! a status class ("5xx" asks for every upstream or gateway failure at
//! once) and a list of model prefixes ("gpt-4" finds `gpt-4o` and
//! `gpt-4o-mini`). The conditions they become are `store::trace_page`'s.

use super::ApiError;

/// Most model prefixes one filter may list.
pub const MAX_MODEL_PREFIXES: usize = 20;

/// Longest model prefix, in bytes (a model name is far shorter).
pub const MAX_MODEL_PREFIX_BYTES: usize = 200;

/// `"4xx"` → the half-open status range `400..500`.
pub fn status_class(text: &str) -> Result<(i32, i32), ApiError> {
    let bad = || ApiError::BadRequest("status_class must be one of 1xx, 2xx, 3xx, 4xx, 5xx".into());
    let text = text.trim().to_ascii_lowercase();
    let digit = match text.as_bytes() {
        [d @ b'1'..=b'5', b'x', b'x'] => i32::from(d - b'0'),
        _ => return Err(bad()),
    };
    Ok((digit * 100, digit * 100 + 100))
}

/// `"gpt-4, claude-3*"` → `["gpt-4", "claude-3"]`: comma-separated
/// prefixes, a trailing `*` allowed and ignored, empty entries skipped.
pub fn model_prefixes(text: &str) -> Result<Vec<String>, ApiError> {
    let prefixes: Vec<String> = text
        .split(',')
        .map(|p| p.trim().trim_end_matches('*').trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect();
    if prefixes.len() > MAX_MODEL_PREFIXES {
        return Err(ApiError::BadRequest(format!(
            "model lists at most {MAX_MODEL_PREFIXES} prefixes"
        )));
    }
    if prefixes.iter().any(|p| p.len() > MAX_MODEL_PREFIX_BYTES) {
        return Err(ApiError::BadRequest(format!(
            "a model prefix is at most {MAX_MODEL_PREFIX_BYTES} bytes"
        )));
    }
    Ok(prefixes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_classes_are_ranges() {
        assert_eq!(status_class("5xx").unwrap(), (500, 600));
        assert_eq!(status_class(" 4XX ").unwrap(), (400, 500));
        assert_eq!(status_class("1xx").unwrap(), (100, 200));
        for bad in ["6xx", "0xx", "5x", "500", "5xxx", "", "x5x", "५xx"] {
            assert!(status_class(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn model_prefixes_split_trim_and_drop_stars() {
        assert_eq!(
            model_prefixes(" gpt-4 , claude-3* ,, *").unwrap(),
            vec!["gpt-4".to_owned(), "claude-3".to_owned()]
        );
        assert!(model_prefixes("").unwrap().is_empty());
    }

    #[test]
    fn model_prefixes_are_bounded_in_count_and_length() {
        let at_limit = vec!["m"; MAX_MODEL_PREFIXES].join(",");
        assert_eq!(model_prefixes(&at_limit).unwrap().len(), MAX_MODEL_PREFIXES);
        let over = vec!["m"; MAX_MODEL_PREFIXES + 1].join(",");
        assert!(model_prefixes(&over).is_err());
        let longest = "a".repeat(MAX_MODEL_PREFIX_BYTES);
        assert!(model_prefixes(&longest).is_ok());
        let too_long = "a".repeat(MAX_MODEL_PREFIX_BYTES + 1);
        assert!(model_prefixes(&too_long).is_err());
    }
}
