//! The optional `stream-control` interface of `wit/provider.wit`: a plugin
//! that exports it can end a running stream early in its provider's own
//! format (the proxy uses it to cut a stream at a client's quota).
//!
//! The interface is optional so that plugins built before it existed keep
//! loading: the host's generated bindings cover only the mandatory
//! `provider-plugin` world, and this module looks `terminal-event` up by
//! name once, when a plugin loads. An export that is missing, or whose type
//! does not match, leaves the plugin without stream control (never
//! rejected: a component the gateway accepted before still loads).

use wasmtime::Engine;
use wasmtime::component::{
    Component, ComponentExportIndex, ComponentType, Instance, Lower, ResourceAny, TypedFunc,
};

use super::validate::{WIT_PACKAGE, package_version, supported};

/// The interface's name inside the WIT package.
pub const INTERFACE: &str = "stream-control";
/// The function that returns a stream's terminal bytes.
pub const TERMINAL_EVENT: &str = "terminal-event";
/// Largest terminal-event answer the host writes to a client; a larger one
/// is treated as "cannot end this stream" (a plugin bug, logged).
pub const MAX_TERMINAL_EVENT_BYTES: usize = 64 * 1024;

/// Why the host ends a stream (`stream-control.end-reason`).
#[derive(ComponentType, Lower, Clone, Copy, Debug, PartialEq, Eq)]
#[component(enum)]
#[repr(u8)]
pub enum EndReason {
    #[component(name = "quota-exhausted")]
    QuotaExhausted,
}

/// `terminal-event` as the host calls it: the stream parser (borrowed)
/// and the reason, returning the bytes to write.
pub type TerminalEventFunc = TypedFunc<(ResourceAny, EndReason), (Vec<u8>,)>;

/// Where `terminal-event` is in `component`, if it exports a
/// `stream-control` interface of a WIT version this host speaks.
pub fn find(engine: &Engine, component: &Component) -> Option<ComponentExportIndex> {
    let name = component
        .component_type()
        .exports(engine)
        .map(|(name, _)| name)
        .find(|name| {
            name.strip_prefix(WIT_PACKAGE)
                .and_then(|rest| rest.strip_prefix('/'))
                .is_some_and(|rest| rest.starts_with(&format!("{INTERFACE}@")))
                && package_version(name).is_some_and(supported)
        })?
        .to_owned();
    let interface = component.get_export_index(None, &name)?;
    component.get_export_index(Some(&interface), TERMINAL_EVENT)
}

/// The typed function at `index` in `instance`, or why it does not fit.
pub fn typed(
    store: impl wasmtime::AsContextMut,
    instance: &Instance,
    index: ComponentExportIndex,
) -> wasmtime::Result<TerminalEventFunc> {
    instance.get_typed_func::<(ResourceAny, EndReason), (Vec<u8>,)>(store, index)
}
