//! Wire-level checks of the mock upstream: every endpoint is hit over real HTTP with
//! reqwest and the answer's status, headers, framing and bytes are compared with what the
//! providers send (and with `mock::expected_body`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step should fail the test loudly"
)]

#[path = "mock_wire/anthropic.rs"]
mod anthropic;
#[path = "mock_wire/azure.rs"]
mod azure;
#[path = "mock_wire/gemini.rs"]
mod gemini;
#[path = "mock_wire/openai.rs"]
mod openai;
#[path = "mock_wire/recording.rs"]
mod recording;
#[path = "mock_wire/switches.rs"]
mod switches;

use ai_proxy_tests::mock::MockUpstream;
use futures_util::StreamExt;
use reqwest::header::HeaderMap;
use serde_json::Value;

/// A client that talks to the mock directly, never through an environment proxy.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// An answer read to the end: status, headers, body, and the body chunks as they arrived.
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub chunks: Vec<Vec<u8>>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }
}

/// Sends `request` and reads the whole answer chunk by chunk.
pub async fn read(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let mut stream = response.bytes_stream();
    let mut chunks = Vec::new();
    while let Some(chunk) = stream.next().await {
        chunks.push(chunk.unwrap().to_vec());
    }
    Answer {
        status,
        headers,
        body: chunks.concat(),
        chunks,
    }
}

/// POSTs `body` as JSON to `path` with `headers`.
pub async fn post(
    mock: &MockUpstream,
    path: &str,
    headers: &[(&str, &str)],
    body: &Value,
) -> Answer {
    let mut request = client()
        .post(format!("{}{path}", mock.base_url()))
        .header("content-type", "application/json")
        .body(body.to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    read(request).await
}

/// GETs `path` with `headers`.
pub async fn get(mock: &MockUpstream, path: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = client().get(format!("{}{path}", mock.base_url()));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    read(request).await
}

/// The `(event name, data)` pairs of an SSE body whose events end with `separator`.
pub fn sse_events(body: &str, separator: &str) -> Vec<(Option<String>, String)> {
    assert!(
        body.ends_with(separator),
        "SSE body must end with a blank line"
    );
    body.split(separator)
        .filter(|event| !event.is_empty())
        .map(|event| {
            let mut name = None;
            let mut data = Vec::new();
            for line in event.lines() {
                if let Some(value) = line.strip_prefix("event: ") {
                    name = Some(value.to_owned());
                } else if let Some(value) = line.strip_prefix("data: ") {
                    data.push(value);
                } else {
                    panic!("unexpected SSE line {line:?}");
                }
            }
            (name, data.join("\n"))
        })
        .collect()
}
