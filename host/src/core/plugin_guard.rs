//! Disables a plugin version that keeps failing (traps, timeouts, memory
//! denials), so its providers fall back to the newest other enabled
//! version. Checked once a second from the metrics the calls record; the
//! proxy path never waits on it.
//!
//! A client's bytes are a plugin's input, so failures alone do not prove
//! the version broken: they must be at least `failures` within the window
//! *and* come from at least `sources` client keys, so that one client
//! cannot disable a version for everyone (its own failures are charged to
//! it instead, see `plugins::ClientBlame`). What is done about a tripped
//! version is a [`GuardAction`]: the admin API's, which disables it as an
//! audited change unless it is its plugin's last enabled version.

use std::sync::Arc;
use std::time::Duration;

use crate::catalog::PluginRegistry;
use crate::plugins::{AUTO_DISABLED, LoadedPlugin};

/// How often failure counts are looked at.
const CHECK_EVERY: Duration = Duration::from_secs(1);

/// When a version counts as failing.
#[derive(Debug, Clone, Copy)]
pub struct GuardRule {
    /// Failures within `window`; zero turns the guard off.
    pub failures: usize,
    /// Distinct client keys among them (health probes count as one).
    pub sources: usize,
    pub window: Duration,
}

/// What the guard does with a version that tripped it; `reason` says why.
#[async_trait::async_trait]
pub trait GuardAction: Send + Sync + 'static {
    async fn disable_or_alert(&self, plugin: &LoadedPlugin, reason: String);
}

/// Starts the guard over the versions in `registry`.
pub fn spawn_plugin_guard(
    registry: Arc<PluginRegistry>,
    rule: GuardRule,
    action: Arc<dyn GuardAction>,
) {
    if rule.failures == 0 {
        return;
    }
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(CHECK_EVERY).await;
            for plugin in registry.all() {
                let recent = plugin.metrics.failures_within(rule.window);
                if recent.failures < rule.failures
                    || recent.sources < rule.sources
                    || !plugin.metrics.trip()
                {
                    continue;
                }
                let reason = format!(
                    "{AUTO_DISABLED}: {} traps, timeouts or memory denials from {} clients within {}s",
                    recent.failures,
                    recent.sources,
                    rule.window.as_secs()
                );
                action.disable_or_alert(&plugin, reason).await;
            }
        }
    });
}
