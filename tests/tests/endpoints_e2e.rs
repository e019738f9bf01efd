//! A client key reaches only the classes of provider endpoint it was
//! granted (issue 12, item 3): by default inference, embeddings, models and
//! token counting; files, batches and fine-tuning jobs made by other
//! tenants under the same upstream key stay out of reach, however the path
//! is spelled, and nothing refused reaches the upstream.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use ai_proxy_tests::gateway::TestGateway;
use ai_proxy_tests::mock::MockUpstream;
use reqwest::Method;
use serde_json::{Value, json};

/// Sends `method path` exactly as written (no client-side normalisation)
/// with a small JSON body; returns the status and the JSON body. On a
/// blocking thread: the mock upstream runs on the test's runtime.
async fn raw(gw: &TestGateway, method: &str, path: &str, key: &str) -> (u16, Value) {
    let (addr, method, path, key) = (
        gw.proxy_url.trim_start_matches("http://").to_owned(),
        method.to_owned(),
        path.to_owned(),
        key.to_owned(),
    );
    tokio::task::spawn_blocking(move || raw_blocking(&addr, &method, &path, &key))
        .await
        .unwrap()
}

fn raw_blocking(addr: &str, method: &str, path: &str, key: &str) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let body = r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {key}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let answer = read_answer(&mut stream);
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let json = text
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b.trim()).ok())
        .unwrap_or(Value::Null);
    (status, json)
}

/// One answer: its head, then `content-length` bytes of body (or what
/// comes until the connection closes).
fn read_answer(stream: &mut TcpStream) -> Vec<u8> {
    let mut answer = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let head_end = answer.windows(4).position(|w| w == b"\r\n\r\n");
        if let Some(end) = head_end {
            let head = String::from_utf8_lossy(&answer[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok());
            if length.is_some_and(|n| answer.len() >= end + 4 + n) {
                return answer;
            }
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return answer,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test]
async fn a_default_key_reaches_inference_and_models_but_no_files_batches_or_fine_tuning() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::in_process().await;
    let key = gw.client_key_for("openai", &mock.base_url(), "sk-up").await;

    assert_eq!(raw(&gw, "POST", "/v1/chat/completions", &key).await.0, 200);
    assert_eq!(raw(&gw, "GET", "/v1/models", &key).await.0, 200);
    // Reaches the upstream, which finds no `input` in a chat body.
    assert_eq!(raw(&gw, "POST", "/v1/embeddings", &key).await.0, 400);
    let served = mock.requests().len();

    for (method, path, class) in [
        ("GET", "/v1/files", "files"),
        ("GET", "/v1/files/file-of-another-tenant/content", "files"),
        ("DELETE", "/v1/files/file-of-another-tenant", "files"),
        ("POST", "/v1/batches", "batches"),
        ("POST", "/v1/fine_tuning/jobs", "fine_tuning"),
        ("POST", "/v1/vector_stores", "other"),
        ("GET", "/v1/chat/completions", "other"),
        // Other spellings of the same paths.
        ("GET", "/v1/chat/../files", "files"),
        ("GET", "/v1/chat/%2e%2e/files", "files"),
        ("GET", "/v1/chat/%2E%2E/files/f/content", "files"),
        ("GET", "//v1//files", "files"),
        ("GET", "/v1/./files", "files"),
        ("GET", "/v1/%66iles", "files"),
    ] {
        let (status, body) = raw(&gw, method, path, &key).await;
        assert_eq!(status, 403, "{method} {path}: {body}");
        assert_eq!(body["error"]["code"], "endpoint_not_allowed", "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(class), "{method} {path}: {message}");
    }
    for path in [
        "/v1/../../files",
        "/%2e%2e/v1/files",
        "/v1/files%2fx",
        "/v1/files%5cx",
        "/v1/%zz",
    ] {
        let (status, body) = raw(&gw, "GET", path, &key).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["error"]["code"], "invalid_path", "{body}");
    }
    assert_eq!(
        mock.requests().len(),
        served,
        "nothing refused reached the upstream"
    );

    // A path that normalises cleanly is forwarded in its normal form.
    assert_eq!(
        raw(&gw, "POST", "//v1/./chat//completions", &key).await.0,
        200
    );
    let last = mock.requests().pop().unwrap();
    assert_eq!(last.path_and_query, "/v1/chat/completions");

    let plugins = gw.admin_ok(Method::GET, "/api/plugins", None).await;
    let plugins = plugins
        .as_array()
        .or_else(|| plugins["items"].as_array())
        .unwrap();
    assert!(!plugins.is_empty());
    for plugin in plugins {
        assert_eq!(plugin["declares_endpoints"], true, "{plugin}");
    }
}

#[tokio::test]
async fn an_operator_grants_classes_and_takes_them_back_at_once() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::in_process().await;
    let pool = gw
        .pool(
            "openai",
            &mock.base_url(),
            &[("k", "sk-up", json!({}))],
            json!({"endpoint_classes": ["inference", "files"]}),
        )
        .await;
    let path = format!("/api/client-keys/{}", pool.client_id);
    let view = gw.admin_ok(Method::GET, &path, None).await;
    assert_eq!(view["endpoint_classes"], json!(["inference", "files"]));

    let before = mock.requests().len();
    let (status, _) = raw(&gw, "GET", "/v1/files", &pool.client_key).await;
    assert_ne!(status, 403, "files granted");
    let reached = mock.requests();
    assert_eq!(reached.len(), before + 1);
    assert_eq!(reached.last().unwrap().path_and_query, "/v1/files");
    let (status, body) = raw(&gw, "GET", "/v1/models", &pool.client_key).await;
    assert_eq!(status, 403, "models not granted: {body}");

    let (status, body) = gw
        .admin(
            Method::PUT,
            &path,
            Some(json!({"endpoint_classes": ["inference", "filez"]})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    gw.admin_ok(
        Method::PUT,
        &path,
        Some(json!({"endpoint_classes": ["inference"]})),
    )
    .await;
    let (status, _) = raw(&gw, "GET", "/v1/files", &pool.client_key).await;
    assert_eq!(status, 403, "taken back at once");
    assert_eq!(
        raw(&gw, "POST", "/v1/chat/completions", &pool.client_key)
            .await
            .0,
        200
    );
}
