//! Writing answers onto the wire: JSON bodies, SSE framing and paced stream bodies.
//!
//! Every SSE event goes out as its own body chunk (its own HTTP/1.1 chunk), so a client
//! or gateway sees the same event boundaries it would see from the provider.

use std::borrow::Cow;
use std::convert::Infallible;
use std::io;

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::{StreamExt, stream};
use serde::Deserialize;

use super::errors::REQUEST_ID;
use super::provider::Provider;
use super::switches::Pacing;

/// The fields the mock reads from a chat, Responses or Messages request body.
#[derive(Deserialize)]
pub(crate) struct CompletionRequest<'a> {
    #[serde(borrow)]
    pub model: Cow<'a, str>,
    #[serde(default)]
    pub stream: bool,
    #[serde(default)]
    pub stream_options: Option<StreamOptions>,
}

/// OpenAI chat `stream_options`.
#[derive(Deserialize)]
pub(crate) struct StreamOptions {
    #[serde(default)]
    pub include_usage: bool,
}

impl CompletionRequest<'_> {
    /// Parses a request body; a body the provider would refuse is a 400.
    pub(crate) fn parse(body: &[u8]) -> Result<CompletionRequest<'_>, StatusCode> {
        serde_json::from_slice(body).map_err(|_| StatusCode::BAD_REQUEST)
    }

    /// Whether an OpenAI chat stream ends with a usage chunk.
    pub(crate) fn include_usage(&self) -> bool {
        self.stream_options
            .as_ref()
            .is_some_and(|options| options.include_usage)
    }
}

/// `text` as a JSON string literal, quotes included.
pub(crate) fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| String::from("\"\""))
}

/// `data: <json>\n\n`, the framing of OpenAI chat streams.
pub(crate) fn data_event(json: &str) -> String {
    let mut event = String::with_capacity(json.len() + 8);
    event.push_str("data: ");
    event.push_str(json);
    event.push_str("\n\n");
    event
}

/// `event: <name>\ndata: <json>\n\n`, the framing of Anthropic and Responses streams.
pub(crate) fn named_event(name: &str, json: &str) -> String {
    let mut event = String::with_capacity(name.len() + json.len() + 16);
    event.push_str("event: ");
    event.push_str(name);
    event.push_str("\ndata: ");
    event.push_str(json);
    event.push_str("\n\n");
    event
}

/// `data: <json>\r\n\r\n`, the framing of Gemini's `alt=sse` streams.
pub(crate) fn crlf_data_event(json: &str) -> String {
    let mut event = String::with_capacity(json.len() + 10);
    event.push_str("data: ");
    event.push_str(json);
    event.push_str("\r\n\r\n");
    event
}

/// A 200 answer with a JSON body.
pub(crate) fn json_response(provider: Provider, body: String) -> Response {
    respond(provider, provider.json_content_type(), Body::from(body))
}

/// A 200 `text/event-stream` answer sending `events` one chunk each.
pub(crate) fn sse_response(provider: Provider, events: Vec<String>, pacing: Pacing) -> Response {
    respond(
        provider,
        provider.sse_content_type(),
        chunked(events, pacing),
    )
}

/// A 200 answer whose body is `chunks` sent one by one, with `content_type`.
pub(crate) fn chunked_response(
    provider: Provider,
    content_type: &'static str,
    chunks: Vec<String>,
    pacing: Pacing,
) -> Response {
    respond(provider, content_type, chunked(chunks, pacing))
}

fn respond(provider: Provider, content_type: &'static str, body: Body) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type),
            (
                header::HeaderName::from_static(provider.request_id_header()),
                REQUEST_ID,
            ),
        ],
        body,
    )
        .into_response()
}

/// A body that yields each chunk separately, pausing and breaking as `pacing` says.
fn chunked(chunks: Vec<String>, pacing: Pacing) -> Body {
    let Pacing {
        delay, abort_after, ..
    } = pacing;
    let cut = abort_after.filter(|&count| count < chunks.len());
    if delay.is_none() && cut.is_none() {
        let items = chunks
            .into_iter()
            .map(|chunk| Ok::<_, Infallible>(Bytes::from(chunk)));
        return Body::from_stream(stream::iter(items));
    }
    let sent = chunks.into_iter().take(cut.unwrap_or(usize::MAX)).map(Ok);
    let broken = cut.map(|_| {
        Err(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "x-mock-abort-after",
        ))
    });
    let items =
        stream::iter(sent.chain(broken))
            .enumerate()
            .then(move |(index, item)| async move {
                if let Some(delay) = delay
                    && index > 0
                {
                    tokio::time::sleep(delay).await;
                }
                item.map(Bytes::from)
            });
    Body::from_stream(items)
}
