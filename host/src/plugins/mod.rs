//! Provider plugins: WebAssembly components run under wasmtime.
//!
//! A component is compiled once ([`LoadedPlugin`]) and pre-instantiated;
//! a request makes fresh, cheap instances ([`PluginInstance`]) from the
//! pooling allocator when it has calls to make and lets them go in between
//! ([`PluginCalls`]), so nothing one request's plugin call sees can reach
//! another, and a request waiting on its upstream holds no instance. Every call runs under an epoch deadline and a memory cap; a
//! trap, a timeout or a memory overrun becomes a [`PluginFailure`] for that
//! request only, and the instance is thrown away.
//!
//! Plugins get WASI with nothing granted (no files, sockets, environment
//! or arguments; output streams go nowhere; clocks stopped at zero and
//! fixed-seed random, see `determinism`) and one import of our own,
//! `log`, which is tagged with the plugin name and request id and capped
//! per instance.

mod bindings;
mod blame;
mod builtin;
mod call_log;
mod calls;
mod caps;
mod determinism;
mod endpoints;
mod engine;
mod error_class;
mod failure;
mod instance;
mod instantiate;
mod loaded;
mod metrics;
mod precompiled;
mod state;
mod stream_control;
mod stream_state;
mod validate;

/// Start of the reason stored with a version the failure guard disabled;
/// the start-up enables versions whose reason starts so.
pub const AUTO_DISABLED: &str = "disabled automatically";

pub use bindings::types;
pub use blame::{ClientBlame, MAX_BLAMED_CLIENTS};
pub use builtin::BUILTIN_PLUGINS;
pub use call_log::{
    CallEnd, MAX_PLUGIN_CALL_SPANS, PluginCallLog, PluginCallSpan, PluginCallsSeen,
};
pub use calls::PluginCalls;
pub use caps::MAX_CLASSIFIED_BODY_BYTES;
pub use endpoints::{Endpoint, EndpointClass, EndpointTable, MAX_ENDPOINTS};
pub use engine::{DEFAULT_KEEP_RESIDENT_BYTES, EPOCH_TICK, PluginEngine, PluginLimits};
pub use error_class::error_class_name;
pub use failure::{FailureKind, PluginFailure};
pub use instance::{PluginInstance, StreamParser};
pub use loaded::LoadedPlugin;
pub use metrics::{CallOutcome, MetricsView, PluginMetrics, RecentFailures};
pub use precompiled::PluginCache;
pub use stream_control::{EndReason, MAX_TERMINAL_EVENT_BYTES};
pub use stream_state::{Fed, MAX_STREAM_STATE_BYTES};
pub use validate::{DEFAULT_MAX_PLUGIN_BYTES, LoadError, check_bytes};

/// Headers as plugins receive them; values that are not text are left out.
pub fn header_list(headers: &http::HeaderMap) -> Vec<types::Header> {
    headers
        .iter()
        .filter_map(|(name, value)| {
            Some(types::Header {
                name: name.as_str().to_owned(),
                value: value.to_str().ok()?.to_owned(),
            })
        })
        .collect()
}
