//! Test support for the gateway.
//!
//! [`mock`] is an upstream that answers like the OpenAI, Anthropic, Gemini and Azure OpenAI APIs do on
//! the wire (same paths, content types, JSON shapes and SSE framing), so the gateway's
//! tests, the Python SDK suite in `tests/python/` and the benchmark can run without a real
//! provider. The `mock-upstream` binary serves the same router on a port of your choice.
//! [`gateway`] starts the gateway under test, as the binary or in this process ([`in_process`]).
//! [`raw_upstream`] is an upstream below HTTP that writes exact bytes, for broken and hostile answers.

pub mod mock;
pub mod oauth_server;

pub mod gateway;
pub mod in_process;
pub mod migrations;
pub mod multikey;
pub mod podman;
pub mod pools;
pub mod postgres;
pub mod raw_upstream;
pub mod redis;
