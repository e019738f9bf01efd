//! A compiled, pre-instantiated plugin component.

use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::Store;
use wasmtime::component::{Component, ComponentExportIndex, Instance};

use super::bindings::{ProviderPlugin, ProviderPluginIndices, ProviderPluginPre};
use super::endpoints::{self, EndpointTable};
use super::engine::{PluginEngine, PluginLimits};
use super::metrics::PluginMetrics;
use super::precompiled::PluginCache;
use super::state::PluginState;
use super::stream_control;
use super::stream_state::StreamStateExports;
use super::types;
use super::validate::{LoadError, check_info, check_interface, world_error};

/// A plugin ready to serve: compiled once, type-checked against the
/// linker once, with its self-description read.
pub struct LoadedPlugin {
    pub name: String,
    pub version: String,
    pub sha256: String,
    pub info: types::ProviderInfo,
    pub default_prices: Vec<types::Price>,
    /// Shared by every copy of this version (whatever its limits).
    pub metrics: Arc<PluginMetrics>,
    pub(super) component: Component,
    pub(super) pre: ProviderPluginPre<PluginState>,
    pub(super) indices: ProviderPluginIndices,
    /// `stream-control.terminal-event`, when the plugin exports it.
    terminal_event: Option<ComponentExportIndex>,
    /// `stream-state`, when the plugin exports it.
    stream_state: Option<StreamStateExports>,
    /// The endpoints the plugin declares (`endpoints`), read at load.
    pub endpoints: EndpointTable,
    pub(super) engine: Arc<PluginEngine>,
    pub(super) limits: PluginLimits,
}

impl LoadedPlugin {
    /// Compiles `bytes` (on a blocking thread) and loads the component.
    pub async fn load(
        engine: &Arc<PluginEngine>,
        bytes: Vec<u8>,
    ) -> Result<Arc<LoadedPlugin>, LoadError> {
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let compile_engine = engine.engine.clone();
        let component =
            tokio::task::spawn_blocking(move || Component::new(&compile_engine, &bytes))
                .await
                .map_err(|e| LoadError::Compile(format!("compile task failed: {e}")))?
                .map_err(|e| LoadError::Compile(format!("{e:#}")))?;
        Self::from_component(engine, component, sha256).await
    }

    /// Like [`LoadedPlugin::load`], using and filling the precompiled
    /// artifact cache.
    pub async fn load_cached(
        engine: &Arc<PluginEngine>,
        bytes: Vec<u8>,
        cache: &PluginCache,
    ) -> Result<Arc<LoadedPlugin>, LoadError> {
        let sha256 = hex::encode(Sha256::digest(&bytes));
        if let Some(component) = cache.load(&engine.engine, &sha256) {
            return Self::from_component(engine, component, sha256).await;
        }
        let plugin = Self::load(engine, bytes).await?;
        let (cache, component) = (cache.clone(), plugin.component.clone());
        let sha = plugin.sha256.clone();
        tokio::task::spawn_blocking(move || cache.store(&sha, &component));
        Ok(plugin)
    }

    /// Checks a compiled component against the contract, links it, and
    /// calls `info` and `default-prices`.
    pub async fn from_component(
        engine: &Arc<PluginEngine>,
        component: Component,
        sha256: String,
    ) -> Result<Arc<LoadedPlugin>, LoadError> {
        check_interface(&engine.engine, &component)?;
        let pre = engine
            .linker
            .instantiate_pre(&component)
            .map_err(|e| world_error(&e))?;
        let pre = ProviderPluginPre::new(pre).map_err(|e| LoadError::World(format!("{e:#}")))?;
        let indices = ProviderPluginIndices::new(pre.instance_pre())
            .map_err(|e| LoadError::World(format!("{e:#}")))?;

        let limits = engine.limits;
        let mut store = Store::new(
            &engine.engine,
            PluginState::new("loading", "load", limits.memory_bytes),
        );
        store.limiter(|s| &mut s.limiter);
        store.set_epoch_deadline(limits.deadline_ticks());
        let (instance, bindings) = instantiate(&pre, &indices, &mut store)
            .await
            .map_err(|e| LoadError::World(format!("{e:#}")))?;
        let terminal_event = stream_control::find(&engine.engine, &component).filter(|index| {
            stream_control::typed(&mut store, &instance, *index)
                .inspect_err(|e| {
                    tracing::warn!(error = %format!("{e:#}"), "the plugin's stream-control export does not fit the contract; its streams cannot be cut");
                })
                .is_ok()
        });
        let stream_state = StreamStateExports::find(&engine.engine, &component).filter(|exports| {
            exports
                .fit(&mut store, &instance)
                .inspect_err(|e| {
                    tracing::warn!(error = %format!("{e:#}"), "the plugin's stream-state export does not fit the contract; its streams keep an instance open");
                })
                .is_ok()
        });
        store.set_epoch_deadline(limits.deadline_ticks());
        let declared = tokio::time::timeout(
            limits.call_timeout,
            endpoints::read(&mut store, &engine.engine, &component, &instance),
        )
        .await
        .map_err(|_| LoadError::Info("endpoints() timed out".into()))?
        .map_err(|e| LoadError::Info(format!("endpoints(): {e:#}")))?;
        let exports = bindings.ai_proxy_provider_provider();
        let timeout = limits.call_timeout;
        let info = tokio::time::timeout(timeout, exports.call_info(&mut store))
            .await
            .map_err(|_| LoadError::Info("info() timed out".into()))?
            .map_err(|e| LoadError::Info(format!("{e:#}")))?;
        check_info(&info.name, &info.version)?;
        store.set_epoch_deadline(limits.deadline_ticks());
        let default_prices = tokio::time::timeout(timeout, exports.call_default_prices(&mut store))
            .await
            .map_err(|_| LoadError::Info("default-prices() timed out".into()))?
            .map_err(|e| LoadError::Info(format!("{e:#}")))?;
        Ok(Arc::new(LoadedPlugin {
            name: info.name.clone(),
            version: info.version.clone(),
            sha256,
            info,
            default_prices,
            metrics: Arc::default(),
            component,
            pre,
            indices,
            terminal_event,
            stream_state,
            endpoints: EndpointTable::new(declared),
            engine: engine.clone(),
            limits,
        }))
    }

    /// This version with its own call time and memory limits (each at most
    /// the gateway-wide one), sharing code and metrics with `self`.
    pub fn with_limits(
        &self,
        call_timeout: Option<Duration>,
        memory_bytes: Option<usize>,
    ) -> Arc<LoadedPlugin> {
        self.copy(call_timeout, memory_bytes, self.metrics.clone())
    }

    /// This version under the gateway's limits with metrics of its own:
    /// for running conformance vectors, whose calls are neither serving
    /// figures nor failures the guard should count.
    pub fn apart(&self) -> Arc<LoadedPlugin> {
        self.copy(None, None, Arc::default())
    }

    fn copy(
        &self,
        call_timeout: Option<Duration>,
        memory_bytes: Option<usize>,
        metrics: Arc<PluginMetrics>,
    ) -> Arc<LoadedPlugin> {
        let global = self.engine.limits;
        let limits = PluginLimits {
            call_timeout: call_timeout.map_or(global.call_timeout, |t| t.min(global.call_timeout)),
            memory_bytes: memory_bytes.map_or(global.memory_bytes, |m| m.min(global.memory_bytes)),
            instances: global.instances,
        };
        Arc::new(LoadedPlugin {
            name: self.name.clone(),
            version: self.version.clone(),
            sha256: self.sha256.clone(),
            info: self.info.clone(),
            default_prices: self.default_prices.clone(),
            metrics,
            component: self.component.clone(),
            pre: self.pre.clone(),
            indices: self.indices.clone(),
            terminal_event: self.terminal_event,
            stream_state: self.stream_state,
            endpoints: self.endpoints.clone(),
            engine: self.engine.clone(),
            limits,
        })
    }

    /// Whether the plugin exports `stream-control` (can end streams early).
    pub fn has_stream_control(&self) -> bool {
        self.terminal_event.is_some()
    }

    /// Whether the plugin exports `stream-state`: its streams hold no
    /// instance between batches.
    pub fn keeps_stream_state(&self) -> bool {
        self.stream_state.is_some()
    }

    pub(super) fn stream_state_exports(&self) -> Option<StreamStateExports> {
        self.stream_state
    }

    pub(super) fn terminal_event_index(&self) -> Option<ComponentExportIndex> {
        self.terminal_event
    }

    pub(super) fn deadline_ticks(&self, input_bytes: usize) -> u64 {
        self.limits.deadline_ticks_for(input_bytes)
    }

    pub(super) fn call_timeout(&self, input_bytes: usize) -> Duration {
        self.limits.budget_for(input_bytes)
    }

    pub(super) fn engine(&self) -> &PluginEngine {
        &self.engine
    }

    /// The limits this copy runs under.
    pub fn limits(&self) -> PluginLimits {
        self.limits
    }
}

/// An instance and the bindings of its mandatory exports (the instance
/// itself reaches the optional ones).
pub(super) async fn instantiate(
    pre: &ProviderPluginPre<PluginState>,
    indices: &ProviderPluginIndices,
    store: &mut Store<PluginState>,
) -> wasmtime::Result<(Instance, ProviderPlugin)> {
    let instance = pre.instance_pre().instantiate_async(&mut *store).await?;
    let bindings = indices.load(&mut *store, &instance)?;
    Ok((instance, bindings))
}
