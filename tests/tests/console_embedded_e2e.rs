//! One file to deploy (issue 16, item 1): the console is served from the
//! binary whatever the working directory, with the caching headers of the
//! directory server; `AI_PROXY_WEB_DIR` still overrides it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use ai_proxy_tests::gateway::TestGateway;

/// `web/dist` of this checkout, which the gateway embeds when it is built.
fn dist() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../web/dist")
}

/// The first `/assets/…` path `index.html` loads.
fn first_asset(index: &str) -> String {
    let start = index.find("/assets/").expect("index.html names an asset");
    let rest = &index[start..];
    let end = rest.find('"').expect("closing quote");
    rest[..end].to_owned()
}

#[tokio::test]
async fn the_console_is_served_from_the_binary_outside_the_repository() {
    let gw = TestGateway::start_elsewhere(&[]).await;
    let http = reqwest::Client::new();
    let page = http
        .get(format!("{}/logs", gw.admin_url))
        .send()
        .await
        .unwrap();
    let Ok(index) = std::fs::read_to_string(dist().join("index.html")) else {
        // Built without a console: the binary says so instead of failing.
        assert_eq!(page.status(), 404);
        assert!(page.text().await.unwrap().contains("not built"));
        assert!(
            std::env::var("AI_PROXY_REQUIRE_SERVICES").as_deref() != Ok("1"),
            "web/dist is not built (run web/build.sh before cargo build)"
        );
        eprintln!("skipped the embedded console's content: web/dist is not built");
        return;
    };
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-cache");
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert!(page.headers()["etag"].to_str().unwrap().starts_with('"'));
    assert_eq!(page.text().await.unwrap(), index, "the built index.html");

    let asset = first_asset(&index);
    let plain = http
        .get(format!("{}{asset}", gw.admin_url))
        .header("accept-encoding", "identity")
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 200, "{asset}");
    assert!(
        plain.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert_eq!(plain.headers()["vary"], "accept-encoding");
    let etag = plain.headers()["etag"].clone();
    let on_disk = std::fs::read(dist().join(asset.trim_start_matches('/'))).unwrap();
    assert_eq!(plain.bytes().await.unwrap().as_ref(), on_disk.as_slice());

    if dist()
        .join(format!("{}.gz", asset.trim_start_matches('/')))
        .is_file()
    {
        let gzipped = http
            .get(format!("{}{asset}", gw.admin_url))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(gzipped.headers()["content-encoding"], "gzip");
    }
    let revalidated = http
        .get(format!("{}{asset}", gw.admin_url))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), 304);

    let gone = http
        .get(format!("{}/assets/app-gone-0.js", gw.admin_url))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404, "an old chunk is a 404, not the page");
    let api = http
        .get(format!("{}/api/nope", gw.admin_url))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 404);
    assert!(api.text().await.unwrap().contains("\"error\""));
}

#[tokio::test]
async fn ai_proxy_web_dir_overrides_the_embedded_console() {
    let dir = std::env::temp_dir().join(format!("aip-web-override-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), "<html>override</html>").unwrap();
    let gw = TestGateway::start_elsewhere(&[("AI_PROXY_WEB_DIR", dir.display().to_string())]).await;
    let body = reqwest::get(format!("{}/", gw.admin_url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(body, "<html>override</html>");
}
