//! Restarts that drop nothing (issue 16, item 4): on SIGTERM the gateway
//! reports not-ready, stops accepting connections, lets every open stream
//! finish (usage chunk and `[DONE]` included), writes every trace and
//! exits 0; a second signal exits at once; the grace period bounds the wait.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ai_proxy_tests::gateway::TestGateway;
use ai_proxy_tests::mock::{COMPLETION_TOKENS, MockUpstream};
use serde_json::{Value, json};

/// Streams open when the signal comes.
const STREAMS: usize = 200;
/// Pacing of the mock's stream events: with `REPEAT` the stream has 24
/// events, so each stream lasts about 9 s, most of it after the signal.
const DELAY_MS: &str = "400";
const REPEAT: u64 = 4;

fn stream_body() -> Value {
    json!({
        "model": "gpt-4o-mini",
        "stream": true,
        "stream_options": {"include_usage": true},
        "messages": [{"role": "user", "content": "hi"}],
    })
}

/// A gateway with a client key on the mock, and that key.
async fn gateway(mock: &MockUpstream, grace_secs: &str) -> (TestGateway, String) {
    let gw = TestGateway::start_with(&[
        ("AI_PROXY_SHUTDOWN_GRACE_SECS", grace_secs.into()),
        // A stream holds a plugin instance while it is open.
        ("AI_PROXY_PLUGIN_INSTANCES", (2 * STREAMS).to_string()),
    ])
    .await;
    let key = gw
        .client_key_for("openai", &mock.base_url(), "sk-upstream")
        .await;
    (gw, key)
}

/// Opens a paced stream; counts it in `opened` once its head arrived, then
/// reads it to the end. `Err` when the stream was cut.
async fn open_stream(
    client: reqwest::Client,
    url: String,
    key: String,
    repeat: u64,
    opened: Arc<AtomicUsize>,
) -> Result<String, String> {
    let resp = client
        .post(url)
        .bearer_auth(key)
        .header("x-mock-delay-ms", DELAY_MS)
        .header("x-mock-repeat", repeat.to_string())
        .json(&stream_body())
        .send()
        .await
        .map_err(|e| format!("send: {e}"))?;
    opened.fetch_add(1, Ordering::SeqCst);
    if resp.status() != 200 {
        return Err(format!("status {}", resp.status()));
    }
    resp.text().await.map_err(|e| format!("body: {e}"))
}

async fn wait_until(what: &str, limit: Duration, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What `GET /api/ready` says now.
async fn readiness(gw: &TestGateway) -> Value {
    reqwest::get(format!("{}/api/ready", gw.admin_url))
        .await
        .expect("ready")
        .json()
        .await
        .expect("json")
}

async fn ready_status(gw: &TestGateway) -> u16 {
    reqwest::get(format!("{}/api/ready", gw.admin_url))
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

async fn proxy_accepts(gw: &TestGateway) -> bool {
    let addr = gw.proxy_url.trim_start_matches("http://");
    tokio::time::timeout(Duration::from_secs(1), tokio::net::TcpStream::connect(addr))
        .await
        .is_ok_and(|c| c.is_ok())
}

#[tokio::test]
async fn open_streams_finish_with_usage_and_done_and_are_traced_after_sigterm() {
    let mock = MockUpstream::start().await;
    let (mut gw, key) = gateway(&mock, "120").await;
    assert_eq!(ready_status(&gw).await, 200);

    let client = reqwest::Client::new();
    let url = format!("{}/v1/chat/completions", gw.proxy_url);
    let opened = Arc::new(AtomicUsize::new(0));
    let streams: Vec<_> = (0..STREAMS)
        .map(|_| {
            tokio::spawn(open_stream(
                client.clone(),
                url.clone(),
                key.clone(),
                REPEAT,
                opened.clone(),
            ))
        })
        .collect();
    wait_until("every stream open", Duration::from_secs(60), async || {
        opened.load(Ordering::SeqCst) == STREAMS
    })
    .await;

    // Every stream is in flight when the signal comes.
    let before = readiness(&gw).await;
    assert_eq!(before["status"], "ready", "{before}");
    assert_eq!(before["in_flight"], STREAMS, "{before}");
    let signalled = Instant::now();
    gw.signal("TERM");
    wait_until("readiness false", Duration::from_secs(5), async || {
        ready_status(&gw).await == 503
    })
    .await;
    assert_eq!(readiness(&gw).await["status"], "draining");
    wait_until(
        "the proxy port closed",
        Duration::from_secs(5),
        async || !proxy_accepts(&gw).await,
    )
    .await;
    assert!(
        gw.wait_exit(Duration::from_millis(10)).await.is_none(),
        "the gateway waits for its open streams\n{}",
        gw.log()
    );

    let want_usage = format!("\"completion_tokens\":{}", COMPLETION_TOKENS * REPEAT);
    for stream in streams {
        let body = stream
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("{e}\n{}", gw.log()));
        assert!(body.contains(&want_usage), "no usage chunk: {body}");
        assert!(
            body.trim_end().ends_with("data: [DONE]"),
            "no [DONE]: {body}"
        );
    }
    let status = gw
        .wait_exit(Duration::from_secs(30))
        .await
        .unwrap_or_else(|| panic!("the gateway did not exit\n{}", gw.log()));
    assert!(status.success(), "exit status {status}\n{}", gw.log());
    eprintln!(
        "{STREAMS} streams finished; exited {:?} after SIGTERM",
        signalled.elapsed()
    );

    // Every stream was traced before the exit: a fresh start reads them.
    gw.restart().await;
    let list = gw
        .admin_ok(reqwest::Method::GET, "/api/logs/traces?page_size=200", None)
        .await;
    assert_eq!(list["total"], STREAMS, "{list}");
    for item in list["items"].as_array().unwrap() {
        assert_eq!(item["status_code"], 200, "{item}");
        assert_eq!(item["is_stream"], true, "{item}");
        assert_eq!(item["output_tokens"], COMPLETION_TOKENS * REPEAT, "{item}");
    }
}

#[tokio::test]
async fn a_second_signal_exits_at_once_and_cuts_what_is_open() {
    let mock = MockUpstream::start().await;
    let (mut gw, key) = gateway(&mock, "120").await;
    let opened = Arc::new(AtomicUsize::new(0));
    // About a minute of stream: only a second signal ends the process soon.
    let stream = tokio::spawn(open_stream(
        reqwest::Client::new(),
        format!("{}/v1/chat/completions", gw.proxy_url),
        key,
        30,
        opened.clone(),
    ));
    wait_until("the stream open", Duration::from_secs(30), async || {
        opened.load(Ordering::SeqCst) == 1
    })
    .await;
    gw.signal("TERM");
    wait_until("readiness false", Duration::from_secs(5), async || {
        ready_status(&gw).await == 503
    })
    .await;
    assert!(gw.wait_exit(Duration::from_secs(1)).await.is_none());
    let second = Instant::now();
    gw.signal("INT");
    let status = gw
        .wait_exit(Duration::from_secs(5))
        .await
        .unwrap_or_else(|| panic!("no exit after the second signal\n{}", gw.log()));
    assert!(!status.success(), "cut short: {status}");
    assert!(second.elapsed() < Duration::from_secs(5));
    let cut = stream.await.unwrap();
    assert!(
        !matches!(&cut, Ok(body) if body.contains("[DONE]")),
        "the open stream was cut: {cut:?}"
    );
}

#[tokio::test]
async fn the_grace_period_bounds_the_wait_for_a_stream_that_does_not_end() {
    let mock = MockUpstream::start().await;
    let (mut gw, key) = gateway(&mock, "2").await;
    let opened = Arc::new(AtomicUsize::new(0));
    let stream = tokio::spawn(open_stream(
        reqwest::Client::new(),
        format!("{}/v1/chat/completions", gw.proxy_url),
        key,
        30,
        opened.clone(),
    ));
    wait_until("the stream open", Duration::from_secs(30), async || {
        opened.load(Ordering::SeqCst) == 1
    })
    .await;
    let signalled = Instant::now();
    gw.signal("TERM");
    let status = gw
        .wait_exit(Duration::from_secs(20))
        .await
        .unwrap_or_else(|| panic!("no exit after the grace period\n{}", gw.log()));
    let took = signalled.elapsed();
    assert!(status.success(), "{status}");
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(10),
        "exited {took:?} after SIGTERM with a 2 s grace period"
    );
    assert!(!proxy_accepts(&gw).await);
    let cut = stream.await.unwrap();
    assert!(
        !matches!(&cut, Ok(body) if body.contains("[DONE]")),
        "{cut:?}"
    );
}

#[tokio::test]
async fn during_the_shutdown_delay_the_instance_is_not_ready_but_still_serves() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::start_with(&[
        ("AI_PROXY_SHUTDOWN_DELAY_SECS", "3".into()),
        ("AI_PROXY_SHUTDOWN_GRACE_SECS", "120".into()),
    ])
    .await;
    let key = gw
        .client_key_for("openai", &mock.base_url(), "sk-upstream")
        .await;
    let mut gw = gw;
    let signalled = Instant::now();
    gw.signal("TERM");
    wait_until("readiness false", Duration::from_secs(2), async || {
        ready_status(&gw).await == 503
    })
    .await;
    // A load balancer that has not yet seen the 503 still gets answers.
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", gw.proxy_url))
        .bearer_auth(&key)
        .json(&json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        signalled.elapsed() < Duration::from_secs(3),
        "checked within the delay"
    );
    let status = gw
        .wait_exit(Duration::from_secs(20))
        .await
        .unwrap_or_else(|| panic!("no exit after the delay\n{}", gw.log()));
    assert!(status.success(), "{status}");
    assert!(
        signalled.elapsed() >= Duration::from_secs(3),
        "exited {:?} after SIGTERM, before the 3 s delay",
        signalled.elapsed()
    );
}
