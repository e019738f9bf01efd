//! Normalising a request's path before it is matched against the
//! provider's endpoints and forwarded, so that no spelling of a path
//! reaches an endpoint its class would refuse (`/v1/chat/../files`,
//! `/v1/%2e%2e/files`, `//v1/files`).
//!
//! Dot segments are resolved (also when percent-encoded), repeated
//! slashes collapsed, and percent-encoded unreserved characters (and `:`,
//! which Gemini clients encode) decoded. A path that cannot be normalised
//! cleanly is refused: `..` above the root, an encoded `/` or `\`, a
//! backslash, a NUL, or a broken percent escape. The query is kept as
//! sent.

/// Why a path was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("the path climbs above the root with '..'")]
    AboveRoot,
    #[error("the path contains an encoded '/' or '\\', a backslash, or a NUL")]
    Ambiguous,
    #[error("the path contains a broken percent escape")]
    BadEscape,
    #[error("the path does not start with '/'")]
    Relative,
}

/// The normalised form of `path_and_query`.
pub fn normalise(path_and_query: &str) -> Result<String, PathError> {
    let (path, query) = match path_and_query.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (path_and_query, None),
    };
    if !path.starts_with('/') {
        return Err(PathError::Relative);
    }
    let decoded = decode_unreserved(path)?;
    let mut segments: Vec<&str> = Vec::new();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop().ok_or(PathError::AboveRoot)?;
            }
            other => segments.push(other),
        }
    }
    let mut out = String::with_capacity(path_and_query.len());
    for segment in &segments {
        out.push('/');
        out.push_str(segment);
    }
    if out.is_empty() || (decoded.ends_with('/') && !segments.is_empty()) {
        out.push('/');
    }
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    Ok(out)
}

/// The path of a path-and-query.
pub fn path_only(path_and_query: &str) -> &str {
    path_and_query
        .split_once('?')
        .map_or(path_and_query, |(path, _)| path)
}

/// `path` with `%XX` escapes of unreserved characters and `:` decoded and
/// the others kept (upper-cased); refuses what would change the path's
/// structure once decoded.
fn decode_unreserved(path: &str) -> Result<String, PathError> {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).ok_or(PathError::BadEscape)?;
                let hex = std::str::from_utf8(hex).map_err(|_| PathError::BadEscape)?;
                let value = u8::from_str_radix(hex, 16).map_err(|_| PathError::BadEscape)?;
                match value {
                    b'/' | b'\\' | 0 => return Err(PathError::Ambiguous),
                    c if c.is_ascii_alphanumeric() || b"-._~:".contains(&c) => {
                        out.push(char::from(c));
                    }
                    _ => {
                        out.push('%');
                        out.push_str(&hex.to_ascii_uppercase());
                    }
                }
                i += 3;
            }
            b'\\' | 0 => return Err(PathError::Ambiguous),
            _ => {
                // Pushed char by char below to keep UTF-8 intact.
                let rest = &path[i..];
                let c = rest.chars().next().unwrap_or_default();
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_a_path_normalises_to_one() {
        for spelling in [
            "/v1/files",
            "//v1/files",
            "/v1//files",
            "/v1/./files",
            "/v1/chat/../files",
            "/v1/chat/%2e%2e/files",
            "/v1/chat/%2E%2E/files",
            "/v1/chat/.%2e/files",
            "/v1/%66iles",
        ] {
            assert_eq!(
                normalise(spelling).as_deref(),
                Ok("/v1/files"),
                "{spelling}"
            );
        }
        assert_eq!(
            normalise("/v1beta/models/g%3AgenerateContent?alt=sse&key=%2e").as_deref(),
            Ok("/v1beta/models/g:generateContent?alt=sse&key=%2e"),
            "the query is kept as sent"
        );
        assert_eq!(normalise("/").as_deref(), Ok("/"));
        assert_eq!(normalise("/v1/models/").as_deref(), Ok("/v1/models/"));
        assert_eq!(normalise("/a/%20b").as_deref(), Ok("/a/%20b"));
        assert_eq!(normalise("/a/é").as_deref(), Ok("/a/é"));
    }

    #[test]
    fn paths_that_do_not_normalise_cleanly_are_refused() {
        assert_eq!(normalise("/.."), Err(PathError::AboveRoot));
        assert_eq!(normalise("/v1/../../files"), Err(PathError::AboveRoot));
        assert_eq!(normalise("/%2e%2e/v1"), Err(PathError::AboveRoot));
        assert_eq!(normalise("/v1/files%2fx"), Err(PathError::Ambiguous));
        assert_eq!(normalise("/v1/files%5Cx"), Err(PathError::Ambiguous));
        assert_eq!(normalise("/v1\\files"), Err(PathError::Ambiguous));
        assert_eq!(normalise("/v1/%00"), Err(PathError::Ambiguous));
        assert_eq!(normalise("/v1/%zz"), Err(PathError::BadEscape));
        assert_eq!(normalise("/v1/%2"), Err(PathError::BadEscape));
        assert_eq!(normalise("v1/files"), Err(PathError::Relative));
    }
}
