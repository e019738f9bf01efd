//! OpenTelemetry export against a real OTLP/HTTP receiver
//! (`tests/python/otlp_receiver.py`, decoding with the published
//! `opentelemetry-proto` definitions): one SERVER span per request named
//! and attributed by the GenAI conventions, one CLIENT span per attempt,
//! the client's `traceparent` continued, figures equal to the gateway's own
//! trace, and neither key nor prompt anywhere in the exported bytes. Each
//! plugin call is an INTERNAL span under the attempt it served (or the
//! request), at most 32 a request with the rest counted. A collector that
//! never answers costs dropped spans, not slower requests.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ai_proxy_tests::gateway::TestGateway;
use ai_proxy_tests::mock::MockUpstream;
use serde_json::{Value, json};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";
const UPSTREAM_SECRET: &str = "sk-up-otel-4f1c9a2b7d";
const PROMPT: &str = "the-otel-prompt-must-stay-private";

/// The receiver process, stopped when dropped.
struct Receiver {
    child: Child,
    port: u16,
    out: PathBuf,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_receiver() -> Receiver {
    let python_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python");
    let venv = Command::new(python_dir.join("venv.sh"))
        .output()
        .expect("run tests/python/venv.sh");
    assert!(
        venv.status.success(),
        "venv.sh: {}",
        String::from_utf8_lossy(&venv.stderr)
    );
    let python = String::from_utf8(venv.stdout).unwrap().trim().to_owned();
    let out =
        std::env::temp_dir().join(format!("aip-otlp-{}", ai_proxy_tests::gateway::free_port()));
    std::fs::create_dir_all(&out).unwrap();
    let mut child = Command::new(python)
        .arg(python_dir.join("otlp_receiver.py"))
        .arg(&out)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the receiver");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .strip_prefix("PORT ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("receiver said {line:?}"));
    Receiver { child, port, out }
}

/// Every span received so far, and every raw body; fails on any body the
/// receiver refused.
fn received(out: &Path) -> (Vec<Value>, Vec<u8>) {
    let mut spans = Vec::new();
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(out).unwrap() {
        let path = entry.unwrap().path();
        let name = path.to_string_lossy().into_owned();
        if name.ends_with(".error") {
            panic!(
                "receiver refused an export: {}",
                std::fs::read_to_string(&path).unwrap()
            );
        } else if name.ends_with(".json") {
            let list: Vec<Value> = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            spans.extend(list);
        } else if name.ends_with(".bin") {
            bytes.extend(std::fs::read(&path).unwrap());
        }
    }
    (spans, bytes)
}

fn server_span<'a>(spans: &'a [Value], request_id: &str) -> Option<&'a Value> {
    spans
        .iter()
        .find(|s| s["kind"] == 2 && s["attributes"]["ai_proxy.request_id"] == request_id)
}

#[tokio::test]
async fn request_spans_reach_a_real_otlp_receiver_with_gen_ai_attributes_and_no_secret() {
    let receiver = tokio::task::spawn_blocking(start_receiver).await.unwrap();
    let mock = MockUpstream::start().await;
    let gw = TestGateway::start_with(&[
        (
            "AI_PROXY_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{}", receiver.port),
        ),
        ("AI_PROXY_OTLP_INTERVAL_MS", "100".into()),
    ])
    .await;
    let key = gw
        .client_key_for("openai", &mock.base_url(), UPSTREAM_SECRET)
        .await;
    let client = reqwest::Client::new();
    let body = json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": PROMPT}]});
    let send = |traceparent: Option<String>, status: Option<&'static str>| {
        let mut req = client
            .post(format!("{}/v1/chat/completions", gw.proxy_url))
            .bearer_auth(&key)
            .json(&body);
        if let Some(t) = traceparent {
            req = req.header("traceparent", t);
        }
        if let Some(s) = status {
            req = req.header("x-mock-status", s);
        }
        req.send()
    };
    let request_id =
        |r: &reqwest::Response| r.headers()["x-request-id"].to_str().unwrap().to_owned();
    let joined = send(Some(format!("00-{TRACE_ID}-{PARENT_ID}-01")), None)
        .await
        .unwrap();
    assert_eq!(joined.status(), 200);
    let joined = request_id(&joined);
    let own = send(None, None).await.unwrap();
    assert_eq!(own.status(), 200);
    let own = request_id(&own);
    let failed = send(None, Some("500")).await.unwrap();
    assert_eq!(failed.status(), 500);
    let failed = request_id(&failed);
    // An unsampled caller's trace is not recorded.
    let unsampled = send(Some(format!("00-{TRACE_ID}-{PARENT_ID}-00")), None)
        .await
        .unwrap();
    let unsampled = request_id(&unsampled);

    let deadline = Instant::now() + Duration::from_secs(20);
    let (spans, bytes) = loop {
        let (spans, bytes) = received(&receiver.out);
        if [&joined, &own, &failed]
            .iter()
            .all(|id| server_span(&spans, id).is_some())
        {
            break (spans, bytes);
        }
        assert!(
            Instant::now() < deadline,
            "spans missing: {spans:#?}\n{}",
            gw.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // The client's trace is continued: same trace id, the caller's span as parent.
    let root = server_span(&spans, &joined).unwrap();
    assert_eq!(root["trace_id"], TRACE_ID);
    assert_eq!(root["parent_span_id"], PARENT_ID);
    assert_eq!(root["name"], "chat gpt-4o-mini");
    assert_eq!(root["resource"]["service.name"], "ai-proxy");
    let a = &root["attributes"];
    assert_eq!(a["gen_ai.operation.name"], "chat");
    assert_eq!(a["gen_ai.provider.name"], "openai");
    assert_eq!(a["gen_ai.system"], "openai");
    assert_eq!(a["gen_ai.request.model"], "gpt-4o-mini");
    assert_eq!(a["http.response.status_code"], 200);
    assert_eq!(root["status_code"], 0, "a success leaves the status unset");
    // The figures are the gateway's own trace's.
    let trace = gw.trace_by_request_id(&joined).await;
    assert_eq!(a["gen_ai.usage.input_tokens"], trace["input_tokens"]);
    assert_eq!(a["gen_ai.usage.output_tokens"], trace["output_tokens"]);
    assert!(trace["input_tokens"].as_i64().unwrap() > 0);
    assert_eq!(a["ai_proxy.client_key.id"], trace["client_key_id"]);
    assert_eq!(a["ai_proxy.upstream_key.id"], trace["upstream_key_id"]);
    assert_eq!(a["ai_proxy.cost_nanos"], trace["cost_nanos"]);
    assert_eq!(a["ai_proxy.attempts"], 1);
    assert!(root["end"].as_u64().unwrap() >= root["start"].as_u64().unwrap());

    // One CLIENT child per attempt, inside the request span.
    let attempts: Vec<&Value> = spans
        .iter()
        .filter(|s| s["kind"] == 3 && s["parent_span_id"] == root["span_id"])
        .collect();
    assert_eq!(attempts.len(), 1, "{spans:#?}");
    assert_eq!(attempts[0]["trace_id"], TRACE_ID);
    assert_eq!(attempts[0]["attributes"]["ai_proxy.attempt"], 1);
    assert_eq!(attempts[0]["attributes"]["http.response.status_code"], 200);
    assert!(attempts[0]["start"].as_u64().unwrap() >= root["start"].as_u64().unwrap());
    assert!(attempts[0]["end"].as_u64().unwrap() <= root["end"].as_u64().unwrap() + 1_000_000);

    // Without a traceparent the request starts a trace of its own.
    let fresh = server_span(&spans, &own).unwrap();
    assert_ne!(fresh["trace_id"], TRACE_ID);
    assert_eq!(fresh["parent_span_id"], "");

    // A failure is an error span with its class.
    let bad = server_span(&spans, &failed).unwrap();
    assert_eq!(bad["status_code"], 2);
    assert_eq!(bad["attributes"]["http.response.status_code"], 500);
    assert!(bad["attributes"]["error.type"].is_string(), "{bad:#}");

    assert!(server_span(&spans, &unsampled).is_none());

    // No key and no prompt in anything exported.
    let text = String::from_utf8_lossy(&bytes);
    for secret in [key.as_str(), UPSTREAM_SECRET, PROMPT] {
        assert!(!text.contains(secret), "{secret} was exported");
    }
    // The counter moves once the receiver's answer is back, which may be
    // after the receiver wrote the spans out.
    loop {
        let (_, metrics) = gw.admin(reqwest::Method::GET, "/metrics", None).await;
        let metrics = metrics.as_str().unwrap_or_default().to_owned();
        let exported = metrics
            .lines()
            .find_map(|l| l.strip_prefix("ai_proxy_otlp_exported_total "))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        if exported >= 3 {
            break;
        }
        assert!(Instant::now() < deadline, "{metrics}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_collector_that_never_answers_drops_spans_and_slows_no_request() {
    // Accepts connections and never answers: every export waits for its timeout.
    let hole = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = hole.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((conn, _)) = hole.accept().await {
            open.push(conn);
        }
    });
    let mock = MockUpstream::start().await;
    let gw = TestGateway::start_with(&[
        ("AI_PROXY_OTLP_ENDPOINT", format!("http://127.0.0.1:{port}")),
        ("AI_PROXY_OTLP_INTERVAL_MS", "50".into()),
        ("AI_PROXY_OTLP_QUEUE", "2".into()),
    ])
    .await;
    let key = gw
        .client_key_for("openai", &mock.base_url(), "sk-up-hole")
        .await;
    let client = reqwest::Client::new();
    let started = Instant::now();
    for _ in 0..20 {
        let r = client
            .post(format!("{}/v1/chat/completions", gw.proxy_url))
            .bearer_auth(&key)
            .json(&json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let took = started.elapsed();
    assert!(took < Duration::from_secs(8), "20 requests took {took:?}");
    gw.traces(20).await;
    let (_, metrics) = gw.admin(reqwest::Method::GET, "/metrics", None).await;
    let metrics = metrics.as_str().unwrap_or_default().to_owned();
    let counter = |name: &str| {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("{name} missing:\n{metrics}"))
    };
    // At most one batch in flight and two queued; the rest were dropped.
    assert!(counter("ai_proxy_otlp_dropped_total") >= 15, "{metrics}");
    assert_eq!(counter("ai_proxy_otlp_exported_total"), 0);
    held.abort();
}

/// The spans of the trace `root` heads, by kind.
fn of_trace<'a>(spans: &'a [Value], root: &Value, kind: u64) -> Vec<&'a Value> {
    spans
        .iter()
        .filter(|s| s["trace_id"] == root["trace_id"] && s["kind"] == kind)
        .collect()
}

#[tokio::test]
async fn plugin_calls_are_spans_under_the_attempt_they_served_and_capped_per_request() {
    let receiver = tokio::task::spawn_blocking(start_receiver).await.unwrap();
    let mock = MockUpstream::start().await;
    let gw = TestGateway::start_with(&[
        (
            "AI_PROXY_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{}", receiver.port),
        ),
        ("AI_PROXY_OTLP_INTERVAL_MS", "100".into()),
    ])
    .await;
    // A failing key and a good one, taken in turn: some request tries both.
    let pool = gw
        .pool(
            "openai",
            &mock.base_url(),
            &[
                ("broken", "mock-500-otel", json!({})),
                ("good", UPSTREAM_SECRET, json!({})),
            ],
            json!({"strategy": "round_robin"}),
        )
        .await;
    let client = reqwest::Client::new();
    let send = |stream: bool| {
        let mut body =
            json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": PROMPT}]});
        let mut req = client
            .post(format!("{}/v1/chat/completions", gw.proxy_url))
            .bearer_auth(&pool.client_key);
        if stream {
            body["stream"] = json!(true);
            body["stream_options"] = json!({"include_usage": true});
            // A long stream: its parser is fed far more often than the cap.
            req = req.header("x-mock-repeat", "1000");
        }
        req.json(&body).send()
    };
    let mut ids = Vec::new();
    for _ in 0..3 {
        let r = send(false).await.unwrap();
        assert_eq!(r.status(), 200);
        ids.push(r.headers()["x-request-id"].to_str().unwrap().to_owned());
    }
    let streamed = send(true).await.unwrap();
    assert_eq!(streamed.status(), 200);
    let streamed_id = streamed.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(streamed.text().await.unwrap().contains("[DONE]"));
    ids.push(streamed_id.clone());

    let deadline = Instant::now() + Duration::from_secs(20);
    let (spans, bytes) = loop {
        let (spans, bytes) = received(&receiver.out);
        if ids.iter().all(|id| server_span(&spans, id).is_some()) {
            break (spans, bytes);
        }
        assert!(Instant::now() < deadline, "spans missing\n{}", gw.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // A request that failed over: its calls before the first attempt hang
    // under the request, the error's classification under attempt 1, the
    // answer's accounting under attempt 2.
    let root = ids
        .iter()
        .filter_map(|id| server_span(&spans, id))
        .find(|s| s["attributes"]["ai_proxy.attempts"] == 2)
        .expect("one of three requests tried both keys");
    let mut attempt_ids = of_trace(&spans, root, 3)
        .iter()
        .map(|a| {
            assert_eq!(a["parent_span_id"], root["span_id"]);
            (
                a["attributes"]["ai_proxy.attempt"].as_i64().unwrap(),
                a["span_id"].clone(),
            )
        })
        .collect::<Vec<_>>();
    attempt_ids.sort_by_key(|(n, _)| *n);
    assert_eq!(attempt_ids.len(), 2);
    let calls = of_trace(&spans, root, 1);
    let under = |parent: &Value| -> Vec<String> {
        calls
            .iter()
            .filter(|c| &c["parent_span_id"] == parent)
            .map(|c| {
                c["attributes"]["ai_proxy.plugin.call"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    // (A client key's quota could add a `cost` estimate between the two.)
    let before = under(&root["span_id"]);
    assert_eq!(
        before.first().map(String::as_str),
        Some("inspect"),
        "{calls:#?}"
    );
    assert_eq!(
        before.last().map(String::as_str),
        Some("prepare"),
        "{calls:#?}"
    );
    assert_eq!(under(&attempt_ids[0].1), ["classify"], "{calls:#?}");
    let accounted = under(&attempt_ids[1].1);
    assert!(accounted.contains(&"body-usage".to_owned()), "{calls:#?}");
    assert_eq!(
        calls.len(),
        before.len() + 1 + accounted.len(),
        "every call is under the request or an attempt: {calls:#?}"
    );
    for call in &calls {
        let a = &call["attributes"];
        assert_eq!(a["ai_proxy.plugin.name"], "openai");
        assert!(!a["ai_proxy.plugin.version"].as_str().unwrap().is_empty());
        assert_eq!(a["ai_proxy.plugin.outcome"], "ok");
        assert_eq!(call["status_code"], 0);
        let name = format!("{} openai", a["ai_proxy.plugin.call"].as_str().unwrap());
        assert_eq!(call["name"], name.as_str());
        // Inside the request (its start is rounded to the millisecond).
        assert!(call["start"].as_u64().unwrap() + 1_000_000 >= root["start"].as_u64().unwrap());
        assert!(call["end"].as_u64().unwrap() >= call["start"].as_u64().unwrap());
        assert!(call["end"].as_u64().unwrap() <= root["end"].as_u64().unwrap() + 1_000_000);
    }
    assert_eq!(
        root["attributes"]["ai_proxy.plugin.calls"],
        calls.len() as i64
    );
    assert_eq!(root["attributes"]["ai_proxy.plugin.calls_dropped"], 0);

    // The long stream: exactly the cap kept, the rest counted.
    let stream_root = server_span(&spans, &streamed_id).unwrap();
    let kept = of_trace(&spans, stream_root, 1).len() as i64;
    assert_eq!(kept, 32, "the cap (MAX_PLUGIN_CALL_SPANS)");
    let a = &stream_root["attributes"];
    let dropped = a["ai_proxy.plugin.calls_dropped"].as_i64().unwrap();
    assert!(dropped > 0, "{a:#}");
    assert_eq!(a["ai_proxy.plugin.calls"].as_i64().unwrap(), kept + dropped);

    let text = String::from_utf8_lossy(&bytes);
    for secret in [pool.client_key.as_str(), UPSTREAM_SECRET, PROMPT] {
        assert!(!text.contains(secret), "{secret} was exported");
    }
}
