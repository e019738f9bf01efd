//! Per-instance host state: an empty, deterministic WASI context, the
//! memory limiter and the `log` import.

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::ai_proxy::provider::{host, types};
use super::determinism::make_deterministic;

/// Log lines one instance may write; later lines are dropped.
pub const MAX_LOG_LINES_PER_INSTANCE: u32 = 32;
/// Longest log line kept; longer lines are cut.
pub const MAX_LOG_LINE_BYTES: usize = 1024;

/// What a store carries for one plugin instance.
pub struct PluginState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(super) limiter: MemoryLimiter,
    plugin: String,
    request_id: String,
    log_lines: u32,
}

impl PluginState {
    pub fn new(plugin: &str, request_id: &str, memory_bytes: usize) -> PluginState {
        PluginState {
            // Nothing granted: no preopens, env, args, sockets or name
            // lookups; clocks and random are fixed (see `determinism`).
            wasi: make_deterministic(&mut WasiCtx::builder()).build(),
            table: ResourceTable::new(),
            limiter: MemoryLimiter {
                cap: memory_bytes,
                denied: false,
            },
            plugin: plugin.to_owned(),
            request_id: request_id.to_owned(),
            log_lines: 0,
        }
    }
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl types::Host for PluginState {}

impl host::Host for PluginState {
    fn log(&mut self, level: types::LogLevel, message: String) {
        self.log_lines += 1;
        if self.log_lines > MAX_LOG_LINES_PER_INSTANCE {
            return;
        }
        let mut message = message;
        if message.len() > MAX_LOG_LINE_BYTES {
            let mut cut = MAX_LOG_LINE_BYTES;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
        }
        let (plugin, request_id) = (&self.plugin, &self.request_id);
        match level {
            types::LogLevel::Trace => tracing::trace!(plugin, request_id, "{message}"),
            types::LogLevel::Debug => tracing::debug!(plugin, request_id, "{message}"),
            types::LogLevel::Info => tracing::info!(plugin, request_id, "{message}"),
            types::LogLevel::Warn => tracing::warn!(plugin, request_id, "{message}"),
            types::LogLevel::Error => tracing::error!(plugin, request_id, "{message}"),
        }
    }
}

/// Caps linear memory and remembers whether it had to say no.
pub struct MemoryLimiter {
    cap: usize,
    pub(super) denied: bool,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = desired <= self.cap;
        self.denied |= !allowed;
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}
