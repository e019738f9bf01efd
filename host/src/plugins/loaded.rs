//! A compiled, pre-instantiated plugin component.

use std::sync::Arc;

use sha2::{Digest, Sha256};
use wasmtime::Store;
use wasmtime::component::Component;

use super::bindings::ProviderPluginPre;
use super::engine::PluginEngine;
use super::failure::{FailureKind, PluginFailure};
use super::instance::PluginInstance;
use super::state::PluginState;
use super::types;

/// Why a component could not be loaded as a plugin.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("not a valid WebAssembly component: {0}")]
    Compile(String),
    #[error("the component does not fit the provider-plugin world: {0}")]
    World(String),
    #[error("the plugin failed while describing itself: {0}")]
    Info(String),
}

/// A plugin ready to serve: compiled once, type-checked against the
/// linker once, with its self-description read.
pub struct LoadedPlugin {
    pub name: String,
    pub version: String,
    pub sha256: String,
    pub info: types::ProviderInfo,
    pub default_prices: Vec<types::Price>,
    pre: ProviderPluginPre<PluginState>,
    engine: Arc<PluginEngine>,
}

impl LoadedPlugin {
    /// Compiles `bytes` (on a blocking thread), links it and calls `info`
    /// and `default-prices`.
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
        let pre = engine
            .linker
            .instantiate_pre(&component)
            .map_err(|e| LoadError::World(format!("{e:#}")))?;
        let pre = ProviderPluginPre::new(pre).map_err(|e| LoadError::World(format!("{e:#}")))?;

        let mut store = Store::new(
            &engine.engine,
            PluginState::new("loading", "load", engine.limits.memory_bytes),
        );
        store.limiter(|s| &mut s.limiter);
        store.set_epoch_deadline(engine.limits.deadline_ticks());
        let instance = pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| LoadError::World(format!("{e:#}")))?;
        let exports = instance.ai_proxy_provider_provider();
        let timeout = engine.limits.call_timeout;
        let info = tokio::time::timeout(timeout, exports.call_info(&mut store))
            .await
            .map_err(|_| LoadError::Info("info() timed out".into()))?
            .map_err(|e| LoadError::Info(format!("{e:#}")))?;
        store.set_epoch_deadline(engine.limits.deadline_ticks());
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
            pre,
            engine: engine.clone(),
        }))
    }

    /// A fresh instance for one request.
    pub async fn instantiate(
        self: &Arc<Self>,
        request_id: &str,
    ) -> Result<PluginInstance, PluginFailure> {
        let limits = self.engine.limits;
        let mut store = Store::new(
            &self.engine.engine,
            PluginState::new(&self.name, request_id, limits.memory_bytes),
        );
        store.limiter(|s| &mut s.limiter);
        store.set_epoch_deadline(limits.deadline_ticks());
        match self.pre.instantiate_async(&mut store).await {
            Ok(bindings) => Ok(PluginInstance::new(self.clone(), store, bindings)),
            Err(e) => Err(PluginFailure {
                plugin: self.name.clone(),
                kind: FailureKind::Instantiate(format!("{e:#}")),
            }),
        }
    }

    pub(super) fn deadline_ticks(&self) -> u64 {
        self.engine.limits.deadline_ticks()
    }

    pub(super) fn call_timeout(&self) -> std::time::Duration {
        self.engine.limits.call_timeout
    }
}
