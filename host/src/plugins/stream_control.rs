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
    optional_export(engine, component, INTERFACE, TERMINAL_EVENT)
}

/// Where function `func` of the optional interface `interface` is in
/// `component`, if it exports one of a WIT version this host speaks.
pub fn optional_export(
    engine: &Engine,
    component: &Component,
    interface: &str,
    func: &str,
) -> Option<ComponentExportIndex> {
    let name = component
        .component_type()
        .exports(engine)
        .map(|(name, _)| name)
        .find(|name| {
            name.strip_prefix(WIT_PACKAGE)
                .and_then(|rest| rest.strip_prefix('/'))
                .is_some_and(|rest| rest.starts_with(&format!("{interface}@")))
                && package_version(name).is_some_and(supported)
        })?
        .to_owned();
    let interface = component.get_export_index(None, &name)?;
    component.get_export_index(Some(&interface), func)
}

/// The typed function at `index` in `instance`, or why it does not fit.
pub fn typed(
    store: impl wasmtime::AsContextMut,
    instance: &Instance,
    index: ComponentExportIndex,
) -> wasmtime::Result<TerminalEventFunc> {
    instance.get_typed_func::<(ResourceAny, EndReason), (Vec<u8>,)>(store, index)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::{BUILTIN_PLUGINS, LoadedPlugin, PluginEngine, PluginLimits};
    use super::*;

    #[tokio::test]
    async fn built_in_plugins_export_stream_control_and_end_a_started_stream() {
        let engine = PluginEngine::new(PluginLimits {
            call_timeout: Duration::from_secs(2),
            memory_bytes: 16 << 20,
            instances: 4,
        })
        .expect("engine");
        let first_events: [(&str, &[u8]); 3] = [
            ("openai", b"data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n"),
            ("anthropic", b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n"),
            ("gemini", b"data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hi\"}]}}]}\r\n\r\n"),
        ];
        for (name, bytes) in BUILTIN_PLUGINS {
            let plugin = LoadedPlugin::load(&engine, bytes.to_vec())
                .await
                .expect("loads");
            assert!(plugin.has_stream_control(), "{name}");
            let mut instance = plugin.instantiate("test").await.expect("instance");
            let parser = instance.stream_parser().await.expect("parser");
            let empty = instance
                .terminal_event(&parser, EndReason::QuotaExhausted)
                .await
                .expect("call");
            // Before any event only OpenAI can say something (`[DONE]`).
            assert_eq!(empty.is_some(), *name == "openai", "{name}");
            let (_, first) = first_events
                .iter()
                .find(|(n, _)| n == name)
                .expect("an event for every built-in");
            instance.feed(&parser, first).await.expect("feed");
            let end = instance
                .terminal_event(&parser, EndReason::QuotaExhausted)
                .await
                .expect("call")
                .expect("a terminal event");
            let text = String::from_utf8(end).expect("utf-8");
            assert!(
                text.starts_with("data: ") || text.starts_with("event: "),
                "{name}: {text}"
            );
            assert!(
                text.ends_with("\n\n") || text.ends_with("\r\n\r\n"),
                "{name}: {text}"
            );
        }
    }

    #[test]
    fn a_component_without_the_export_has_no_stream_control() {
        let engine = Engine::default();
        let bytes = super::super::validate::component_importing("ai-proxy:provider/host@0.1.0");
        let component = Component::new(&engine, bytes).expect("a valid component");
        assert_eq!(find(&engine, &component), None);
    }
}
