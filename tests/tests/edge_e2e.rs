//! The proxy port as an edge, checked with raw sockets against the real
//! gateway: head limits (431, 414, 400 for `_` in a name), strict chunked
//! framing, the head deadline, the idle write timeout, the connection cap
//! and `Expect: 100-continue`. Each limit is hit exactly at its boundary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use ai_proxy_tests::gateway::TestGateway;
use ai_proxy_tests::mock::MockUpstream;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a test waits for an answer or a close.
const PATIENCE: Duration = Duration::from_secs(5);

fn addr(gw: &TestGateway) -> String {
    gw.proxy_url.trim_start_matches("http://").to_owned()
}

/// What came back on a connection: the bytes, and whether it was closed.
struct Answer {
    text: String,
    closed: bool,
}

impl Answer {
    fn status(&self) -> u16 {
        self.text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    fn code(&self) -> Value {
        let body = self.text.split("\r\n\r\n").nth(1).unwrap_or_default();
        serde_json::from_str::<Value>(body).unwrap_or(Value::Null)["error"]["code"].clone()
    }
}

/// Reads until the gateway closes the connection (or [`PATIENCE`] runs out).
async fn read_all(conn: &mut TcpStream) -> Answer {
    read_all_within(conn, PATIENCE).await
}

/// Reads until the gateway closes the connection or `patience` runs out.
async fn read_all_within(conn: &mut TcpStream, patience: Duration) -> Answer {
    let mut got = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let deadline = tokio::time::Instant::now() + patience;
    let closed = loop {
        match tokio::time::timeout_at(deadline, conn.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break true,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => break false,
        }
    };
    Answer {
        text: String::from_utf8_lossy(&got).into_owned(),
        closed,
    }
}

/// Sends `request` in one write and reads the answer.
async fn exchange(gw: &TestGateway, request: &[u8]) -> Answer {
    let mut conn = TcpStream::connect(addr(gw)).await.expect("connect");
    // A refused connection may be closed before all of it is written.
    let _ = conn.write_all(request).await;
    read_all(&mut conn).await
}

/// A GET with `headers` extra header lines (each `x-hN: v`), closing after.
fn with_headers(count: usize) -> Vec<u8> {
    let mut head = String::from("GET /v1/models HTTP/1.1\r\nhost: gw\r\nconnection: close\r\n");
    for i in 0..count {
        head.push_str(&format!("x-h{i}: v\r\n"));
    }
    head.push_str("\r\n");
    head.into_bytes()
}

#[tokio::test]
async fn header_count_and_section_size_are_refused_with_431_one_past_their_limits() {
    let gw = TestGateway::start().await;
    // host + connection + 98 = 100 headers: past the edge, refused for lack of a key.
    let at = exchange(&gw, &with_headers(98)).await;
    assert_eq!(at.status(), 401, "{}", at.text);
    let over = exchange(&gw, &with_headers(99)).await;
    assert_eq!(over.status(), 431, "{}", over.text);
    assert_eq!(over.code(), "too_many_headers");
    assert!(over.closed, "the connection is closed after a refusal");

    // Section: "host: gw\r\n" (10) + "x-big: " (7) + value + "\r\n" (2) + "\r\n" (2).
    let big = |value_len: usize| {
        format!(
            "GET /v1/models HTTP/1.1\r\nhost: gw\r\nx-big: {}\r\n\r\n",
            "v".repeat(value_len)
        )
        .into_bytes()
    };
    let at = exchange(&gw, &big(64 * 1024 - 21)).await;
    assert_eq!(at.status(), 401, "{}", &at.text[..at.text.len().min(200)]);
    let over = exchange(&gw, &big(64 * 1024 - 20)).await;
    assert_eq!(over.status(), 431);
    assert_eq!(over.code(), "headers_too_large");
    assert!(over.closed);
}

#[tokio::test]
async fn request_line_is_refused_with_414_one_byte_past_8_kib() {
    let gw = TestGateway::start().await;
    // "GET " + target + " HTTP/1.1" is the request line.
    let line = |len: usize| {
        let target = format!("/v1/{}", "a".repeat(len - 4 - 9 - 4));
        format!("GET {target} HTTP/1.1\r\nhost: gw\r\nconnection: close\r\n\r\n").into_bytes()
    };
    let at = exchange(&gw, &line(8 * 1024)).await;
    assert_eq!(at.status(), 401, "{}", at.text);
    let over = exchange(&gw, &line(8 * 1024 + 1)).await;
    assert_eq!(over.status(), 414, "{}", over.text);
    assert_eq!(over.code(), "request_line_too_long");
    assert!(over.closed);
}

#[tokio::test]
async fn header_name_with_an_underscore_is_refused_and_never_reaches_the_upstream() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::start().await;
    let key = gw
        .client_key_for("openai", &mock.base_url(), "sk-upstream-openai")
        .await;
    let body = r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;
    let request = |extra: &str| {
        format!(
            "POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer {key}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n{body}",
            body.len()
        )
        .into_bytes()
    };
    let refused = exchange(&gw, &request("x_api_key: smuggled\r\n")).await;
    assert_eq!(refused.status(), 400, "{}", refused.text);
    assert_eq!(refused.code(), "invalid_header_name");
    assert!(mock.requests().is_empty(), "nothing reached the upstream");
    let served = exchange(&gw, &request("x-api-version: ok_with_underscore\r\n")).await;
    assert_eq!(served.status(), 200, "{}", served.text);
    assert_eq!(mock.requests().len(), 1);
}

#[tokio::test]
async fn malformed_chunk_framing_is_refused_and_the_connection_closed() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::start().await;
    let key = gw
        .client_key_for("openai", &mock.base_url(), "sk-upstream-openai")
        .await;
    let json = r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer {key}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
    );
    let good = format!("{:x};name=v\r\n{json}\r\n0\r\n\r\n", json.len());
    let lf_in_ext = format!("{:x};name\nx=v\r\n{json}\r\n0\r\n\r\n", json.len());
    let bad_size = format!("{:x}g\r\n{json}\r\n0\r\n\r\n", json.len());

    // Control: well-formed, with the head and the body in two writes.
    let mut conn = TcpStream::connect(addr(&gw)).await.expect("connect");
    conn.write_all(
        head.replace("\r\n\r\n", "\r\nconnection: close\r\n\r\n")
            .as_bytes(),
    )
    .await
    .expect("head");
    tokio::time::sleep(Duration::from_millis(100)).await;
    conn.write_all(good.as_bytes()).await.expect("body");
    let ok = read_all(&mut conn).await;
    assert_eq!(ok.status(), 200, "{}", ok.text);

    for (what, body) in [("LF in extension", &lf_in_ext), ("bad size", &bad_size)] {
        // In one write (the edge sees the body with the head) ...
        let whole = exchange(&gw, format!("{head}{body}").as_bytes()).await;
        assert_eq!(whole.status(), 400, "{what}: {}", whole.text);
        assert!(whole.closed, "{what}: closed");
        // ... and after the head (Pingora reads it through the check).
        let mut conn = TcpStream::connect(addr(&gw)).await.expect("connect");
        conn.write_all(head.as_bytes()).await.expect("head");
        tokio::time::sleep(Duration::from_millis(100)).await;
        conn.write_all(body.as_bytes()).await.expect("body");
        let later = read_all(&mut conn).await;
        assert_eq!(later.status(), 400, "{what} later: {}", later.text);
        assert!(later.closed, "{what} later: closed");
    }
    assert_eq!(
        mock.requests().len(),
        1,
        "only the well-formed body went upstream"
    );
}

/// Sends `request` one byte every `pause`; returns when it was all sent or
/// the gateway closed, with what came back and how long after the first byte.
async fn drip(gw: &TestGateway, request: &[u8], pause: Duration) -> (Answer, Duration) {
    let mut conn = TcpStream::connect(addr(gw)).await.expect("connect");
    let started = Instant::now();
    for byte in request {
        if conn.write_all(&[*byte]).await.is_err() {
            break;
        }
        let mut probe = [0u8; 1];
        match tokio::time::timeout(pause, conn.peek(&mut probe)).await {
            Err(_) => {}
            // The gateway answered (or closed) before the head was complete.
            Ok(_) => break,
        }
    }
    let answer = read_all(&mut conn).await;
    (answer, started.elapsed())
}

#[tokio::test]
async fn request_head_must_arrive_within_the_head_timeout_however_slowly() {
    let gw = TestGateway::start_with(&[("AI_PROXY_HEAD_TIMEOUT_MS", "2000".into())]).await;
    let head = b"GET /v1/models HTTP/1.1\r\nhost: gw\r\nconnection: close\r\n\r\n";
    // Under the deadline: ~55 bytes, 15 ms apart.
    let (within, took) = drip(&gw, head, Duration::from_millis(15)).await;
    assert_eq!(within.status(), 401, "{} after {took:?}", within.text);

    // Past it: one byte every 100 ms would take 5.5 s.
    let (late, took) = drip(&gw, head, Duration::from_millis(100)).await;
    assert_eq!(late.status(), 408, "{}", late.text);
    assert!(late.closed);
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_millis(5000),
        "closed after {took:?}"
    );
}

/// Starts a long stream and returns the connection after its head arrived,
/// with a small receive buffer so that a client that stops reading is felt.
async fn start_long_stream(gw: &TestGateway, key: &str) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("rcvbuf");
    let mut conn = socket
        .connect(addr(gw).parse().expect("addr"))
        .await
        .expect("connect");
    let body =
        r#"{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
    let request = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer {key}\r\ncontent-type: application/json\r\nx-mock-repeat: 10000\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(request.as_bytes()).await.expect("request");
    let mut first = [0u8; 64];
    let n = conn.read(&mut first).await.expect("head");
    assert!(
        String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&first[..n])
    );
    conn
}

#[tokio::test]
async fn client_that_stops_reading_a_stream_is_dropped_after_the_write_timeout() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::start_with(&[("AI_PROXY_WRITE_TIMEOUT_MS", "1000".into())]).await;
    let key = gw
        .client_key_for("openai", &mock.base_url(), "sk-upstream-openai")
        .await;

    // A pause shorter than the timeout: the whole stream arrives.
    let mut conn = start_long_stream(&gw, &key).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // About 15 MB through a debug build: patience for a loaded machine.
    let whole = read_all_within(&mut conn, Duration::from_secs(120)).await;
    assert!(
        whole.text.contains("data: [DONE]"),
        "complete after a short pause: ...{}",
        &whole.text[whole.text.len().saturating_sub(200)..]
    );

    // A client that stops reading for longer is dropped: the rest never comes.
    let mut conn = start_long_stream(&gw, &key).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let cut = read_all(&mut conn).await;
    assert!(cut.closed, "the gateway closed the connection");
    assert!(
        !cut.text.contains("data: [DONE]"),
        "the stream was cut, not completed"
    );
    let traces = gw.traces(2).await;
    assert!(
        traces.iter().any(|t| t["error_message"]
            .as_str()
            .is_some_and(|m| m.contains("stopped reading"))),
        "{traces:?}"
    );
}

#[tokio::test]
async fn connections_past_the_cap_get_503_until_one_closes() {
    // One proxy thread, so the held connections are taken up before the
    // probe: with several, a held connection placed on a thread busy at
    // start (a loaded machine) can wait there uncounted while another
    // thread serves the probe (seen twice in CI). The cap is one count for
    // all threads either way.
    let gw = TestGateway::start_with(&[
        ("AI_PROXY_MAX_CONNECTIONS", "2".into()),
        ("AI_PROXY_PROXY_THREADS", "1".into()),
    ])
    .await;
    let first = TcpStream::connect(addr(&gw)).await.expect("first");
    let _second = TcpStream::connect(addr(&gw)).await.expect("second");
    // The two held connections count once the gateway has accepted them,
    // which a loaded machine may take a while to do: ask until the cap shows.
    let deadline = Instant::now() + Duration::from_secs(20);
    let third = loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let third = exchange(&gw, &with_headers(0)).await;
        if third.status() == 503 || Instant::now() > deadline {
            break third;
        }
    };
    // The log says what the gateway saw if the cap never shows.
    assert_eq!(third.status(), 503, "{}\n{}", third.text, gw.log());
    assert_eq!(third.code(), "too_many_connections");
    assert!(third.closed);

    drop(first);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let again = exchange(&gw, &with_headers(0)).await;
    assert_eq!(again.status(), 401, "a freed slot serves: {}", again.text);
}

#[tokio::test]
async fn expect_100_continue_gets_100_before_the_body_is_sent() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::start().await;
    let key = gw
        .client_key_for("openai", &mock.base_url(), "sk-upstream-openai")
        .await;
    let body = r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer {key}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nexpect: 100-continue\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let mut conn = TcpStream::connect(addr(&gw)).await.expect("connect");
    conn.write_all(head.as_bytes()).await.expect("head");
    let mut got = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(3), conn.read(&mut got))
        .await
        .expect("100 Continue before the body")
        .expect("read");
    assert_eq!(
        String::from_utf8_lossy(&got[..n]),
        "HTTP/1.1 100 Continue\r\n\r\n"
    );
    conn.write_all(body.as_bytes()).await.expect("body");
    let answer = read_all(&mut conn).await;
    assert_eq!(answer.status(), 200, "{}", answer.text);
}

/// A request sent on the connection while the previous one still waits for
/// its answer (HTTP/1.1 pipelining) is not taken for a client that left:
/// the first answer arrives whole, JSON or stream, and the connection is
/// closed after it, so the client sends the second again on a new one.
#[tokio::test]
async fn a_pipelined_request_does_not_cut_the_answer_before_it() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::in_process().await;
    let key = gw
        .client_key_for("openai", &mock.base_url(), "sk-upstream-openai")
        .await;
    for (stream, waits) in [
        (false, "x-mock-head-delay-ms: 1500"),
        (true, "x-mock-delay-ms: 100"),
    ] {
        let body = format!(
            r#"{{"model":"gpt-4o-mini","stream":{stream},"messages":[{{"role":"user","content":"hi"}}]}}"#
        );
        let request = format!(
            "POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer {key}\r\ncontent-type: application/json\r\n{waits}\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        let mut conn = TcpStream::connect(addr(&gw)).await.expect("connect");
        conn.write_all(request.as_bytes()).await.expect("request");
        tokio::time::sleep(Duration::from_millis(500)).await;
        conn.write_all(b"GET /v1/models HTTP/1.1\r\nhost: gw\r\n\r\n")
            .await
            .expect("pipelined request");
        let answer = read_all(&mut conn).await;
        assert_eq!(answer.status(), 200, "stream {stream}: {}", answer.text);
        let whole = if stream {
            answer.text.contains("data: [DONE]")
        } else {
            answer.text.contains("\"usage\"")
        };
        assert!(
            whole,
            "stream {stream}: the answer arrived whole: {}",
            answer.text
        );
        assert!(answer.closed, "stream {stream}: closed after the answer");
    }
    let traces = gw.traces(2).await;
    assert!(traces.iter().all(|t| t["status_code"] == 200), "{traces:?}");
}
