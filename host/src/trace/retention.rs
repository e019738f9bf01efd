//! Trace retention: raw `proxy_tracing` rows are kept
//! `AI_PROXY_TRACE_RETENTION_DAYS` whole UTC days (0 keeps them forever),
//! then deleted in small batches by a background task, never on the
//! request path. Before a day's raw rows may go, the day is rolled up into
//! `proxy_tracing_daily` (requests, errors, tokens, cost per client key,
//! upstream key and model), so statistics stay right afterwards. Shadow
//! disagreements (`shadow_verdicts`, which hold request ids and verdicts
//! much as traces do) follow the same days, deleted the same way; the
//! shadow totals (`shadow_totals`) are running counts that never expire,
//! so the report's totals stay the same when these rows go.
//!
//! A day is rolled up once: the roll-up mark (`proxy_tracing_rollup`) moves
//! from that day to the next in the same transaction that inserts the
//! day's aggregates, and only when it still names that day. Instances
//! sharing a database can run this at the same time; one of them wins each
//! day and the others find nothing to do.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{DatabaseConnection, DbErr};

use crate::store::trace_rollup::{self, Expiring, roll_up_day, rolled_until, start_of};

/// Default days raw traces are kept.
pub const DEFAULT_RETENTION_DAYS: u32 = 30;
/// Longest retention an operator may set (a hundred years).
pub const MAX_RETENTION_DAYS: u32 = 36_500;
/// Default time between retention runs.
pub const DEFAULT_RETENTION_INTERVAL: Duration = Duration::from_secs(3600);
/// Longest wait before the first run after a start.
pub const FIRST_RUN_DELAY: Duration = Duration::from_secs(60);
/// Raw rows deleted per statement: small, so a delete never holds the
/// database (SQLite's one writer above all) long enough to delay the
/// trace writer.
pub const DELETE_BATCH: u64 = 1000;
/// Pause between delete batches, letting other writers in.
const DELETE_PAUSE: Duration = Duration::from_millis(20);
/// Most days rolled up in one run; the next run goes on.
pub const ROLLUP_DAYS_PER_RUN: u32 = 400;

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RetentionReport {
    pub days_rolled_up: u32,
    pub rows_deleted: u64,
    pub verdicts_deleted: u64,
}

/// The background task's settings.
pub struct Retention {
    pub db: DatabaseConnection,
    /// Whole UTC days of raw rows kept; 0 keeps them forever.
    pub days: u32,
    pub interval: Duration,
}

impl Retention {
    /// Spawns the task on the current runtime (nothing when `days` is 0).
    pub fn spawn(self) {
        if self.days == 0 {
            return;
        }
        tokio::spawn(async move {
            tokio::time::sleep(self.interval.min(FIRST_RUN_DELAY)).await;
            loop {
                match run_once(&self.db, self.days, Utc::now()).await {
                    Ok(report) if report != RetentionReport::default() => {
                        tracing::info!(
                            days_rolled_up = report.days_rolled_up,
                            rows_deleted = report.rows_deleted,
                            verdicts_deleted = report.verdicts_deleted,
                            "trace retention"
                        );
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "trace retention failed"),
                }
                tokio::time::sleep(self.interval).await;
            }
        });
    }
}

/// The first day whose raw rows are kept, given the days kept and now.
pub fn first_kept_day(days: u32, now: DateTime<Utc>) -> NaiveDate {
    now.date_naive() - chrono::Duration::days(i64::from(days))
}

/// Rolls up every expired day not rolled up yet, then deletes raw rows of
/// rolled-up days, and shadow verdicts of expired days, in batches.
pub async fn run_once(
    db: &DatabaseConnection,
    days: u32,
    now: DateTime<Utc>,
) -> Result<RetentionReport, DbErr> {
    let kept_from = first_kept_day(days, now);
    let mut report = RetentionReport::default();
    while report.days_rolled_up < ROLLUP_DAYS_PER_RUN {
        let Some(day) = next_day_to_roll(db, kept_from).await? else {
            break;
        };
        roll_up_day(db, day).await?;
        report.days_rolled_up += 1;
    }
    let rolled_until = start_of(rolled_until(db).await?.min(kept_from));
    report.rows_deleted = delete_before(db, Expiring::Traces, rolled_until).await?;
    report.verdicts_deleted =
        delete_before(db, Expiring::ShadowVerdicts, start_of(kept_from)).await?;
    Ok(report)
}

/// The next day to roll up, if one before `kept_from` is due. Days before
/// the oldest raw row are skipped in one step.
async fn next_day_to_roll(
    db: &DatabaseConnection,
    kept_from: NaiveDate,
) -> Result<Option<NaiveDate>, DbErr> {
    let mark = rolled_until(db).await?;
    if mark >= kept_from {
        return Ok(None);
    }
    match trace_rollup::oldest_trace_since(db, start_of(mark)).await? {
        Some(t) if t.date_naive() < kept_from => Ok(Some(t.date_naive().max(mark))),
        // Nothing to roll before the kept days: move the mark up to them.
        _ => {
            trace_rollup::move_mark(db, kept_from).await?;
            Ok(None)
        }
    }
}

/// Deletes rows of `table` created before `before`, `DELETE_BATCH` at a
/// time with a pause between batches.
async fn delete_before(
    db: &DatabaseConnection,
    table: Expiring,
    before: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let mut deleted = 0;
    loop {
        let done = trace_rollup::delete_batch_before(db, table, before, DELETE_BATCH).await?;
        deleted += done;
        if done < DELETE_BATCH {
            return Ok(deleted);
        }
        tokio::time::sleep(DELETE_PAUSE).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_kept_day_counts_whole_days_back() {
        let now = DateTime::parse_from_rfc3339("2026-03-31T23:59:00Z")
            .expect("time")
            .with_timezone(&Utc);
        assert_eq!(
            first_kept_day(30, now),
            NaiveDate::from_ymd_opt(2026, 3, 1).expect("date")
        );
        assert_eq!(
            first_kept_day(1, now),
            now.date_naive() - chrono::Duration::days(1)
        );
    }
}
