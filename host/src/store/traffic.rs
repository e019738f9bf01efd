//! Traffic figures summed in the database, for the statistics pages and
//! the budget report: over raw traces from the first day not rolled up
//! yet, and per-day aggregates before it (see `trace::retention`). Both
//! halves read the roll-up mark in the same statement, so a day is counted
//! once whether its raw rows are still there, partly deleted or gone.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, QueryResult, Statement, Value};

/// Entries in each top list.
pub const TOP_N: u64 = 10;

/// The roll-up mark as a timestamp comparable with `created_at`.
fn mark_as_time(backend: DatabaseBackend) -> &'static str {
    match backend {
        DatabaseBackend::Postgres => {
            "(SELECT CAST(rolled_until || ' 00:00:00+00' AS TIMESTAMPTZ) FROM proxy_tracing_rollup WHERE id = 1)"
        }
        // SQLite keeps `created_at` as text starting `YYYY-MM-DD`.
        _ => "(SELECT rolled_until FROM proxy_tracing_rollup WHERE id = 1)",
    }
}

const MARK_AS_DAY: &str = "(SELECT rolled_until FROM proxy_tracing_rollup WHERE id = 1)";

/// The UTC day (`YYYY-MM-DD`) of a raw row.
fn day_expr(backend: DatabaseBackend) -> &'static str {
    match backend {
        DatabaseBackend::Postgres => "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
        _ => "substr(created_at, 1, 10)",
    }
}

/// The two placeholders [`traffic`] takes: the first instant and the
/// first day (`YYYY-MM-DD`) counted.
fn placeholders(backend: DatabaseBackend) -> (&'static str, &'static str) {
    match backend {
        DatabaseBackend::Postgres => ("$1", "$2"),
        _ => ("?", "?"),
    }
}

/// A subquery (alias `t`) of `day, client_key_id, client_key_name,
/// provider_key_id, model, requests, errors, server_errors, tokens, cost,
/// duration` rows within
/// `scope` (a condition on `client_key_id` / `provider_key_id` only).
fn traffic(backend: DatabaseBackend, scope: &str) -> String {
    let day = day_expr(backend);
    let (since, since_day) = placeholders(backend);
    let mark = mark_as_time(backend);
    format!(
        "(SELECT {day} AS day, client_key_id, client_key_name, provider_key_id, model, \
           1 AS requests, CASE WHEN status_code >= 400 THEN 1 ELSE 0 END AS errors, \
           CASE WHEN status_code >= 500 THEN 1 ELSE 0 END AS server_errors, \
           total_tokens AS tokens, COALESCE(cost_nanos, 0) AS cost, duration_ms AS duration \
         FROM proxy_tracing WHERE created_at >= {since} AND created_at >= {mark} AND {scope} \
         UNION ALL \
         SELECT day, client_key_id, client_key_name, provider_key_id, model, \
           requests, errors, server_errors, tokens, cost_nanos AS cost, duration_ms AS duration \
         FROM proxy_tracing_daily WHERE day >= {since_day} AND day < {MARK_AS_DAY} AND {scope}) t"
    )
}

/// Sums of a group of [`traffic`] rows.
const SUMS: &str = "CAST(COALESCE(SUM(requests), 0) AS BIGINT) AS requests, \
    CAST(COALESCE(SUM(errors), 0) AS BIGINT) AS errors, \
    CAST(COALESCE(SUM(server_errors), 0) AS BIGINT) AS server_errors, \
    CAST(COALESCE(SUM(tokens), 0) AS BIGINT) AS tokens, \
    CAST(COALESCE(SUM(cost), 0) AS BIGINT) AS cost, \
    CAST(COALESCE(SUM(duration), 0) AS BIGINT) AS duration";

/// Which traces a figure covers.
#[derive(Debug, Clone, PartialEq)]
pub enum TrafficScope {
    All,
    /// Traces of any client key (none made outside one).
    AnyClientKey,
    UpstreamKey(i32),
    ClientKeys(Vec<i32>),
}

impl TrafficScope {
    /// A SQL condition; ids are integers, so they are written inline.
    fn condition(&self) -> String {
        match self {
            TrafficScope::All => "1 = 1".into(),
            TrafficScope::AnyClientKey => "client_key_id IS NOT NULL".into(),
            TrafficScope::UpstreamKey(id) => format!("provider_key_id = {id}"),
            TrafficScope::ClientKeys(ids) if ids.is_empty() => "1 = 0".into(),
            TrafficScope::ClientKeys(ids) => {
                let list: Vec<String> = ids.iter().map(i32::to_string).collect();
                format!("client_key_id IN ({})", list.join(", "))
            }
        }
    }
}

/// Sums of a group of traces.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sums {
    pub requests: i64,
    pub errors: i64,
    pub server_errors: i64,
    pub tokens: i64,
    /// Nanodollars.
    pub cost: i64,
    /// Milliseconds, over all requests.
    pub duration: i64,
}

impl Sums {
    fn of(row: &QueryResult) -> Result<Sums, DbErr> {
        Ok(Sums {
            requests: row.try_get("", "requests")?,
            errors: row.try_get("", "errors")?,
            server_errors: row.try_get("", "server_errors")?,
            tokens: row.try_get("", "tokens")?,
            cost: row.try_get("", "cost")?,
            duration: row.try_get("", "duration")?,
        })
    }
}

/// What a top list ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopBy {
    Model,
    ClientKeyName,
}

impl TopBy {
    fn column(self) -> &'static str {
        match self {
            TopBy::Model => "model",
            TopBy::ClientKeyName => "client_key_name",
        }
    }
}

/// The statement over [`traffic`] counted from `since` (midnight UTC of
/// its first day).
fn statement(backend: DatabaseBackend, sql: String, since: DateTime<Utc>) -> Statement {
    let values = [
        Value::from(since),
        Value::from(since.format("%Y-%m-%d").to_string()),
    ];
    Statement::from_sql_and_values(backend, sql, values)
}

/// Midnight UTC of `day`.
fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// Sums per UTC day (`YYYY-MM-DD`) from `first`, days without traffic left out.
pub async fn daily(
    db: &impl ConnectionTrait,
    scope: &TrafficScope,
    first: NaiveDate,
) -> Result<Vec<(String, Sums)>, DbErr> {
    let backend = db.get_database_backend();
    let sql = format!(
        "SELECT day, {SUMS} FROM {} GROUP BY day ORDER BY 1",
        traffic(backend, &scope.condition())
    );
    let rows = db
        .query_all_raw(statement(backend, sql, midnight(first)))
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("", "day")?, Sums::of(row)?)))
        .collect()
}

/// The [`TOP_N`] names of `by` with the most requests from `first`.
pub async fn top(
    db: &impl ConnectionTrait,
    scope: &TrafficScope,
    by: TopBy,
    first: NaiveDate,
) -> Result<Vec<(String, Sums)>, DbErr> {
    let backend = db.get_database_backend();
    let column = by.column();
    let sql = format!(
        "SELECT {column} AS name, {SUMS} FROM {} WHERE {column} IS NOT NULL \
         GROUP BY {column} ORDER BY requests DESC, name LIMIT {TOP_N}",
        traffic(backend, &scope.condition())
    );
    let rows = db
        .query_all_raw(statement(backend, sql, midnight(first)))
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("", "name")?, Sums::of(row)?)))
        .collect()
}

/// Sums per client key and upstream key since `since` (a midnight in the
/// limits' time zone, so not always a UTC one).
pub async fn by_key(
    db: &impl ConnectionTrait,
    scope: &TrafficScope,
    since: DateTime<Utc>,
) -> Result<Vec<(i32, Option<i32>, Sums)>, DbErr> {
    let backend = db.get_database_backend();
    let sql = format!(
        "SELECT client_key_id, provider_key_id, {SUMS} FROM {} GROUP BY client_key_id, provider_key_id",
        traffic(backend, &scope.condition())
    );
    let rows = db.query_all_raw(statement(backend, sql, since)).await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get("", "client_key_id")?,
                row.try_get("", "provider_key_id")?,
                Sums::of(row)?,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_halves_take_the_scope_and_the_mark() {
        let sql = traffic(DatabaseBackend::Sqlite, "client_key_id IN (3)");
        assert_eq!(sql.matches("client_key_id IN (3)").count(), 2);
        assert_eq!(sql.matches("proxy_tracing_rollup").count(), 2);
        let pg = traffic(DatabaseBackend::Postgres, "1 = 1");
        assert!(pg.contains("$1") && pg.contains("$2") && !pg.contains('?'));
    }

    #[test]
    fn scope_conditions_are_integers_only() {
        assert_eq!(TrafficScope::ClientKeys(vec![]).condition(), "1 = 0");
        assert_eq!(
            TrafficScope::ClientKeys(vec![1, 2]).condition(),
            "client_key_id IN (1, 2)"
        );
        assert_eq!(
            TrafficScope::UpstreamKey(5).condition(),
            "provider_key_id = 5"
        );
    }
}
