//! Routes that changed their name keep answering under the old one.
//!
//! Client keys and upstream keys each have one name across the API, the
//! code and the console; their first routes (`/api/user-service/keys`,
//! `/api/provider-keys/keys`) are documented and stay: a request to an old
//! path is served as the same request to the new one, before routing, so
//! every method, sub-route, check and answer is the new route's. Only the
//! new routes are in the OpenAPI document.

use axum::extract::Request;
use axum::http::Uri;
use axum::http::uri::PathAndQuery;

/// Old path prefix, and the prefix it now answers as.
pub const RENAMED: [(&str, &str); 2] = [
    ("/api/user-service/keys", "/api/client-keys"),
    ("/api/provider-keys/keys", "/api/upstream-keys"),
];

/// The request with an old path prefix put under its new name; any other
/// request unchanged.
pub fn renamed(mut req: Request) -> Request {
    if let Some(uri) = new_uri(req.uri()) {
        *req.uri_mut() = uri;
    }
    req
}

fn new_uri(uri: &Uri) -> Option<Uri> {
    let path = uri.path();
    let (old, new) = RENAMED.iter().find(|(old, _)| {
        path.strip_prefix(old)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })?;
    let mut renamed = format!("{new}{}", &path[old.len()..]);
    if let Some(query) = uri.query() {
        renamed.push('?');
        renamed.push_str(query);
    }
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(PathAndQuery::try_from(renamed).ok()?);
    Uri::from_parts(parts).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn renamed_path(s: &str) -> String {
        let uri: Uri = s.parse().unwrap();
        new_uri(&uri).map_or(s.to_owned(), |u| u.to_string())
    }

    #[test]
    fn old_prefixes_answer_as_the_new_ones_with_their_query() {
        assert_eq!(renamed_path("/api/user-service/keys"), "/api/client-keys");
        assert_eq!(
            renamed_path("/api/user-service/keys/7/providers?x=1"),
            "/api/client-keys/7/providers?x=1"
        );
        assert_eq!(
            renamed_path("/api/provider-keys/keys/3/oauth/refresh"),
            "/api/upstream-keys/3/oauth/refresh"
        );
    }

    #[test]
    fn only_whole_segments_are_renamed() {
        for path in [
            "/api/user-service/keysX",
            "/api/provider-keys",
            "/api/client-keys/1",
            "/x/api/user-service/keys",
        ] {
            assert_eq!(renamed_path(path), path);
        }
    }
}
