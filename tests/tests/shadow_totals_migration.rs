//! The `shadow_totals` migration (000028) on verdict rows written before
//! it, on SQLite and PostgreSQL: the totals it fills per provider and
//! candidate are the ones the report summed from the rows before, the
//! candidate compared last stays the one the report picks, the shadow
//! writer then adds to those totals and stores only its disagreements,
//! and `down` drops the table.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use ai_proxy::store::entities::shadow_verdicts;
use ai_proxy::store::shadow_totals::{self, Batch, Comparison, Totals};
use ai_proxy_tests::migrations;
use chrono::{DateTime, Duration, TimeZone, Utc};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection, Set, Statement};

const MIGRATION: &str = "m20261205_000028_shadow_totals";

fn day(n: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, n, 12, 0, 0).unwrap()
}

/// A verdict row as the shadow writer stored it before 000028.
fn verdict(
    key: (i32, i32),
    agree: bool,
    costs: (Option<i64>, Option<i64>),
    at: DateTime<Utc>,
) -> shadow_verdicts::ActiveModel {
    shadow_verdicts::ActiveModel {
        provider_id: Set(key.0),
        candidate_plugin_id: Set(key.1),
        request_id: Set(format!("req_{}_{}_{}", key.0, key.1, at.timestamp())),
        serving_version: Set("0.1.0".into()),
        candidate_version: Set("0.2.0".into()),
        agree: Set(agree),
        serving: Set("{}".into()),
        candidate: Set("{}".into()),
        serving_cost_nanos: Set(costs.0),
        candidate_cost_nanos: Set(costs.1),
        created_at: Set(at),
        ..Default::default()
    }
}

/// The totals per (provider, candidate) as the report summed them from
/// the verdict rows before 000028.
async fn summed_from_rows(db: &DatabaseConnection) -> BTreeMap<(i32, i32), Totals> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT provider_id, candidate_plugin_id, CAST(COUNT(*) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN agree THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(COALESCE(candidate_cost_nanos, 0) - COALESCE(serving_cost_nanos, 0)), 0) AS BIGINT) \
             FROM shadow_verdicts GROUP BY provider_id, candidate_plugin_id",
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            let key = (
                r.try_get_by_index(0).unwrap(),
                r.try_get_by_index(1).unwrap(),
            );
            let totals = Totals {
                compared: r.try_get_by_index(2).unwrap(),
                agreeing: r.try_get_by_index(3).unwrap(),
                cost_difference: r.try_get_by_index(4).unwrap(),
            };
            (key, totals)
        })
        .collect()
}

async fn count(db: &DatabaseConnection, sql: &str) -> Result<i64, sea_orm::DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?
        .unwrap();
    row.try_get_by_index(0)
}

async fn migrate_over_old_rows(db: &DatabaseConnection) {
    migrations::up_to_before(db, MIGRATION).await;
    let old = vec![
        verdict((1, 7), true, (Some(5), Some(5)), day(1)),
        verdict((1, 7), false, (Some(5), Some(9)), day(2)),
        verdict((1, 7), false, (None, Some(3)), day(3)),
        verdict((2, 7), false, (Some(0), Some(0)), day(4)),
        verdict((1, 8), true, (Some(10), None), day(5)),
    ];
    ai_proxy::store::shadow_verdicts::insert_batch(db, old)
        .await
        .unwrap();
    let summed = summed_from_rows(db).await;
    let t = |compared, agreeing, cost_difference| Totals {
        compared,
        agreeing,
        cost_difference,
    };
    assert_eq!(
        summed,
        BTreeMap::from([
            ((1, 7), t(3, 1, 7)),
            ((1, 8), t(1, 1, -10)),
            ((2, 7), t(1, 0, 0))
        ])
    );
    Migrator::up(db, None).await.unwrap();

    for (&(provider, candidate), totals) in &summed {
        let read = shadow_totals::find(db, provider, candidate).await.unwrap();
        assert_eq!(read, *totals, "({provider}, {candidate}) reads as before");
    }
    assert_eq!(
        shadow_totals::find(db, 3, 7).await.unwrap(),
        Totals::default()
    );
    let latest = |p| shadow_totals::latest_candidate(db, p);
    assert_eq!(
        latest(1).await.unwrap(),
        Some(8),
        "compared last, as before"
    );
    assert_eq!(latest(2).await.unwrap(), Some(7));

    // The writer adds to the filled totals and stores only the disagreement.
    let mut batch = Batch::default();
    for (agree, difference) in [(true, 0), (false, 2)] {
        batch.push(Comparison {
            provider_id: 1,
            candidate_plugin_id: 7,
            agree,
            cost_difference: difference,
            row: Some(verdict(
                (1, 7),
                agree,
                (Some(1), Some(1 + difference)),
                day(6),
            )),
        });
    }
    shadow_totals::record(db, batch, day(6) + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(
        shadow_totals::find(db, 1, 7).await.unwrap(),
        t(5, 2, 9),
        "added to what the migration filled"
    );
    assert_eq!(latest(1).await.unwrap(), Some(7));
    let rows = count(db, "SELECT COUNT(*) FROM shadow_verdicts").await;
    assert_eq!(rows.unwrap(), 6, "one row more: the disagreement");

    migrations::down_through(db, MIGRATION).await;
    assert!(
        count(db, "SELECT COUNT(*) FROM shadow_totals")
            .await
            .is_err(),
        "down drops the table"
    );
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM shadow_verdicts")
            .await
            .unwrap(),
        6,
        "and leaves the verdicts"
    );
}

#[tokio::test]
async fn old_verdicts_fill_the_totals_the_report_read_on_sqlite() {
    migrations::on_sqlite("shadow-totals", migrate_over_old_rows).await;
}

#[tokio::test]
async fn old_verdicts_fill_the_totals_the_report_read_on_postgres() {
    migrations::on_postgres("shadow_totals_migration", migrate_over_old_rows).await;
}
