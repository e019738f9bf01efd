//! Starting a loaded plugin for one request: a fresh store under the
//! plugin's memory cap and deadline, instantiated from the pre-linked
//! component. Apart from `loaded.rs` so that the loaded plugin (which an
//! instance refers to) does not in turn depend on the instance.

use std::sync::Arc;

use wasmtime::{PoolConcurrencyLimitError, Store};

use super::failure::{FailureKind, PluginFailure};
use super::instance::PluginInstance;
use super::loaded::{LoadedPlugin, instantiate};
use super::state::PluginState;

impl LoadedPlugin {
    /// A fresh instance for one request.
    pub async fn instantiate(
        self: &Arc<Self>,
        request_id: &str,
    ) -> Result<PluginInstance, PluginFailure> {
        let mut store = Store::new(
            &self.engine.engine,
            PluginState::new(&self.name, request_id, self.limits.memory_bytes),
        );
        store.limiter(|s| &mut s.limiter);
        store.set_epoch_deadline(self.limits.deadline_ticks());
        match instantiate(&self.pre, &self.indices, &mut store).await {
            Ok((instance, bindings)) => {
                Ok(PluginInstance::new(self.clone(), store, instance, bindings))
            }
            Err(e) => Err(PluginFailure {
                plugin: self.name.clone(),
                kind: if e.downcast_ref::<PoolConcurrencyLimitError>().is_some() {
                    FailureKind::Busy
                } else {
                    FailureKind::Instantiate(format!("{e:#}"))
                },
            }),
        }
    }
}
