//! HTTPS on both ports: given a certificate and key (`AI_PROXY_TLS_CERT`,
//! `AI_PROXY_TLS_KEY`), the admin API and the proxy answer over TLS (and
//! plain HTTP gets no answer), a client request goes through to the
//! upstream, and the session cookie is `Secure`. The certificate is a
//! self-signed one made with `openssl` for this test; the client trusts
//! exactly it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use ai_proxy_tests::gateway::{ADMIN_PASSWORD, TestGateway};
use ai_proxy_tests::mock::MockUpstream;
use base64::Engine;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

/// A self-signed certificate for `localhost` and 127.0.0.1, and its key.
fn self_signed(dir: &Path) -> (String, String) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let out = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"])
        .args(["-subj", "/CN=localhost", "-addext"])
        .arg("subjectAltName=DNS:localhost,IP:127.0.0.1")
        .args(["-addext", "basicConstraints=critical,CA:FALSE", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    (cert.display().to_string(), key.display().to_string())
}

/// Status, head and body of one HTTPS request to `url` (trusting `ca`).
async fn https(ca: &Path, url: &str, request: &str) -> (u16, String, String) {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let address = url.trim_start_matches("https://");
    let tcp = TcpStream::connect(address).await.unwrap();
    let mut tls = TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .expect("TLS handshake");
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    // A server may close without close_notify; what arrived is the answer.
    let _ = tls.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_owned(), body.to_owned())
}

fn request(method: &str, path: &str, headers: &[(&str, &str)], body: Option<&Value>) -> String {
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut out = format!(
        "{method} {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        out.push_str("content-type: application/json\r\n");
    }
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&body);
    out
}

fn json_body(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}"))
}

#[tokio::test]
async fn tls_both_ports_answer_over_https_and_the_cookie_is_secure() {
    let dir = std::env::temp_dir().join(format!("aip-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = self_signed(&dir);
    let mock = MockUpstream::start().await;
    let gw = TestGateway::start_with(&[
        ("AI_PROXY_TLS_CERT", cert.clone()),
        ("AI_PROXY_TLS_KEY", key),
    ])
    .await;
    assert!(gw.admin_url.starts_with("https://"));
    let ca = Path::new(&cert);
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("admin:{ADMIN_PASSWORD}"))
    );
    let admin = |method: &'static str, path: String, body: Option<Value>| {
        let req = request(method, &path, &[("authorization", &basic)], body.as_ref());
        let url = gw.admin_url.clone();
        async move { https(ca, &url, &req).await }
    };

    // The admin port over HTTPS.
    let (status, _, body) = admin("GET", "/api/health".into(), None).await;
    assert_eq!(status, 200, "{body}");

    // Sign-in over HTTPS sets a Secure cookie.
    let login = json!({"username": "admin", "password": ADMIN_PASSWORD});
    let (status, head, _) = https(
        ca,
        &gw.admin_url,
        &request("POST", "/api/auth/login", &[], Some(&login)),
    )
    .await;
    assert_eq!(status, 200, "{head}");
    let cookie = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap_or_else(|| panic!("no cookie: {head}"));
    assert!(
        cookie.contains("; Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );

    // Set up a client key through the admin API over HTTPS, then use it on
    // the proxy port over HTTPS.
    let (_, _, providers) = admin("GET", "/api/providers".into(), None).await;
    let openai = json_body(&providers)
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "openai")
        .unwrap()["id"]
        .clone();
    let (status, _, body) = admin(
        "PUT",
        format!("/api/providers/{openai}"),
        Some(json!({"base_url": mock.base_url()})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, _, upstream) = admin(
        "POST",
        "/api/upstream-keys".into(),
        Some(json!({"provider_id": openai, "name": "up", "secret": "sk-up"})),
    )
    .await;
    let (_, _, client) = admin(
        "POST",
        "/api/client-keys".into(),
        Some(json!({"name": "c", "provider_id": openai, "upstream_key_ids": [json_body(&upstream)["id"]]})),
    )
    .await;
    let key = json_body(&client)["key"].as_str().unwrap().to_owned();
    let chat = json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]});
    let bearer = format!("Bearer {key}");
    let (status, _, body) = https(
        ca,
        &gw.proxy_url,
        &request(
            "POST",
            "/v1/chat/completions",
            &[("authorization", &bearer)],
            Some(&chat),
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        mock.requests().pop().unwrap().header("authorization"),
        Some("Bearer sk-up")
    );

    // Plain HTTP gets no HTTP answer on either port.
    for url in [&gw.admin_url, &gw.proxy_url] {
        let mut tcp = TcpStream::connect(url.trim_start_matches("https://"))
            .await
            .unwrap();
        tcp.write_all(b"GET /api/health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut raw = Vec::new();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), tcp.read_to_end(&mut raw))
            .await;
        assert!(
            !String::from_utf8_lossy(&raw).starts_with("HTTP/1.1 200"),
            "{url} answered plain HTTP"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
