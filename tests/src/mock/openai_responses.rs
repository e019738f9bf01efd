//! OpenAI Responses API (`POST /v1/responses`).
//!
//! Without `"stream": true` the answer is one `response` object. With it, the answer is
//! a `text/event-stream` of named events, each also carrying its `type` and a
//! `sequence_number`: `response.created`, `response.in_progress`,
//! `response.output_item.added`, `response.content_part.added`, one
//! `response.output_text.delta` per [`TEXT_PIECES`] entry, `response.output_text.done`,
//! `response.content_part.done`, `response.output_item.done` and `response.completed`
//! (the full response with its usage). There is no `[DONE]` sentinel.

use std::sync::LazyLock;

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::response::Response;

use super::errors::error_response;
use super::provider::Provider;
use super::switches;
use super::usage::{
    CACHED_TOKENS, COMPLETION_TOKENS, CREATED, OPENAI_TOTAL_TOKENS, PROMPT_TOKENS,
    REASONING_TOKENS, TEXT, TEXT_PIECES,
};
use super::wire::{CompletionRequest, json_response, json_string, named_event, sse_response};

/// `id` of every response.
pub const RESPONSE_ID: &str = "resp_mock0000000000000000000000000000";
/// `id` of the message item in every response.
pub const MESSAGE_ID: &str = "msg_mock00000000000000000000000000000";

const PROVIDER: Provider = Provider::OpenAi;

/// The `usage` object of a completed response.
static USAGE: LazyLock<String> = LazyLock::new(|| {
    format!(
        concat!(
            r#"{{"input_tokens":{p},"input_tokens_details":{{"cached_tokens":{cached},"cache_write_tokens":0}},"#,
            r#""output_tokens":{c},"output_tokens_details":{{"reasoning_tokens":{r}}},"total_tokens":{t}}}"#
        ),
        p = PROMPT_TOKENS,
        cached = CACHED_TOKENS,
        c = COMPLETION_TOKENS,
        r = REASONING_TOKENS,
        t = OPENAI_TOTAL_TOKENS,
    )
});

/// `POST /v1/responses`.
pub(crate) async fn responses(headers: HeaderMap, body: Bytes) -> Response {
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
        sse_response(PROVIDER, response_events(&model), pacing)
    } else {
        json_response(PROVIDER, response_object(&model, true))
    }
}

/// The `response` object for `model` (a JSON string literal): completed with its output
/// and usage, or freshly created with neither.
pub(crate) fn response_object(model: &str, completed: bool) -> String {
    let (status, output, usage, completed_at) = if completed {
        (
            "completed",
            format!(
                "[{}]",
                message_item("completed", &output_text(&json_string(TEXT)))
            ),
            USAGE.as_str(),
            CREATED.to_string(),
        )
    } else {
        (
            "in_progress",
            String::from("[]"),
            "null",
            String::from("null"),
        )
    };
    format!(
        concat!(
            r#"{{"id":"{RESPONSE_ID}","object":"response","created_at":{CREATED},"status":"{status}","#,
            r#""background":false,"completed_at":{completed_at},"error":null,"incomplete_details":null,"#,
            r#""instructions":null,"max_output_tokens":null,"max_tool_calls":null,"model":{model},"#,
            r#""output":{output},"parallel_tool_calls":true,"previous_response_id":null,"#,
            r#""prompt_cache_key":null,"reasoning":{{"effort":null,"summary":null}},"safety_identifier":null,"#,
            r#""service_tier":"default","store":true,"temperature":1.0,"#,
            r#""text":{{"format":{{"type":"text"}},"verbosity":"medium"}},"tool_choice":"auto","tools":[],"#,
            r#""top_logprobs":0,"top_p":1.0,"truncation":"disabled","usage":{usage},"user":null,"metadata":{{}}}}"#
        ),
        RESPONSE_ID = RESPONSE_ID,
        CREATED = CREATED,
        status = status,
        completed_at = completed_at,
        model = model,
        output = output,
        usage = usage,
    )
}

/// The message output item with `content` (a JSON array body).
fn message_item(status: &str, content: &str) -> String {
    format!(
        r#"{{"id":"{MESSAGE_ID}","type":"message","status":"{status}","content":[{content}],"role":"assistant"}}"#
    )
}

/// An `output_text` content part with `text` (a JSON string literal).
fn output_text(text: &str) -> String {
    format!(r#"{{"type":"output_text","annotations":[],"logprobs":[],"text":{text}}}"#)
}

/// The SSE events of a streamed response for `model` (a JSON string literal).
pub(crate) fn response_events(model: &str) -> Vec<String> {
    let mut events = Vec::with_capacity(TEXT_PIECES.len() + 8);
    let mut push = |name: &str, fields: &str| {
        let sequence = events.len();
        let json = format!(r#"{{"type":"{name}","sequence_number":{sequence},{fields}}}"#);
        events.push(named_event(name, &json));
    };
    let created = response_object(model, false);
    let text = json_string(TEXT);
    let item_ids = format!(r#""item_id":"{MESSAGE_ID}","output_index":0,"content_index":0"#);

    push("response.created", &format!(r#""response":{created}"#));
    push("response.in_progress", &format!(r#""response":{created}"#));
    push(
        "response.output_item.added",
        &format!(
            r#""output_index":0,"item":{}"#,
            message_item("in_progress", "")
        ),
    );
    push(
        "response.content_part.added",
        &format!(r#"{item_ids},"part":{}"#, output_text(r#""""#)),
    );
    for piece in TEXT_PIECES {
        push(
            "response.output_text.delta",
            &format!(r#"{item_ids},"delta":{},"logprobs":[]"#, json_string(piece)),
        );
    }
    push(
        "response.output_text.done",
        &format!(r#"{item_ids},"text":{text},"logprobs":[]"#),
    );
    push(
        "response.content_part.done",
        &format!(r#"{item_ids},"part":{}"#, output_text(&text)),
    );
    push(
        "response.output_item.done",
        &format!(
            r#""output_index":0,"item":{}"#,
            message_item("completed", &output_text(&text))
        ),
    );
    push(
        "response.completed",
        &format!(r#""response":{}"#, response_object(model, true)),
    );
    events
}
