//! The one path every admin change takes. A handler opens a [`Change`]
//! ([`AdminCore::change`]), reads and writes through [`Change::db`], calls
//! [`Change::commit`] (which counts a configuration change inside the same
//! transaction, commits, and reloads this instance's catalog), then records
//! the change with [`Committed::audit`], once the views it records show the
//! reloaded catalog. So:
//! - the writes of one change land together or not at all;
//! - a check made inside the change (the last admin, a name in use, a row
//!   still referenced) holds until it commits: changes run one at a time,
//!   across instances too ([`crate::store::change::begin`]). Admin changes
//!   are rare; the proxy path never takes this lock;
//! - other instances see the new configuration version only once the
//!   change is visible, and no handler can forget the reload or the audit
//!   entry (`Committed` must be used).
//!
//! A change dropped without [`Change::commit`] (an early `?`) rolls back.

use sea_orm::DatabaseTransaction;
use serde_json::Value;

use super::auth::Caller;
use super::{AdminCore, ApiError, audit};
use crate::store::config_version;

/// Who makes a change.
#[derive(Clone, Copy)]
pub enum Actor<'a> {
    /// A signed-in account, through the API.
    Caller(&'a Caller),
    /// The gateway itself (a guard that disables a failing plugin).
    Gateway,
}

/// What the audit log records about a change.
pub struct Entry {
    pub action: &'static str,
    pub resource: &'static str,
    pub resource_id: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl Entry {
    /// `action` on one `resource`, identified by `id`, with nothing
    /// recorded before or after yet.
    pub fn new(action: &'static str, resource: &'static str, id: impl ToString) -> Self {
        Self {
            action,
            resource,
            resource_id: Some(id.to_string()),
            before: None,
            after: None,
        }
    }

    /// A resource created: how it looks now.
    pub fn created(resource: &'static str, id: impl ToString, after: Option<Value>) -> Self {
        Self::new("create", resource, id).after(after)
    }

    /// A resource changed: how it looked and how it looks.
    pub fn updated(
        resource: &'static str,
        id: impl ToString,
        before: Option<Value>,
        after: Option<Value>,
    ) -> Self {
        Self::new("update", resource, id)
            .before(before)
            .after(after)
    }

    /// A resource deleted: how it looked.
    pub fn deleted(resource: &'static str, id: impl ToString, before: Option<Value>) -> Self {
        Self::new("delete", resource, id).before(before)
    }

    pub fn before(mut self, before: Option<Value>) -> Self {
        self.before = before;
        self
    }

    pub fn after(mut self, after: Option<Value>) -> Self {
        self.after = after;
        self
    }
}

/// One admin change in progress: a transaction and who makes it.
pub struct Change<'a> {
    core: &'a AdminCore,
    actor: Actor<'a>,
    txn: DatabaseTransaction,
}

impl AdminCore {
    /// Opens a change made by `caller`. Whether the caller may make it is
    /// the handler's to check first.
    pub async fn change<'a>(&'a self, caller: &'a Caller) -> Result<Change<'a>, ApiError> {
        self.open(Actor::Caller(caller)).await
    }

    /// Opens a change the gateway makes on its own.
    pub async fn system_change(&self) -> Result<Change<'_>, ApiError> {
        self.open(Actor::Gateway).await
    }

    async fn open<'a>(&'a self, actor: Actor<'a>) -> Result<Change<'a>, ApiError> {
        let txn = crate::store::change::begin(&self.db).await?;
        Ok(Change {
            core: self,
            actor,
            txn,
        })
    }
}

impl<'a> Change<'a> {
    /// Where the change reads and writes.
    pub fn db(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// The admin state the change belongs to.
    pub fn core(&self) -> &'a AdminCore {
        self.core
    }

    /// Counts a configuration change, commits, and reloads this
    /// instance's catalog (other instances follow within their poll).
    pub async fn commit(self) -> Result<Committed<'a>, ApiError> {
        let version = config_version::bump(&self.txn).await?;
        self.txn.commit().await?;
        self.core.load_version(version).await?;
        Ok(Committed {
            core: self.core,
            actor: self.actor,
        })
    }
}

/// A committed change still to be recorded in the audit log.
#[must_use = "a committed change must be recorded with `audit`"]
pub struct Committed<'a> {
    core: &'a AdminCore,
    actor: Actor<'a>,
}

impl Committed<'_> {
    /// Records the change. A failure to record is logged, not returned:
    /// the change itself has happened.
    pub async fn audit(&self, entry: Entry) {
        if let Err(e) = audit::record(&self.core.db, self.actor, &entry).await {
            tracing::error!(
                error = %e,
                action = entry.action,
                resource = entry.resource,
                "writing the audit log failed"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Writes outside a [`super::Change`] that are not configuration
    /// changes: a sign-in's audit record and a signed-out session's
    /// revocation (both events of the session store).
    const NOT_CHANGES: &[(&str, &str)] = &[
        ("audit.rs", "stored::insert(&state.db"),
        ("auth.rs", "revoked_sessions::insert(&state.db"),
        ("auth.rs", "bump(&state.db)"),
    ];

    /// The calls that write through the shared connection pool.
    const POOL_WRITES: &[&str] = &[
        ".insert(&state.db)",
        ".update(&state.db)",
        ".exec(&state.db)",
        ".delete(&state.db)",
        "state.db.begin",
        "bump(&state.db)",
        // The store's writes (`store::<table>::insert(db, ..)`, ...).
        "::insert(&state.db",
        "::update(&state.db",
        "::delete(&state.db",
        "::put(&state.db",
        "::replace(&state.db",
    ];

    /// The `.rs` files under `dir`, its subdirectories included.
    fn rust_files(dir: &Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(rust_files(&path));
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
        out
    }

    #[test]
    fn every_admin_handler_writes_through_a_change() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/admin");
        let mut found = Vec::new();
        for path in rust_files(&dir) {
            let name = path
                .strip_prefix(&dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if name == "write.rs" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (n, line) in text.lines().enumerate() {
                let write = POOL_WRITES.iter().any(|w| line.contains(w));
                let allowed = NOT_CHANGES
                    .iter()
                    .any(|(file, call)| *file == name && line.contains(call));
                if write && !allowed {
                    found.push(format!("{name}:{}: {}", n + 1, line.trim()));
                }
            }
        }
        assert!(
            found.is_empty(),
            "admin writes outside `AdminCore::change` (open a change, write through \
             `change.db()`, commit, audit):\n{}",
            found.join("\n")
        );
    }

    #[test]
    fn the_check_sees_a_write_through_the_pool() {
        for line in [
            "    row.update(&state.db).await?;",
            "    stored::update(&state.db, row).await?;",
        ] {
            assert!(POOL_WRITES.iter().any(|w| line.contains(w)), "{line}");
        }
    }
}
