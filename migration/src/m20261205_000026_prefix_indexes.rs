//! Indexes the request log's model filter and the retention of shadow
//! verdicts can use.
//!
//! The model filter is a list of prefixes (`model LIKE 'gpt-4%'`). A plain
//! index on `model` cannot serve that on either database: SQLite's `LIKE`
//! folds ASCII case, so only an index in the `NOCASE` collation gives it a
//! range to walk; PostgreSQL's `LIKE` needs the `varchar_pattern_ops`
//! operator class unless the database collates as `C`. Without them a
//! model that matches nothing reads every trace to say so (1.4 s at a
//! million rows on SQLite). Both indexes end with `id`, as the others
//! behind the log's filters do (migration 000020).
//!
//! `shadow_verdicts` gets an index on `created_at`, so the retention task's
//! batches find the expired rows without reading the table.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The index serving model prefixes.
pub const MODEL_PREFIX_INDEX: &str = "idx_proxy_tracing_model_prefix_id";
/// The index the retention of shadow verdicts walks.
const VERDICTS_CREATED_INDEX: &str = "idx_shadow_verdicts_created_at";

fn up_statements(backend: DatabaseBackend) -> Vec<String> {
    let verdicts = format!(
        "CREATE INDEX IF NOT EXISTS {VERDICTS_CREATED_INDEX} ON shadow_verdicts (created_at)"
    );
    let model = match backend {
        DatabaseBackend::Sqlite => format!(
            "CREATE INDEX IF NOT EXISTS {MODEL_PREFIX_INDEX} \
             ON proxy_tracing (model COLLATE NOCASE, id)"
        ),
        DatabaseBackend::Postgres => format!(
            "CREATE INDEX IF NOT EXISTS {MODEL_PREFIX_INDEX} \
             ON proxy_tracing (model varchar_pattern_ops, id)"
        ),
        _ => return Vec::new(),
    };
    // Statistics for the new index, so the planner weighs it (as 000025).
    vec![verdicts, model, "ANALYZE proxy_tracing".to_owned()]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for sql in up_statements(db.get_database_backend()) {
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        for name in [MODEL_PREFIX_INDEX, VERDICTS_CREATED_INDEX] {
            db.execute_unprepared(&format!("DROP INDEX IF EXISTS {name}"))
                .await?;
        }
        Ok(())
    }
}
