//! A broken or hostile upstream against the gateway's own HTTP/1.1
//! exchange (issue 13): a raw TCP upstream writes exact bytes, and the
//! gateway must never crash, hang, pass a broken answer on as a whole one,
//! or let an answer's bytes reach another request.
//!
//! The rules these tests hold the gateway to:
//! - a head the gateway cannot read one way only is a 502 JSON error
//!   (`upstream_invalid_response`) naming no internals, with the reason
//!   in the trace; no whole head in time is a 504;
//! - an error answer, read whole before its head goes on, that breaks
//!   off is a 502 (`upstream_broken`);
//! - once the head went to the client, a body whose framing breaks is cut
//!   (the client sees a short body or a missing last chunk, never a clean
//!   end), the trace saying `answer interrupted by the upstream: <why>`,
//!   as for any stream the upstream breaks off;
//! - unusual but unambiguous answers (1xx first, trailers, bare line
//!   feeds, both framings) pass whole;
//! - after any of it, the next request is served, the broken one was sent
//!   upstream once, and its connection is never reused.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use ai_proxy::egress::{
    MAX_CHUNK_LINE_BYTES, MAX_INFORMATIONAL_HEADS, MAX_RESPONSE_HEAD_BYTES, MAX_RESPONSE_HEADERS,
    MAX_TRAILER_BYTES,
};
use ai_proxy_tests::gateway::TestGateway;
use ai_proxy_tests::raw_upstream::{GOOD_BODY, RawUpstream, Step};
use reqwest::Method;
use serde_json::{Value, json};

/// Longest any request here may take: a hostile upstream must not hang
/// the gateway.
const REQUEST_LIMIT: Duration = Duration::from_secs(10);
/// The provider's read timeout in these tests.
const READ_TIMEOUT: Duration = Duration::from_millis(500);
/// Bytes the upstream sends only after breaking its framing: they must
/// never reach a client.
const HOSTILE: &str = "evil";
/// A chunked JSON head, and the first chunk of a body.
const CHUNKED_HEAD: &str =
    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
const FIRST_CHUNK: &str = "6\r\n{\"id\":\r\n";
const FIRST_DATA: &[u8] = b"{\"id\":";

struct Setup {
    gw: TestGateway,
    upstream: RawUpstream,
    key: String,
}

async fn setup() -> Setup {
    let upstream = RawUpstream::start().await;
    let gw = TestGateway::in_process().await;
    let key = gw
        .client_key_for("openai", &upstream.base_url(), "sk-raw-upstream")
        .await;
    let id = gw.provider_id("openai").await;
    let timeout = json!({"read_timeout_ms": READ_TIMEOUT.as_millis() as u64});
    gw.admin_ok(Method::PUT, &format!("/api/providers/{id}"), Some(timeout))
        .await;
    Setup { gw, upstream, key }
}

/// What the client got.
struct Got {
    status: u16,
    request_id: String,
    content_type: String,
    content_length: Option<u64>,
    body: Vec<u8>,
    /// Whether the body ended cleanly.
    complete: bool,
}

impl Got {
    fn has_hostile_bytes(&self) -> bool {
        self.body
            .windows(HOSTILE.len())
            .any(|w| w == HOSTILE.as_bytes())
    }
}

async fn chat(s: &Setup, stream: bool) -> Got {
    let request = async {
        let body = json!({"model": "gpt-4o-mini", "stream": stream,
            "messages": [{"role": "user", "content": "hi"}]});
        let mut resp = reqwest::Client::new()
            .post(format!("{}/v1/chat/completions", s.gw.proxy_url))
            .bearer_auth(&s.key)
            .json(&body)
            .send()
            .await
            .expect("an answer head");
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let (request_id, content_type) = (header("x-request-id"), header("content-type"));
        let content_length = header("content-length").parse().ok();
        let status = resp.status().as_u16();
        let mut body = Vec::new();
        let complete = loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) => break true,
                Err(_) => break false,
            }
        };
        Got {
            status,
            request_id,
            content_type,
            content_length,
            body,
            complete,
        }
    };
    tokio::time::timeout(REQUEST_LIMIT, request)
        .await
        .expect("the gateway answered in time")
}

/// The gateway's whole public message for each error code used here:
/// nothing of the upstream's answer or the gateway's internals.
fn public_message(code: &str) -> &'static str {
    match code {
        "upstream_invalid_response" => "upstream provider sent an invalid response",
        "upstream_unreachable" => "upstream provider is unreachable",
        "upstream_timeout" => "upstream provider did not answer in time",
        "upstream_broken" => "upstream connection failed while the answer was being sent",
        other => panic!("no public message known for {other}"),
    }
}

/// `case` was answered with `status` and the JSON error `code`, and its
/// trace names `detail`.
async fn assert_refused(
    s: &Setup,
    case: &str,
    got: Got,
    (status, code): (u16, &str),
    detail: &str,
) {
    let text = String::from_utf8_lossy(&got.body).into_owned();
    assert_eq!(got.status, status, "{case}: {text}");
    assert!(got.complete, "{case}");
    assert_eq!(got.content_type, "application/json", "{case}");
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{case}: {text}"));
    assert_eq!(body["error"]["code"], code, "{case}: {text}");
    assert_eq!(body["error"]["type"], "upstream_error", "{case}: {text}");
    assert_eq!(body["error"]["message"], public_message(code), "{case}");
    let trace = s.gw.trace_by_request_id(&got.request_id).await;
    assert_eq!(trace["status_code"], status, "{case}: {trace}");
    assert_eq!(trace["error_class"], code, "{case}: {trace}");
    let message = trace["error_message"].as_str().unwrap_or_default();
    assert!(message.contains(detail), "{case}: {trace}");
}

/// `case`'s head reached the client, then its body was cut: what arrived
/// is a prefix of `before` (what the upstream framed correctly), and the
/// trace says why.
async fn assert_cut(s: &Setup, case: &str, got: Got, before: &[u8], why: &str) {
    let text = String::from_utf8_lossy(&got.body).into_owned();
    assert_eq!(got.status, 200, "{case}: {text}");
    assert!(
        !got.complete,
        "{case}: the client must see the answer cut: {text}"
    );
    assert!(before.starts_with(&got.body), "{case}: {text}");
    assert!(!got.has_hostile_bytes(), "{case}: {text}");
    let trace = s.gw.trace_by_request_id(&got.request_id).await;
    assert_eq!(trace["status_code"], 200, "{case}: {trace}");
    let message = trace["error_message"].as_str().unwrap_or_default();
    let expected = format!("answer interrupted by the upstream: {why}");
    assert_eq!(message, expected, "{case}: {trace}");
}

/// The next ordinary request is answered whole.
async fn assert_serves_on(s: &Setup, case: &str) {
    let got = chat(s, false).await;
    let text = String::from_utf8_lossy(&got.body).into_owned();
    assert_eq!(got.status, 200, "after {case}: {text}");
    assert!(got.complete, "after {case}");
    assert_eq!(text, GOOD_BODY, "after {case}");
}

/// Answers one request with `steps`, and returns what the client got;
/// checks that the request was sent upstream once, and that the gateway
/// serves the next one, on another connection than the broken answer's.
async fn one_case(s: &Setup, case: &str, steps: Vec<Step>, stream: bool) -> Got {
    let broken = s.upstream.requests();
    s.upstream.answer_next_with(steps);
    let got = chat(s, stream).await;
    assert_eq!(s.upstream.requests(), broken + 1, "{case}: sent once");
    assert_serves_on(s, case).await;
    assert_not_reused(s, case, broken);
    got
}

/// The request after request `index` came on another connection.
fn assert_not_reused(s: &Setup, case: &str, index: usize) {
    assert_ne!(
        s.upstream.connection_of(index),
        s.upstream.connection_of(index + 1),
        "{case}: the connection was reused"
    );
}

fn send(wire: impl AsRef<[u8]>) -> Vec<Step> {
    vec![Step::send(wire)]
}

#[tokio::test]
async fn malformed_answer_heads_are_a_json_502_and_the_gateway_serves_on() {
    let s = setup().await;
    // First, while no connection is pooled: a pooled one closed before any
    // answer is taken for one the upstream had let go, and tried again.
    let case = "a close before any answer";
    let got = one_case(&s, case, vec![Step::Close], false).await;
    let unreachable = (502, "upstream_unreachable");
    let closed = "ConnectionClosed: before a response head";
    assert_refused(&s, case, got, unreachable, closed).await;
    let invalid = (502, "upstream_invalid_response");
    let fields: String = (0..=MAX_RESPONSE_HEADERS)
        .map(|i| format!("x-{i}: v\r\n"))
        .collect();
    let long = format!("x-pad: {}\r\n", "a".repeat(MAX_RESPONSE_HEAD_BYTES));
    let continues = "HTTP/1.1 100 Continue\r\n\r\n".repeat(MAX_INFORMATIONAL_HEADS + 1);
    let mut continues = continues.into_bytes();
    continues.extend_from_slice(b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nevil");
    let ok_head =
        |fields: &str| format!("HTTP/1.1 200 OK\r\n{fields}content-length: 4\r\n\r\nevil");
    let cases: Vec<(&str, Vec<Step>, &str)> = vec![
        (
            "two content lengths",
            send("HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nevil!"),
            "conflicting content-length",
        ),
        (
            "a signed content length",
            send("HTTP/1.1 200 OK\r\nContent-Length: +4\r\n\r\nevil"),
            "content-length",
        ),
        (
            "a transfer coding past chunked",
            send(format!(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n4\r\n{HOSTILE}\r\n0\r\n\r\n"
            )),
            "transfer coding",
        ),
        (
            "not HTTP/1.x",
            send("HTTP/2 200 OK\r\ncontent-length: 4\r\n\r\nevil"),
            "invalid response head",
        ),
        (
            "an unasked protocol switch",
            send(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: evil\r\nConnection: upgrade\r\n\r\nevil",
            ),
            "protocol switch",
        ),
        (
            "a status past 599",
            send("HTTP/1.1 700 Evil\r\ncontent-length: 0\r\n\r\n"),
            "status outside 100-599",
        ),
        (
            "a bare CR in a header value",
            send(ok_head("x-a: 1\r2\r\n")),
            "invalid response head",
        ),
        (
            "a NUL in a header value",
            send(ok_head("x-a: 1\x002\r\n")),
            "invalid response head",
        ),
        (
            "a folded header line",
            send(ok_head("x-a: 1\r\n 2\r\n")),
            "invalid response head",
        ),
        (
            "a head over 64 KiB",
            send(ok_head(&long)),
            "longer than 65536 bytes",
        ),
        (
            "257 header fields",
            send(ok_head(&fields)),
            "more than 256 header fields",
        ),
        (
            "17 informational heads",
            send(continues),
            "more than 16 informational",
        ),
        (
            "a close in the middle of the head",
            vec![Step::send("HTTP/1.1 200 OK\r\ncontent-le"), Step::Close],
            "the connection ended inside the head",
        ),
    ];
    for (case, steps, detail) in cases {
        let got = one_case(&s, case, steps, false).await;
        assert_refused(&s, case, got, invalid, detail).await;
    }
}

#[tokio::test]
async fn an_upstream_too_slow_for_a_whole_head_is_a_504() {
    let s = setup().await;
    let timeout = (504, "upstream_timeout");
    let stall = vec![Step::Pause(READ_TIMEOUT * 3), Step::Close];
    let got = one_case(&s, "a stall before the head", stall, false).await;
    assert_refused(&s, "a stall", got, timeout, "did not answer in time").await;
    // Each byte well within the read timeout, the whole head not.
    let mut trickle = Vec::new();
    for byte in "HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nevil".bytes() {
        trickle.push(Step::Send(vec![byte]));
        trickle.push(Step::Pause(READ_TIMEOUT / 8));
    }
    let got = one_case(&s, "a trickled head", trickle, false).await;
    assert_refused(
        &s,
        "a trickled head",
        got,
        timeout,
        "did not answer in time",
    )
    .await;
}

#[tokio::test]
async fn a_body_whose_framing_breaks_is_cut_so_the_client_cannot_take_it_for_whole() {
    let s = setup().await;
    let pause = Step::Pause(Duration::from_millis(100));
    let broken = |rest: &str| {
        vec![
            Step::send(CHUNKED_HEAD),
            Step::send(FIRST_CHUNK),
            pause.clone(),
            Step::send(rest),
        ]
    };
    // Each line within its limit, the section one line past its own.
    let line = format!("x-t: {}\r\n", "a".repeat(MAX_CHUNK_LINE_BYTES - 8));
    let lines = MAX_TRAILER_BYTES / line.len() + 1;
    let trailers = format!("0\r\n{}\r\n", line.repeat(lines));
    let cases: Vec<(&str, Vec<Step>, &[u8], &str)> = vec![
        (
            "a chunk size that is not hex",
            broken("zz\r\nevil\r\n0\r\n\r\n"),
            FIRST_DATA,
            "InvalidChunk",
        ),
        (
            "a negative chunk size",
            broken("-4\r\nevil\r\n0\r\n\r\n"),
            FIRST_DATA,
            "InvalidChunk",
        ),
        (
            "17 hex digits",
            broken("1234567890abcdef0\r\nevil\r\n0\r\n\r\n"),
            FIRST_DATA,
            "InvalidChunk",
        ),
        (
            "a chunk longer than announced",
            broken("3\r\nabcevil\r\n0\r\n\r\n"),
            b"{\"id\":abc",
            "InvalidChunk",
        ),
        (
            "no line end after a chunk",
            broken("3\r\nabc0\r\n\r\n"),
            b"{\"id\":abc",
            "InvalidChunk",
        ),
        (
            "trailers past their limit",
            broken(&trailers),
            FIRST_DATA,
            "InvalidChunk",
        ),
        (
            "a chunked body closed early",
            vec![
                Step::send(CHUNKED_HEAD),
                Step::send(FIRST_CHUNK),
                pause.clone(),
                Step::Close,
            ],
            FIRST_DATA,
            "ConnectionClosed",
        ),
        (
            "a stall past the read timeout",
            vec![
                Step::send(CHUNKED_HEAD),
                Step::send(FIRST_CHUNK),
                Step::Pause(READ_TIMEOUT * 3),
                Step::send("0\r\n\r\n"),
            ],
            FIRST_DATA,
            "ReadTimedout",
        ),
    ];
    for (case, steps, before, why) in cases {
        let got = one_case(&s, case, steps, false).await;
        assert_cut(&s, case, got, before, why).await;
    }
    // A length longer than the bytes sent, then a close: the client was
    // told the length, and gets fewer bytes.
    let case = "a content length past the bytes sent";
    let short = vec![
        Step::send(format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{}",
            "{\"id\":"
        )),
        pause.clone(),
        Step::Close,
    ];
    let got = one_case(&s, case, short, false).await;
    assert_eq!(got.content_length, Some(100), "{case}");
    assert_cut(&s, case, got, FIRST_DATA, "ConnectionClosed").await;
    // An error answer is read (to be classified) before its head goes on:
    // broken off then, nothing of it reached the client, which gets the
    // gateway's 502.
    let case = "an error answer broken off";
    let head = "HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
    let steps = vec![
        Step::send(head),
        Step::send(FIRST_CHUNK),
        pause,
        Step::send("zz\r\nevil\r\n"),
    ];
    let got = one_case(&s, case, steps, false).await;
    assert_refused(&s, case, got, (502, "upstream_broken"), "InvalidChunk").await;
}

#[tokio::test]
async fn a_stream_whose_chunked_framing_breaks_midway_ends_cut_after_the_events_before_it() {
    let s = setup().await;
    let event = r#"data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":"he"},"finish_reason":null}]}"#;
    let event = format!("{event}\n\n");
    let steps = vec![
        Step::send(
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n",
        ),
        Step::send(format!("{:x}\r\n{event}\r\n", event.len())),
        Step::Pause(Duration::from_millis(100)),
        Step::send(format!("zz\r\ndata: {HOSTILE}\n\n\r\n0\r\n\r\n")),
    ];
    let case = "a stream broken midway";
    let got = one_case(&s, case, steps, true).await;
    assert_eq!(got.content_type, "text/event-stream", "{case}");
    assert_eq!(
        got.body,
        event.as_bytes(),
        "{case}: the event before the break arrives"
    );
    let request_id = got.request_id.clone();
    assert_cut(&s, case, got, event.as_bytes(), "InvalidChunk").await;
    let trace = s.gw.trace_by_request_id(&request_id).await;
    assert_eq!(trace["is_stream"], true, "{trace}");
}

#[tokio::test]
async fn unusual_but_well_formed_answers_pass_whole() {
    let s = setup().await;
    let (a, b) = GOOD_BODY.split_at(40);
    let chunked = |end: &str| {
        format!(
            "{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n{end}\r\n",
            a.len(),
            b.len()
        )
    };
    let json = "content-type: application/json\r\n";
    let good = format!(
        "HTTP/1.1 200 OK\r\n{json}content-length: {}\r\n\r\n{GOOD_BODY}",
        GOOD_BODY.len()
    );
    let cases: Vec<(&str, String, bool)> = vec![
        (
            "trailers after the last chunk",
            format!(
                "{CHUNKED_HEAD}{}",
                chunked("x-checksum: 1\r\nx-more: 2\r\n")
            ),
            true,
        ),
        (
            "100 Continue then the answer",
            format!("HTTP/1.1 100 Continue\r\n\r\n{good}"),
            true,
        ),
        (
            "103 Early Hints then the answer",
            format!("HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n{good}"),
            true,
        ),
        (
            "bare line feeds",
            format!(
                "HTTP/1.1 200 OK\n{}transfer-encoding: chunked\n\n{:x}\n{GOOD_BODY}\n0\n\n",
                json.replace("\r\n", "\n"),
                GOOD_BODY.len()
            ),
            true,
        ),
        // RFC 9112 §6.3: the transfer coding wins, the length is dropped,
        // and the connection carries nothing after.
        (
            "both framings",
            format!(
                "HTTP/1.1 200 OK\r\n{json}content-length: 5\r\ntransfer-encoding: chunked\r\n\r\n{}",
                chunked("")
            ),
            false,
        ),
    ];
    for (case, wire, reusable) in cases {
        let index = s.upstream.requests();
        s.upstream.answer_next_with(vec![Step::send(wire)]);
        let got = chat(&s, false).await;
        let text = String::from_utf8_lossy(&got.body).into_owned();
        assert_eq!((got.status, got.complete), (200, true), "{case}: {text}");
        assert_eq!(text, GOOD_BODY, "{case}");
        assert_ne!(got.content_length, Some(5), "{case}");
        let trace = s.gw.trace_by_request_id(&got.request_id).await;
        assert_eq!(trace["status_code"], 200, "{case}: {trace}");
        assert_eq!(trace["error_class"], Value::Null, "{case}: {trace}");
        assert_serves_on(&s, case).await;
        // A reusable connection may still not be reused (the next request
        // can be quicker than its return to the pool); the others never are.
        if !reusable {
            assert_not_reused(&s, case, index);
        }
    }
}

#[tokio::test]
async fn bytes_an_upstream_sends_past_its_answer_never_reach_another_request() {
    let s = setup().await;
    let evil = format!("HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\n{HOSTILE}");
    let Some(Step::Send(good)) = RawUpstream::good().pop() else {
        panic!("the good answer is one write");
    };
    let right_after = vec![Step::Send([good, evil.clone().into_bytes()].concat())];
    let mut later = RawUpstream::good();
    later.push(Step::Pause(Duration::from_millis(200)));
    later.push(Step::send(&evil));
    for (case, steps) in [("in the same write", right_after), ("while idle", later)] {
        let index = s.upstream.requests();
        s.upstream.answer_next_with(steps);
        let got = chat(&s, false).await;
        assert_eq!(String::from_utf8_lossy(&got.body), GOOD_BODY, "{case}");
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_serves_on(&s, case).await;
        assert_not_reused(&s, case, index);
    }
}
