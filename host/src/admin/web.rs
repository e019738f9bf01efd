//! The operator's web console on port 9090 at `/`: the copy embedded in
//! the binary ([`super::console`]), or, when `AI_PROXY_WEB_DIR` is set (for
//! console development), the built UI's static files in that directory.
//!
//! For a directory: paths that name no file get `index.html`, so the browser's router can
//! show any page after a reload. Paths under `/api` never do: an unknown
//! API route stays a JSON 404. The directory is looked at on every request,
//! so building the UI while the gateway runs needs no restart; while it has
//! no `index.html`, `/` answers a short plain message saying so. Assets with
//! a `.gz` twin (the build writes them) go gzipped to browsers that accept it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use tower_http::services::{ServeDir, ServeFile};

use super::{console, error};

/// What `/` says while the UI has not been built.
pub const NOT_BUILT: &str = "The web UI is not built. Run web/build.sh (scripts/run.sh does) and build the gateway again, \
     or point AI_PROXY_WEB_DIR at a built copy. The admin API is under /api.\n";

/// Headers on every UI response: no MIME sniffing, no framing by other
/// sites (clickjacking of the console), no referrer to other origins.
const SECURITY_HEADERS: [(header::HeaderName, &str); 3] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "same-origin"),
];

/// Routes for the UI: JSON 404 for unknown `/api` paths, the console for
/// everything else (from `dir` when given, else the embedded copy).
/// Merged last into the admin router.
pub fn routes<S: Clone + Send + Sync + 'static>(dir: Option<PathBuf>) -> Router<S> {
    let api = Router::new()
        .route("/api", any(error::not_found))
        .route("/api/{*rest}", any(error::not_found));
    match dir {
        Some(dir) => {
            let dir = Arc::new(dir);
            api.fallback(move |request: Request| {
                let dir = dir.clone();
                async move { serve(&dir, request).await }
            })
        }
        None => api.fallback(|request: Request| async move {
            with_security_headers(console::serve(ai_proxy_console::FILES, &request))
        }),
    }
}

/// One static file from `dir`, or its `index.html` for unknown paths.
pub async fn serve(dir: &Path, request: Request) -> Response {
    with_security_headers(file(dir, request).await)
}

fn with_security_headers(mut response: Response) -> Response {
    for (name, value) in SECURITY_HEADERS {
        response
            .headers_mut()
            .insert(name, HeaderValue::from_static(value));
    }
    response
}

async fn file(dir: &Path, request: Request) -> Response {
    let index = dir.join("index.html");
    if !index.is_file() {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            NOT_BUILT,
        )
            .into_response();
    }
    let is_asset = request.uri().path().starts_with("/assets/");
    // A missing asset (an old chunk after an upgrade) is a 404, never the
    // page: the console sees the failed load and offers a reload.
    let served = if is_asset {
        ServeDir::new(dir)
            .precompressed_gzip()
            .try_call(request)
            .await
            .map(|r| r.map(Body::new))
    } else {
        ServeDir::new(dir)
            .precompressed_gzip()
            .fallback(ServeFile::new(index))
            .try_call(request)
            .await
            .map(|r| r.map(Body::new))
    };
    match served {
        Ok(mut response) => {
            // Asset names carry a content hash; index.html must be re-read.
            let cache = if is_asset && response.status().is_success() {
                console::IMMUTABLE
            } else {
                "no-cache"
            };
            let headers = response.headers_mut();
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
            // The same URL may be sent gzipped or not: caches must tell them apart.
            headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
            response
        }
        Err(e) => error::ApiError::internal(e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(path: &str) -> Request {
        Request::builder()
            .uri(path)
            .body(Body::empty())
            .expect("request")
    }

    async fn text(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("body");
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// A built UI in a temporary directory, removed when dropped.
    struct BuiltDir(PathBuf);

    impl Drop for BuiltDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn built_dir(name: &str) -> BuiltDir {
        let dir = std::env::temp_dir().join(format!("ai-proxy-web-{name}-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("assets")).expect("mkdir");
        std::fs::write(dir.join("index.html"), "<html>console</html>").expect("index");
        std::fs::write(dir.join("assets/app-1.js"), "console.log(1)").expect("asset");
        BuiltDir(dir)
    }

    #[tokio::test]
    async fn missing_directory_answers_not_built_in_plain_text() {
        let response = serve(Path::new("/nonexistent/ai-proxy-web"), request("/")).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            response.headers()[header::X_CONTENT_TYPE_OPTIONS],
            "nosniff"
        );
        assert!(text(response).await.contains("not built"));
    }

    #[tokio::test]
    async fn root_and_unknown_pages_get_index_html() {
        let dir = built_dir("index");
        for path in ["/", "/logs", "/upstream-keys/3"] {
            let response = serve(&dir.0, request(path)).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            assert_eq!(response.headers()[header::X_FRAME_OPTIONS], "DENY");
            assert_eq!(response.headers()[header::CACHE_CONTROL], "no-cache");
            assert_eq!(text(response).await, "<html>console</html>", "{path}");
        }
    }

    #[tokio::test]
    async fn assets_are_served_with_their_type_and_long_caching() {
        let dir = built_dir("asset");
        let response = serve(&dir.0, request("/assets/app-1.js")).await;
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers().clone();
        assert!(
            headers[header::CONTENT_TYPE]
                .to_str()
                .expect("type")
                .contains("javascript")
        );
        assert!(
            headers[header::CACHE_CONTROL]
                .to_str()
                .expect("cache")
                .contains("immutable")
        );
        assert_eq!(text(response).await, "console.log(1)");
    }

    #[tokio::test]
    async fn a_missing_asset_is_a_404_not_the_page() {
        let dir = built_dir("missing-asset");
        let response = serve(&dir.0, request("/assets/app-0-gone.js")).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_ne!(
            response
                .headers()
                .get(header::CACHE_CONTROL)
                .map(|v| v.as_bytes()),
            Some(&b"public, max-age=31536000, immutable"[..]),
            "a miss is never cached for a year"
        );
    }

    #[tokio::test]
    async fn gzip_twins_are_sent_to_browsers_that_accept_gzip() {
        let dir = built_dir("gzip");
        std::fs::write(dir.0.join("assets/app-1.js.gz"), b"gz-bytes").expect("gz");
        let gzipped = Request::builder()
            .uri("/assets/app-1.js")
            .header(header::ACCEPT_ENCODING, "gzip")
            .body(Body::empty())
            .expect("request");
        let response = serve(&dir.0, gzipped).await;
        assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
        assert_eq!(response.headers()[header::VARY], "accept-encoding");
        assert_eq!(text(response).await, "gz-bytes");
        let plain = serve(&dir.0, request("/assets/app-1.js")).await;
        assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
        assert_eq!(text(plain).await, "console.log(1)");
    }

    #[tokio::test]
    async fn parent_paths_do_not_escape_the_directory() {
        let dir = built_dir("escape");
        let response = serve(&dir.0, request("/../../etc/passwd")).await;
        assert!(!text(response).await.contains("root:"));
    }

    #[tokio::test]
    async fn unknown_api_paths_stay_json_404() {
        use tower::ServiceExt;
        let dir = built_dir("api");
        for path in ["/api", "/api/nope", "/api/providers/x/y"] {
            let response = routes::<()>(Some(dir.0.clone()))
                .oneshot(request(path))
                .await
                .expect("response");
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
            let body = text(response).await;
            assert!(body.contains("\"error\""), "{path}: {body}");
        }
    }
}
