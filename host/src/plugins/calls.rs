//! The plugin calls of one request, and the instances they run on.
//!
//! An instance is made when a call needs one and let go at the points the
//! proxy says (after the request is prepared, after an error answer is
//! classified, after the answer is accounted for), so a request waiting on
//! its upstream, or relaying a stream of a plugin that keeps its parser's
//! state in the host (`stream-state`), holds no instance: thousands of
//! open streams cost their bytes, not thousands of instances. Every
//! instance is fresh and serves this request only. When spans are
//! exported, every instance logs its calls into the request's
//! [`PluginCallLog`], each under the upstream attempt under way.
//!
//! Making an instance is a large part of a short request's CPU, so an
//! instance let go lingers for [`INSTANCE_LINGER`], still this request's
//! only: a request whose next call comes within it (a quick JSON answer, a
//! short stream) runs it on the same instance; past it a timer drops the
//! instance, so a request that waits longer holds none. Only a healthy
//! instance lingers (after a failure the next phase gets a fresh one), and
//! only while the pool is nearly idle ([`LINGER_POOL_SHARE`]), so lingering
//! never takes a slot a request in flight needs.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::blame::ClientBlame;
use super::call_log::PluginCallLog;
use super::failure::PluginFailure;
use super::instance::PluginInstance;
use super::loaded::LoadedPlugin;

/// How long an instance let go waits for its request's next call before it
/// is dropped.
pub const INSTANCE_LINGER: Duration = Duration::from_millis(10);
/// An instance lingers only while fewer than one in this many of the
/// pool's instances are alive. At one in four, 64 requests in flight on a
/// pool of 1,000 still linger (saving a second instance per request, about
/// 8 % of a JSON request's CPU; bench/RESULTS.md, session 11), and three
/// quarters of the pool stay for calls that need a slot.
pub const LINGER_POOL_SHARE: usize = 4;

/// An instance let go, until its request takes it back or the timer drops it.
type Parked = Arc<Mutex<Option<PluginInstance>>>;

/// One request's access to its plugin.
pub struct PluginCalls {
    plugin: Arc<LoadedPlugin>,
    request_id: String,
    /// The client key charged with what its bytes make the plugin do.
    blame: Option<(i32, Arc<ClientBlame>)>,
    instance: Option<PluginInstance>,
    /// The instance let go last, while it lingers.
    parked: Option<Parked>,
    /// Instances this request made so far.
    made: u32,
    /// The request's call log and this plugin's index in it.
    log: Option<(PluginCallLog, u8)>,
}

impl PluginCalls {
    pub fn new(plugin: Arc<LoadedPlugin>, request_id: &str) -> PluginCalls {
        PluginCalls {
            plugin,
            request_id: request_id.to_owned(),
            blame: None,
            instance: None,
            parked: None,
            made: 0,
            log: None,
        }
    }

    /// Logs the calls into `log` (the request's, when spans are exported).
    pub fn logging_into(mut self, log: Option<&PluginCallLog>) -> PluginCalls {
        self.log = log.map(|log| {
            let index = log.plugin(&self.plugin.name, &self.plugin.version);
            (log.clone(), index)
        });
        self
    }

    /// Upstream attempt `number` (1-based) begins: the calls from now on
    /// serve it, in their spans.
    pub fn attempt_began(&self, number: usize) {
        if let Some((log, _)) = &self.log {
            log.attempt_began(u32::try_from(number).unwrap_or(u32::MAX));
        }
    }

    /// Charges failures of this request's instances to client key `client`.
    pub fn attribute_to(&mut self, client: i32, blame: Arc<ClientBlame>) {
        if let Some(instance) = &mut self.instance {
            instance.attribute_to(client, blame.clone());
        }
        self.blame = Some((client, blame));
    }

    /// The request's instance, made now if it holds none (or taken back
    /// if it lingers). A failed instance stays until
    /// [`PluginCalls::release`], so the calls after a failure in one phase
    /// fail fast.
    pub async fn instance(&mut self) -> Result<&mut PluginInstance, PluginFailure> {
        let instance = match self.instance.take().or_else(|| self.unpark()) {
            Some(instance) => instance,
            None => {
                let mut instance = self.plugin.instantiate(&self.request_id).await?;
                if let Some((client, blame)) = &self.blame {
                    instance.attribute_to(*client, blame.clone());
                }
                if let Some((log, index)) = &self.log {
                    instance.log_calls_into(log.clone(), *index);
                }
                self.made = self.made.saturating_add(1);
                instance
            }
        };
        Ok(self.instance.insert(instance))
    }

    /// Lets the instance go: it lingers for this request's next call (see
    /// the module documentation), or its slot returns to the pool now.
    pub fn release(&mut self) {
        let Some(instance) = self.instance.take() else {
            return;
        };
        self.drop_parked();
        let engine = self.plugin.engine();
        let nearly_idle = engine.live_instances().saturating_mul(LINGER_POOL_SHARE)
            < engine.max_instances() as usize;
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if instance.failed() || !nearly_idle {
            return;
        }
        let parked: Parked = Arc::new(Mutex::new(Some(instance)));
        let timer = parked.clone();
        runtime.spawn(async move {
            tokio::time::sleep(INSTANCE_LINGER).await;
            take(&timer);
        });
        self.parked = Some(parked);
    }

    /// The lingering instance, if the timer has not dropped it yet.
    fn unpark(&mut self) -> Option<PluginInstance> {
        let mut instance = take(&self.parked.take()?)?;
        if let Some((client, blame)) = &self.blame {
            instance.attribute_to(*client, blame.clone());
        }
        Some(instance)
    }

    fn drop_parked(&mut self) {
        if let Some(parked) = self.parked.take() {
            drop(take(&parked));
        }
    }

    /// Whether an instance is held now.
    pub fn holds_instance(&self) -> bool {
        self.instance.is_some()
    }

    /// Instances this request made so far.
    pub fn instances_made(&self) -> u32 {
        self.made
    }

    /// The plugin version serving this request.
    pub fn plugin(&self) -> &Arc<LoadedPlugin> {
        &self.plugin
    }
}

/// The instance in `parked`, out of it.
fn take(parked: &Parked) -> Option<PluginInstance> {
    match parked.lock() {
        Ok(mut slot) => slot.take(),
        Err(poisoned) => poisoned.into_inner().take(),
    }
}

impl Drop for PluginCalls {
    /// The request is over: a lingering instance goes back to the pool now.
    fn drop(&mut self) {
        self.drop_parked();
    }
}

#[cfg(test)]
mod tests {
    use super::super::{BUILTIN_PLUGINS, PluginEngine, PluginLimits};
    use super::*;

    async fn openai(instances: u32) -> (Arc<PluginEngine>, Arc<LoadedPlugin>) {
        let engine = PluginEngine::new(PluginLimits {
            call_timeout: Duration::from_secs(2),
            memory_bytes: 16 << 20,
            instances,
        })
        .expect("engine");
        let (_, bytes) = BUILTIN_PLUGINS
            .iter()
            .find(|(n, _)| *n == "openai")
            .expect("openai");
        let plugin = LoadedPlugin::load(&engine, bytes.to_vec())
            .await
            .expect("loads");
        (engine, plugin)
    }

    #[tokio::test]
    async fn a_call_within_the_linger_reuses_the_instance_and_a_later_one_gets_a_fresh_one() {
        let (engine, plugin) = openai(64).await;
        let mut calls = PluginCalls::new(plugin.clone(), "r1");
        calls.instance().await.expect("instance");
        calls.release();
        assert!(!calls.holds_instance());
        assert_eq!(engine.live_instances(), 1, "it lingers");
        calls.instance().await.expect("instance");
        assert_eq!(calls.instances_made(), 1, "taken back");
        calls.release();
        tokio::time::sleep(INSTANCE_LINGER * 5).await;
        assert_eq!(
            engine.live_instances(),
            0,
            "dropped once the linger is over"
        );
        calls.instance().await.expect("instance");
        assert_eq!(calls.instances_made(), 2);
        calls.release();
        drop(calls);
        assert_eq!(engine.live_instances(), 0, "the request's end lets it go");
        // Another request never sees this one's instance.
        let mut other = PluginCalls::new(plugin, "r2");
        other.instance().await.expect("instance");
        assert_eq!(other.instances_made(), 1);
    }

    #[tokio::test]
    async fn nothing_lingers_when_the_pool_is_busy() {
        // One slot of a pool of `LINGER_POOL_SHARE` is the share: one live instance is too many.
        let (engine, plugin) = openai(LINGER_POOL_SHARE as u32).await;
        let mut calls = PluginCalls::new(plugin, "r1");
        calls.instance().await.expect("instance");
        calls.release();
        assert_eq!(engine.live_instances(), 0);
    }
}
