//! Runs one page of the request log and its total, at any table size.
//!
//! The total is counted up to a cap ([`TOTAL_COUNT_CAP`] rows past the
//! page's offset): an exact count of every match grows with the table (a
//! second at ten million rows), while a page only needs to know whether
//! there is more. Past the cap the answer says `total_is_lower_bound` and
//! the console shows "more than N". The page and its count read one
//! snapshot (a transaction); on PostgreSQL that transaction also plans
//! each query for its own values (`plan_cache_mode`), because the best plan
//! for a search or a model prefix depends on how many rows match.

use sea_orm::sea_query::{Alias, Expr, Query};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, QueryOrder, QuerySelect,
    QueryTrait, Select, TransactionTrait,
};

use super::trace_search::{self, SearchText};
use crate::store::entities::proxy_tracing;

/// Rows counted past a page's offset before the total becomes "more than".
pub const TOTAL_COUNT_CAP: u64 = 10_000;

/// One page of traces, newest first, and what is known of the total.
pub struct Listed {
    pub rows: Vec<proxy_tracing::Model>,
    /// Matching traces: exact, or the cap when `total_is_lower_bound`.
    pub total: u64,
    /// More than `total` traces match.
    pub total_is_lower_bound: bool,
}

/// The page `page` (1-based) of `page_size` traces of `select` narrowed by
/// `search`, with its capped total.
pub async fn fetch(
    db: &DatabaseConnection,
    select: Select<proxy_tracing::Entity>,
    search: Option<&SearchText>,
    page: u64,
    page_size: u64,
) -> Result<Listed, DbErr> {
    let txn = db.begin().await?;
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan")
            .await?;
    }
    let select = match search {
        Some(text) => trace_search::narrow(&txn, select, text).await?,
        None => select.order_by_desc(proxy_tracing::Column::Id),
    };
    let offset = page.saturating_sub(1).saturating_mul(page_size);
    let rows = select
        .clone()
        .offset(offset)
        .limit(page_size)
        .all(&txn)
        .await?;
    let listed = match exact_from_page(offset, page_size, rows.len()) {
        Some(total) => Listed {
            rows,
            total,
            total_is_lower_bound: false,
        },
        None => {
            let cap = offset.saturating_add(TOTAL_COUNT_CAP);
            let counted = capped_count(&txn, select, cap).await?;
            Listed {
                rows,
                total: counted.min(cap),
                total_is_lower_bound: counted > cap,
            }
        }
    };
    txn.commit().await?;
    Ok(listed)
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
