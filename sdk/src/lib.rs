//! The guest SDK for ai-proxy provider plugins written in Rust.
//!
//! A plugin is one implementation of [`Provider`] plus one
//! [`export_provider!`] line; build it with
//! `cargo build --release --target wasm32-wasip2` and the result is a
//! component the gateway loads. The helpers ([`sse`], [`json`], [`price`],
//! [`classify`], [`http`]) cover what every provider needs, and [`openai`]
//! the wire format many providers share, [`credential`] places the key as
//! `info()` declares it, so a plugin only writes what is
//! specific to its provider. [`stream_end`] ends OpenAI-format streams
//! early (`stream-control`), when the gateway cuts a stream at a quota.
//!
//! Everything here is plain Rust and runs natively too, so plugin logic is
//! unit-tested with `cargo test` without any WebAssembly tooling.

pub mod classify;
pub mod credential;
pub mod endpoints;
pub mod http;
pub mod inspect;
pub mod json;
pub mod openai;
pub mod price;
pub mod sse;
pub mod stream_end;
pub mod testing;

mod adapter;
mod provider;
mod snapshot;

pub use adapter::{
    Adapter, BYTES_PER_OUTPUT_TOKEN, StreamParserAdapter, StreamState, parse_stream,
};
pub use provider::Provider;
pub use snapshot::BadState;
pub use sse::SseEvent;

/// The JSON library the SDK's public functions take and return
/// ([`serde_json::Value`]), re-exported so a plugin need not add it at a
/// version that might differ.
pub use serde_json;

/// Bindings generated from `wit/provider.wit`.
#[allow(unsafe_code, missing_docs, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "provider-plugin-with-stream-state",
        path: "../wit",
        default_bindings_module: "ai_proxy_sdk::bindings",
        pub_export_macro: true,
        export_macro_name: "__export_provider_plugin",
        additional_derives: [PartialEq, Eq],
    });
}

pub use bindings::ai_proxy::provider::types::{
    CredentialStyle, ErrorClass, Header, HealthProbe, LogLevel, OauthEndpoints, OutboundRequest,
    PluginError, Price, ProviderInfo, RequestFacts, RequestHead, Usage,
};
pub use bindings::exports::ai_proxy::provider::stream_control::EndReason;

/// Writes a line to the gateway's log (natively, to stderr).
pub fn log(level: LogLevel, message: &str) {
    #[cfg(target_arch = "wasm32")]
    bindings::ai_proxy::provider::host::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("[{level:?}] {message}");
}

/// Exports a [`Provider`] implementation as the plugin's component exports.
///
/// ```ignore
/// struct MyProvider;
/// impl ai_proxy_sdk::Provider for MyProvider { /* ... */ }
/// ai_proxy_sdk::export_provider!(MyProvider);
/// ```
#[macro_export]
macro_rules! export_provider {
    ($provider:ty) => {
        // Component exports only exist in WebAssembly: natively the export
        // names (`ai-proxy:provider/provider@0.1.0#...`) are not valid
        // symbol names for the linker, and native builds are for tests.
        #[cfg(target_arch = "wasm32")]
        type __AiProxyExportedProvider = $crate::Adapter<$provider>;
        #[cfg(target_arch = "wasm32")]
        $crate::bindings::__export_provider_plugin!(
            __AiProxyExportedProvider with_types_in $crate::bindings
        );
    };
}

impl Usage {
    /// All counts zero.
    pub const ZERO: Usage = Usage {
        input_tokens: 0,
        output_tokens: 0,
        cached_input_tokens: 0,
        cache_write_tokens: 0,
        reasoning_tokens: 0,
    };
}

impl Default for Usage {
    fn default() -> Self {
        Usage::ZERO
    }
}

impl HealthProbe {
    /// A `GET` of `path` without headers or body: the cheap, free probe
    /// most providers offer (`HealthProbe::get("/v1/models")`). The host
    /// sends it through `prepare`, which places the credential.
    pub fn get(path: &str) -> HealthProbe {
        HealthProbe {
            method: "GET".to_owned(),
            path: path.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
}

impl RequestHead {
    /// The first value of header `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        http::header(&self.headers, name)
    }
}
