//! One page of the request log and its total, at any table size.
//!
//! The total is counted up to a cap ([`TOTAL_COUNT_CAP`] rows past the
//! page's offset): an exact count of every match grows with the table (a
//! second at ten million rows), while a page only needs to know whether
//! there is more. Past the cap the answer says `total_is_lower_bound` and
//! the console shows "more than N". The page and its count read one
//! snapshot (a transaction); on PostgreSQL that transaction also plans
//! each query for its own values (`plan_cache_mode`), because the best plan
//! for a search or a model prefix depends on how many rows match.
//!
//! SQLite's planner does not weigh that: given an index on a filtered
//! column it reads every match through it and sorts them all by id, even
//! when a filter matches an eighth of the table (20 s for one page at ten
//! million rows, where walking the table newest first meets 50 matches
//! within a few hundred rows). So on SQLite the capped count runs first,
//! and a filter that matches more than the cap is walked newest first
//! ([`walk_newest_first`]); one that matches fewer keeps the index and
//! sorts at most the cap.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select, Statement,
    TransactionTrait,
};

use super::trace_search::{self, like, like_literal};
use crate::store::entities::proxy_tracing;

/// Rows counted past a page's offset before the total becomes "more than".
pub const TOTAL_COUNT_CAP: u64 = 10_000;

/// Which traces a page shows, every field a condition when set (all of
/// them together); the free-text search is separate.
#[derive(Debug, Clone, Default)]
pub struct TraceFilter {
    /// Only traces of these client keys (a `user` account's own).
    pub client_key_ids: Option<Vec<i32>>,
    /// Models starting with any of these (`%` and `_` literal); none: any.
    pub model_prefixes: Vec<String>,
    pub status_code: Option<i32>,
    /// A half-open status range (`400..500` for `4xx`).
    pub status_range: Option<(i32, i32)>,
    pub error_class: Option<String>,
    pub id: Option<i64>,
    /// Only traces older than this one.
    pub before_id: Option<i64>,
    pub provider: Option<String>,
    pub upstream_key: Option<String>,
    pub client_key_id: Option<i32>,
    /// Inclusive.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub to: Option<DateTime<Utc>>,
}

impl TraceFilter {
    /// The filter as one condition, its parts in a fixed order.
    pub fn condition(&self, backend: DatabaseBackend) -> Condition {
        use proxy_tracing::Column;
        let mut cond = Condition::all();
        if let Some(ids) = &self.client_key_ids {
            cond = cond.add(Column::ClientKeyId.is_in(ids.iter().copied()));
        }
        if !self.model_prefixes.is_empty() {
            cond = cond.add(model_condition(backend, &self.model_prefixes));
        }
        if let Some(v) = self.status_code {
            cond = cond.add(Column::StatusCode.eq(v));
        }
        if let Some((from, to)) = self.status_range {
            let range = Condition::all()
                .add(Column::StatusCode.gte(from))
                .add(Column::StatusCode.lt(to));
            cond = cond.add(range);
        }
        if let Some(v) = &self.error_class {
            cond = cond.add(Column::ErrorClass.eq(v.as_str()));
        }
        if let Some(v) = self.id {
            cond = cond.add(Column::Id.eq(v));
        }
        if let Some(v) = self.before_id {
            cond = cond.add(Column::Id.lt(v));
        }
        if let Some(v) = &self.provider {
            cond = cond.add(Column::ProviderName.eq(v.as_str()));
        }
        if let Some(v) = &self.upstream_key {
            cond = cond.add(Column::UpstreamKeyName.eq(v.as_str()));
        }
        if let Some(v) = self.client_key_id {
            cond = cond.add(Column::ClientKeyId.eq(v));
        }
        if let Some(v) = self.from {
            cond = cond.add(Column::CreatedAt.gte(v));
        }
        if let Some(v) = self.to {
            cond = cond.add(Column::CreatedAt.lt(v));
        }
        cond
    }
}

/// Rows whose model starts with any of `prefixes` (all rows for none);
/// `%` and `_` in a prefix are literal.
pub fn model_condition(backend: DatabaseBackend, prefixes: &[String]) -> Condition {
    use sea_orm::sea_query::ExprTrait;
    prefixes.iter().fold(Condition::any(), |any, prefix| {
        let pattern = format!("{}%", like_literal(prefix));
        any.add(
            Expr::col((proxy_tracing::Entity, proxy_tracing::Column::Model))
                .like(like(backend, pattern)),
        )
    })
}

/// One page of traces, newest first, and what is known of the total.
pub struct Listed {
    pub rows: Vec<proxy_tracing::Model>,
    /// Matching traces: exact, or the cap when `total_is_lower_bound`.
    pub total: u64,
    /// More than `total` traces match.
    pub total_is_lower_bound: bool,
}

/// The page `page` (1-based) of `page_size` traces that `filter` keeps,
/// narrowed by the search text `search`, with its capped total.
pub async fn fetch(
    db: &DatabaseConnection,
    filter: &TraceFilter,
    search: Option<&str>,
    page: u64,
    page_size: u64,
) -> Result<Listed, DbErr> {
    let select = proxy_tracing::Entity::find().filter(filter.condition(db.get_database_backend()));
    let txn = db.begin().await?;
    let backend = txn.get_database_backend();
    if backend == DatabaseBackend::Postgres {
        txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan")
            .await?;
    }
    let offset = page.saturating_sub(1).saturating_mul(page_size);
    let cap = offset.saturating_add(TOTAL_COUNT_CAP);
    // The search narrows through its own index whatever the count; the
    // other filters choose their plan by it on SQLite.
    let counted_first = match (backend, search) {
        (DatabaseBackend::Sqlite, None) => Some(capped_count(&txn, select.clone(), cap).await?),
        _ => None,
    };
    let select = match search {
        Some(text) => trace_search::narrow(&txn, select, text).await?,
        None => select.order_by_desc(proxy_tracing::Column::Id),
    };
    let page_rows = select.clone().offset(offset).limit(page_size);
    let rows = match counted_first {
        Some(counted) if counted > cap => walk_newest_first(&txn, page_rows).await?,
        _ => page_rows.all(&txn).await?,
    };
    let counted = match (
        exact_from_page(offset, page_size, rows.len()),
        counted_first,
    ) {
        (Some(total), _) => total,
        (None, Some(counted)) => counted,
        (None, None) => capped_count(&txn, select, cap).await?,
    };
    txn.commit().await?;
    Ok(Listed {
        rows,
        total: counted.min(cap),
        total_is_lower_bound: counted > cap,
    })
}

/// The page, read on SQLite by walking the table from its newest row back
/// (see [`newest_first`]).
async fn walk_newest_first(
    db: &impl ConnectionTrait,
    page: Select<proxy_tracing::Entity>,
) -> Result<Vec<proxy_tracing::Model>, DbErr> {
    proxy_tracing::Entity::find()
        .from_raw_sql(newest_first(page))
        .all(db)
        .await
}

/// `page` as SQLite text that may use no index but the rowid (`id`), so
/// the table is read in the page's order and the read stops at its last
/// row. Should the text not name the table as expected, it is left as it
/// is and the planner's own choice runs: the same rows, only slower.
fn newest_first(page: Select<proxy_tracing::Entity>) -> Statement {
    const FROM: &str = r#"FROM "proxy_tracing""#;
    let mut statement = page.build(DatabaseBackend::Sqlite);
    statement.sql = statement
        .sql
        .replacen(FROM, &format!("{FROM} NOT INDEXED"), 1);
    statement
}

/// The total a page tells by itself: a short page that is not past the
/// end is the last one.
fn exact_from_page(offset: u64, page_size: u64, rows: usize) -> Option<u64> {
    let rows = rows as u64;
    (rows < page_size && (rows > 0 || offset == 0)).then_some(offset + rows)
}

/// Matching rows, counting at most `cap + 1` of them.
async fn capped_count(
    db: &impl ConnectionTrait,
    select: Select<proxy_tracing::Entity>,
    cap: u64,
) -> Result<u64, DbErr> {
    let mut inner = select.into_query();
    inner
        .clear_selects()
        .expr(Expr::cust("1"))
        .clear_order_by()
        .limit(cap.saturating_add(1));
    let count = Query::select()
        .expr(Expr::cust("COUNT(*)"))
        .from_subquery(inner, Alias::new("capped"))
        .to_owned();
    let n: i64 = match db.query_one(&count).await? {
        Some(row) => row.try_get_by_index(0)?,
        None => 0,
    };
    Ok(u64::try_from(n).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` traces, one in `every` of model `rare`, the rest `common`.
    async fn seed(db: &DatabaseConnection, n: u64, every: u64) {
        db.execute_unprepared(&format!(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n})
             INSERT INTO proxy_tracing (request_id, model, method, path, status_code, is_stream,
               attempts, attempt_log, input_tokens, output_tokens, cached_input_tokens,
               cache_write_tokens, reasoning_tokens, total_tokens, duration_ms, created_at)
             SELECT 'req_' || i, CASE WHEN i % {every} = 0 THEN 'rare' ELSE 'common' END, 'POST',
               '/v1/chat/completions', 200, 0, 1, '[]', 1, 1, 0, 0, 0, 2, 5,
               '2026-12-01T00:00:00+00:00' FROM s"
        ))
        .await
        .unwrap();
    }

    fn of_model(prefix: &str) -> TraceFilter {
        TraceFilter {
            model_prefixes: vec![prefix.to_owned()],
            ..TraceFilter::default()
        }
    }

    #[tokio::test]
    async fn a_filter_matching_past_the_cap_is_walked_newest_first_with_the_same_rows() {
        let db = super::super::test_rows::db().await;
        seed(&db, TOTAL_COUNT_CAP + 500, 100).await;

        let common = fetch(&db, &of_model("common"), None, 2, 50).await.unwrap();
        assert!(common.total_is_lower_bound);
        assert_eq!(common.total, 50 + TOTAL_COUNT_CAP);
        let expected: Vec<i64> = proxy_tracing::Entity::find()
            .filter(proxy_tracing::Column::Model.eq("common"))
            .order_by_desc(proxy_tracing::Column::Id)
            .offset(50)
            .limit(50)
            .all(&db)
            .await
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect();
        let got: Vec<i64> = common.rows.iter().map(|r| r.id).collect();
        assert_eq!(got, expected);
        assert_eq!(got.len(), 50);

        // Under the cap: the index, and an exact total.
        let rare = fetch(&db, &of_model("rare"), None, 1, 50).await.unwrap();
        assert!(!rare.total_is_lower_bound);
        assert_eq!(rare.total, (TOTAL_COUNT_CAP + 500) / 100);
        assert!(rare.rows.iter().all(|r| r.model.as_deref() == Some("rare")));
    }

    #[tokio::test]
    async fn the_walk_reads_the_table_in_id_order_without_sorting() {
        let db = super::super::test_rows::db().await;
        let page = proxy_tracing::Entity::find()
            .filter(of_model("common").condition(DatabaseBackend::Sqlite))
            .order_by_desc(proxy_tracing::Column::Id)
            .limit(50);
        let mut statement = newest_first(page);
        assert!(statement.sql.contains("NOT INDEXED"), "{}", statement.sql);
        statement.sql = format!("EXPLAIN QUERY PLAN {}", statement.sql);
        let plan: Vec<String> = db
            .query_all_raw(statement)
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get_by_index::<String>(3).unwrap())
            .collect();
        let plan = plan.join(" / ");
        assert!(plan.contains("SCAN proxy_tracing"), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    }

    #[test]
    fn a_short_page_is_the_last_one() {
        assert_eq!(exact_from_page(0, 50, 0), Some(0));
        assert_eq!(exact_from_page(0, 50, 49), Some(49));
        assert_eq!(exact_from_page(100, 50, 3), Some(103));
        // A full page, or an empty one past the end, says nothing.
        assert_eq!(exact_from_page(0, 50, 50), None);
        assert_eq!(exact_from_page(100, 50, 0), None);
    }
}
