//! Zero-downtime upgrade on one host (issue 16, item 4): a new process
//! started with `ai-proxy serve --upgrade` receives the proxy's listening
//! socket from the running one, which hands it over on SIGQUIT and then
//! finishes its open streams before exiting. Clients see no refused or
//! failed request at any point, and every request is traced once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ai_proxy_tests::gateway::TestGateway;
use ai_proxy_tests::mock::MockUpstream;
use serde_json::{Value, json};

/// Streams open on the old process when the upgrade starts.
const STREAMS: usize = 40;
/// Their pacing: 24 events 300 ms apart, about 7 s each.
const DELAY_MS: &str = "300";
const REPEAT: &str = "4";
/// Pause between the one-off requests sent throughout the upgrade.
const PROBE_EVERY: Duration = Duration::from_millis(25);
/// Most one-off requests sent (the loop stops earlier when the test does).
const MAX_PROBES: usize = 2_000;

fn body(stream: bool) -> Value {
    json!({
        "model": "gpt-4o-mini",
        "stream": stream,
        "stream_options": {"include_usage": true},
        "messages": [{"role": "user", "content": "hi"}],
    })
}

async fn wait_until(what: &str, limit: Duration, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Sends one-off requests, each on a new connection (so none rides a
/// keep-alive connection the old process is closing), until `stop`;
/// returns how many were sent and the failures.
async fn probe(url: String, key: String, stop: Arc<AtomicBool>) -> (usize, Vec<String>) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");
    let mut failures = Vec::new();
    let mut sent = 0;
    while !stop.load(Ordering::SeqCst) && sent < MAX_PROBES {
        sent += 1;
        match client
            .post(&url)
            .bearer_auth(&key)
            .json(&body(false))
            .send()
            .await
        {
            Ok(r) if r.status() == 200 => {}
            Ok(r) => failures.push(format!("status {}", r.status())),
            Err(e) => failures.push(format!("{e:?}")),
        }
        tokio::time::sleep(PROBE_EVERY).await;
    }
    (sent, failures)
}

#[tokio::test]
async fn an_upgrade_hands_the_port_over_without_refusing_or_cutting_a_request() {
    let mock = MockUpstream::start().await;
    let mut gw = TestGateway::start().await;
    let key = gw
        .client_key_for("openai", &mock.base_url(), "sk-upstream")
        .await;
    let url = format!("{}/v1/chat/completions", gw.proxy_url);

    let client = reqwest::Client::new();
    let opened = Arc::new(AtomicUsize::new(0));
    let streams: Vec<_> = (0..STREAMS)
        .map(|_| {
            let (client, url, key, opened) =
                (client.clone(), url.clone(), key.clone(), opened.clone());
            tokio::spawn(async move {
                let resp = client
                    .post(url)
                    .bearer_auth(key)
                    .header("x-mock-delay-ms", DELAY_MS)
                    .header("x-mock-repeat", REPEAT)
                    .json(&body(true))
                    .send()
                    .await
                    .map_err(|e| format!("send: {e}"))?;
                opened.fetch_add(1, Ordering::SeqCst);
                if resp.status() != 200 {
                    return Err(format!("status {}", resp.status()));
                }
                resp.text().await.map_err(|e| format!("body: {e}"))
            })
        })
        .collect();
    wait_until("every stream open", Duration::from_secs(30), async || {
        opened.load(Ordering::SeqCst) == STREAMS
    })
    .await;

    let stop = Arc::new(AtomicBool::new(false));
    let prober = tokio::spawn(probe(url.clone(), key.clone(), stop.clone()));
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut old = gw.upgrade().await;

    // The old process finishes its streams and exits 0 on its own.
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = old.try_wait().expect("try_wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the old process never exited:\n{}",
            gw.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "old process: {status}\n{}", gw.log());
    for stream in streams {
        let text = stream.await.expect("task").expect("stream completed");
        assert!(text.contains("\"usage\""), "usage chunk missing: {text}");
        assert!(text.trim_end().ends_with("data: [DONE]"), "cut: {text}");
    }

    // The port never stopped answering, before, during and after.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::SeqCst);
    let (sent, failures) = prober.await.expect("prober");
    assert!(sent > 50, "too few requests during the upgrade: {sent}");
    assert!(
        failures.is_empty(),
        "{} of {sent} failed: {failures:?}",
        failures.len()
    );

    // The new process serves both ports now, and the old one's requests
    // were all traced.
    let ready = reqwest::get(format!("{}/api/ready", gw.admin_url))
        .await
        .expect("ready");
    assert_eq!(ready.status(), 200);
    let resp = reqwest::Client::new()
        .post(&url)
        .bearer_auth(&key)
        .json(&body(false))
        .send()
        .await
        .expect("after");
    assert_eq!(resp.status(), 200);
    let expected = (STREAMS + sent + 1) as u64;
    let mut total = 0;
    let deadline = Instant::now() + Duration::from_secs(10);
    while total < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let page = gw
            .admin_ok(reqwest::Method::GET, "/api/logs/traces?page_size=1", None)
            .await;
        total = page["total"].as_u64().expect("total");
    }
    assert_eq!(total, expected, "every request traced exactly once");
    let log = gw.log();
    assert!(log.contains("listening socket handed over"), "{log}");
}
