//! Running the migrations up to, or back through, one of them by name, so a
//! migration test holds whatever was merged before or after it.

#![allow(clippy::expect_used, clippy::panic)]

use migration::{Migrator, MigratorTrait};
use sea_orm::DatabaseConnection;

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
