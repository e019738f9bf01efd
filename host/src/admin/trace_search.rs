//! The request log's free-text search `q` as the API takes it: trimmed,
//! bounded, without NUL. What it finds and how (substring indexes on both
//! databases) is `store::trace_search`'s.

use super::ApiError;

/// Longest search text, in bytes (an error message is at most 300 characters).
pub const MAX_SEARCH_BYTES: usize = 1000;

/// A search text: trimmed, not empty, at most [`MAX_SEARCH_BYTES`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchText(String);

impl SearchText {
    /// `None` for an absent or blank `q`.
    pub fn parse(raw: Option<&str>) -> Result<Option<SearchText>, ApiError> {
        let Some(text) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        if text.len() > MAX_SEARCH_BYTES {
            return Err(ApiError::BadRequest(format!(
                "q is at most {MAX_SEARCH_BYTES} bytes"
            )));
        }
        if text.contains('\0') {
            // PostgreSQL refuses it in text, and no trace holds one.
            return Err(ApiError::BadRequest("q must not contain NUL".into()));
        }
        Ok(Some(SearchText(text.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_is_trimmed_and_bounded_at_its_limit() {
        assert_eq!(SearchText::parse(None).unwrap(), None);
        assert_eq!(SearchText::parse(Some("  ")).unwrap(), None);
        let t = SearchText::parse(Some(" gpt ")).unwrap().unwrap();
        assert_eq!(t.as_str(), "gpt");
        let longest = "a".repeat(MAX_SEARCH_BYTES);
        assert!(SearchText::parse(Some(&longest)).unwrap().is_some());
        let too_long = "a".repeat(MAX_SEARCH_BYTES + 1);
        assert!(SearchText::parse(Some(&too_long)).is_err());
        assert!(SearchText::parse(Some("a\0b")).is_err());
    }
}
