//! The database: connection, migrations and first-start bootstrap.
//!
//! SQLite under the data directory by default (directory 0700, files
//! 0600: [`crate::private_files`]), PostgreSQL when `DATABASE_URL` points at one. Only the admin API, the bootstrap and the
//! background trace writer touch it; the proxy path never waits on it.

pub mod bootstrap;
pub mod budget_alert_log;
pub mod config_version;
pub mod entities;
pub mod key_check;
pub mod keyring;
pub mod plugin_disable;
pub mod rebind;
pub mod rotate;
#[cfg(test)]
mod test_rows;

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
        .max_connections(if url.starts_with("sqlite:") { 4 } else { 16 });
    let db = Database::connect(options)
        .await
        .map_err(|e| anyhow::anyhow!("connecting to {}: {e}", crate::secrets::redact_url(url)))?;
    if url.starts_with("sqlite:") {
        use sea_orm::ConnectionTrait;
        db.execute_unprepared(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
        )
        .await?;
        if let Some(file) = crate::private_files::sqlite_path(url) {
            crate::private_files::sqlite_files_private(&file)?;
        }
    }
    Migrator::up(&db, None).await?;
    Ok(db)
}
