//! The database: connection, migrations, first-start bootstrap, and the
//! queries, one file per table or per reader (`catalog_read`,
//! `report_read`) taking any `ConnectionTrait` and answering typed rows.
//!
//! SQLite under the data directory by default (directory 0700, files
//! 0600: [`crate::private_files`]), PostgreSQL when `DATABASE_URL` points at one. Only the admin API, the bootstrap and the
//! background tasks (trace and verdict writers, health checker, OAuth
//! refresher, retention) touch it; the proxy path never waits on it.
//!
//! Every query lives here, in one file per table (`providers.rs`,
//! `client_keys.rs`, `users.rs`, ...) or per reader (`catalog_read.rs`,
//! `trace_page.rs`, ...), each function named for what it does and run on
//! the connection it is given (inside a change, the change's transaction:
//! [`change`]).

pub mod audit_log;
pub mod bootstrap;
pub mod budget_alert_log;
pub mod budgets;
pub mod catalog_read;
pub mod change;
pub mod client_key_providers;
pub mod client_keys;
pub mod config_version;
pub mod conformance_vectors;
pub mod entities;
pub mod key_check;
pub mod keyring;
pub mod oauth_clients;
pub mod oauth_session_list;
pub mod oauth_sessions;
pub mod plugin_conformance;
pub mod plugin_disable;
pub mod plugin_rollouts;
pub mod plugins;
pub mod providers;
pub mod rebind;
pub mod report_read;
pub mod revoked_sessions;
pub mod rotate;
pub mod shadow_totals;
pub mod shadow_verdicts;
pub mod team_members;
pub mod teams;
#[cfg(test)]
mod test_rows;
pub mod trace_page;
pub mod trace_rollup;
pub mod trace_search;
pub mod traces;
pub mod traffic;
pub mod upstream_key_state;
pub mod upstream_keys;
pub mod user_grants;
pub mod users;

use std::path::Path;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};

/// Connects and brings the schema up to date.
pub async fn connect(url: &str, data_dir: &Path) -> anyhow::Result<DatabaseConnection> {
    if url.starts_with("sqlite:") {
        crate::private_files::prepare_sqlite(url, data_dir)?;
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .max_connections(if url.starts_with("sqlite:") { 4 } else { 16 })
        .map_sqlx_sqlite_opts(sqlite_settings);
    let db = Database::connect(options)
        .await
        .map_err(|e| anyhow::anyhow!("connecting to {}: {e}", crate::secrets::redact_url(url)))?;
    if url.starts_with("sqlite:")
        && let Some(file) = crate::private_files::sqlite_path(url)
    {
        crate::private_files::sqlite_files_private(&file)?;
    }
    Migrator::up(&db, None).await?;
    Ok(db)
}

/// SQLite's page cache per connection, in KiB (`cache_size` is in KiB when
/// negative): SQLite's own default, set on every connection so that none
/// differs. 8 MiB changed neither the trace writer's CPU nor the peak
/// memory of the benchmark (bench/RESULTS.md, session 11): ordered request
/// ids keep the trace indexes' writes at their right edge, a few pages each.
const SQLITE_CACHE_KIB: i64 = 2000;

/// Every SQLite connection of the pool: write-ahead log, a sync at
/// checkpoints only (`NORMAL`: a crash of the machine may lose the last
/// commits, never corrupt the file), a five-second wait for a lock, the
/// page cache above.
/// Connection settings, not the file's: set on each connection as it opens,
/// not on whichever one ran a statement first (before, the trace writer's
/// connection synced the disk on every batch).
fn sqlite_settings(
    options: sea_orm::sqlx::sqlite::SqliteConnectOptions,
) -> sea_orm::sqlx::sqlite::SqliteConnectOptions {
    use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
    options
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(std::time::Duration::from_secs(5))
        .pragma("cache_size", format!("-{SQLITE_CACHE_KIB}"))
}

#[cfg(test)]
mod tests {
    use sea_orm::sqlx::Row;

    #[tokio::test]
    async fn every_sqlite_connection_has_the_settings_not_only_the_first() {
        let dir = std::env::temp_dir().join(format!("aip-store-{}", crate::secrets::random_hex(6)));
        let url = format!("sqlite://{}/t.db?mode=rwc", dir.display());
        let db = super::connect(&url, &dir).await.expect("db");
        let pool = db.get_sqlite_connection_pool();
        // Held at once: two different connections of the pool.
        let mut first = pool.acquire().await.expect("first");
        let mut second = pool.acquire().await.expect("second");
        for conn in [&mut first, &mut second] {
            let row = sea_orm::sqlx::query("PRAGMA synchronous")
                .fetch_one(&mut **conn)
                .await
                .expect("synchronous");
            assert_eq!(row.get::<i64, _>(0), 1, "NORMAL");
            let row = sea_orm::sqlx::query("PRAGMA cache_size")
                .fetch_one(&mut **conn)
                .await
                .expect("cache_size");
            assert_eq!(row.get::<i64, _>(0), -super::SQLITE_CACHE_KIB);
            let row = sea_orm::sqlx::query("PRAGMA journal_mode")
                .fetch_one(&mut **conn)
                .await
                .expect("journal_mode");
            assert_eq!(row.get::<String, _>(0), "wal");
        }
        drop((first, second));
        db.close().await.expect("close");
        let _ = std::fs::remove_dir_all(dir);
    }
}
