//! Gemini API (`generativelanguage.googleapis.com`, `v1beta` and `v1`).
//!
//! - `POST /{version}/models/{model}:generateContent`: a `GenerateContentResponse` with
//!   `usageMetadata`.
//! - `POST /{version}/models/{model}:streamGenerateContent?alt=sse`: `text/event-stream`
//!   of `data: {...}\r\n\r\n` events, one per [`TEXT_PIECES`] entry, each with a running
//!   `usageMetadata`; the last has `finishReason` and the totals. Without `alt=sse` the
//!   same chunks go out as one streamed JSON array, as the API does.
//! - `GET /{version}/models` and `GET /{version}/models/{model}`: the model list and one model.
//!
//! axum cannot route `{model}:{method}` segments, so the router hands the whole tail of
//! the path to [`dispatch`], which splits it at the last `:`.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;

use super::errors::error_response;
use super::provider::{Provider, query_param};
use super::switches::{self, Pacing};
use super::usage::{
    CACHED_TOKENS, COMPLETION_TOKENS, GEMINI_TOTAL_TOKENS, PROMPT_TOKENS, TEXT, TEXT_PIECES,
    THOUGHTS_TOKENS, running_completion_tokens,
};
use super::wire::{chunked_response, crlf_data_event, json_response, json_string, sse_response};

/// `responseId` of every answer.
pub const RESPONSE_ID: &str = "mock-gemini-response-id";

const PROVIDER: Provider = Provider::Gemini;

/// `/{version}/models/{*rest}`: generation calls by `POST`, one model by `GET`.
pub(crate) async fn dispatch(
    method: Method,
    Path(rest): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query = query.as_deref();
    let pacing = match switches::apply(PROVIDER, &headers, query).await {
        Ok(pacing) => pacing,
        Err(status) => return error_response(PROVIDER, status),
    };
    let rest = rest.trim_start_matches('/');
    if method == Method::GET && !rest.contains(':') {
        return json_response(PROVIDER, model_object(rest));
    }
    let Some((model, call)) = rest.rsplit_once(':') else {
        return error_response(PROVIDER, StatusCode::NOT_FOUND);
    };
    if method != Method::POST {
        return error_response(PROVIDER, StatusCode::NOT_FOUND);
    }
    if serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_err() {
        return error_response(PROVIDER, StatusCode::BAD_REQUEST);
    }
    let model = json_string(model);
    match call {
        "generateContent" => json_response(PROVIDER, generate_content(&model)),
        "streamGenerateContent" => stream(&model, query, pacing),
        _ => error_response(PROVIDER, StatusCode::NOT_FOUND),
    }
}

fn stream(model: &str, query: Option<&str>, pacing: Pacing) -> Response {
    if query.and_then(|query| query_param(query, "alt")) == Some("sse") {
        let events = stream_chunks_repeated(model, pacing.repeat)
            .iter()
            .map(|chunk| crlf_data_event(chunk))
            .collect();
        sse_response(PROVIDER, events, pacing)
    } else {
        let parts = json_array_parts(stream_chunks(model));
        chunked_response(PROVIDER, PROVIDER.json_content_type(), parts, pacing)
    }
}

/// The body of a `generateContent` answer for `model` (a JSON string literal).
pub(crate) fn generate_content(model: &str) -> String {
    response(model, &json_string(TEXT), true, COMPLETION_TOKENS)
}

/// The JSON chunks of a `streamGenerateContent` answer, before framing.
pub(crate) fn stream_chunks(model: &str) -> Vec<String> {
    stream_chunks_repeated(model, 1)
}

/// [`stream_chunks`] with every text piece sent `repeat` times (the reported usage
/// still grows to [`COMPLETION_TOKENS`]).
fn stream_chunks_repeated(model: &str, repeat: usize) -> Vec<String> {
    let pieces = TEXT_PIECES.len() * repeat;
    TEXT_PIECES
        .iter()
        .cycle()
        .take(pieces)
        .enumerate()
        .map(|(index, piece)| {
            let done = index + 1;
            response(
                model,
                &json_string(piece),
                done == pieces,
                running_completion_tokens(done, pieces),
            )
        })
        .collect()
}

/// The SSE events of a `streamGenerateContent?alt=sse` answer.
pub(crate) fn sse_events(model: &str) -> Vec<String> {
    stream_chunks(model)
        .iter()
        .map(|chunk| crlf_data_event(chunk))
        .collect()
}

/// `chunks` as the pieces of one streamed JSON array.
pub(crate) fn json_array_parts(chunks: Vec<String>) -> Vec<String> {
    let last = chunks.len().saturating_sub(1);
    let mut parts: Vec<String> = chunks
        .into_iter()
        .enumerate()
        .map(|(index, chunk)| {
            let mut part = String::with_capacity(chunk.len() + 4);
            part.push_str(if index == 0 { "[" } else { ",\r\n" });
            part.push_str(&chunk);
            if index == last {
                part.push(']');
            }
            part
        })
        .collect();
    if parts.is_empty() {
        parts.push(String::from("[]"));
    }
    parts
}

/// A `GenerateContentResponse` with `text` (a JSON string literal) and the usage after
/// `candidates` output tokens; `finished` adds `"finishReason":"STOP"`.
fn response(model: &str, text: &str, finished: bool, candidates: u64) -> String {
    let finish = if finished {
        r#","finishReason":"STOP""#
    } else {
        ""
    };
    let total = PROMPT_TOKENS + candidates + THOUGHTS_TOKENS;
    debug_assert!(!finished || total == GEMINI_TOTAL_TOKENS);
    format!(
        concat!(
            r#"{{"candidates":[{{"content":{{"parts":[{{"text":{text}}}],"role":"model"}}{finish},"index":0}}],"#,
            r#""usageMetadata":{{"promptTokenCount":{prompt},"candidatesTokenCount":{candidates},"#,
            r#""totalTokenCount":{total},"cachedContentTokenCount":{cached},"#,
            r#""promptTokensDetails":[{{"modality":"TEXT","tokenCount":{prompt}}}],"#,
            r#""cacheTokensDetails":[{{"modality":"TEXT","tokenCount":{cached}}}],"#,
            r#""thoughtsTokenCount":{thoughts}}},"modelVersion":{model},"responseId":"{RESPONSE_ID}"}}"#
        ),
        text = text,
        finish = finish,
        prompt = PROMPT_TOKENS,
        candidates = candidates,
        total = total,
        cached = CACHED_TOKENS,
        thoughts = THOUGHTS_TOKENS,
        model = model,
        RESPONSE_ID = RESPONSE_ID,
    )
}

/// `GET /{version}/models`.
pub(crate) async fn models(headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    if let Err(status) = switches::apply(PROVIDER, &headers, query.as_deref()).await {
        return error_response(PROVIDER, status);
    }
    json_response(PROVIDER, models_body())
}

/// The Gemini model list.
pub(crate) fn models_body() -> String {
    let entries: Vec<String> = ["gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.0-flash"]
        .iter()
        .map(|id| model_object(id))
        .collect();
    format!(r#"{{"models":[{}]}}"#, entries.join(","))
}

/// One `Model` resource; `id` may carry the `models/` prefix or not.
fn model_object(id: &str) -> String {
    let id = id.trim_start_matches("models/");
    let name = json_string(&format!("models/{id}"));
    let display = json_string(id);
    format!(
        concat!(
            r#"{{"name":{name},"version":"001","displayName":{display},"description":"A mock Gemini model.","#,
            r#""inputTokenLimit":1048576,"outputTokenLimit":65536,"#,
            r#""supportedGenerationMethods":["generateContent","countTokens","createCachedContent","batchGenerateContent"],"#,
            r#""temperature":1,"topP":0.95,"topK":64,"maxTemperature":2,"thinking":true}}"#
        ),
        name = name,
        display = display,
    )
}
