//! Running the migrations up to, or back through, one of them by name, so a
//! migration test holds whatever was merged before or after it; and a fresh
//! database of either kind to run one on.

#![allow(clippy::expect_used, clippy::panic)]

use migration::{Migrator, MigratorTrait};
use sea_orm::{Database, DatabaseConnection};

use crate::postgres::TempDatabase;

/// How many migrations come before `name` (panics when there is none).
fn before(name: &str) -> u32 {
    let position = Migrator::migrations()
        .iter()
        .position(|m| m.name() == name)
        .unwrap_or_else(|| panic!("no migration named {name}"));
    u32::try_from(position).expect("migration count")
}

/// Runs every migration before `name`, and not `name` itself.
pub async fn up_to_before(db: &DatabaseConnection, name: &str) {
    Migrator::up(db, Some(before(name)))
        .await
        .expect("migrations before");
}

/// Undoes `name` and every migration after it.
pub async fn down_through(db: &DatabaseConnection, name: &str) {
    let total = u32::try_from(Migrator::migrations().len()).expect("migration count");
    Migrator::down(db, Some(total - before(name)))
        .await
        .expect("migrations down");
}

/// Runs `check` on a fresh SQLite database in a temporary directory, which
/// is removed after.
pub async fn on_sqlite(test: &str, check: impl AsyncFnOnce(&DatabaseConnection)) {
    let dir = std::env::temp_dir().join(format!("aip-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let url = format!("sqlite://{}?mode=rwc", dir.join("db.sqlite").display());
    let db = Database::connect(&url).await.expect("SQLite");
    check(&db).await;
    drop(db);
    std::fs::remove_dir_all(&dir).ok();
}

/// Runs `check` on a fresh PostgreSQL database, dropped after; skipped
/// (with the reason printed) when PostgreSQL is unreachable and not
/// required.
pub async fn on_postgres(test: &str, check: impl AsyncFnOnce(&DatabaseConnection)) {
    let Some(temp) = TempDatabase::create(test).await else {
        return;
    };
    let db = Database::connect(&temp.url).await.expect("PostgreSQL");
    check(&db).await;
    drop(db);
    temp.drop_database().await;
}
