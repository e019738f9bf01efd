//! Rate limits and quotas on the proxy, in-process: per client key
//! (requests per minute, tokens and cost per day) and per upstream key
//! (tokens per day), each answering 429 with `Retry-After` and a JSON error
//! naming the limit; concurrent requests never overshoot a limit.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use ai_proxy_tests::gateway::TestGateway;
use ai_proxy_tests::mock::{COMPLETION_TOKENS, MockUpstream, PROMPT_TOKENS};
use chrono::Timelike;
use reqwest::Method;
use serde_json::json;

/// Waits out the end of a minute, so a per-minute window cannot turn over
/// in the middle of a test step.
async fn clear_of_minute_boundary() {
    let second = chrono::Utc::now().second();
    if second >= 50 {
        tokio::time::sleep(Duration::from_secs(u64::from(61 - second))).await;
    }
}

#[tokio::test]
async fn client_key_limits_answer_429_naming_the_limit() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::in_process().await;
    let pool = gw
        .pool(
            "openai",
            &mock.base_url(),
            &[("k", "sk-up", json!({}))],
            json!({"limits": {"requests_per_minute": 3}}),
        )
        .await;
    clear_of_minute_boundary().await;
    for i in 0..3 {
        assert_eq!(gw.chat(&pool.client_key).await.0, 200, "request {i}");
    }
    let (status, headers, body) = gw.chat(&pool.client_key).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");
    assert_eq!(body["error"]["param"], "requests_per_minute");
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(
        mock.requests().len(),
        3,
        "the refused request never left the gateway"
    );

    // Raising the limit takes effect at once.
    gw.admin_ok(
        Method::PUT,
        &format!("/api/client-keys/{}", pool.client_id),
        Some(json!({"limits": {"requests_per_minute": 4}})),
    )
    .await;
    assert_eq!(gw.chat(&pool.client_key).await.0, 200);

    // An expiry can be set and cleared again.
    let path = format!("/api/client-keys/{}", pool.client_id);
    let set = gw
        .admin_ok(
            Method::PUT,
            &path,
            Some(json!({"expires_at": "2099-01-01T00:00:00Z"})),
        )
        .await;
    assert!(set["expires_at"].is_string(), "{set}");
    let cleared = gw
        .admin_ok(Method::PUT, &path, Some(json!({"expires_at": null})))
        .await;
    assert_eq!(cleared["expires_at"], serde_json::Value::Null);

    // Bad limits are refused with a reason.
    for bad in [
        json!({"limits": {"requests_per_minute": -1}}),
        json!({"limits": {"cost_per_day_usd": "ten"}}),
        json!({"limits": {"per_fortnight": 3}}),
        json!({"strategy": "random"}),
    ] {
        let (status, body) = gw
            .admin(
                Method::PUT,
                &format!("/api/client-keys/{}", pool.client_id),
                Some(bad.clone()),
            )
            .await;
        assert!(status == 400 || status == 422, "{bad} -> {status}");
        assert!(body["error"]["message"].is_string(), "{body}");
    }
}

#[tokio::test]
async fn token_and_cost_quotas_refuse_once_spent() {
    let tokens_per_request = (PROMPT_TOKENS + COMPLETION_TOKENS) as i64;
    let quota = 1000;
    let mock = MockUpstream::start().await;
    let gw = TestGateway::in_process().await;
    let pool = gw
        .pool(
            "openai",
            &mock.base_url(),
            &[("k", "sk-up", json!({}))],
            json!({"limits": {"tokens_per_day": quota}}),
        )
        .await;
    // Each request reserves an estimate (its body as prompt plus 256 output
    // tokens) and settles to its real usage; the one whose estimate no
    // longer fits is refused.
    let mut admitted = 0;
    let (status, headers, body) = loop {
        let (status, headers, body) = gw.chat(&pool.client_key).await;
        if status != 200 {
            break (status, headers, body);
        }
        admitted += 1;
        assert!(admitted < 20, "the quota never ran out");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        (status, body["error"]["param"].as_str()),
        (429, Some("tokens_per_day")),
        "{body}"
    );
    assert!(headers.contains_key("retry-after"));
    assert!(
        admitted * tokens_per_request <= quota,
        "{admitted} requests overshoot"
    );
    assert!(
        (admitted + 1) * tokens_per_request + 256 > quota,
        "refused too early: {admitted}"
    );

    // A cost quota of a tiny amount: the first request spends it.
    let cost = gw
        .pool(
            "anthropic",
            &mock.base_url(),
            &[("k", "sk-up", json!({}))],
            json!({"limits": {"cost_per_day_usd": 0.000001}}),
        )
        .await;
    let send = || {
        reqwest::Client::new()
            .post(format!("{}/v1/messages", gw.proxy_url))
            .header("x-api-key", &cost.client_key)
            .json(&json!({"model": "claude-sonnet-4", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}))
            .send()
    };
    assert_eq!(send().await.unwrap().status(), 200);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let refused = send().await.unwrap();
    assert_eq!(refused.status(), 429);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["param"], "cost_per_day");
}

#[tokio::test]
async fn upstream_key_limits_move_traffic_to_other_keys() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::in_process().await;
    let pool = gw
        .pool(
            "openai",
            &mock.base_url(),
            &[
                (
                    "small",
                    "sk-small",
                    json!({"limits": {"tokens_per_day": 10}}),
                ),
                ("large", "sk-large", json!({})),
            ],
            json!({}),
        )
        .await;
    for _ in 0..5 {
        assert_eq!(gw.chat(&pool.client_key).await.0, 200);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let names: Vec<String> = gw
        .traces(5)
        .await
        .iter()
        .map(|t| t["upstream_key_name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names.iter().filter(|n| *n == "small").count(),
        1,
        "{names:?}"
    );

    // Once every key is at its limit the client hears why, with a time to wait.
    gw.admin_ok(
        Method::PUT,
        &format!("/api/upstream-keys/{}", pool.key_ids[1]),
        Some(json!({"limits": {"tokens_per_day": 10}})),
    )
    .await;
    let (status, headers, body) = gw.chat(&pool.client_key).await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("all limited")
    );
    assert!(headers.contains_key("retry-after"));
}

#[tokio::test]
async fn concurrent_requests_never_overshoot_a_limit() {
    let mock = MockUpstream::start().await;
    let gw = TestGateway::in_process().await;
    let pool = gw
        .pool(
            "openai",
            &mock.base_url(),
            &[("k", "sk-up", json!({}))],
            json!({"limits": {"requests_per_minute": 20}}),
        )
        .await;
    clear_of_minute_boundary().await;
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let url = format!("{}/v1/chat/completions", gw.proxy_url);
            let key = pool.client_key.clone();
            tokio::spawn(async move {
                reqwest::Client::new()
                    .post(url)
                    .bearer_auth(key)
                    .json(&json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        20,
        "{statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 30);
}

/// 50 streamed requests at once, each answer slowed so they are all in
/// flight together: status and (for refusals) the error body of each.
async fn fifty_slow_streams(gw: &TestGateway, client_key: &str) -> Vec<(u16, serde_json::Value)> {
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let url = format!("{}/v1/chat/completions", gw.proxy_url);
            let key = client_key.to_owned();
            tokio::spawn(async move {
                let resp = reqwest::Client::new()
                    .post(url)
                    .bearer_auth(key)
                    .header("x-mock-delay-ms", "50")
                    .json(&json!({"model": "gpt-4o-mini", "stream": true,
                                  "messages": [{"role": "user", "content": "hi"}]}))
                    .send()
                    .await
                    .unwrap();
                let status = resp.status().as_u16();
                let body: serde_json::Value = if status == 200 {
                    let _ = resp.bytes().await;
                    serde_json::Value::Null
                } else {
                    resp.json().await.unwrap_or_default()
                };
                (status, body)
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test]
async fn concurrent_requests_cannot_overshoot_a_nearly_spent_token_quota() {
    let per_request = (PROMPT_TOKENS + COMPLETION_TOKENS) as i64;
    let quota = 1000;
    let mock = MockUpstream::start().await;
    let gw = TestGateway::in_process().await;
    let pool = gw
        .pool(
            "openai",
            &mock.base_url(),
            &[("k", "sk-up", json!({}))],
            json!({"limits": {"tokens_per_day": quota}}),
        )
        .await;
    // Slow answers keep the requests in flight together.
    let mut admitted = 0;
    for (status, body) in fifty_slow_streams(&gw, &pool.client_key).await {
        match status {
            200 => admitted += 1,
            429 => {}
            other => panic!("unexpected status {other}: {body}"),
        }
    }
    assert!(admitted >= 2, "the quota admits some: {admitted}");
    assert!(
        admitted * per_request <= quota,
        "{admitted} requests of {per_request} tokens overshoot {quota}"
    );
    // Once everything settled, what is left is admitted again.
    let spent = admitted * per_request;
    if quota - spent > per_request + 300 {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while gw.chat(&pool.client_key).await.0 != 200 {
            assert!(
                std::time::Instant::now() < deadline,
                "reservations were not given back"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test]
async fn concurrent_requests_cannot_overshoot_a_nearly_spent_cost_quota() {
    // Each request reserves its estimate priced at gpt-4o-mini's list
    // prices (~157,000 nano-USD for this body) and costs ~22,000 in the end.
    let budget_usd = 0.0005;
    let budget_nanos = 500_000;
    let mock = MockUpstream::start().await;
    let gw = TestGateway::in_process().await;
    let pool = gw
        .pool(
            "openai",
            &mock.base_url(),
            &[("k", "sk-up", json!({}))],
            json!({"limits": {"cost_per_day_usd": budget_usd}}),
        )
        .await;
    let mut admitted = 0;
    for (status, body) in fifty_slow_streams(&gw, &pool.client_key).await {
        match status {
            200 => admitted += 1,
            429 => assert_eq!(body["error"]["param"], "cost_per_day", "{body}"),
            other => panic!("unexpected status {other}: {body}"),
        }
    }
    let traces = gw.traces(admitted).await;
    let spent: u64 = traces
        .iter()
        .filter(|t| t["status_code"] == 200)
        .map(|t| t["cost_nanos"].as_u64().expect("priced"))
        .sum();
    assert!(admitted >= 2, "the budget admits some: {admitted}");
    assert!(
        spent <= budget_nanos,
        "{admitted} requests spent {spent} nano-USD of {budget_nanos}"
    );
    // Once everything settled, what is left is admitted again.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while gw.chat(&pool.client_key).await.0 != 200 {
        assert!(
            std::time::Instant::now() < deadline,
            "reservations were not given back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A streamed chat request with the mock's `headers`; its request id and
/// the answer, whose head said 200.
async fn open_stream(
    gw: &TestGateway,
    key: &str,
    headers: &[(&str, &str)],
) -> (String, reqwest::Response) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", gw.proxy_url))
        .bearer_auth(key)
        .json(&json!({"model": "gpt-4o-mini", "stream": true,
                      "messages": [{"role": "user", "content": "hi"}]}));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let resp = request.send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let request_id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    (request_id, resp)
}

#[tokio::test]
async fn a_client_that_leaves_mid_stream_is_charged_what_it_was_sent() {
    use futures_util::StreamExt;

    let mock = MockUpstream::start().await;
    let gw = TestGateway::in_process().await;
    let pool = gw
        .pool(
            "openai",
            &mock.base_url(),
            &[("k", "sk-up", json!({}))],
            json!({"limits": {"tokens_per_day": 100_000}}),
        )
        .await;
    let (request_id, resp) = open_stream(
        &gw,
        &pool.client_key,
        &[("x-mock-repeat", "100"), ("x-mock-delay-ms", "10")],
    )
    .await;
    let mut body = resp.bytes_stream();
    let mut received = Vec::new();
    while received.windows(2).filter(|w| w == b"\n\n").count() < 40 {
        received.extend_from_slice(&body.next().await.unwrap().unwrap());
    }
    drop(body); // The client goes away after some 40 events of 502.

    let trace = gw.trace_by_request_id(&request_id).await;
    assert!(
        trace["error_message"]
            .as_str()
            .unwrap_or_default()
            .contains("client went away"),
        "{trace}"
    );
    let (input, output) = (
        trace["input_tokens"].as_u64().unwrap(),
        trace["output_tokens"].as_u64().unwrap(),
    );
    // The prompt is estimated from the body; the output from the text sent
    // (about 6 bytes a delta, 4 bytes a token), not the whole answer's.
    assert!(input > 0, "{trace}");
    assert!((40..500).contains(&output), "{trace}");

    // The counter holds exactly that.
    let charged = i64::try_from(input + output).unwrap();
    gw.assert_tokens_charged(pool.client_id, &pool.client_key, charged)
        .await;
}

/// A client that leaves while the gateway waits for the upstream's answer
/// (a long completion that is not streamed) is let go at once: the upstream
/// request is abandoned, no other key is tried on its behalf, its key is
/// not blamed, and the trace says 499 `client_closed_request` long before
/// the upstream would have answered.
#[tokio::test]
async fn a_client_that_leaves_before_the_answer_began_is_let_go_at_once() {
    const PATIENCE: Duration = Duration::from_millis(300);
    let mock = MockUpstream::start().await;
    let gw = TestGateway::in_process().await;
    // Both keys' upstream answers never come (the mock sleeps an hour).
    let pool = gw
        .pool(
            "openai",
            &mock.base_url(),
            &[
                ("slow-a", "mock-hang-a", json!({})),
                ("slow-b", "mock-hang-b", json!({})),
            ],
            json!({}),
        )
        .await;
    let client = reqwest::Client::builder()
        .timeout(PATIENCE)
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let gave_up = client
        .post(format!("{}/v1/chat/completions", gw.proxy_url))
        .bearer_auth(&pool.client_key)
        .json(&json!({"model": "gpt-4o-mini",
                      "messages": [{"role": "user", "content": "a long essay"}]}))
        .send()
        .await
        .unwrap_err();
    assert!(gave_up.is_timeout(), "{gave_up}");

    let trace = gw.traces(1).await.remove(0);
    assert_eq!(trace["status_code"], 499, "{trace}");
    assert_eq!(trace["error_class"], "client_closed_request", "{trace}");
    let attempts = trace["attempt_log"].as_array().unwrap();
    assert_eq!(attempts.len(), 1, "no other key is tried: {trace}");
    assert_eq!(attempts[0]["error"], "client_closed_request", "{trace}");
    // The gateway's read timeout is minutes; the trace is written when the
    // request ends, so it ended soon after the client left.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    for key in &pool.key_ids {
        let health = gw.key_health(*key).await;
        assert_eq!(
            health["in_rotation"], true,
            "a leaving client blames no key: {health}"
        );
    }
}

/// Between two events of a paced stream the gateway still watches the
/// client's connection: one that closes is let go at once, with its
/// upstream connection, not when the next event (seconds away) fails to
/// be written. The trace, written when the request ends, tells when.
#[tokio::test]
async fn a_client_that_leaves_between_events_is_let_go_at_once() {
    use futures_util::StreamExt;

    const PACING: Duration = Duration::from_secs(5);
    let mock = MockUpstream::start().await;
    let gw = TestGateway::in_process().await;
    let pool = gw
        .pool(
            "openai",
            &mock.base_url(),
            &[("k", "sk-up", json!({}))],
            json!({}),
        )
        .await;
    let pacing = PACING.as_millis().to_string();
    let (request_id, resp) =
        open_stream(&gw, &pool.client_key, &[("x-mock-delay-ms", &pacing)]).await;
    let mut body = resp.bytes_stream();
    let first = body.next().await.unwrap().unwrap();
    assert!(first.starts_with(b"data: "), "{first:?}");
    let left = std::time::Instant::now();
    drop(body);

    let trace = gw.trace_by_request_id(&request_id).await;
    let noticed = left.elapsed();
    assert!(
        trace["error_message"]
            .as_str()
            .unwrap_or_default()
            .contains("client went away"),
        "{trace}"
    );
    // Well before the next event (the trace writer flushes every 200 ms).
    assert!(noticed < PACING / 3, "noticed after {noticed:?}");
}
