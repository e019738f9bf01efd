//! The one-line request summary Pingora writes into its error log lines
//! (a failed filter, an upstream that broke off): method, path, the query
//! with every credential-looking parameter's value replaced, and the host.
//! A client that sends its key as `?key=` must not find it in the log.

use pingora::http::RequestHeader;

/// What a credential's value is replaced by.
const REDACTED: &str = "[REDACTED]";

/// Query parameter names (lower-case) whose value is never logged.
const CREDENTIAL_PARAMS: &[&str] = &["key", "api-key", "code", "sig", "signature"];

/// Fragments that make any parameter name (lower-case) credential-looking.
const CREDENTIAL_FRAGMENTS: &[&str] = &["key", "token", "secret", "password", "auth"];

/// `METHOD /path?query, Host: host`, with credentials in the query redacted.
pub fn request_summary(req: &RequestHeader) -> String {
    let host = req
        .headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let path = req.uri.path();
    match req.uri.query() {
        Some(query) => format!(
            "{} {path}?{}, Host: {host}",
            req.method,
            redact_query(query)
        ),
        None => format!("{} {path}, Host: {host}", req.method),
    }
}

/// The query with the value of every credential-looking parameter redacted.
fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            if is_credential(name) {
                format!("{name}={REDACTED}")
            } else {
                pair.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn is_credential(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    CREDENTIAL_PARAMS.contains(&name.as_str())
        || CREDENTIAL_FRAGMENTS.iter().any(|f| name.contains(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(target: &str) -> String {
        let mut req = RequestHeader::build("POST", target.as_bytes(), None).expect("req");
        req.insert_header("host", "gw.example").expect("host");
        request_summary(&req)
    }

    #[test]
    fn key_in_the_query_is_redacted_and_the_rest_kept() {
        let s = summary("/v1beta/models/g:streamGenerateContent?alt=sse&key=aip-secret-123");
        assert!(!s.contains("aip-secret-123"), "{s}");
        assert_eq!(
            s,
            "POST /v1beta/models/g:streamGenerateContent?alt=sse&key=[REDACTED], Host: gw.example"
        );
    }

    #[test]
    fn credential_looking_params_are_redacted_whatever_their_case() {
        let s = summary("/x?API_KEY=a1&access_token=t2&X-Auth=u3&Sig=s4&page=2");
        for secret in ["a1", "t2", "u3", "s4"] {
            assert!(!s.contains(&format!("={secret}")), "{secret} in {s}");
        }
        assert!(s.contains("page=2"), "{s}");
    }

    #[test]
    fn no_query_gives_method_path_and_host() {
        assert_eq!(summary("/v1/models"), "POST /v1/models, Host: gw.example");
    }
}
