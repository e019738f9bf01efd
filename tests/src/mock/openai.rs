//! OpenAI Chat Completions, Models and Embeddings (`api.openai.com/v1`).
//!
//! - `POST /v1/chat/completions`: a `chat.completion`, or with `"stream": true` a
//!   `text/event-stream` of `chat.completion.chunk`s: the role, one chunk per
//!   [`TEXT_PIECES`] entry, the finish reason, then — only with
//!   `stream_options.include_usage` — a chunk with `"choices":[]` and the usage (every
//!   other chunk then carries `"usage":null`), and finally `data: [DONE]`.
//! - `GET /v1/models`: a model list.
//! - `POST /v1/embeddings`: one embedding per input, as floats or, with
//!   `"encoding_format":"base64"` (what the Python SDK asks for by default), as base64 of
//!   little-endian `f32`s.

use std::borrow::Cow;
use std::sync::LazyLock;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine;
use serde::Deserialize;

use super::errors::error_response;
use super::provider::Provider;
use super::switches;
use super::usage::{
    CACHED_TOKENS, COMPLETION_TOKENS, CREATED, PROMPT_TOKENS, REASONING_TOKENS, TEXT, TEXT_PIECES,
};
use super::wire::{CompletionRequest, data_event, json_response, json_string, sse_response};

/// `id` of every chat completion and chunk.
pub const CHAT_ID: &str = "chatcmpl-mock000000000000000000000000";
/// `system_fingerprint` of every chat completion and chunk.
pub const SYSTEM_FINGERPRINT: &str = "fp_mock000000";
/// Length of an embedding when the request names no `dimensions`.
pub const EMBEDDING_DIMENSIONS: usize = 8;
/// Largest `dimensions` the mock honours; larger requests are clamped.
pub const MAX_EMBEDDING_DIMENSIONS: usize = 4096;

const PROVIDER: Provider = Provider::OpenAi;

/// The `usage` object of a chat completion.
static CHAT_USAGE: LazyLock<String> = LazyLock::new(|| chat_usage(COMPLETION_TOKENS));

/// A chat `usage` object with `completion` completion tokens.
fn chat_usage(completion: u64) -> String {
    format!(
        concat!(
            r#"{{"prompt_tokens":{p},"completion_tokens":{c},"total_tokens":{t},"#,
            r#""prompt_tokens_details":{{"cached_tokens":{cached},"audio_tokens":0}},"#,
            r#""completion_tokens_details":{{"reasoning_tokens":{r},"audio_tokens":0,"#,
            r#""accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}}"#
        ),
        p = PROMPT_TOKENS,
        c = completion,
        t = PROMPT_TOKENS + completion,
        cached = CACHED_TOKENS,
        r = REASONING_TOKENS,
    )
}

/// `POST /v1/chat/completions`.
pub(crate) async fn chat_completions(headers: HeaderMap, body: Bytes) -> Response {
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
            chat_events_repeated(&model, request.include_usage(), pacing.repeat),
            pacing,
        )
    } else if headers.contains_key(switches::NO_USAGE_HEADER) {
        json_response(PROVIDER, chat_completion_with_usage(&model, "null"))
    } else {
        json_response(PROVIDER, chat_completion(&model))
    }
}

/// The `chat.completion` body for `model` (a JSON string literal).
pub(crate) fn chat_completion(model: &str) -> String {
    chat_completion_with_usage(model, &CHAT_USAGE)
}

/// [`chat_completion`] with `usage` (JSON text) as its usage.
fn chat_completion_with_usage(model: &str, usage: &str) -> String {
    let text = json_string(TEXT);
    format!(
        concat!(
            r#"{{"id":"{CHAT_ID}","object":"chat.completion","created":{CREATED},"model":{model},"#,
            r#""choices":[{{"index":0,"message":{{"role":"assistant","content":{text},"refusal":null,"annotations":[]}},"#,
            r#""logprobs":null,"finish_reason":"stop"}}],"usage":{usage},"#,
            r#""service_tier":"default","system_fingerprint":"{SYSTEM_FINGERPRINT}"}}"#
        ),
        CHAT_ID = CHAT_ID,
        CREATED = CREATED,
        model = model,
        text = text,
        usage = usage,
        SYSTEM_FINGERPRINT = SYSTEM_FINGERPRINT,
    )
}

/// The SSE events of a streamed chat completion for `model` (a JSON string literal).
pub(crate) fn chat_events(model: &str, include_usage: bool) -> Vec<String> {
    chat_events_repeated(model, include_usage, 1)
}

/// [`chat_events`] with every text delta sent `repeat` times.
fn chat_events_repeated(model: &str, include_usage: bool, repeat: usize) -> Vec<String> {
    let usage_null = if include_usage {
        r#","usage":null"#
    } else {
        ""
    };
    let mut events = Vec::with_capacity(TEXT_PIECES.len() + 4);
    let role = r#"{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}"#;
    events.push(data_event(&chunk(model, role, usage_null)));
    for piece in TEXT_PIECES.iter().cycle().take(TEXT_PIECES.len() * repeat) {
        let choice = format!(
            r#"{{"index":0,"delta":{{"content":{}}},"logprobs":null,"finish_reason":null}}"#,
            json_string(piece)
        );
        events.push(data_event(&chunk(model, &choice, usage_null)));
    }
    let finish = r#"{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}"#;
    events.push(data_event(&chunk(model, finish, usage_null)));
    if include_usage {
        let usage = if repeat == 1 {
            format!(r#","usage":{}"#, &*CHAT_USAGE)
        } else {
            format!(
                r#","usage":{}"#,
                chat_usage(COMPLETION_TOKENS * repeat as u64)
            )
        };
        events.push(data_event(&chunk(model, "", &usage)));
    }
    events.push(data_event("[DONE]"));
    events
}

/// One `chat.completion.chunk` with `choice` (or no choice when empty) and `usage`
/// (a `,"usage":...` member, or empty).
fn chunk(model: &str, choice: &str, usage: &str) -> String {
    format!(
        concat!(
            r#"{{"id":"{CHAT_ID}","object":"chat.completion.chunk","created":{CREATED},"model":{model},"#,
            r#""service_tier":"default","system_fingerprint":"{SYSTEM_FINGERPRINT}","choices":[{choice}]{usage}}}"#
        ),
        CHAT_ID = CHAT_ID,
        CREATED = CREATED,
        model = model,
        SYSTEM_FINGERPRINT = SYSTEM_FINGERPRINT,
        choice = choice,
        usage = usage,
    )
}

/// `GET /v1/models` when the request is OpenAI's.
pub(crate) async fn models(headers: HeaderMap) -> Response {
    if let Err(status) = switches::apply(PROVIDER, &headers, None).await {
        return error_response(PROVIDER, status);
    }
    json_response(PROVIDER, models_body())
}

/// The OpenAI model list.
pub(crate) fn models_body() -> String {
    let entries: Vec<String> = [
        "gpt-4o-mini",
        "gpt-4o",
        "gpt-4.1",
        "o4-mini",
        "text-embedding-3-small",
    ]
    .iter()
    .map(|id| {
        format!(r#"{{"id":"{id}","object":"model","created":{CREATED},"owned_by":"system"}}"#)
    })
    .collect();
    format!(r#"{{"object":"list","data":[{}]}}"#, entries.join(","))
}

/// The fields the mock reads from an embeddings request.
#[derive(Deserialize)]
struct EmbeddingRequest<'a> {
    #[serde(borrow)]
    model: Cow<'a, str>,
    input: serde_json::Value,
    #[serde(default, borrow)]
    encoding_format: Option<Cow<'a, str>>,
    #[serde(default)]
    dimensions: Option<usize>,
}

/// `POST /v1/embeddings`.
pub(crate) async fn embeddings(headers: HeaderMap, body: Bytes) -> Response {
    if let Err(status) = switches::apply(PROVIDER, &headers, None).await {
        return error_response(PROVIDER, status);
    }
    let Ok(request) = serde_json::from_slice::<EmbeddingRequest>(&body) else {
        return error_response(PROVIDER, StatusCode::BAD_REQUEST);
    };
    let inputs = match &request.input {
        serde_json::Value::Array(items) if items.iter().all(|item| !item.is_number()) => {
            items.len()
        }
        _ => 1,
    };
    let dimensions = request
        .dimensions
        .unwrap_or(EMBEDDING_DIMENSIONS)
        .clamp(1, MAX_EMBEDDING_DIMENSIONS);
    let base64 = request.encoding_format.as_deref() == Some("base64");
    json_response(
        PROVIDER,
        embeddings_body(&json_string(&request.model), inputs, dimensions, base64),
    )
}

/// The value at `index` of every mock embedding: exact in `f32`, so the float and the
/// base64 forms agree bit for bit.
pub fn embedding_value(index: usize) -> f32 {
    ((index % 8) as f32 - 3.5) / 8.0
}

/// An embedding list with `inputs` vectors of `dimensions` values.
pub(crate) fn embeddings_body(
    model: &str,
    inputs: usize,
    dimensions: usize,
    base64: bool,
) -> String {
    let vector = if base64 {
        let bytes: Vec<u8> = (0..dimensions)
            .flat_map(|i| embedding_value(i).to_le_bytes())
            .collect();
        json_string(&base64::engine::general_purpose::STANDARD.encode(bytes))
    } else {
        let values: Vec<String> = (0..dimensions)
            .map(|i| embedding_value(i).to_string())
            .collect();
        format!("[{}]", values.join(","))
    };
    let data: Vec<String> = (0..inputs)
        .map(|index| format!(r#"{{"object":"embedding","index":{index},"embedding":{vector}}}"#))
        .collect();
    format!(
        r#"{{"object":"list","data":[{}],"model":{model},"usage":{{"prompt_tokens":{PROMPT_TOKENS},"total_tokens":{PROMPT_TOKENS}}}}}"#,
        data.join(",")
    )
}
