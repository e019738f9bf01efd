//! The built-in provider plugins, compiled by `build.rs` from `plugins/`
//! and embedded so that `cargo run` alone gives a working gateway.

/// `(name, component bytes)` of every built-in plugin.
pub const BUILTIN_PLUGINS: &[(&str, &[u8])] = &[
    (
        "openai",
        include_bytes!(concat!(env!("OUT_DIR"), "/plugin_openai.wasm")),
    ),
    (
        "anthropic",
        include_bytes!(concat!(env!("OUT_DIR"), "/plugin_anthropic.wasm")),
    ),
    (
        "gemini",
        include_bytes!(concat!(env!("OUT_DIR"), "/plugin_gemini.wasm")),
    ),
];
