//! Watching the counter store's health (logging when it starts and stops
//! failing, once each) and running its kept work (lease returns, owed
//! usage) in the background.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use super::{CounterStore, FailurePolicy, StoreError};

/// Logs transitions between a working and a failing store, once each.
pub(super) fn observe(degraded: &AtomicBool, policy: FailurePolicy, error: Option<&StoreError>) {
    let failing = error.is_some();
    if degraded.swap(failing, Ordering::Relaxed) != failing {
        match error {
            Some(e) => tracing::error!(
                error = %e,
                ?policy,
                "rate limits degraded: the counter store is failing"
            ),
            None => tracing::warn!("rate limits recovered: the counter store answers again"),
        }
    }
}

/// Runs the store's kept work every `period` until the store is dropped.
async fn sync_loop(
    store: Weak<dyn CounterStore>,
    period: Duration,
    degraded: Arc<AtomicBool>,
    policy: FailurePolicy,
) {
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(store) = store.upgrade() else {
            return;
        };
        if let Some(result) = store.sync(false).await {
            observe(&degraded, policy, result.err().as_ref());
        }
    }
}

/// Starts [`sync_loop`] for a store that keeps work, when a runtime runs.
pub(super) fn start(
    store: &Arc<dyn CounterStore>,
    degraded: Arc<AtomicBool>,
    policy: FailurePolicy,
) {
    if let (Some(period), Ok(runtime)) =
        (store.sync_period(), tokio::runtime::Handle::try_current())
    {
        runtime.spawn(sync_loop(Arc::downgrade(store), period, degraded, policy));
    }
}
