//! A mock upstream that speaks the OpenAI, Anthropic, Gemini and Azure OpenAI wire formats.
//!
//! It answers on the paths the official SDKs call, with the providers' content types,
//! JSON shapes and SSE framing, echoing the requested model and reporting the fixed
//! token counts in [`usage`]. Every answer is deterministic ([`expected`] gives its
//! bytes). Tests steer it per request through [`switches`] (a header, or the upstream
//! credential's prefix), and read back what crossed the wire through
//! [`MockUpstream::requests`].
//!
//! One file per provider dialect; [`wire`] frames bodies, [`server`] routes and serves.

mod anthropic;
mod azure;
pub mod errors;
pub mod expected;
mod gemini;
pub mod leaks;
mod openai;
mod openai_responses;
mod provider;
pub mod recording;
pub mod server;
pub mod switches;
pub mod usage;
mod wire;

pub use errors::{REQUEST_ID, RETRY_AFTER_SECS, error_body};
pub use expected::{
    Endpoint, expected_body, expected_embeddings_body, expected_events, expected_models_body,
};
pub use openai::{EMBEDDING_DIMENSIONS, embedding_value};
pub use provider::Provider;
pub use recording::{RecordedRequest, Recorder};
pub use server::{LISTEN_BACKLOG, MockUpstream, Options, bind, router, serve};
pub use usage::*;

/// Fixed ids the answers carry, per provider.
pub mod ids {
    pub use super::anthropic::MESSAGE_ID as ANTHROPIC_MESSAGE_ID;
    pub use super::gemini::RESPONSE_ID as GEMINI_RESPONSE_ID;
    pub use super::openai::{
        CHAT_ID as OPENAI_CHAT_ID, SYSTEM_FINGERPRINT as OPENAI_SYSTEM_FINGERPRINT,
    };
    pub use super::openai_responses::{
        MESSAGE_ID as RESPONSES_MESSAGE_ID, RESPONSE_ID as RESPONSES_RESPONSE_ID,
    };
}
