//! The request log's free-text search: the traces whose model, path,
//! client key name, upstream key name or error message contain the text
//! (`%`, `_` and `\` taken literally), or whose request id is the text.
//! The text arrives checked (`admin::trace_search::SearchText`).
//!
//! The rows are those of a plain `LIKE '%text%'` over the columns, on both
//! databases; what changes with the size of the table is how they are
//! found. A substring index (migration 000025: FTS5 trigrams on SQLite,
//! `pg_trgm` on PostgreSQL) narrows the search to candidate rows, and the
//! columns themselves are then checked as before, so an index candidate
//! never becomes a result by itself. Texts of fewer than three characters
//! have no trigram: they read the table newest first, which stops as soon
//! as the page and the capped count are full.

use migration::{SEARCH_TABLE, search_document};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, LikeExpr, Order};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Select,
};

use crate::store::entities::proxy_tracing::{self, Column};

/// Most trigrams of one text looked up in the SQLite index: any subset of
/// them finds every row that holds the text, the rest only narrow further.
pub const MAX_SEARCH_TRIGRAMS: usize = 16;
/// The escape character of every `LIKE` pattern built here.
const ESCAPE: char = '\\';
/// The columns searched by substring.
const SEARCHED: [Column; 5] = [
    Column::Model,
    Column::Path,
    Column::ClientKeyName,
    Column::UpstreamKeyName,
    Column::ErrorMessage,
];

/// `text` as a `LIKE` pattern matching itself only: `\`, `%` and `_` escaped.
pub fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push(ESCAPE);
        }
        out.push(c);
    }
    out
}

/// `pattern` with the escape character every database here understands:
/// SQLite has none unless told, PostgreSQL's default is `\` (and a written
/// `ESCAPE` would hide the pattern from its trigram index).
pub fn like(backend: DatabaseBackend, pattern: String) -> LikeExpr {
    match backend {
        DatabaseBackend::Postgres => LikeExpr::new(pattern),
        _ => LikeExpr::new(pattern).escape(ESCAPE),
    }
}

/// Rows where one of the searched columns contains `text`.
fn columns_condition(backend: DatabaseBackend, text: &str) -> Condition {
    let pattern = format!("%{}%", like_literal(text));
    SEARCHED.iter().fold(Condition::any(), |any, col| {
        any.add(Expr::col((proxy_tracing::Entity, *col)).like(like(backend, pattern.clone())))
    })
}

/// The exact search: what every plan returns.
pub fn exact_condition(backend: DatabaseBackend, text: &str) -> Condition {
    columns_condition(backend, text).add(Column::RequestId.eq(text))
}

/// An FTS5 query for the rows holding every trigram of `text` (at most
/// [`MAX_SEARCH_TRIGRAMS`]), each a quoted string; `None` when the text
/// has no trigram or a NUL (which FTS5 would cut the text at).
pub fn trigram_query(text: &str) -> Option<String> {
    if text.contains('\0') {
        return None;
    }
    let chars: Vec<char> = text.chars().collect();
    let mut trigrams: Vec<String> = Vec::new();
    for window in chars.windows(3) {
        let t: String = window.iter().collect();
        if !trigrams.contains(&t) {
            trigrams.push(t);
        }
        if trigrams.len() == MAX_SEARCH_TRIGRAMS {
            break;
        }
    }
    if trigrams.is_empty() {
        return None;
    }
    let quoted: Vec<String> = trigrams
        .iter()
        .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
        .collect();
    Some(quoted.join(" "))
}

/// Narrows `select` to the traces `text` finds and orders them newest
/// first, by the plan that suits the database.
pub async fn narrow(
    db: &impl ConnectionTrait,
    select: Select<proxy_tracing::Entity>,
    text: &str,
) -> Result<Select<proxy_tracing::Entity>, DbErr> {
    let backend = db.get_database_backend();
    let newest_first = |s: Select<proxy_tracing::Entity>| s.order_by_desc(Column::Id);
    match (backend, trigram_query(text)) {
        (DatabaseBackend::Postgres, _) => Ok(newest_first(select.filter(postgres_condition(text)))),
        (DatabaseBackend::Sqlite, Some(fts)) => sqlite_indexed(db, select, text, fts).await,
        _ => Ok(newest_first(select.filter(exact_condition(backend, text)))),
    }
}

/// PostgreSQL: the document expression of the trigram index must hold the
/// text (the index answers that), and so must one of the columns; or the
/// request id is the text (its unique index answers that).
fn postgres_condition(text: &str) -> Condition {
    let pattern = format!("%{}%", like_literal(text));
    let document = Expr::cust(search_document("")).like(LikeExpr::new(pattern));
    Condition::any()
        .add(
            Condition::all()
                .add(document)
                .add(columns_condition(DatabaseBackend::Postgres, text)),
        )
        .add(Column::RequestId.eq(text))
}

/// SQLite: the FTS5 table yields candidates newest first (a join that
/// stops once the page is full); the exact condition keeps the true ones.
/// A trace whose request id is the text need not be a candidate, so when
/// one exists the candidates are a subquery and that trace is added.
async fn sqlite_indexed(
    db: &impl ConnectionTrait,
    mut select: Select<proxy_tracing::Entity>,
    text: &str,
    fts: String,
) -> Result<Select<proxy_tracing::Entity>, DbErr> {
    let by_request_id = proxy_tracing::Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::RequestId.eq(text))
        .into_tuple::<i64>()
        .one(db)
        .await?;
    let exact = exact_condition(DatabaseBackend::Sqlite, text);
    let matches = format!("\"{SEARCH_TABLE}\" MATCH ?");
    if let Some(id) = by_request_id {
        let candidates = format!(
            "\"proxy_tracing\".\"id\" IN (SELECT rowid FROM \"{SEARCH_TABLE}\" WHERE {matches})"
        );
        let found = Condition::any()
            .add(
                Condition::all()
                    .add(Expr::cust_with_values(candidates, [fts]))
                    .add(exact),
            )
            .add(Column::Id.eq(id));
        return Ok(select.filter(found).order_by_desc(Column::Id));
    }
    let table = Alias::new(SEARCH_TABLE);
    let rowid = Expr::col((table.clone(), Alias::new("rowid")));
    let statement = QueryTrait::query(&mut select);
    statement.inner_join(
        table,
        rowid.clone().equals((proxy_tracing::Entity, Column::Id)),
    );
    statement.order_by_expr(rowid, Order::Desc);
    Ok(select
        .filter(Expr::cust_with_values(matches, [fts]))
        .filter(exact))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_literal_escapes_wildcards_and_the_escape() {
        assert_eq!(like_literal(r"50%_a\b'c"), r"50\%\_a\\b'c");
        assert_eq!(like_literal("plain"), "plain");
    }

    #[test]
    fn trigrams_are_distinct_quoted_and_bounded() {
        assert_eq!(trigram_query("ab"), None);
        assert_eq!(trigram_query("a\0bcd"), None);
        assert_eq!(trigram_query("abab").as_deref(), Some(r#""aba" "bab""#));
        assert_eq!(trigram_query(r#"a"b"#).as_deref(), Some(r#""a""b""#));
        assert_eq!(trigram_query("é_%").as_deref(), Some(r#""é_%""#));
        let long: String = ('a'..='z').collect();
        let q = trigram_query(&long).unwrap();
        assert_eq!(q.split(' ').count(), MAX_SEARCH_TRIGRAMS);
    }
}
