//! The OpenAI wire format, which many providers speak: OpenAI itself, Azure
//! OpenAI, and the "OpenAI-compatible" APIs (DeepSeek, Mistral, Groq, ...).
//!
//! A plugin for such a provider only writes what differs (where the
//! credential goes, the paths, the error codes) and takes the rest here:
//! - [`inspect`]: the model and the stream flag from the JSON body;
//! - [`ask_for_stream_usage`]: streamed completions report usage only when
//!   asked with `stream_options.include_usage`, so `prepare` turns it on;
//! - [`usage_from_body`] and [`usage_from_event`]: both shapes of `usage`
//!   object (chat/completions/embeddings and the Responses API), whole and
//!   streamed.

use serde_json::Value;

use crate::endpoints::{Endpoint, EndpointClass};
use crate::json::scan;
use crate::{PluginError, RequestFacts, RequestHead, SseEvent, Usage, http, json};

/// Ends the paths whose streams report usage only when asked to: chat
/// completions and legacy completions (`/v1/chat/completions`,
/// `/openai/deployments/{name}/completions`, ...).
pub const USAGE_OPT_IN_SUFFIX: &str = "/completions";

/// OpenAI's endpoints and their classes, for [`Provider::endpoints`](crate::Provider::endpoints)
/// of OpenAI and the APIs that copy its paths. Stored objects that other
/// tenants of an upstream key could read (stored responses, vector stores,
/// assistants, threads) are `other`.
pub fn endpoints() -> Vec<Endpoint> {
    use EndpointClass::*;
    let post = |path: &str, class| Endpoint::new("POST", path, class);
    vec![
        post("/v1/chat/completions", Inference),
        post("/v1/completions", Inference),
        post("/v1/responses", Inference),
        post("/v1/responses/input_tokens", TokenCounting),
        post("/v1/images/generations", Inference),
        post("/v1/images/edits", Inference),
        post("/v1/images/variations", Inference),
        post("/v1/audio/speech", Inference),
        post("/v1/audio/transcriptions", Inference),
        post("/v1/audio/translations", Inference),
        post("/v1/moderations", Inference),
        post("/v1/embeddings", Embeddings),
        Endpoint::new("GET", "/v1/models", Models),
        Endpoint::new("GET", "/v1/models/*", Models),
        Endpoint::new("*", "/v1/files/**", Files),
        Endpoint::new("*", "/v1/uploads/**", Files),
        Endpoint::new("*", "/v1/batches/**", Batches),
        Endpoint::new("*", "/v1/fine_tuning/**", FineTuning),
    ]
}

/// The model (`model`, a string) and the stream flag (`stream: true`) of a
/// JSON request body: [`inspect::json_body`](crate::inspect::json_body),
/// which works for any provider whose requests carry both at the top level.
pub fn inspect(head: &RequestHead, body: &[u8]) -> Result<RequestFacts, PluginError> {
    crate::inspect::json_body(head, body)
}

pub use crate::inspect::declares_json;

/// The request body as JSON: `None` when it is empty or in another format
/// (multipart uploads); an error when `content-type` claims JSON but the
/// body is not. This builds the whole document: use it only on bodies
/// known to be small, and [`json::scan`] otherwise.
pub fn json_request(head: &RequestHead, body: &[u8]) -> Result<Option<Value>, PluginError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    match json::parse(body) {
        Some(value) => Ok(Some(value)),
        None if declares_json(head) => Err(PluginError::BadRequest(
            "request body is not valid JSON".to_owned(),
        )),
        None => Ok(None),
    }
}

/// For a streamed completion (a path ending in [`USAGE_OPT_IN_SUFFIX`]) that
/// does not already ask for usage, the body with
/// `stream_options.include_usage` set; `None` when the body needs no change.
///
/// The change is spliced into the body text (never re-encoded), so every
/// other byte reaches the provider as the client wrote it; the body is read
/// with [`json::scan`], so its size does not matter.
pub fn ask_for_stream_usage(
    head: &RequestHead,
    body: &[u8],
) -> Result<Option<Vec<u8>>, PluginError> {
    if !http::path_only(&head.path).ends_with(USAGE_OPT_IN_SUFFIX)
        || body.iter().all(u8::is_ascii_whitespace)
    {
        return Ok(None);
    }
    let [stream, options] = match scan::fields(body, ["stream", "stream_options"]) {
        Ok(found) => found,
        Err(error) if declares_json(head) => return Err(crate::inspect::not_json(error)),
        Err(_) => return Ok(None),
    };
    if stream.and_then(|r| body.get(r)) != Some(b"true") {
        return Ok(None);
    }
    let Some(options) = options else {
        return Ok(Some(splice_first_field(
            body,
            r#""stream_options":{"include_usage":true}"#,
        )));
    };
    let text = body.get(options.clone()).unwrap_or_default();
    let include = if text.starts_with(b"{") {
        scan::fields(text, ["include_usage"])
            .map_err(crate::inspect::not_json)?
            .into_iter()
            .next()
            .flatten()
    } else {
        None
    };
    let (at, with): (std::ops::Range<usize>, Vec<u8>) = match include {
        Some(r) if text.get(r.clone()) == Some(b"true") => return Ok(None),
        // `include_usage` set to something else: it becomes `true`.
        Some(r) => (
            options.start + r.start..options.start + r.end,
            b"true".to_vec(),
        ),
        // An object without it: it becomes the object's first member.
        None if text.starts_with(b"{") => (
            options.clone(),
            splice_first_field(text, r#""include_usage":true"#),
        ),
        // `null` or anything else: replaced by an object that asks.
        None => (options.clone(), br#"{"include_usage":true}"#.to_vec()),
    };
    let mut out = Vec::with_capacity(body.len() + with.len());
    out.extend_from_slice(body.get(..at.start).unwrap_or_default());
    out.extend_from_slice(&with);
    out.extend_from_slice(body.get(at.end..).unwrap_or_default());
    Ok(Some(out))
}

/// `original` (a JSON object) with `field` inserted as its first member.
fn splice_first_field(original: &[u8], field: &str) -> Vec<u8> {
    let open = original.iter().position(|&b| b == b'{').unwrap_or_default();
    let (head, rest) = original.split_at(open + 1);
    let empty = rest.trim_ascii_start().starts_with(b"}");
    let mut out = Vec::with_capacity(original.len() + field.len() + 1);
    out.extend_from_slice(head);
    out.extend_from_slice(field.as_bytes());
    if !empty {
        out.push(b',');
    }
    out.extend_from_slice(rest);
    out
}

/// Usage from a whole JSON answer; `None` without a `usage` object. Only
/// the `usage` member is parsed, so the answer's size does not matter.
pub fn usage_from_body(body: &[u8]) -> Option<Usage> {
    usage_from_object(&json::field(body, "usage").ok()??)
}

/// Updates a stream's usage with one event: a chat chunk's `usage` (only
/// the last chunk carries one; the others say `null`) or the `usage` of a
/// Responses stream's final `response`. The latest usage replaces the
/// previous one.
///
/// This runs for every event of every stream, so the event is never
/// parsed whole: an event without the word `usage` is skipped unread, and
/// the others are scanned for the one member and only that is parsed.
pub fn usage_from_event(event: &SseEvent, usage: &mut Option<Usage>) {
    let data = event.data.as_bytes();
    if !json::may_contain_key(data, "usage") {
        return;
    }
    // `[DONE]` and keep-alives are not JSON.
    let Ok([top, response]) = scan::fields(data, ["usage", "response"]) else {
        return;
    };
    // A top-level `usage`, even `null`, is the chunk's answer.
    let object = match (top, response) {
        (Some(at), _) => data
            .get(at)
            .filter(|raw| *raw != b"null")
            .and_then(|raw| serde_json::from_slice::<Value>(raw).ok()),
        (None, Some(at)) => data
            .get(at)
            .and_then(|response| json::field(response, "usage").ok().flatten()),
        (None, None) => None,
    };
    if let Some(found) = object.as_ref().and_then(usage_from_object) {
        *usage = Some(found);
    }
}

/// Reads either shape of `usage` object:
/// - `prompt_tokens`, `completion_tokens`,
///   `prompt_tokens_details.cached_tokens`,
///   `completion_tokens_details.reasoning_tokens` (chat, completions,
///   embeddings);
/// - `input_tokens`, `output_tokens`, `input_tokens_details.cached_tokens`,
///   `output_tokens_details.reasoning_tokens` (Responses, images).
///
/// Prompt counts already include cached tokens and completion counts
/// reasoning tokens, as [`Usage`] wants. `None` for `null` or an object of
/// neither shape (such as a transcription's `duration` usage).
pub fn usage_from_object(usage: &Value) -> Option<Usage> {
    let u = |path: &[&str]| json::u64_at(usage, path);
    if usage.get("prompt_tokens").is_some() {
        Some(Usage {
            input_tokens: u(&["prompt_tokens"]),
            output_tokens: u(&["completion_tokens"]),
            cached_input_tokens: u(&["prompt_tokens_details", "cached_tokens"]),
            cache_write_tokens: 0,
            reasoning_tokens: u(&["completion_tokens_details", "reasoning_tokens"]),
        })
    } else if usage.get("input_tokens").is_some() {
        Some(Usage {
            input_tokens: u(&["input_tokens"]),
            output_tokens: u(&["output_tokens"]),
            cached_input_tokens: u(&["input_tokens_details", "cached_tokens"]),
            cache_write_tokens: 0,
            reasoning_tokens: u(&["output_tokens_details", "reasoning_tokens"]),
        })
    } else {
        None
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;
    use crate::Header;

    fn post(path: &str) -> RequestHead {
        RequestHead {
            method: "POST".to_owned(),
            path: path.to_owned(),
            headers: vec![Header {
                name: "content-type".to_owned(),
                value: "application/json".to_owned(),
            }],
        }
    }

    #[test]
    fn stream_usage_is_asked_for_on_completions_paths_only() {
        let body = br#"{"model":"m","stream":true}"#;
        let spliced = br#"{"stream_options":{"include_usage":true},"model":"m","stream":true}"#;
        for path in [
            "/v1/chat/completions",
            "/openai/deployments/d/chat/completions?api-version=2024-10-21",
            "/v1/completions",
        ] {
            let got = ask_for_stream_usage(&post(path), body).expect("valid");
            assert_eq!(got.as_deref(), Some(&spliced[..]), "{path}");
        }
        assert_eq!(ask_for_stream_usage(&post("/v1/responses"), body), Ok(None));
    }

    #[test]
    fn stream_usage_leaves_unstreamed_and_opted_in_bodies_alone() {
        let path = "/v1/chat/completions";
        assert_eq!(
            ask_for_stream_usage(&post(path), br#"{"model":"m"}"#),
            Ok(None)
        );
        let opted_in = br#"{"stream":true,"stream_options":{"include_usage":true}}"#;
        assert_eq!(ask_for_stream_usage(&post(path), opted_in), Ok(None));
    }

    #[test]
    fn stream_usage_on_non_object_body_is_bad_request() {
        let got = ask_for_stream_usage(&post("/v1/chat/completions"), b"[1]");
        assert_eq!(got, Ok(None), "an array has no `stream: true`");
        let got = ask_for_stream_usage(&post("/v1/chat/completions"), b"{");
        assert!(matches!(got, Err(PluginError::BadRequest(_))));
    }

    #[test]
    fn stream_usage_is_spliced_into_the_options_the_client_sent() {
        let ask = |body: &str| {
            ask_for_stream_usage(&post("/v1/chat/completions"), body.as_bytes())
                .expect("valid")
                .map(|b| String::from_utf8(b).expect("utf-8"))
        };
        assert_eq!(
            ask(r#"{"stream":true,"stream_options":{"x":1}, "n": 1}"#).as_deref(),
            Some(r#"{"stream":true,"stream_options":{"include_usage":true,"x":1}, "n": 1}"#)
        );
        assert_eq!(
            ask(r#"{"stream":true,"stream_options":{"include_usage":false}}"#).as_deref(),
            Some(r#"{"stream":true,"stream_options":{"include_usage":true}}"#)
        );
        assert_eq!(
            ask(r#"{"stream":true,"stream_options":null}"#).as_deref(),
            Some(r#"{"stream":true,"stream_options":{"include_usage":true}}"#)
        );
    }

    #[test]
    fn splice_into_empty_object_adds_no_comma() {
        assert_eq!(
            splice_first_field(b" { } ", r#""a":1"#),
            br#" {"a":1 } "#.to_vec()
        );
    }

    #[test]
    fn usage_object_of_either_shape_is_read() {
        let chat = serde_json::json!({"prompt_tokens": 9, "completion_tokens": 4,
            "prompt_tokens_details": {"cached_tokens": 2}});
        let responses = serde_json::json!({"input_tokens": 9, "output_tokens": 4,
            "output_tokens_details": {"reasoning_tokens": 3}});
        let expected = Usage {
            input_tokens: 9,
            output_tokens: 4,
            ..Usage::ZERO
        };
        assert_eq!(
            usage_from_object(&chat),
            Some(Usage {
                cached_input_tokens: 2,
                ..expected
            })
        );
        assert_eq!(
            usage_from_object(&responses),
            Some(Usage {
                reasoning_tokens: 3,
                ..expected
            })
        );
        assert_eq!(usage_from_object(&Value::Null), None);
    }

    /// The event parsed whole, as [`usage_from_event`] read it before it scanned.
    fn usage_parsing_whole(event: &SseEvent, usage: &mut Option<Usage>) {
        let Some(data) = event.json() else {
            return;
        };
        let object = data
            .get("usage")
            .or_else(|| json::at(&data, &["response", "usage"]));
        if let Some(found) = object.and_then(usage_from_object) {
            *usage = Some(found);
        }
    }

    #[test]
    fn scanning_an_event_for_usage_reads_what_parsing_it_whole_reads() {
        let before = Some(Usage {
            input_tokens: 1,
            ..Usage::ZERO
        });
        for data in [
            "[DONE]",
            "",
            r#"{"usage":null}"#,
            r#"{"usage":null,"response":{"usage":{"input_tokens":3,"output_tokens":1}}}"#,
            r#"{"response":{"usage":{"input_tokens":3,"output_tokens":1}},"type":"x"}"#,
            r#"{"response":{"usage":null}}"#,
            r#"{"response":"usage"}"#,
            r#"{"usage":{"prompt_tokens":5,"completion_tokens":2}}"#,
            r#"{"\u0075sage":{"prompt_tokens":5}}"#,
            r#"{"choices":[{"delta":{"usage":{"prompt_tokens":1}}}]}"#,
            r#"[{"usage":{"prompt_tokens":1}}]"#,
            r#"{"usage":{"prompt_tokens":1},"usage":null}"#,
            r#"{"usage":null,"usage":{"prompt_tokens":7}}"#,
            r#"{"usage":{"prompt_tokens":1}"#,
            r#"{"usage":{"type":"duration","seconds":9}}"#,
            r#""usage""#,
            r#"{"usage":[1]}"#,
            r#"{"choices":[{"delta":{"content":"no \n usage here"}}]}"#,
        ] {
            for start in [None, before] {
                let event = SseEvent {
                    event: None,
                    data: data.to_owned(),
                };
                let (mut scanned, mut parsed) = (start, start);
                usage_from_event(&event, &mut scanned);
                usage_parsing_whole(&event, &mut parsed);
                assert_eq!(scanned, parsed, "{data}");
            }
        }
    }
}
