//! A substring index for the request log's free-text search (`q`), so a
//! search does not read every trace.
//!
//! The search looks for its text in five columns at once. Both databases
//! index one document per trace: the five columns joined by spaces
//! ([`search_document`]). An index hit is only a candidate (the document
//! may hold the text across two columns, and the index folds case); the
//! query checks the columns themselves as before, so the index changes the
//! speed of a search, never its rows.
//!
//! * SQLite: an FTS5 table with the `trigram` tokenizer, contentless and
//!   without positions (`detail=none`: about 65 bytes a trace), kept in
//!   step by triggers on insert, update and delete (the retention task's
//!   deletes included) and filled from the existing rows here.
//! * PostgreSQL: a `pg_trgm` GIN index on the document expression. Creating
//!   the extension needs the right to (it is a trusted extension: the
//!   database owner may); when it is refused, this migration says so in a
//!   warning and goes on without the index: searches then read the table,
//!   as before. README "Request log search" gives the two statements to
//!   run later.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The SQLite FTS5 table holding one search document per trace.
pub const SEARCH_TABLE: &str = "proxy_tracing_search";
/// The PostgreSQL trigram index on the search document.
pub const SEARCH_INDEX: &str = "idx_proxy_tracing_search_trgm";
/// The columns the free-text search looks in (besides the exact request id).
pub const SEARCHED_COLUMNS: [&str; 5] = [
    "model",
    "path",
    "client_key_name",
    "provider_key_name",
    "error_message",
];

/// The search document of a trace row: the searched columns joined by a
/// space. `row` prefixes each column (`"new."` in a trigger, `""` for the
/// PostgreSQL index, whose queries must repeat this very expression).
pub fn search_document(row: &str) -> String {
    let parts: Vec<String> = SEARCHED_COLUMNS
        .iter()
        .map(|c| format!("coalesce({row}{c}, '')"))
        .collect();
    format!("({})", parts.join(" || ' ' || "))
}

fn sqlite_up() -> Vec<String> {
    let cols = SEARCHED_COLUMNS.join(", ");
    let (new, old) = (search_document("new."), search_document("old."));
    let t = SEARCH_TABLE;
    vec![
        format!(
            "CREATE VIRTUAL TABLE IF NOT EXISTS {t} USING fts5(doc, content='', \
             tokenize='trigram', detail='none')"
        ),
        format!(
            "CREATE TRIGGER IF NOT EXISTS {t}_insert AFTER INSERT ON proxy_tracing BEGIN \
             INSERT INTO {t}(rowid, doc) VALUES (new.id, {new}); END"
        ),
        format!(
            "CREATE TRIGGER IF NOT EXISTS {t}_delete AFTER DELETE ON proxy_tracing BEGIN \
             INSERT INTO {t}({t}, rowid, doc) VALUES ('delete', old.id, {old}); END"
        ),
        format!(
            "CREATE TRIGGER IF NOT EXISTS {t}_update AFTER UPDATE OF id, {cols} ON proxy_tracing BEGIN \
             INSERT INTO {t}({t}, rowid, doc) VALUES ('delete', old.id, {old}); \
             INSERT INTO {t}(rowid, doc) VALUES (new.id, {new}); END"
        ),
        format!(
            "INSERT INTO {t}(rowid, doc) SELECT id, {} FROM proxy_tracing",
            search_document("")
        ),
    ]
}

fn postgres_up() -> Vec<String> {
    vec![
        // A refusal is a warning, not a failed start: search works without
        // the index, only slower.
        "DO $$ BEGIN CREATE EXTENSION IF NOT EXISTS pg_trgm; \
         EXCEPTION WHEN OTHERS THEN RAISE WARNING \
         'ai-proxy: pg_trgm could not be created (%): the request log search reads the whole table \
         until a database owner runs CREATE EXTENSION pg_trgm and creates the index (README)', SQLERRM; \
         END $$"
            .to_owned(),
        format!(
            "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN \
             EXECUTE 'CREATE INDEX IF NOT EXISTS {SEARCH_INDEX} ON proxy_tracing \
             USING gin ({} gin_trgm_ops)'; END IF; END $$",
            search_document("").replace('\'', "''")
        ),
        // Statistics of the new index's expression: without them the planner
        // guesses how many rows a text matches, and a guess too low reads a
        // tenth of the table through the index (58 s at 10 M rows) where a
        // walk down the newest rows stops after a page.
        "ANALYZE proxy_tracing".to_owned(),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        let statements = match db.get_database_backend() {
            DatabaseBackend::Sqlite => sqlite_up(),
            DatabaseBackend::Postgres => postgres_up(),
            _ => Vec::new(),
        };
        for sql in statements {
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        let t = SEARCH_TABLE;
        let statements = match db.get_database_backend() {
            DatabaseBackend::Sqlite => vec![
                format!("DROP TRIGGER IF EXISTS {t}_insert"),
                format!("DROP TRIGGER IF EXISTS {t}_delete"),
                format!("DROP TRIGGER IF EXISTS {t}_update"),
                format!("DROP TABLE IF EXISTS {t}"),
            ],
            DatabaseBackend::Postgres => vec![format!("DROP INDEX IF EXISTS {SEARCH_INDEX}")],
            _ => Vec::new(),
        };
        for sql in statements {
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_joins_every_searched_column() {
        let doc = search_document("new.");
        for c in SEARCHED_COLUMNS {
            assert!(doc.contains(&format!("coalesce(new.{c}, '')")), "{doc}");
        }
        assert_eq!(
            doc.matches(" || ' ' || ").count(),
            SEARCHED_COLUMNS.len() - 1
        );
    }
}
