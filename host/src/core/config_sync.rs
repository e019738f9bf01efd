//! Keeping every instance's catalog current. A change through the admin
//! API bumps a counter in the database (`store::config_version`) and
//! reloads this instance at once; every instance polls the counter and
//! reloads when another one changed it, so a key created or revoked on one
//! instance works or stops on all of them within a poll interval.

use std::sync::Arc;
use std::time::Duration;

use super::Core;
use crate::store::config_version;

/// Polls the counter every `every` and reloads on a change; zero turns
/// it off (a single instance needs no polling).
pub fn spawn_config_sync(core: Arc<Core>, every: Duration) {
    if every.is_zero() {
        return;
    }
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            let version = match config_version::current(&core.db).await {
                Ok(v) => v,
                Err(e) => {
                    tracing::warn!(error = %e, "reading the configuration version failed");
                    continue;
                }
            };
            if version <= core.reload.version().await {
                continue;
            }
            match core.reload.load_version(version).await {
                Ok(()) => tracing::info!(version, "configuration changed elsewhere; reloaded"),
                Err(_) => tracing::warn!("reloading a changed configuration failed"),
            }
        }
    });
}
