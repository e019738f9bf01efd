//! Header and query-string helpers for `prepare`.

use crate::Header;

/// The first value of header `name` (ASCII case-insensitive).
pub fn header<'a>(headers: &'a [Header], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

/// Replaces every `name` header with one carrying `value`.
pub fn set_header(headers: &mut Vec<Header>, name: &str, value: impl Into<String>) {
    remove_header(headers, name);
    headers.push(Header {
        name: name.to_ascii_lowercase(),
        value: value.into(),
    });
}

/// Removes every `name` header.
pub fn remove_header(headers: &mut Vec<Header>, name: &str) {
    headers.retain(|h| !h.name.eq_ignore_ascii_case(name));
}

/// The path without its query string.
pub fn path_only(path: &str) -> &str {
    path.split_once('?').map_or(path, |(p, _)| p)
}

/// The value of query parameter `name` (undecoded), if present.
pub fn query_param<'a>(path: &'a str, name: &str) -> Option<&'a str> {
    let (_, query) = path.split_once('?')?;
    query
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Sets query parameter `name` to `value` (which must already be
/// URL-safe), replacing any existing one.
pub fn set_query_param(path: &str, name: &str, value: &str) -> String {
    let (base, query) = path.split_once('?').unwrap_or((path, ""));
    let mut pairs: Vec<&str> = query
        .split('&')
        .filter(|pair| !pair.is_empty() && pair.split('=').next() != Some(name))
        .collect();
    let new_pair = format!("{name}={value}");
    pairs.push(&new_pair);
    format!("{base}?{}", pairs.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_params_are_replaced_not_duplicated() {
        let p = set_query_param("/v1/x?alt=sse&key=old", "key", "NEW");
        assert_eq!(p, "/v1/x?alt=sse&key=NEW");
        assert_eq!(query_param(&p, "alt"), Some("sse"));
        assert_eq!(set_query_param("/v1/x", "key", "k"), "/v1/x?key=k");
        assert_eq!(path_only("/a/b?c=d"), "/a/b");
    }

    #[test]
    fn headers_are_case_insensitive() {
        let mut h = vec![Header {
            name: "X-Api-Key".into(),
            value: "a".into(),
        }];
        set_header(&mut h, "x-api-key", "b");
        assert_eq!(h.len(), 1);
        assert_eq!(header(&h, "X-API-KEY"), Some("b"));
    }
}
