//! The exact bytes the mock answers with, so a test can check that a client behind the
//! gateway received the upstream body byte for byte.
//!
//! Every answer is deterministic: ids and timestamps are fixed and only the model named
//! in the request is echoed back.

use super::provider::Provider;
use super::wire::json_string;
use super::{anthropic, gemini, openai, openai_responses};

/// A generation endpoint of the mock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// OpenAI `POST /v1/chat/completions`; `include_usage` is the request's
    /// `stream_options.include_usage` (only matters when streaming).
    ChatCompletions {
        /// Whether the stream ends with a usage chunk.
        include_usage: bool,
    },
    /// OpenAI `POST /v1/responses`.
    Responses,
    /// Anthropic `POST /v1/messages`.
    Messages,
    /// Gemini `:generateContent`, or streamed `:streamGenerateContent?alt=sse`.
    GenerateContent,
}

/// The body `endpoint` answers with for `model`, streamed (the concatenated SSE events)
/// or not.
pub fn expected_body(endpoint: Endpoint, model: &str, stream: bool) -> Vec<u8> {
    if stream {
        return expected_events(endpoint, model).concat().into_bytes();
    }
    let model = json_string(model);
    let body = match endpoint {
        Endpoint::ChatCompletions { .. } => openai::chat_completion(&model),
        Endpoint::Responses => openai_responses::response_object(&model, true),
        Endpoint::Messages => anthropic::message_body(&model),
        Endpoint::GenerateContent => gemini::generate_content(&model),
    };
    body.into_bytes()
}

/// The SSE events of `endpoint`'s streamed answer for `model`, each framed exactly as
/// sent (one body chunk each).
pub fn expected_events(endpoint: Endpoint, model: &str) -> Vec<String> {
    let model = json_string(model);
    match endpoint {
        Endpoint::ChatCompletions { include_usage } => openai::chat_events(&model, include_usage),
        Endpoint::Responses => openai_responses::response_events(&model),
        Endpoint::Messages => anthropic::message_events(&model),
        Endpoint::GenerateContent => gemini::sse_events(&model),
    }
}

/// The body of `GET /v1/models` (OpenAI, Anthropic), `GET /v1beta/models` (Gemini) or
/// `GET /openai/v1/models` (Azure).
pub fn expected_models_body(provider: Provider) -> Vec<u8> {
    let body = match provider {
        Provider::OpenAi | Provider::Azure => openai::models_body(),
        Provider::Anthropic => anthropic::models_body(),
        Provider::Gemini => gemini::models_body(),
    };
    body.into_bytes()
}

/// The body of `POST /v1/embeddings` for `model` with `inputs` inputs of `dimensions`
/// values, as floats or base64.
pub fn expected_embeddings_body(
    model: &str,
    inputs: usize,
    dimensions: usize,
    base64: bool,
) -> Vec<u8> {
    openai::embeddings_body(&json_string(model), inputs, dimensions, base64).into_bytes()
}
