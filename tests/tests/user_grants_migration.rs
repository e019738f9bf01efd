//! The `user_grants` migration on data written before it, on SQLite and
//! PostgreSQL: each `user` account is granted the upstream keys its client
//! keys already pool (administrators get no grant: they need none), and a
//! key disabled before it counts as disabled by an administrator.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ai_proxy_tests::migrations;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection};

/// Migrations released before `user_grants`, through `upstream_oauth`.
const BEFORE: u32 = 10;
const T: &str = "'2026-01-01T00:00:00Z'";

async fn migrate_over_old_rows(db: &DatabaseConnection) {
    Migrator::up(db, Some(BEFORE)).await.unwrap();
    for sql in [
        format!(
            "INSERT INTO users (id, username, password_hash, role, enabled, created_at, updated_at) \
             VALUES (1, 'bob', 'x', 'user', true, {T}, {T}), (2, 'root', 'x', 'admin', true, {T}, {T})"
        ),
        format!(
            "INSERT INTO providers (id, name, plugin_name, base_url, connect_timeout_ms, read_timeout_ms, \
             enabled, created_at, updated_at) VALUES (1, 'p', 'openai', 'http://x', 1, 1, true, {T}, {T})"
        ),
        format!(
            "INSERT INTO client_keys (id, name, key_hash, key_prefix, owner_user_id, provider_id, pool, \
             strategy, enabled, created_at, updated_at) VALUES \
             (1, 'a', 'h1', 'p', 1, 1, '[3,1]', 'round_robin', true, {T}, {T}), \
             (2, 'b', 'h2', 'p', 1, 1, '[2,3]', 'round_robin', false, {T}, {T}), \
             (3, 'c', 'h3', 'p', 2, 1, '[9]', 'round_robin', true, {T}, {T})"
        ),
    ] {
        db.execute_unprepared(&sql).await.unwrap();
    }
    Migrator::up(db, None).await.unwrap();

    let grants = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT user_id, provider_ids, provider_key_ids FROM user_grants ORDER BY user_id",
        ))
        .await
        .unwrap();
    let grants: Vec<(i32, String, String)> = grants
        .iter()
        .map(|r| {
            (
                r.try_get_by_index(0).unwrap(),
                r.try_get_by_index(1).unwrap(),
                r.try_get_by_index(2).unwrap(),
            )
        })
        .collect();
    assert_eq!(grants, [(1, "[]".to_owned(), "[1,2,3]".to_owned())]);

    let keys = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT name, disabled_by_admin FROM client_keys ORDER BY id",
        ))
        .await
        .unwrap();
    let keys: Vec<(String, bool)> = keys
        .iter()
        .map(|r| {
            (
                r.try_get_by_index(0).unwrap(),
                r.try_get_by_index(1).unwrap(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        [("a".into(), false), ("b".into(), true), ("c".into(), false)]
    );
}

#[tokio::test]
async fn existing_users_are_granted_their_pools_on_sqlite() {
    migrations::on_sqlite("grants", migrate_over_old_rows).await;
}

#[tokio::test]
async fn existing_users_are_granted_their_pools_on_postgres() {
    migrations::on_postgres("user_grants_migration", migrate_over_old_rows).await;
}
