//! After an upstream OAuth account changes on the proxy path (a refresh
//! stored new tokens, or found the account revoked), the catalog is
//! reloaded here and the change counted for the other instances; the
//! proxy only signals it (`OAuthAccounts::changes`).

use std::sync::Arc;

use super::Core;

/// Reloads the catalog each time an account changes.
pub fn spawn_oauth_reloads(core: Arc<Core>) {
    let changes = core.accounts.changes();
    tokio::spawn(async move {
        loop {
            changes.notified().await;
            if let Err(e) = core.reload.reload().await {
                tracing::warn!(error = %e, "reloading after an OAuth change failed");
            }
        }
    });
}
