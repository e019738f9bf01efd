//! One request's plugin instance and its calls.
//!
//! Every call is bounded twice: the epoch deadline interrupts guest code
//! that runs too long, and a timer of the same length cancels a call that
//! is waiting in a host function (where epochs cannot reach). After any
//! failed call the instance is poisoned (a trapped instance cannot be
//! re-entered) and every later call fails fast.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use wasmtime::component::{Instance, ResourceAny};
use wasmtime::{Store, Trap};

use super::bindings::ProviderPlugin;
use super::blame::ClientBlame;
use super::call_log::{CallEnd, PluginCallLog};
use super::failure::{FailureKind, PluginFailure};
use super::loaded::LoadedPlugin;
use super::metrics::CallOutcome;
use super::state::PluginState;
use super::stream_control::{self, EndReason, MAX_TERMINAL_EVENT_BYTES};
use super::stream_state::{Fed, MAX_STREAM_STATE_BYTES, StreamStateExports};
use super::types::{
    ErrorClass, Header, OutboundRequest, PluginError, Price, RequestFacts, RequestHead, Usage,
};

/// A live instance of a plugin, owned by one request.
pub struct PluginInstance {
    plugin: Arc<LoadedPlugin>,
    store: Store<PluginState>,
    /// Reaches the optional exports (`stream-control`).
    instance: Instance,
    bindings: ProviderPlugin,
    poisoned: bool,
    /// The client key whose request this instance serves, and where its
    /// failures are charged to it.
    blame: Option<(i32, Arc<ClientBlame>)>,
    /// Where the request's calls are logged for their spans (with this
    /// plugin's index there), when spans are exported.
    spans: Option<(PluginCallLog, u8)>,
}

/// A stream parser resource living in a [`PluginInstance`].
pub struct StreamParser(ResourceAny);

/// Runs one guest call (named by its export, for its span) under the
/// deadline and the timer, then settles it; a call handed a body (`input`
/// bytes) gets more time for a larger one.
macro_rules! guest_call {
    ($self:ident, $name:literal, |$guest:ident, $store:ident| $call:expr) => {
        guest_call!($self, $name, 0, |$guest, $store| $call)
    };
    ($self:ident, $name:literal, $input:expr, |$guest:ident, $store:ident| $call:expr) => {{
        if $self.poisoned {
            return Err($self.failure(FailureKind::Trap("instance already failed".into())));
        }
        $self
            .store
            .set_epoch_deadline($self.plugin.deadline_ticks($input));
        let timeout = $self.plugin.call_timeout($input);
        let $guest = $self.bindings.ai_proxy_provider_provider();
        let $store = &mut $self.store;
        let started = std::time::Instant::now();
        let outcome = tokio::time::timeout(timeout, $call).await;
        $self.settle(outcome, started, $name)
    }};
}

/// Runs a call of an optional export (a `TypedFunc` looked up by index)
/// under the deadline and the timer, then settles it, as `guest_call!`
/// does for the mandatory exports.
macro_rules! typed_call {
    ($self:ident, $name:literal, $input:expr, $func:expr, $params:expr) => {{
        $self
            .store
            .set_epoch_deadline($self.plugin.deadline_ticks($input));
        let timeout = $self.plugin.call_timeout($input);
        let started = std::time::Instant::now();
        let call = $func.call_async(&mut $self.store, $params);
        let outcome = tokio::time::timeout(timeout, call).await;
        $self.settle(outcome, started, $name)
    }};
}

impl PluginInstance {
    /// Charges this instance's failures (traps, timeouts, memory denials)
    /// to client key `client`, in the plugin's metrics and in `blame`.
    pub fn attribute_to(&mut self, client: i32, blame: Arc<ClientBlame>) {
        self.blame = Some((client, blame));
    }

    /// Logs every later call into `log`, as calls of plugin `index` there.
    pub fn log_calls_into(&mut self, log: PluginCallLog, index: u8) {
        self.spans = Some((log, index));
    }

    pub(super) fn new(
        plugin: Arc<LoadedPlugin>,
        store: Store<PluginState>,
        instance: Instance,
        bindings: ProviderPlugin,
    ) -> Self {
        plugin.engine().live.fetch_add(1, Ordering::Relaxed);
        PluginInstance {
            plugin,
            store,
            instance,
            bindings,
            poisoned: false,
            blame: None,
            spans: None,
        }
    }

    pub async fn inspect(
        &mut self,
        head: &RequestHead,
        body: &[u8],
    ) -> Result<RequestFacts, PluginFailure> {
        let result = guest_call!(self, "inspect", body.len(), |g, s| g
            .call_inspect(s, head, body))?;
        self.refused(result)
    }

    pub async fn prepare(
        &mut self,
        head: &RequestHead,
        body: &[u8],
        credential: &str,
    ) -> Result<OutboundRequest, PluginFailure> {
        let result = guest_call!(self, "prepare", body.len(), |g, s| {
            g.call_prepare(s, head, body, credential)
        })?;
        self.refused(result)
    }

    pub async fn body_usage(&mut self, body: &[u8]) -> Result<Option<Usage>, PluginFailure> {
        guest_call!(self, "body-usage", body.len(), |g, s| g
            .call_body_usage(s, body))
    }

    pub async fn cost(
        &mut self,
        model: &str,
        usage: Usage,
        prices: &[Price],
    ) -> Result<Option<u64>, PluginFailure> {
        guest_call!(self, "cost", |g, s| g.call_cost(s, model, usage, prices))
    }

    pub async fn classify(
        &mut self,
        status: u16,
        headers: &[Header],
        body: &[u8],
    ) -> Result<ErrorClass, PluginFailure> {
        guest_call!(self, "classify", |g, s| g
            .call_classify(s, status, headers, body))
    }

    pub async fn stream_parser(&mut self) -> Result<StreamParser, PluginFailure> {
        guest_call!(self, "stream-parser", |g, s| g
            .stream_parser()
            .call_constructor(s))
        .map(StreamParser)
    }

    pub async fn feed(
        &mut self,
        parser: &StreamParser,
        chunk: &[u8],
    ) -> Result<Option<Usage>, PluginFailure> {
        guest_call!(self, "feed", |g, s| g
            .stream_parser()
            .call_feed(s, parser.0, chunk))
    }

    pub async fn finish(&mut self, parser: &StreamParser) -> Result<Option<Usage>, PluginFailure> {
        guest_call!(self, "finish", |g, s| g
            .stream_parser()
            .call_finish(s, parser.0))
    }

    /// Whether a call failed on this instance (every later call fails).
    pub fn failed(&self) -> bool {
        self.poisoned
    }

    /// Whether this plugin can end a stream early (`stream-control`).
    pub fn can_end_streams(&self) -> bool {
        self.plugin.has_stream_control()
    }

    /// The bytes that end the stream `parser` has read, cleanly (see
    /// `stream-control` in `wit/provider.wit`). `None` when the plugin
    /// cannot end it: no `stream-control` export, an empty answer, or an
    /// answer over [`MAX_TERMINAL_EVENT_BYTES`].
    pub async fn terminal_event(
        &mut self,
        parser: &StreamParser,
        reason: EndReason,
    ) -> Result<Option<Vec<u8>>, PluginFailure> {
        let Some(index) = self.plugin.terminal_event_index() else {
            return Ok(None);
        };
        if self.poisoned {
            return Err(self.failure(FailureKind::Trap("instance already failed".into())));
        }
        let func = stream_control::typed(&mut self.store, &self.instance, index)
            .map_err(|e| self.failure(FailureKind::Trap(format!("{e:#}"))))?;
        let (bytes,) = typed_call!(self, "terminal-event", 0, func, (parser.0, reason))?;
        Ok(usable_terminal_event(&self.plugin.name, bytes))
    }

    /// `stream-state.feed`: the parser whose state is `state` reads
    /// `bytes`. A state over [`MAX_STREAM_STATE_BYTES`] fails the call.
    pub async fn feed_state(&mut self, state: &[u8], bytes: &[u8]) -> Result<Fed, PluginFailure> {
        let exports = self.stream_state()?;
        let func = exports
            .feed(&mut self.store, &self.instance)
            .map_err(|e| self.failure(FailureKind::Trap(format!("{e:#}"))))?;
        let (fed,) = typed_call!(
            self,
            "stream-state.feed",
            bytes.len().saturating_add(state.len()),
            func,
            (state, bytes)
        )?;
        if fed.state.len() > MAX_STREAM_STATE_BYTES {
            self.poisoned = true;
            return Err(self.failure(FailureKind::Contract(
                "its stream state is larger than the host keeps",
            )));
        }
        Ok(fed)
    }

    /// `stream-state.finish`.
    pub async fn finish_state(&mut self, state: &[u8]) -> Result<Option<Usage>, PluginFailure> {
        let exports = self.stream_state()?;
        let func = exports
            .finish(&mut self.store, &self.instance)
            .map_err(|e| self.failure(FailureKind::Trap(format!("{e:#}"))))?;
        let (usage,) = typed_call!(self, "stream-state.finish", state.len(), func, (state,))?;
        Ok(usage)
    }

    /// `stream-state.terminal-event`, as [`PluginInstance::terminal_event`].
    pub async fn terminal_event_state(
        &mut self,
        state: &[u8],
        reason: EndReason,
    ) -> Result<Option<Vec<u8>>, PluginFailure> {
        let exports = self.stream_state()?;
        let func = exports
            .terminal_event(&mut self.store, &self.instance)
            .map_err(|e| self.failure(FailureKind::Trap(format!("{e:#}"))))?;
        let (bytes,) = typed_call!(
            self,
            "stream-state.terminal-event",
            state.len(),
            func,
            (state, reason)
        )?;
        Ok(usable_terminal_event(&self.plugin.name, bytes))
    }

    fn stream_state(&self) -> Result<StreamStateExports, PluginFailure> {
        if self.poisoned {
            return Err(self.failure(FailureKind::Trap("instance already failed".into())));
        }
        self.plugin
            .stream_state_exports()
            .ok_or_else(|| self.failure(FailureKind::Contract("it has no stream-state export")))
    }

    fn refused<T>(&self, result: Result<T, PluginError>) -> Result<T, PluginFailure> {
        result.map_err(|e| {
            self.plugin.metrics.record_error();
            if let Some((log, _)) = &self.spans {
                log.refused();
            }
            PluginFailure::from_plugin_error(&self.plugin.name, e)
        })
    }

    fn settle<T>(
        &mut self,
        outcome: Result<wasmtime::Result<T>, tokio::time::error::Elapsed>,
        started: std::time::Instant,
        call: &'static str,
    ) -> Result<T, PluginFailure> {
        let elapsed = started.elapsed();
        let metrics = &self.plugin.metrics;
        let span = |end: CallEnd| {
            if let Some((log, plugin)) = &self.spans {
                log.record(*plugin, call, started, elapsed, end);
            }
        };
        let error = match outcome {
            Ok(Ok(value)) => {
                metrics.record(elapsed, CallOutcome::Ok, None);
                span(CallEnd::Ok);
                return Ok(value);
            }
            Ok(Err(error)) => error,
            Err(_) => {
                metrics.record(elapsed, CallOutcome::Timeout, self.source());
                span(CallEnd::Timeout);
                self.blame_client();
                self.poisoned = true;
                let failure = self.failure(FailureKind::Timeout);
                tracing::warn!(plugin = %self.plugin.name, "plugin call timed out waiting in a host call");
                return Err(failure);
            }
        };
        self.poisoned = true;
        let (kind, outcome, end) = if self.store.data().limiter.denied {
            (
                FailureKind::OutOfMemory,
                CallOutcome::OutOfMemory,
                CallEnd::OutOfMemory,
            )
        } else if error.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
            (FailureKind::Timeout, CallOutcome::Timeout, CallEnd::Timeout)
        } else {
            (
                FailureKind::Trap(format!("{error:#}")),
                CallOutcome::Trap,
                CallEnd::Trap,
            )
        };
        self.plugin.metrics.record(elapsed, outcome, self.source());
        if let Some((log, plugin)) = &self.spans {
            log.record(*plugin, call, started, elapsed, end);
        }
        self.blame_client();
        let failure = self.failure(kind);
        tracing::warn!(plugin = %self.plugin.name, error = %format!("{error:#}"), "plugin call failed: {failure}");
        Err(failure)
    }

    fn source(&self) -> Option<i32> {
        self.blame.as_ref().map(|(client, _)| *client)
    }

    fn blame_client(&self) {
        if let Some((client, blame)) = &self.blame {
            blame.record(*client);
        }
    }

    fn failure(&self, kind: FailureKind) -> PluginFailure {
        PluginFailure {
            plugin: self.plugin.name.clone(),
            kind,
        }
    }
}

impl Drop for PluginInstance {
    fn drop(&mut self) {
        self.plugin.engine().live.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A terminal event the host may write: not empty, not over the cap.
fn usable_terminal_event(plugin: &str, bytes: Vec<u8>) -> Option<Vec<u8>> {
    if bytes.len() > MAX_TERMINAL_EVENT_BYTES {
        tracing::warn!(
            plugin,
            bytes = bytes.len(),
            limit = MAX_TERMINAL_EVENT_BYTES,
            "terminal event over the size limit; the stream is not cut"
        );
        return None;
    }
    (!bytes.is_empty()).then_some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_events_are_capped_at_their_limit_and_empty_means_none() {
        let at_limit = vec![b'x'; MAX_TERMINAL_EVENT_BYTES];
        assert_eq!(
            usable_terminal_event("p", at_limit.clone()).map(|b| b.len()),
            Some(MAX_TERMINAL_EVENT_BYTES)
        );
        let over = vec![b'x'; MAX_TERMINAL_EVENT_BYTES + 1];
        assert_eq!(usable_terminal_event("p", over), None);
        assert_eq!(usable_terminal_event("p", Vec::new()), None);
    }
}
