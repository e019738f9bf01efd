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

use std::sync::Arc;

use super::blame::ClientBlame;
use super::call_log::PluginCallLog;
use super::failure::PluginFailure;
use super::instance::PluginInstance;
use super::loaded::LoadedPlugin;

/// One request's access to its plugin.
pub struct PluginCalls {
    plugin: Arc<LoadedPlugin>,
    request_id: String,
    /// The client key charged with what its bytes make the plugin do.
    blame: Option<(i32, Arc<ClientBlame>)>,
    instance: Option<PluginInstance>,
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

    /// The request's instance, made now if it holds none. A failed
    /// instance stays until [`PluginCalls::release`], so the calls after a
    /// failure in one phase fail fast.
    pub async fn instance(&mut self) -> Result<&mut PluginInstance, PluginFailure> {
        let instance = match self.instance.take() {
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

    /// Lets the instance go (its slot returns to the pool).
    pub fn release(&mut self) {
        self.instance = None;
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
