//! The web console embedded in the binary ([`ai_proxy_console::FILES`]),
//! served from memory at `/` on the admin port when `AI_PROXY_WEB_DIR` is
//! not set.
//!
//! Answers as the directory server in [`super::web`] does: paths that name
//! no file get `index.html` (`no-cache`), except under `/assets/`, where a
//! miss is a 404 (an old chunk after an upgrade must fail, not turn into
//! the page); hashed assets are cached for a year; gzip twins go to
//! browsers that accept gzip, with `Vary: accept-encoding`. Each file has a
//! strong `ETag` computed at build time, so a reload revalidates with a 304.

use ai_proxy_console::File;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::web::NOT_BUILT;

/// Cache policy of content-hashed assets, which never change under a name.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// One response for `request` from the embedded `files`.
pub fn serve(files: &'static [File], request: &Request) -> Response {
    let Some(index) = ai_proxy_console::find(files, "index.html") else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            NOT_BUILT,
        )
            .into_response();
    };
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD")],
        )
            .into_response();
    }
    let path = request.uri().path().trim_start_matches('/');
    let is_asset = path.starts_with("assets/");
    let (file, cache) = match ai_proxy_console::find(files, path) {
        Some(file) if is_asset => (file, IMMUTABLE),
        Some(file) => (file, "no-cache"),
        None if is_asset => return StatusCode::NOT_FOUND.into_response(),
        None => (index, "no-cache"),
    };
    respond(file, cache, request)
}

fn respond(file: &'static File, cache: &'static str, request: &Request) -> Response {
    let gzip = file.gzip.filter(|_| accepts_gzip(request.headers()));
    let mut response = if etag_matches(request.headers(), file.etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else if request.method() == Method::HEAD {
        StatusCode::OK.into_response()
    } else {
        Response::new(Body::from(gzip.unwrap_or(file.body)))
    };
    let headers = response.headers_mut();
    let mime = mime_guess::from_path(file.path).first_or_octet_stream();
    if let Ok(value) = HeaderValue::from_str(mime.as_ref()) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    if gzip.is_some() {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    headers.insert(header::ETAG, HeaderValue::from_static(file.etag));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    // The same URL may be sent gzipped or not: caches must tell them apart.
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// Whether `Accept-Encoding` lists gzip (or `*`) with a weight above zero.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or_default();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
        })
}

/// Whether `If-None-Match` names `etag` (or is `*`).
fn etag_matches(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

#[cfg(test)]
mod tests {
    use super::*;

    static BUILT: &[File] = &[
        File {
            path: "assets/app-1.js",
            body: b"console.log(1)",
            gzip: Some(b"gz-bytes"),
            etag: "\"a1\"",
        },
        File {
            path: "assets/app-1.js.map",
            body: b"{}",
            gzip: None,
            etag: "\"m1\"",
        },
        File {
            path: "index.html",
            body: b"<html>console</html>",
            gzip: None,
            etag: "\"i1\"",
        },
    ];

    fn request(path: &str, headers: &[(header::HeaderName, &str)]) -> Request {
        let mut builder = Request::builder().uri(path);
        for (name, value) in headers {
            builder = builder.header(name, *value);
        }
        builder.body(Body::empty()).expect("request")
    }

    async fn text(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("body");
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[tokio::test]
    async fn an_unbuilt_console_answers_not_built_in_plain_text() {
        let response = serve(&[], &request("/", &[]));
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert!(text(response).await.contains("not built"));
    }

    #[tokio::test]
    async fn pages_get_index_html_that_is_revalidated() {
        for path in ["/", "/logs", "/upstream-keys/3", "/../../etc/passwd"] {
            let response = serve(BUILT, &request(path, &[]));
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            assert_eq!(response.headers()[header::CACHE_CONTROL], "no-cache");
            assert!(
                response.headers()[header::CONTENT_TYPE]
                    .to_str()
                    .expect("type")
                    .starts_with("text/html")
            );
            assert_eq!(text(response).await, "<html>console</html>", "{path}");
        }
    }

    #[tokio::test]
    async fn assets_are_cached_for_a_year_and_a_missing_one_is_a_404() {
        let response = serve(BUILT, &request("/assets/app-1.js", &[]));
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::CACHE_CONTROL], IMMUTABLE);
        assert!(
            response.headers()[header::CONTENT_TYPE]
                .to_str()
                .expect("type")
                .contains("javascript")
        );
        assert!(response.headers().get(header::CONTENT_ENCODING).is_none());
        assert_eq!(text(response).await, "console.log(1)");

        let missing = serve(BUILT, &request("/assets/app-0-gone.js", &[]));
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        assert!(missing.headers().get(header::CACHE_CONTROL).is_none());
    }

    #[tokio::test]
    async fn gzip_twins_go_only_to_browsers_that_accept_gzip() {
        let accepted = [(header::ACCEPT_ENCODING, "br, gzip;q=0.8")];
        let response = serve(BUILT, &request("/assets/app-1.js", &accepted));
        assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
        assert_eq!(response.headers()[header::VARY], "accept-encoding");
        assert_eq!(text(response).await, "gz-bytes");

        let refused = [(header::ACCEPT_ENCODING, "gzip;q=0, br")];
        let response = serve(BUILT, &request("/assets/app-1.js", &refused));
        assert!(response.headers().get(header::CONTENT_ENCODING).is_none());
        assert_eq!(text(response).await, "console.log(1)");
    }

    #[tokio::test]
    async fn a_matching_etag_is_a_304_without_a_body() {
        let response = serve(
            BUILT,
            &request(
                "/assets/app-1.js",
                &[(header::IF_NONE_MATCH, "\"x\", \"a1\"")],
            ),
        );
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(response.headers()[header::ETAG], "\"a1\"");
        assert_eq!(text(response).await, "");
        let stale = serve(
            BUILT,
            &request("/assets/app-1.js", &[(header::IF_NONE_MATCH, "\"old\"")]),
        );
        assert_eq!(stale.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn only_get_and_head_are_served() {
        let post = Request::builder()
            .method(Method::POST)
            .uri("/")
            .body(Body::empty())
            .expect("request");
        assert_eq!(serve(BUILT, &post).status(), StatusCode::METHOD_NOT_ALLOWED);
        let head = Request::builder()
            .method(Method::HEAD)
            .uri("/index.html")
            .body(Body::empty())
            .expect("request");
        let response = serve(BUILT, &head);
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(text(response).await, "");
    }
}
