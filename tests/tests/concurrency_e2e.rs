//! Thousands of open streams on one gateway instance, and what it does past
//! its capacity. An LLM answer streams for seconds to minutes, so what a
//! gateway must hold is requests in flight: here 2,000 paced streams at
//! once through a gateway whose plugin pool has 64 instances (the test
//! harness's setting), which only works because an open stream holds no
//! plugin instance; and, past a small `AI_PROXY_MAX_IN_FLIGHT`, a clear
//! 503 `overloaded` with `Retry-After`, traced, counted and logged once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use ai_proxy_tests::gateway::TestGateway;
use ai_proxy_tests::mock::MockUpstream;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

/// Streams open at once.
const STREAMS: usize = 2_000;
/// Time between the mock's events: each stream stays open for several
/// seconds, longer than opening all of them takes on a busy machine, so
/// all of them are open together.
const PACING_MS: &str = "1000";
/// Bound of the whole load.
const LOAD_DEADLINE: Duration = Duration::from_secs(180);

fn stream_body() -> Value {
    json!({"model": "gpt-4o-mini", "stream": true,
           "messages": [{"role": "user", "content": "hello"}]})
}

/// A figure of `/metrics`.
async fn metric(gw: &TestGateway, name: &str) -> f64 {
    let (status, page) = gw.admin(reqwest::Method::GET, "/metrics", None).await;
    assert_eq!(status, 200);
    let page = page.as_str().expect("text").to_owned();
    page.lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} not in /metrics"))
}

/// One paced stream, read to its end: its status and whole body.
async fn stream(http: &reqwest::Client, url: &str, key: &str, pacing: &str) -> (u16, String) {
    let resp = match http
        .post(url)
        .bearer_auth(key)
        .header("x-mock-delay-ms", pacing)
        .json(&stream_body())
        .send()
        .await
    {
        Ok(resp) => resp,
        Err(e) => return (0, format!("send: {e}")),
    };
    let status = resp.status().as_u16();
    (
        status,
        resp.text().await.unwrap_or_else(|e| format!("read: {e}")),
    )
}

/// Traced streams with output tokens, once every trace is written.
async fn metered_streams(gw: &TestGateway) -> usize {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let list = gw
            .admin_ok(reqwest::Method::GET, "/api/logs/traces?page_size=1", None)
            .await;
        if list["total"].as_u64().unwrap_or(0) >= STREAMS as u64 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "traces missing: {list}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut metered = 0;
    for page in 1..=STREAMS.div_ceil(200) {
        let list = gw
            .admin_ok(
                reqwest::Method::GET,
                &format!("/api/logs/traces?page_size=200&page={page}"),
                None,
            )
            .await;
        metered += list["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|t| t["is_stream"] == true && t["output_tokens"].as_u64().unwrap_or(0) > 0)
            .count();
    }
    metered
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_paced_streams_all_complete_and_hold_no_plugin_instance() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::start().await;
    let key = gw
        .client_key_for("openai", &mock.base_url(), "sk-upstream-load")
        .await;
    let url = format!("{}/v1/chat/completions", gw.proxy_url);
    // One connection per stream, as separate clients would open.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let started = Arc::new(Semaphore::new(0));
    let mut tasks = Vec::with_capacity(STREAMS);
    for _ in 0..STREAMS {
        let (http, url, key, started) = (http.clone(), url.clone(), key.clone(), started.clone());
        tasks.push(tokio::spawn(async move {
            started.add_permits(1);
            stream(&http, &url, &key, PACING_MS).await
        }));
    }
    // While (nearly) all of them are open, the plugin pool is all but idle.
    let mut most_in_flight = 0.0f64;
    let mut most_live = 0.0f64;
    let watch_until = tokio::time::Instant::now() + Duration::from_secs(30);
    while tokio::time::Instant::now() < watch_until {
        let in_flight = metric(&gw, "ai_proxy_requests_in_flight").await;
        let live = metric(&gw, "ai_proxy_plugin_instances_live").await;
        most_in_flight = most_in_flight.max(in_flight);
        if in_flight >= (STREAMS as f64) * 0.9 {
            most_live = most_live.max(live);
        }
        if most_in_flight >= STREAMS as f64 && tasks.iter().all(|t| !t.is_finished()) {
            break;
        }
        if tasks.iter().all(|t| t.is_finished()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        most_in_flight >= (STREAMS as f64) * 0.9,
        "the streams were never open together: at most {most_in_flight} in flight"
    );
    assert!(
        most_live <= 64.0,
        "open streams held plugin instances: {most_live} live with {most_in_flight} in flight"
    );

    let mut failures = Vec::new();
    let results = tokio::time::timeout(LOAD_DEADLINE, futures_util::future::join_all(tasks))
        .await
        .expect("the streams end within the deadline");
    for result in results {
        let (status, body) = result.expect("task");
        let complete = body.contains("data: [DONE]") && body.contains("\"usage\":{");
        if status != 200 || !complete {
            failures.push(format!(
                "{status}: {}",
                body.chars().take(200).collect::<String>()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {STREAMS} streams failed, e.g. {:?}",
        failures.len(),
        &failures[..failures.len().min(3)]
    );
    // Every stream is traced with the usage its plugin read.
    assert_eq!(metered_streams(&gw).await, STREAMS, "every stream metered");
    assert_eq!(metric(&gw, "ai_proxy_requests_shed_total").await, 0.0);
}

#[tokio::test]
async fn past_the_maximum_in_flight_requests_are_shed_with_503_overloaded() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::start_with(&[("AI_PROXY_MAX_IN_FLIGHT", "3".to_owned())]).await;
    let key = gw
        .client_key_for("openai", &mock.base_url(), "sk-upstream-shed")
        .await;
    let url = format!("{}/v1/chat/completions", gw.proxy_url);
    let http = reqwest::Client::new();
    // Three slow streams take every place.
    let held: Vec<_> = (0..3)
        .map(|_| {
            let (http, url, key) = (http.clone(), url.clone(), key.clone());
            tokio::spawn(async move { stream(&http, &url, &key, "400").await })
        })
        .collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while metric(&gw, "ai_proxy_requests_in_flight").await < 3.0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the streams never started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(metric(&gw, "ai_proxy_requests_in_flight_max").await, 3.0);

    const SHED: usize = 10;
    let mut request_ids = Vec::new();
    for _ in 0..SHED {
        let resp = http
            .post(&url)
            .bearer_auth(&key)
            .json(&stream_body())
            .send()
            .await
            .expect("answer");
        assert_eq!(resp.status().as_u16(), 503);
        assert_eq!(resp.headers()["retry-after"], "1");
        request_ids.push(resp.headers()["x-request-id"].to_str().unwrap().to_owned());
        let body: Value = resp.json().await.expect("JSON error");
        assert_eq!(body["error"]["type"], "overloaded", "{body}");
        assert_eq!(body["error"]["code"], "overloaded", "{body}");
    }
    // Shed before any work: the upstream saw only the three streams.
    assert_eq!(mock.requests().len(), 3);
    assert_eq!(
        metric(&gw, "ai_proxy_requests_shed_total").await,
        SHED as f64
    );
    let trace = gw.trace_by_request_id(&request_ids[0]).await;
    assert_eq!(trace["status_code"], 503, "{trace}");
    assert_eq!(trace["error_class"], "overloaded", "{trace}");

    for task in held {
        let (status, body) = task.await.expect("task");
        assert_eq!(status, 200, "{body}");
        assert!(
            body.contains("data: [DONE]"),
            "a held stream runs to its end"
        );
    }
    // Places come back: the next request is served.
    let resp = http
        .post(&url)
        .bearer_auth(&key)
        .json(&json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("answer");
    assert_eq!(resp.status().as_u16(), 200);
    // Ten refusals, one summary line.
    let lines = gw
        .log()
        .lines()
        .filter(|l| l.contains("refused with 503 overloaded"))
        .count();
    assert_eq!(lines, 1, "{}", gw.log());
}
