//! The `upstream_key_name` migration on audit entries written before it, on
//! SQLite and PostgreSQL: entries about an upstream key say `upstream_key`
//! after it, whatever they said before, and no other entry changes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ai_proxy_tests::migrations;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection};

const MIGRATION: &str = "m20261205_000027_upstream_key_name";

const T: &str = "'2026-01-01T00:00:00Z'";

async fn resources(db: &DatabaseConnection) -> Vec<String> {
    db.query_all_raw(sea_orm::Statement::from_string(
        db.get_database_backend(),
        "SELECT resource FROM audit_log ORDER BY id",
    ))
    .await
    .unwrap()
    .iter()
    .map(|r| r.try_get_by_index(0).unwrap())
    .collect()
}

async fn migrate_over_old_entries(db: &DatabaseConnection) {
    migrations::up_to_before(db, MIGRATION).await;
    db.execute_unprepared(&format!(
        "INSERT INTO audit_log (id, created_at, actor_name, action, resource, resource_id) VALUES \
         (1, {T}, 'admin', 'create', 'provider_key', '4'), \
         (2, {T}, 'admin', 'create', 'client_key', '1'), \
         (3, {T}, 'admin', 'oauth_refresh', 'provider_key', '4'), \
         (4, {T}, 'admin', 'update', 'provider', '2')"
    ))
    .await
    .unwrap();
    Migrator::up(db, None).await.unwrap();
    assert_eq!(
        resources(db).await,
        ["upstream_key", "client_key", "upstream_key", "provider"]
    );
    migrations::down_through(db, MIGRATION).await;
    assert_eq!(
        resources(db).await,
        ["provider_key", "client_key", "provider_key", "provider"]
    );
}

#[tokio::test]
async fn audit_entries_of_upstream_keys_take_the_new_name_on_sqlite() {
    migrations::on_sqlite("upstream-key-name", migrate_over_old_entries).await;
}

#[tokio::test]
async fn audit_entries_of_upstream_keys_take_the_new_name_on_postgres() {
    migrations::on_postgres("upstream_key_name_migration", migrate_over_old_entries).await;
}
