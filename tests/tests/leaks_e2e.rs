//! What must not leak through the real gateway, in either direction: the
//! client's key into the gateway's log, the upstream account's headers and
//! key into the client's answer, and the client's choice of who pays into
//! the upstream request.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use ai_proxy_tests::gateway::TestGateway;
use ai_proxy_tests::mock::leaks::{ACCOUNT_HEADERS, ACCOUNT_HEADERS_HEADER, QUOTE_KEY_HEADER};
use ai_proxy_tests::mock::{Endpoint, MockUpstream, expected_body};
use serde_json::{Value, json};

fn chat(stream: bool) -> Value {
    json!({"model": "gpt-4o-mini", "stream": stream, "messages": [{"role": "user", "content": "hi"}]})
}

async fn post(
    gw: &TestGateway,
    key: &str,
    body: &Value,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", gw.proxy_url))
        .bearer_auth(key)
        .json(body);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send().await.expect("proxy request")
}

#[tokio::test]
async fn client_key_in_the_query_is_in_no_log_line_when_the_upstream_breaks_off() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::start().await;
    let key = gw
        .client_key_for("gemini", &mock.base_url(), "goog-upstream-key")
        .await;
    let resp = reqwest::Client::new()
        .post(format!(
            "{}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key={key}",
            gw.proxy_url
        ))
        .header("x-mock-abort-after", "1")
        .header("x-mock-delay-ms", "50")
        .json(&json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 200);
    assert!(
        resp.bytes().await.is_err(),
        "the stream must end abnormally"
    );

    // Pingora writes its error line (with the request summary) as the request ends.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !gw.log().contains("key=[REDACTED]") && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = gw.log();
    assert!(
        !log.contains(&key),
        "the client key is in the gateway log:\n{log}"
    );
    assert!(
        log.contains("streamGenerateContent?alt=sse&key=[REDACTED]"),
        "the request summary names the request without its key:\n{log}"
    );
}

/// Streamed or not, the switches sent, the status expected.
type Case = (bool, &'static [(&'static str, &'static str)], u16);

#[tokio::test]
async fn upstream_account_headers_never_reach_the_client() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::start().await;
    let key = gw
        .client_key_for("openai", &mock.base_url(), "sk-upstream-openai")
        .await;
    let cases: [Case; 3] = [
        (false, &[(ACCOUNT_HEADERS_HEADER, "1")], 200),
        (true, &[(ACCOUNT_HEADERS_HEADER, "1")], 200),
        (
            false,
            &[(ACCOUNT_HEADERS_HEADER, "1"), ("x-mock-status", "400")],
            400,
        ),
    ];
    for (stream, headers, status) in cases {
        let resp = post(&gw, &key, &chat(stream), headers).await;
        assert_eq!(resp.status(), status, "stream {stream}");
        for (name, _) in ACCOUNT_HEADERS {
            assert!(
                resp.headers().get(*name).is_none(),
                "{name} reached the client (stream {stream}, status {status})"
            );
        }
        assert!(resp.headers().contains_key("content-type"));
        resp.bytes().await.expect("body");
    }
    // The mock did send them: the gateway removed them.
    let direct = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", mock.base_url()))
        .bearer_auth("sk-upstream-openai")
        .header(ACCOUNT_HEADERS_HEADER, "1")
        .json(&chat(false))
        .send()
        .await
        .expect("direct");
    assert!(direct.headers().contains_key("openai-organization"));
}

#[tokio::test]
async fn upstream_key_quoted_in_an_error_answer_is_masked_and_success_is_untouched() {
    // Shares pieces with the answer's text ("gpt-4o-mini"), which a success must keep.
    let secret = "sk-gpt-4o-mini-0123456789abcdef";
    let mock = MockUpstream::start().await;
    let gw = TestGateway::start().await;
    let key = gw.client_key_for("openai", &mock.base_url(), secret).await;
    // First (a refused key is then taken out of rotation for a while).
    for stream in [false, true] {
        let resp = post(&gw, &key, &chat(stream), &[]).await;
        assert_eq!(resp.status(), 200);
        let got = resp.bytes().await.expect("body");
        assert_eq!(
            got.as_ref(),
            expected_body(
                Endpoint::ChatCompletions {
                    include_usage: stream
                },
                "gpt-4o-mini",
                stream
            )
            .as_slice(),
            "a successful answer is relayed unchanged (stream {stream})"
        );
    }

    let resp = post(&gw, &key, &chat(false), &[(QUOTE_KEY_HEADER, "1")]).await;
    assert_eq!(resp.status(), 401);
    let length = resp.content_length();
    let body = resp.text().await.expect("body");
    assert_eq!(length, Some(body.len() as u64), "length kept");
    assert!(
        body.contains("Incorrect API key provided: "),
        "the message is still relayed: {body}"
    );
    for piece in [secret, "0123456789abcdef", "cdef", "sk-gpt"] {
        assert!(!body.contains(piece), "{piece} reached the client: {body}");
    }
    let direct = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", mock.base_url()))
        .bearer_auth(secret)
        .header(QUOTE_KEY_HEADER, "1")
        .json(&chat(false))
        .send()
        .await
        .expect("direct")
        .text()
        .await
        .expect("direct body");
    assert!(
        direct.contains(secret),
        "the mock did quote the key: {direct}"
    );
}

#[tokio::test]
async fn client_billing_headers_reach_the_upstream_only_when_the_provider_allows_them() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::start().await;
    let key = gw
        .client_key_for("openai", &mock.base_url(), "sk-upstream-openai")
        .await;
    let billing = [
        ("openai-organization", "org-chosen-by-client"),
        ("openai-project", "proj_chosen_by_client"),
    ];
    let resp = post(&gw, &key, &chat(false), &billing).await;
    assert_eq!(resp.status(), 200);
    let seen = mock.requests().pop().expect("upstream request");
    for (name, _) in billing {
        assert_eq!(seen.header(name), None, "{name} reached the upstream");
    }

    let id = gw.provider_id("openai").await;
    let view = gw
        .admin_ok(
            reqwest::Method::PUT,
            &format!("/api/providers/{id}"),
            Some(json!({"allow_billing_headers": true})),
        )
        .await;
    assert_eq!(view["allow_billing_headers"], true);
    let resp = post(&gw, &key, &chat(false), &billing).await;
    assert_eq!(resp.status(), 200);
    let seen = mock.requests().pop().expect("upstream request");
    for (name, value) in billing {
        assert_eq!(seen.header(name), Some(value), "{name} allowed");
    }
}
