//! Browser sessions against the real gateway: a state change sent with the
//! session cookie must come from the console's own origin (`Sec-Fetch-Site`
//! or `Origin`), so a page elsewhere (another port of the same host is
//! enough) cannot log the operator out, change a provider or upload a
//! plugin; bearer and Basic callers are not affected. Behind a proxy the
//! operator trusts, `X-Forwarded-Proto: https` makes the cookie `Secure`
//! and `X-Forwarded-For` names the client whose sign-ins are throttled;
//! from anyone else those headers count for nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ai_proxy_tests::gateway::{ADMIN_PASSWORD, TestGateway};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

/// A forged request: what it is, method, path and headers.
type Attack<'a> = (&'a str, Method, &'a str, Vec<(&'a str, &'a str)>);

/// Signs in as admin from `http`; the cookie pair and the whole `set-cookie`.
async fn sign_in(
    gw: &TestGateway,
    http: &reqwest::Client,
    headers: &[(&str, &str)],
) -> (String, String) {
    let mut req = http
        .post(format!("{}/api/auth/login", gw.admin_url))
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let set_cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    let pair = set_cookie.split(';').next().unwrap().to_owned();
    (pair, set_cookie)
}

async fn send(
    gw: &TestGateway,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new().request(method, format!("{}{path}", gw.admin_url));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn cookie_state_changes_from_another_origin_are_refused_and_bearer_ones_are_not() {
    let gw = TestGateway::in_process().await;
    let http = reqwest::Client::new();
    let (cookie, set_cookie) = sign_in(&gw, &http, &[]).await;
    assert!(!set_cookie.contains("Secure"), "plain HTTP: {set_cookie}");
    let own = gw.admin_url.clone();
    let other_port = own.rsplit_once(':').map(|(h, _)| format!("{h}:1")).unwrap();
    let openai = gw.provider_id("openai").await;
    let provider = format!("/api/providers/{openai}");
    let change = json!({"read_timeout_ms": 30000});

    // Attacks: each refused with 403 JSON, and nothing changes.
    let attacks: Vec<Attack> = vec![
        (
            "logout from a same-site page on another port",
            Method::POST,
            "/api/auth/logout",
            vec![
                ("cookie", &cookie),
                ("sec-fetch-site", "same-site"),
                ("origin", &other_port),
            ],
        ),
        (
            "provider change from another origin (no Sec-Fetch-Site)",
            Method::PUT,
            &provider,
            vec![("cookie", &cookie), ("origin", "http://evil.example")],
        ),
        (
            "provider change cross-site",
            Method::PUT,
            &provider,
            vec![("cookie", &cookie), ("sec-fetch-site", "cross-site")],
        ),
        (
            "provider change with neither header",
            Method::PUT,
            &provider,
            vec![("cookie", &cookie)],
        ),
        (
            "provider change with Origin null",
            Method::PUT,
            &provider,
            vec![("cookie", &cookie), ("origin", "null")],
        ),
    ];
    for (case, method, path, headers) in attacks {
        let (status, body) = send(&gw, method, path, &headers, Some(change.clone())).await;
        assert_eq!(status, 403, "{case}: {body}");
        assert_eq!(body["error"]["code"], "cross_origin", "{case}");
    }
    // A multipart plugin upload from another origin is refused too.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"\0asm\x0d\0\x01\0".to_vec()).file_name("p.wasm"),
    );
    let resp = http
        .post(format!("{own}/api/plugins"))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "same-site")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let provider_now = gw.admin_ok(Method::GET, &provider, None).await;
    assert_ne!(provider_now["read_timeout_ms"], 30000, "{provider_now}");

    // The session survived the forged logout; reads need no origin.
    let (status, me) = send(
        &gw,
        Method::GET,
        "/api/auth/me",
        &[("cookie", &cookie), ("sec-fetch-site", "cross-site")],
        None,
    )
    .await;
    assert_eq!((status, me["username"].as_str()), (200, Some("admin")));

    // The console's own pages may change state with the cookie.
    let (status, body) = send(
        &gw,
        Method::PUT,
        &provider,
        &[("cookie", &cookie), ("sec-fetch-site", "same-origin")],
        Some(change.clone()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = send(
        &gw,
        Method::PUT,
        &provider,
        &[("cookie", &cookie), ("origin", &own)],
        Some(json!({"read_timeout_ms": 31000})),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // Bearer and Basic callers are not affected by Origin.
    let token: Value = http
        .post(format!("{own}/api/auth/login"))
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = format!("Bearer {}", token["token"].as_str().unwrap());
    let (status, _) = send(
        &gw,
        Method::PUT,
        &provider,
        &[
            ("authorization", &bearer),
            ("origin", "http://evil.example"),
        ],
        Some(change.clone()),
    )
    .await;
    assert_eq!(status, 200);
    let resp = http
        .put(format!("{own}{provider}"))
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .header("sec-fetch-site", "cross-site")
        .json(&change)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    // The console's own logout works and ends the session.
    let (status, _) = send(
        &gw,
        Method::POST,
        "/api/auth/logout",
        &[("cookie", &cookie), ("origin", &own)],
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = send(
        &gw,
        Method::GET,
        "/api/auth/me",
        &[("cookie", &cookie)],
        None,
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_trusted_proxy_makes_the_cookie_secure_and_names_the_client_address() {
    let gw =
        TestGateway::in_process_with(&[("AI_PROXY_TRUSTED_PROXIES", "127.0.0.1/32".into())]).await;
    let via_proxy = reqwest::Client::new();
    let untrusted = reqwest::Client::builder()
        .local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap();
    let https = [("x-forwarded-proto", "https")];
    let (_, cookie) = sign_in(&gw, &via_proxy, &https).await;
    assert!(cookie.contains("; Secure"), "{cookie}");
    let (_, cookie) = sign_in(&gw, &via_proxy, &[]).await;
    assert!(!cookie.contains("Secure"), "{cookie}");
    let (_, cookie) = sign_in(&gw, &untrusted, &https).await;
    assert!(
        !cookie.contains("Secure"),
        "an untrusted peer cannot claim HTTPS: {cookie}"
    );

    // Behind the proxy, lockout follows X-Forwarded-For: one client guessing
    // does not lock the operator behind the same proxy.
    let login = |client: &reqwest::Client, forwarded_for: &str, password: &str| {
        client
            .post(format!("{}/api/auth/login", gw.admin_url))
            .header("x-forwarded-for", forwarded_for.to_owned())
            .json(&json!({"username": "admin", "password": password}))
            .send()
    };
    for attempt in 1..=6 {
        let status = login(&via_proxy, "203.0.113.66", "guess")
            .await
            .unwrap()
            .status();
        assert_eq!(status, 401, "attempt {attempt}");
    }
    let status = login(&via_proxy, "203.0.113.66", ADMIN_PASSWORD)
        .await
        .unwrap()
        .status();
    assert_eq!(status, 429);
    let status = login(&via_proxy, "198.51.100.7", ADMIN_PASSWORD)
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
    // An untrusted peer's X-Forwarded-For counts for nothing: it is locked
    // as itself, whatever address it claims.
    for _ in 1..=6 {
        let _ = login(&untrusted, "192.0.2.1", "guess").await.unwrap();
    }
    let resp = login(&untrusted, "192.0.2.2", ADMIN_PASSWORD)
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    let headers: HeaderMap = resp.headers().clone();
    assert!(headers.contains_key("retry-after"));
}
