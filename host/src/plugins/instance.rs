//! One request's plugin instance and its calls.
//!
//! After any failed call the instance is poisoned (a trapped instance
//! cannot be re-entered) and every later call fails fast.

use std::sync::Arc;

use wasmtime::component::ResourceAny;
use wasmtime::{Store, Trap};

use super::bindings::ProviderPlugin;
use super::bindings::exports::ai_proxy::provider::provider::Guest;
use super::failure::{FailureKind, PluginFailure};
use super::loaded::LoadedPlugin;
use super::state::PluginState;
use super::types::{ErrorClass, Header, OutboundRequest, PluginError, Price, RequestFacts, RequestHead, Usage};

/// A live instance of a plugin, owned by one request.
pub struct PluginInstance {
    plugin: Arc<LoadedPlugin>,
    store: Store<PluginState>,
    bindings: ProviderPlugin,
    poisoned: bool,
}

/// A stream parser resource living in a [`PluginInstance`].
pub struct StreamParser(ResourceAny);

impl PluginInstance {
    pub(super) fn new(plugin: Arc<LoadedPlugin>, store: Store<PluginState>, bindings: ProviderPlugin) -> Self {
        PluginInstance { plugin, store, bindings, poisoned: false }
    }

    pub fn plugin(&self) -> &Arc<LoadedPlugin> {
        &self.plugin
    }

    pub fn inspect(&mut self, head: &RequestHead, body: &[u8]) -> Result<RequestFacts, PluginFailure> {
        let result = self.call(|g, s| g.call_inspect(s, head, body))?;
        self.refused(result)
    }

    pub fn prepare(
        &mut self,
        head: &RequestHead,
        body: &[u8],
        credential: &str,
    ) -> Result<OutboundRequest, PluginFailure> {
        let result = self.call(|g, s| g.call_prepare(s, head, body, credential))?;
        self.refused(result)
    }

    pub fn body_usage(&mut self, body: &[u8]) -> Result<Option<Usage>, PluginFailure> {
        self.call(|g, s| g.call_body_usage(s, body))
    }

    pub fn cost(&mut self, model: &str, usage: Usage, prices: &[Price]) -> Result<Option<u64>, PluginFailure> {
        self.call(|g, s| g.call_cost(s, model, usage, prices))
    }

    pub fn classify(&mut self, status: u16, headers: &[Header], body: &[u8]) -> Result<ErrorClass, PluginFailure> {
        self.call(|g, s| g.call_classify(s, status, headers, body))
    }

    pub fn stream_parser(&mut self) -> Result<StreamParser, PluginFailure> {
        self.call(|g, s| g.stream_parser().call_constructor(s)).map(StreamParser)
    }

    pub fn feed(&mut self, parser: &StreamParser, chunk: &[u8]) -> Result<Option<Usage>, PluginFailure> {
        self.call(|g, s| g.stream_parser().call_feed(s, parser.0, chunk))
    }

    pub fn finish(&mut self, parser: &StreamParser) -> Result<Option<Usage>, PluginFailure> {
        self.call(|g, s| g.stream_parser().call_finish(s, parser.0))
    }

    fn refused<T>(&self, result: Result<T, PluginError>) -> Result<T, PluginFailure> {
        result.map_err(|e| PluginFailure::from_plugin_error(&self.plugin.name, e))
    }

    fn call<T>(
        &mut self,
        f: impl FnOnce(&Guest, &mut Store<PluginState>) -> wasmtime::Result<T>,
    ) -> Result<T, PluginFailure> {
        if self.poisoned {
            return Err(self.failure(FailureKind::Trap("instance already failed".into())));
        }
        self.store.set_epoch_deadline(self.plugin.deadline_ticks());
        let guest = self.bindings.ai_proxy_provider_provider();
        match f(guest, &mut self.store) {
            Ok(value) => Ok(value),
            Err(error) => {
                self.poisoned = true;
                let kind = if self.store.data().limiter.denied {
                    FailureKind::OutOfMemory
                } else if error.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
                    FailureKind::Timeout
                } else {
                    FailureKind::Trap(format!("{error:#}"))
                };
                let failure = self.failure(kind);
                tracing::warn!(plugin = %self.plugin.name, error = %format!("{error:#}"), "plugin call failed: {failure}");
                Err(failure)
            }
        }
    }

    fn failure(&self, kind: FailureKind) -> PluginFailure {
        PluginFailure { plugin: self.plugin.name.clone(), kind }
    }
}
