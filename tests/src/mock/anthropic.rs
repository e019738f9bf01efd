//! Anthropic Messages and Models (`api.anthropic.com/v1`).
//!
//! - `POST /v1/messages`: a `message` object, or with `"stream": true` a
//!   `text/event-stream` of `message_start` (input and cache usage, `output_tokens` 1),
//!   `content_block_start`, `ping`, one `content_block_delta` (`text_delta`) per
//!   [`TEXT_PIECES`] entry, `content_block_stop`, `message_delta` (stop reason and the
//!   cumulative usage, as the API now sends it: input and cache counts repeated, final
//!   `output_tokens`) and `message_stop`.
//! - `GET /v1/models`: a model list, when the request carries `anthropic-version` or
//!   `x-api-key` (the path is shared with OpenAI and Gemini).

use std::sync::LazyLock;

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::response::Response;

use super::errors::error_response;
use super::provider::Provider;
use super::switches;
use super::usage::{
    ANTHROPIC_START_OUTPUT_TOKENS, CACHE_CREATION_TOKENS, CACHED_TOKENS, COMPLETION_TOKENS,
    PROMPT_TOKENS, TEXT, TEXT_PIECES,
};
use super::wire::{CompletionRequest, json_response, json_string, named_event, sse_response};

/// `id` of every message.
pub const MESSAGE_ID: &str = "msg_mock000000000000000000";

const PROVIDER: Provider = Provider::Anthropic;

/// The input side of every usage object: uncached input, cache writes and cache reads.
static INPUT_USAGE: LazyLock<String> = LazyLock::new(|| {
    format!(
        concat!(
            r#""input_tokens":{p},"cache_creation_input_tokens":{w},"cache_read_input_tokens":{r},"#,
            r#""cache_creation":{{"ephemeral_5m_input_tokens":{w},"ephemeral_1h_input_tokens":0}}"#
        ),
        p = PROMPT_TOKENS,
        w = CACHE_CREATION_TOKENS,
        r = CACHED_TOKENS,
    )
});

/// `POST /v1/messages`.
pub(crate) async fn messages(headers: HeaderMap, body: Bytes) -> Response {
    let pacing = match switches::apply(PROVIDER, &headers, None).await {
        Ok(pacing) => pacing,
        Err(status) => return error_response(PROVIDER, status),
    };
    let request = match CompletionRequest::parse(&body) {
        Ok(request) => request,
        Err(status) => return error_response(PROVIDER, status),
    };
    let model = json_string(&request.model);
    if request.stream {
        sse_response(
            PROVIDER,
            message_events_repeated(&model, pacing.repeat),
            pacing,
        )
    } else {
        json_response(PROVIDER, message_body(&model))
    }
}

/// A `message` object with `content_text` and `stop_reason` (JSON literals).
fn message(model: &str, content_text: &str, stop_reason: &str, output_tokens: u64) -> String {
    let content = if content_text.is_empty() {
        String::new()
    } else {
        format!(r#"{{"type":"text","text":{content_text}}}"#)
    };
    format!(
        concat!(
            r#"{{"id":"{MESSAGE_ID}","type":"message","role":"assistant","model":{model},"content":[{content}],"#,
            r#""stop_reason":{stop_reason},"stop_sequence":null,"#,
            r#""usage":{{{input},"output_tokens":{output_tokens},"service_tier":"standard"}}}}"#
        ),
        MESSAGE_ID = MESSAGE_ID,
        model = model,
        content = content,
        stop_reason = stop_reason,
        input = &*INPUT_USAGE,
        output_tokens = output_tokens,
    )
}

/// The non-streamed `message` body for `model` (a JSON string literal).
pub(crate) fn message_body(model: &str) -> String {
    message(model, &json_string(TEXT), "\"end_turn\"", COMPLETION_TOKENS)
}

/// The SSE events of a streamed message for `model` (a JSON string literal).
pub(crate) fn message_events(model: &str) -> Vec<String> {
    message_events_repeated(model, 1)
}

/// [`message_events`] with every text delta sent `repeat` times.
fn message_events_repeated(model: &str, repeat: usize) -> Vec<String> {
    let mut events = Vec::with_capacity(TEXT_PIECES.len() + 6);
    let start = message(model, "", "null", ANTHROPIC_START_OUTPUT_TOKENS);
    events.push(named_event(
        "message_start",
        &format!(r#"{{"type":"message_start","message":{start}}}"#),
    ));
    events.push(named_event(
        "content_block_start",
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
    ));
    events.push(named_event("ping", r#"{"type": "ping"}"#));
    for piece in TEXT_PIECES.iter().cycle().take(TEXT_PIECES.len() * repeat) {
        let delta = format!(
            r#"{{"type":"content_block_delta","index":0,"delta":{{"type":"text_delta","text":{}}}}}"#,
            json_string(piece)
        );
        events.push(named_event("content_block_delta", &delta));
    }
    events.push(named_event(
        "content_block_stop",
        r#"{"type":"content_block_stop","index":0}"#,
    ));
    let input = &*INPUT_USAGE;
    events.push(named_event(
        "message_delta",
        &format!(
            concat!(
                r#"{{"type":"message_delta","delta":{{"stop_reason":"end_turn","stop_sequence":null}},"#,
                r#""usage":{{{input},"output_tokens":{output}}}}}"#
            ),
            input = input,
            output = COMPLETION_TOKENS * repeat as u64,
        ),
    ));
    events.push(named_event("message_stop", r#"{"type":"message_stop"}"#));
    events
}

/// `GET /v1/models` when the request is Anthropic's.
pub(crate) async fn models(headers: HeaderMap) -> Response {
    if let Err(status) = switches::apply(PROVIDER, &headers, None).await {
        return error_response(PROVIDER, status);
    }
    json_response(PROVIDER, models_body())
}

/// The Anthropic model list.
pub(crate) fn models_body() -> String {
    let models = [
        (
            "claude-sonnet-4-6",
            "Claude Sonnet 4.6",
            "2026-02-17T00:00:00Z",
        ),
        ("claude-opus-4-6", "Claude Opus 4.6", "2026-02-05T00:00:00Z"),
        (
            "claude-haiku-4-5-20251001",
            "Claude Haiku 4.5",
            "2025-10-01T00:00:00Z",
        ),
    ];
    let entries: Vec<String> = models
        .iter()
        .map(|(id, name, created)| {
            format!(
                concat!(
                    r#"{{"type":"model","id":"{id}","display_name":"{name}","created_at":"{created}","#,
                    r#""lifecycle":"active","deprecated_at":null,"retires_at":null,"#,
                    r#""max_input_tokens":200000,"max_tokens":64000}}"#
                ),
                id = id,
                name = name,
                created = created,
            )
        })
        .collect();
    let first = models.first().map_or("", |model| model.0);
    let last = models.last().map_or("", |model| model.0);
    format!(
        r#"{{"data":[{}],"has_more":false,"first_id":"{first}","last_id":"{last}"}}"#,
        entries.join(",")
    )
}
