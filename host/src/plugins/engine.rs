//! The wasmtime engine shared by all plugins: pooling allocator, epoch
//! interruption driven by a ticker thread, and a linker that grants WASI
//! with nothing in it (clocks and random are fixed per instance, see
//! `determinism`) plus the host `log` import.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::bindings::ProviderPlugin;
use super::state::PluginState;

/// How often the epoch advances; deadlines are whole ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);
/// Core instances, memories and tables one component may use (the Rust
/// guests use a handful; interpreted guests more).
const CORE_INSTANCES_PER_COMPONENT: u32 = 16;
const MEMORIES_PER_COMPONENT: u32 = 2;
const TABLES_PER_COMPONENT: u32 = 8;

/// Limits applied to every plugin call.
#[derive(Debug, Clone, Copy)]
pub struct PluginLimits {
    /// Wall-clock budget of one call.
    pub call_timeout: Duration,
    /// Linear memory one instance may grow to.
    pub memory_bytes: usize,
    /// Instances alive at once across all plugins.
    pub instances: u32,
}

/// Time a call gets on top of the call timeout for every MiB (or part of
/// one) of request or answer body it is handed: reading a body takes time
/// in proportion to its size (a scan of the densest JSON takes about
/// 15 ms a MiB in a plugin), and any body the gateway accepts must be
/// readable within the limits.
pub const CALL_TIME_PER_INPUT_MIB: Duration = Duration::from_millis(64);

impl PluginLimits {
    /// The call timeout in epoch ticks, at least one tick.
    pub fn deadline_ticks(&self) -> u64 {
        ticks(self.call_timeout)
    }

    /// The time budget of a call handed `input_bytes` of body.
    pub fn budget_for(&self, input_bytes: usize) -> Duration {
        let mib = u32::try_from(input_bytes.div_ceil(1 << 20)).unwrap_or(u32::MAX);
        self.call_timeout
            .saturating_add(CALL_TIME_PER_INPUT_MIB.saturating_mul(mib))
    }

    /// [`PluginLimits::budget_for`] in epoch ticks.
    pub fn deadline_ticks_for(&self, input_bytes: usize) -> u64 {
        ticks(self.budget_for(input_bytes))
    }
}

fn ticks(budget: Duration) -> u64 {
    (budget.as_micros() / EPOCH_TICK.as_micros()).max(1) as u64 + 1
}

/// Default bytes of a pooled linear memory kept mapped between requests
/// (reset page by page where written) when the kernel supports
/// PAGEMAP_SCAN (`AI_PROXY_PLUGIN_KEEP_RESIDENT_MIB`).
pub const DEFAULT_KEEP_RESIDENT_BYTES: usize = 8 << 20;
/// The same for tables.
pub const KEEP_RESIDENT_TABLE_BYTES: usize = 64 << 10;

/// The engine, its linker and the limits every store gets.
pub struct PluginEngine {
    pub(super) engine: Engine,
    pub(super) linker: Linker<PluginState>,
    pub(super) limits: PluginLimits,
    /// Instances alive now, across all plugins.
    pub(super) live: AtomicUsize,
}

impl PluginEngine {
    /// Builds the engine and starts the epoch ticker thread (which lives as
    /// long as the process).
    pub fn new(limits: PluginLimits) -> anyhow::Result<Arc<PluginEngine>> {
        PluginEngine::with_keep_resident(limits, DEFAULT_KEEP_RESIDENT_BYTES)
    }

    /// The engine keeping up to `keep_resident` bytes of each pooled
    /// memory mapped between requests (zero: every page goes back to the
    /// system after each request).
    pub fn with_keep_resident(
        limits: PluginLimits,
        keep_resident: usize,
    ) -> anyhow::Result<Arc<PluginEngine>> {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(limits.instances)
            .total_core_instances(
                limits
                    .instances
                    .saturating_mul(CORE_INSTANCES_PER_COMPONENT / 4),
            )
            .total_memories(limits.instances.saturating_mul(MEMORIES_PER_COMPONENT))
            .total_tables(limits.instances.saturating_mul(TABLES_PER_COMPONENT / 2))
            .max_core_instances_per_component(CORE_INSTANCES_PER_COMPONENT)
            .max_memories_per_component(MEMORIES_PER_COMPONENT)
            .max_tables_per_component(TABLES_PER_COMPONENT)
            .total_stacks(limits.instances)
            .max_memory_size(limits.memory_bytes);
        // Each request's instance is returned to the pool when the request
        // ends. By default its memory is reset with `madvise`, which on a
        // multi-threaded process costs a TLB shootdown on every CPU and page
        // faults on the next use. Where the kernel can say which pages were
        // written (PAGEMAP_SCAN, Linux 6.7+), only those are reset in place.
        // The price is memory: a slot keeps what its instances touched, so
        // slots are reused most-recently-first and their number stays the
        // peak number of requests in flight.
        if keep_resident > 0 && PoolingAllocationConfig::is_pagemap_scan_available() {
            pool.pagemap_scan(Enabled::Yes)
                .linear_memory_keep_resident(keep_resident.min(limits.memory_bytes))
                .table_keep_resident(KEEP_RESIDENT_TABLE_BYTES)
                .max_unused_warm_slots(0);
        }
        let mut config = Config::new();
        config
            .epoch_interruption(true)
            .memory_reservation(limits.memory_bytes as u64)
            .memory_guard_size(64 * 1024)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config)?;
        let mut linker = Linker::<PluginState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        ProviderPlugin::add_to_linker::<PluginState, HasSelf<PluginState>>(&mut linker, |s| s)?;

        let ticker = engine.weak();
        std::thread::Builder::new()
            .name("plugin-epoch".into())
            .spawn(move || {
                while let Some(engine) = ticker.upgrade() {
                    engine.increment_epoch();
                    drop(engine);
                    std::thread::sleep(EPOCH_TICK);
                }
            })?;
        Ok(Arc::new(PluginEngine {
            engine,
            linker,
            limits,
            live: AtomicUsize::new(0),
        }))
    }

    /// Instances alive now: requests between their plugin calls hold none.
    pub fn live_instances(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    /// The most instances alive at once (`AI_PROXY_PLUGIN_INSTANCES`).
    pub fn max_instances(&self) -> u32 {
        self.limits.instances
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_gets_more_time_per_mib_of_input_counted_from_its_first_byte() {
        let limits = PluginLimits {
            call_timeout: Duration::from_millis(500),
            memory_bytes: 1 << 20,
            instances: 1,
        };
        assert_eq!(limits.budget_for(0), Duration::from_millis(500));
        assert_eq!(limits.budget_for(1), Duration::from_millis(564));
        assert_eq!(limits.budget_for(1 << 20), Duration::from_millis(564));
        assert_eq!(limits.budget_for((1 << 20) + 1), Duration::from_millis(628));
        assert!(limits.deadline_ticks_for(16 << 20) > limits.deadline_ticks());
    }
}
