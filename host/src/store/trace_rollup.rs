//! The statements of trace retention (`trace::retention` decides when):
//! the roll-up mark (`proxy_tracing_rollup`, the first day not rolled up),
//! a day's aggregates into `proxy_tracing_daily`, and batched deletes of
//! expired `proxy_tracing` and `shadow_verdicts` rows. Plain SQL with `?`
//! placeholders, numbered for PostgreSQL.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, Statement, TransactionTrait, Value,
};

/// A table whose rows expire by `created_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiring {
    /// Raw traces (`proxy_tracing`), once their day is rolled up.
    Traces,
    /// Shadow disagreements (`shadow_verdicts`); the totals they were
    /// counted in (`shadow_totals`) stay.
    ShadowVerdicts,
}

impl Expiring {
    fn table(self) -> &'static str {
        match self {
            Expiring::Traces => "proxy_tracing",
            Expiring::ShadowVerdicts => "shadow_verdicts",
        }
    }
}

/// Midnight UTC of `day`.
pub fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(chrono::NaiveTime::MIN).and_utc()
}

fn sql(db: &impl ConnectionTrait, text: &str, values: Vec<Value>) -> Statement {
    let text = match db.get_database_backend() {
        DatabaseBackend::Postgres => numbered_placeholders(text),
        _ => text.to_owned(),
    };
    Statement::from_sql_and_values(db.get_database_backend(), text, values)
}

/// `?` → `$1`, `$2`, … for PostgreSQL.
fn numbered_placeholders(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut n = 0;
    for c in text.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

fn day_value(day: NaiveDate) -> Value {
    Value::from(day.format("%Y-%m-%d").to_string())
}

/// The first day not rolled up yet.
pub async fn rolled_until(db: &impl ConnectionTrait) -> Result<NaiveDate, DbErr> {
    let row = db
        .query_one_raw(sql(
            db,
            "SELECT rolled_until FROM proxy_tracing_rollup WHERE id = 1",
            vec![],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("proxy_tracing_rollup".into()))?;
    let text: String = row.try_get("", "rolled_until")?;
    NaiveDate::parse_from_str(&text, "%Y-%m-%d")
        .map_err(|_| DbErr::Custom(format!("bad roll-up mark {text:?}")))
}

/// When the oldest raw trace created at or after `since` was created.
pub async fn oldest_trace_since(
    db: &impl ConnectionTrait,
    since: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    Ok(db
        .query_one_raw(sql(
            db,
            "SELECT MIN(created_at) AS oldest FROM proxy_tracing WHERE created_at >= ?",
            vec![since.into()],
        ))
        .await?
        .and_then(|row| row.try_get::<Option<DateTime<Utc>>>("", "oldest").ok())
        .flatten())
}

/// Moves the mark up to `to`; false when it is there already (another
/// instance moved it first).
pub async fn move_mark(db: &impl ConnectionTrait, to: NaiveDate) -> Result<bool, DbErr> {
    let done = db
        .execute_raw(sql(
            db,
            "UPDATE proxy_tracing_rollup SET rolled_until = ? WHERE id = 1 AND rolled_until < ?",
            vec![day_value(to), day_value(to)],
        ))
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Inserts the aggregates of `day` and moves the mark past it, in one
/// transaction; nothing when another instance rolled it up meanwhile.
pub async fn roll_up_day(db: &DatabaseConnection, day: NaiveDate) -> Result<(), DbErr> {
    let next = day + chrono::Duration::days(1);
    let txn = db.begin().await?;
    if !move_mark(&txn, next).await? {
        return txn.rollback().await;
    }
    txn.execute_raw(sql(
        &txn,
        "INSERT INTO proxy_tracing_daily \
         (day, client_key_id, client_key_name, provider_key_id, model, requests, errors, server_errors, tokens, cost_nanos, duration_ms) \
         SELECT ?, client_key_id, client_key_name, provider_key_id, model, COUNT(*), \
         CAST(COALESCE(SUM(CASE WHEN status_code >= 400 THEN 1 ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN status_code >= 500 THEN 1 ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(total_tokens), 0) AS BIGINT), \
         CAST(COALESCE(SUM(cost_nanos), 0) AS BIGINT), \
         CAST(COALESCE(SUM(duration_ms), 0) AS BIGINT) \
         FROM proxy_tracing WHERE created_at >= ? AND created_at < ? \
         GROUP BY client_key_id, client_key_name, provider_key_id, model",
        vec![day_value(day), start_of(day).into(), start_of(next).into()],
    ))
    .await?;
    txn.commit().await
}

/// Deletes at most `batch` rows of `table` created before `before`;
/// returns how many.
pub async fn delete_batch_before(
    db: &impl ConnectionTrait,
    table: Expiring,
    before: DateTime<Utc>,
    batch: u64,
) -> Result<u64, DbErr> {
    let table = table.table();
    let done = db
        .execute_raw(sql(
            db,
            &format!(
                "DELETE FROM {table} WHERE id IN \
                 (SELECT id FROM {table} WHERE created_at < ? LIMIT {batch})"
            ),
            vec![before.into()],
        ))
        .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres() {
        assert_eq!(
            numbered_placeholders("a = ? AND b < ? LIMIT 3"),
            "a = $1 AND b < $2 LIMIT 3"
        );
    }
}
