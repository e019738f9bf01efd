//! The rows statistics are summed over: raw traces from the first day not
//! rolled up yet, and per-day aggregates before it (see
//! `trace::retention`). Both halves read the roll-up mark in the same
//! statement, so a day is counted once whether its raw rows are still
//! there, partly deleted or gone.

use sea_orm::DatabaseBackend;

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
pub fn day_expr(backend: DatabaseBackend) -> &'static str {
    match backend {
        DatabaseBackend::Postgres => "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
        _ => "substr(created_at, 1, 10)",
    }
}

/// The two placeholders [`traffic`] takes: the first instant and the
/// first day (`YYYY-MM-DD`) counted.
pub fn placeholders(backend: DatabaseBackend) -> (&'static str, &'static str) {
    match backend {
        DatabaseBackend::Postgres => ("$1", "$2"),
        _ => ("?", "?"),
    }
}

/// A subquery (alias `t`) of `day, client_key_id, client_key_name,
/// provider_key_id, model, requests, errors, server_errors, tokens, cost,
/// duration` rows within
/// `scope` (a condition on `client_key_id` / `provider_key_id` only).
pub fn traffic(backend: DatabaseBackend, scope: &str) -> String {
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
pub const SUMS: &str = "CAST(COALESCE(SUM(requests), 0) AS BIGINT) AS requests, \
    CAST(COALESCE(SUM(errors), 0) AS BIGINT) AS errors, \
    CAST(COALESCE(SUM(server_errors), 0) AS BIGINT) AS server_errors, \
    CAST(COALESCE(SUM(tokens), 0) AS BIGINT) AS tokens, \
    CAST(COALESCE(SUM(cost), 0) AS BIGINT) AS cost, \
    CAST(COALESCE(SUM(duration), 0) AS BIGINT) AS duration";

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
}
