//! Cross-site request forgery: a browser sends the session cookie with any
//! request to the console's host, including one a page on another origin
//! (another port of the same host is enough) makes it send. So every
//! state-changing request that authenticates with the cookie must also
//! show it comes from the console's own pages: `Sec-Fetch-Site` is
//! `same-origin` (or `none`: typed by the user), or, from a browser that
//! does not send it, `Origin` is exactly the console's own origin. Anything
//! else is a 403. Requests with a bearer token or Basic credentials are not
//! affected: a browser never adds those on its own.

use axum::http::header::{HOST, ORIGIN};
use axum::http::{HeaderMap, Method, Uri};

use super::ApiError;

/// Whether a request with `method` may change state.
fn changes_state(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// `scheme://host[:port]` in lower case, without the scheme's default port.
fn normalise(scheme: &str, authority: &str) -> String {
    let authority = authority.trim().to_ascii_lowercase();
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    let authority = authority
        .strip_suffix(default_port)
        .unwrap_or(&authority)
        .to_owned();
    format!("{scheme}://{authority}")
}

/// Refuses a cookie-authenticated state change that does not come from
/// the console's own origin (`https` tells which scheme that origin has).
pub fn check_same_origin(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    https: bool,
) -> Result<(), ApiError> {
    if !changes_state(method) {
        return Ok(());
    }
    if let Some(site) = headers.get("sec-fetch-site") {
        return match site.to_str().map(str::to_ascii_lowercase).as_deref() {
            Ok("same-origin" | "none") => Ok(()),
            _ => Err(ApiError::CrossOrigin),
        };
    }
    let origin = headers
        .get(ORIGIN)
        .and_then(|v| v.to_str().ok())
        .ok_or(ApiError::CrossOrigin)?;
    let host = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()))
        .ok_or(ApiError::CrossOrigin)?;
    let scheme = if https { "https" } else { "http" };
    let (origin_scheme, origin_authority) =
        origin.split_once("://").ok_or(ApiError::CrossOrigin)?;
    if normalise(&origin_scheme.to_ascii_lowercase(), origin_authority) == normalise(scheme, host) {
        Ok(())
    } else {
        Err(ApiError::CrossOrigin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(method: Method, pairs: &[(&'static str, &str)], https: bool) -> bool {
        let mut headers = HeaderMap::new();
        for (k, v) in pairs {
            headers.append(*k, v.parse().expect("value"));
        }
        check_same_origin(&method, &Uri::from_static("/api/x"), &headers, https).is_ok()
    }

    const CONSOLE_HOST: (&str, &str) = ("host", "console.example:9090");

    #[test]
    fn reads_pass_without_any_origin() {
        assert!(check(Method::GET, &[], false));
        assert!(check(
            Method::HEAD,
            &[("sec-fetch-site", "cross-site")],
            false
        ));
    }

    #[test]
    fn sec_fetch_site_decides_when_present() {
        for (site, ok) in [
            ("same-origin", true),
            ("none", true),
            ("same-site", false),
            ("cross-site", false),
        ] {
            assert_eq!(
                check(
                    Method::POST,
                    &[("sec-fetch-site", site), CONSOLE_HOST],
                    false
                ),
                ok,
                "{site}"
            );
        }
        assert!(
            !check(
                Method::DELETE,
                &[
                    ("sec-fetch-site", "same-site"),
                    ("origin", "http://console.example:9090"),
                    CONSOLE_HOST
                ],
                false
            ),
            "a same-site page on another port is refused even with a matching Origin"
        );
    }

    #[test]
    fn origin_must_be_exactly_the_consoles_own() {
        assert!(check(
            Method::POST,
            &[("origin", "http://console.example:9090"), CONSOLE_HOST],
            false
        ));
        assert!(check(
            Method::PUT,
            &[("origin", "http://CONSOLE.example:9090"), CONSOLE_HOST],
            false
        ));
        for origin in [
            "http://console.example:8080",
            "https://console.example:9090",
            "http://evil.example:9090",
            "http://console.example.evil:9090",
            "null",
        ] {
            assert!(
                !check(Method::POST, &[("origin", origin), CONSOLE_HOST], false),
                "{origin}"
            );
        }
        assert!(
            !check(Method::POST, &[CONSOLE_HOST], false),
            "no Origin, no Sec-Fetch-Site"
        );
        assert!(check(
            Method::PATCH,
            &[
                ("origin", "https://console.example"),
                ("host", "console.example:443")
            ],
            true
        ));
        assert!(
            !check(
                Method::POST,
                &[
                    ("origin", "http://console.example"),
                    ("host", "console.example")
                ],
                true
            ),
            "over HTTPS the origin is https"
        );
    }
}
