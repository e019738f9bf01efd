//! Master key rotation: re-encrypts every stored secret sealed under the
//! previous key (`AI_PROXY_MASTER_KEY_PREVIOUS`) under the current one.
//!
//! It runs as a background job on every instance started with both keys
//! while the database records a rotation ([`crate::store::key_check`]),
//! after the catalog is loaded: requests never wait on it, and until it
//! is done they are served with the two-key [`SecretBox`], which reads
//! either. Rows are read in batches by id with a pause between batches,
//! so a large table does not crowd the database.
//!
//! As in [`crate::store::rebind`], every row is its own update, made only
//! if the row still holds what was read: a crash leaves the rest for the
//! next pass or start, and instances running the job at once never undo
//! each other (the loser of a race sees the row re-encrypted on its next
//! pass). A row neither key opens is counted and left as it is. When a
//! pass finds nothing left under the previous key, the rotation is
//! recorded complete and the log says the previous key may be dropped.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

use crate::secrets::{SealedUnder, SecretBox, SecretColumn};

/// Rows read per query.
pub const BATCH_ROWS: u64 = 100;
/// Pause between batches of a rewriting pass.
const BATCH_PAUSE: Duration = Duration::from_millis(20);
/// Pause before another pass, when a pass lost a race or failed.
const PASS_PAUSE: Duration = Duration::from_secs(2);
/// Passes one start makes at most; the next start goes on.
const MAX_PASSES: u32 = 30;
/// A rewriting pass logs its counts so far every this many batches, so a
/// long pass over a large table shows it is moving.
const PROGRESS_EVERY_BATCHES: u64 = 50;

/// Stored secrets by the key that seals them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Tally {
    /// Sealed under the current key (before this pass, or by another instance).
    pub current: u64,
    /// Still sealed under the previous key.
    pub previous: u64,
    /// Re-encrypted under the current key by this pass.
    pub rewritten: u64,
    /// Opened by neither key (another key, corrupt, or moved): left as is.
    pub unreadable: u64,
}

/// Whether a pass only counts or also re-encrypts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    Count,
    Rewrite,
}

/// Reads every secret of every encrypted column, batch by batch; with
/// [`Pass::Rewrite`], writes those under the previous key back under the
/// current one.
pub async fn scan(
    db: &DatabaseConnection,
    secrets: &SecretBox,
    pass: Pass,
) -> Result<Tally, DbErr> {
    let mut tally = Tally::default();
    let mut batches = 0u64;
    for column in SecretColumn::ALL {
        let mut after = 0i32;
        loop {
            let rows = batch(db, column, after).await?;
            let Some(&(last, _)) = rows.last() else { break };
            after = last;
            for (id, stored) in rows {
                scan_row(db, secrets, pass, column, id, stored, &mut tally).await?;
            }
            if pass == Pass::Rewrite {
                batches += 1;
                if batches.is_multiple_of(PROGRESS_EVERY_BATCHES) {
                    tracing::info!(
                        rewritten = tally.rewritten,
                        left_under_previous_key = tally.previous,
                        unreadable = tally.unreadable,
                        column = column.column(),
                        "master key rotation: in progress"
                    );
                }
                tokio::time::sleep(BATCH_PAUSE).await;
            }
        }
    }
    Ok(tally)
}

/// Up to [`BATCH_ROWS`] rows of `column` with an id above `after`.
async fn batch(
    db: &DatabaseConnection,
    column: SecretColumn,
    after: i32,
) -> Result<Vec<(i32, Vec<u8>)>, DbErr> {
    let (col, id) = (Alias::new(column.column()), Alias::new("id"));
    let select = Query::select()
        .column(id.clone())
        .column(col.clone())
        .from(Alias::new(column.table()))
        .and_where(Expr::col(col).is_not_null())
        .and_where(Expr::col(id.clone()).gt(after))
        .order_by(id, Order::Asc)
        .limit(BATCH_ROWS)
        .to_owned();
    let mut rows = Vec::new();
    for row in db.query_all(&select).await? {
        rows.push((row.try_get("", "id")?, row.try_get("", column.column())?));
    }
    Ok(rows)
}

async fn scan_row(
    db: &DatabaseConnection,
    secrets: &SecretBox,
    pass: Pass,
    column: SecretColumn,
    id: i32,
    stored: Vec<u8>,
    tally: &mut Tally,
) -> Result<(), DbErr> {
    let secret = match secrets.decrypt_telling(&stored, column, i64::from(id)) {
        Ok((_, SealedUnder::Current)) => {
            tally.current += 1;
            return Ok(());
        }
        Ok((secret, SealedUnder::Previous)) => secret,
        Err(_) => {
            tally.unreadable += 1;
            return Ok(());
        }
    };
    if pass == Pass::Count {
        tally.previous += 1;
        return Ok(());
    }
    let col = Alias::new(column.column());
    let update = Query::update()
        .table(Alias::new(column.table()))
        .value(col.clone(), secrets.encrypt(&secret, column, i64::from(id)))
        .and_where(Expr::col(Alias::new("id")).eq(id))
        .and_where(Expr::col(col).eq(stored))
        .to_owned();
    if db.execute(&update).await?.rows_affected() > 0 {
        tally.rewritten += 1;
    } else {
        // Changed meanwhile (re-encrypted by another instance, or edited):
        // the next pass reads it again.
        tally.previous += 1;
    }
    Ok(())
}

/// The last pass this instance made, for the admin API.
#[derive(Debug, Clone, Copy, serde::Serialize, utoipa::ToSchema)]
pub struct PassReport {
    /// 1 for the first pass since the start.
    pub pass: u32,
    pub tally: Tally,
    pub finished_at: DateTime<Utc>,
}

/// What this instance's job has done so far.
#[derive(Debug, Default)]
pub struct RotationProgress {
    last: Mutex<Option<PassReport>>,
}

impl RotationProgress {
    pub fn last_pass(&self) -> Option<PassReport> {
        self.last.lock().map(|last| *last).unwrap_or(None)
    }

    fn record(&self, report: PassReport) {
        if let Ok(mut last) = self.last.lock() {
            *last = Some(report);
        }
    }
}

/// Re-encrypts under the current key until nothing is left under the
/// previous one, then records the rotation complete.
pub struct RotationJob {
    pub db: DatabaseConnection,
    /// A box holding both keys.
    pub secrets: SecretBox,
    /// The current key's check value, to record completion for it only.
    pub check: String,
    pub progress: Arc<RotationProgress>,
}

impl RotationJob {
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(self.run())
    }

    /// Passes until one finds nothing under the previous key; a start
    /// gives up after [`MAX_PASSES`] (the next start goes on).
    pub async fn run(self) {
        for pass in 1..=MAX_PASSES {
            match scan(&self.db, &self.secrets, Pass::Rewrite).await {
                Ok(tally) => {
                    self.progress.record(PassReport {
                        pass,
                        tally,
                        finished_at: Utc::now(),
                    });
                    tracing::info!(
                        pass,
                        rewritten = tally.rewritten,
                        left_under_previous_key = tally.previous,
                        unreadable = tally.unreadable,
                        "master key rotation: pass done"
                    );
                    if tally.previous == 0 {
                        self.finish(tally).await;
                        return;
                    }
                }
                Err(e) => tracing::warn!(pass, error = %e, "master key rotation: pass failed"),
            }
            tokio::time::sleep(PASS_PAUSE).await;
        }
        tracing::warn!(
            passes = MAX_PASSES,
            "master key rotation: secrets are still sealed under the previous key; the next start goes on"
        );
    }

    async fn finish(&self, tally: Tally) {
        if let Err(e) = crate::store::key_check::mark_rotated(&self.db, &self.check).await {
            tracing::warn!(error = %e, "master key rotation: recording completion failed");
            return;
        }
        if tally.unreadable > 0 {
            tracing::warn!(
                rows = tally.unreadable,
                "master key rotation: stored secrets open with neither key and stay unusable"
            );
        }
        tracing::info!(
            "master key rotation complete: nothing is sealed under the previous key; AI_PROXY_MASTER_KEY_PREVIOUS can be removed"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::Secret;
    use crate::store::key_check::{self, KeyState};
    use crate::store::test_rows::{db, key, key_secret, provider, set_key_secret};

    const OLD: [u8; 32] = [1; 32];
    const NEW: [u8; 32] = [2; 32];
    const COLUMN: SecretColumn = SecretColumn::UpstreamKeySecret;

    /// An upstream key whose secret `sealer` sealed for its own row.
    async fn sealed_key(db: &DatabaseConnection, p: i32, sealer: &SecretBox, secret: &str) -> i32 {
        let id = key(db, p, Vec::new()).await;
        let stored = sealer.encrypt(&Secret::new(secret), COLUMN, i64::from(id));
        set_key_secret(db, id, stored).await;
        id
    }

    /// Upstream keys `sk-0`.. under the old key, plus one under the new key
    /// and one under a third key.
    async fn rows(db: &DatabaseConnection, old: usize) -> (Vec<i32>, i32, i32) {
        let p = provider(db, None).await;
        let mut ids = Vec::new();
        for i in 0..old {
            ids.push(sealed_key(db, p, &SecretBox::new(&OLD), &format!("sk-{i}")).await);
        }
        let new = sealed_key(db, p, &SecretBox::new(&NEW), "sk-new").await;
        let lost = sealed_key(db, p, &SecretBox::new(&[3; 32]), "sk-lost").await;
        (ids, new, lost)
    }

    #[tokio::test]
    async fn a_pass_reencrypts_what_the_old_key_sealed_and_leaves_unreadable_rows() {
        let db = db().await;
        // More rows than one batch, to cross a batch boundary.
        let count = usize::try_from(BATCH_ROWS).expect("small") + 3;
        let (ids, new, lost) = rows(&db, count).await;
        let rotating = SecretBox::rotating(&NEW, &OLD);
        let n = u64::try_from(count).expect("small");

        let before = scan(&db, &rotating, Pass::Count).await.expect("count");
        let want = Tally {
            current: 1,
            previous: n,
            rewritten: 0,
            unreadable: 1,
        };
        assert_eq!(before, want, "counting changes nothing");
        let done = scan(&db, &rotating, Pass::Rewrite).await.expect("rewrite");
        let want = Tally {
            rewritten: n,
            previous: 0,
            ..want
        };
        assert_eq!(done, want);

        let new_alone = SecretBox::new(&NEW);
        for (i, id) in ids.iter().enumerate() {
            let stored = key_secret(&db, *id).await;
            let secret = new_alone.decrypt(&stored, COLUMN, i64::from(*id));
            assert_eq!(secret.expect("new key alone").expose(), format!("sk-{i}"));
            assert!(
                SecretBox::new(&OLD)
                    .decrypt(&stored, COLUMN, i64::from(*id))
                    .is_err()
            );
        }
        let untouched = new_alone.decrypt(&key_secret(&db, new).await, COLUMN, i64::from(new));
        assert_eq!(untouched.expect("new").expose(), "sk-new");
        assert!(
            rotating
                .decrypt(&key_secret(&db, lost).await, COLUMN, i64::from(lost))
                .is_err()
        );

        let again = scan(&db, &rotating, Pass::Rewrite).await.expect("again");
        assert_eq!(
            (again.rewritten, again.previous, again.unreadable),
            (0, 0, 1),
            "idempotent"
        );
    }

    #[tokio::test]
    async fn two_instances_rewriting_at_once_rewrite_each_row_once() {
        let db = db().await;
        let (ids, _, _) = rows(&db, 40).await;
        let rotating = SecretBox::rotating(&NEW, &OLD);
        let (a, b) = tokio::join!(
            scan(&db, &rotating, Pass::Rewrite),
            scan(&db, &rotating, Pass::Rewrite)
        );
        let (a, b) = (a.expect("a"), b.expect("b"));
        assert_eq!(a.rewritten + b.rewritten, 40, "{a:?} {b:?}");
        let after = scan(&db, &SecretBox::new(&NEW), Pass::Count)
            .await
            .expect("count");
        assert_eq!(after.current, u64::try_from(ids.len()).expect("small") + 1);
        assert_eq!(after.unreadable, 1, "only the third key's row");
    }

    #[tokio::test]
    async fn the_job_records_the_rotation_complete_when_nothing_is_left() {
        let db = db().await;
        key_check::verify(&db, &OLD, None)
            .await
            .expect("first start");
        rows(&db, 3).await;
        let verified = key_check::verify(&db, &NEW, Some(&OLD))
            .await
            .expect("begin");
        assert_eq!(verified.state, KeyState::Rotating);
        let progress = Arc::new(RotationProgress::default());
        RotationJob {
            db: db.clone(),
            secrets: SecretBox::rotating(&NEW, &OLD),
            check: key_check::check_value(&NEW),
            progress: progress.clone(),
        }
        .run()
        .await;
        let last = progress.last_pass().expect("a pass");
        assert_eq!(
            (last.pass, last.tally.rewritten, last.tally.unreadable),
            (1, 3, 1)
        );
        let alone = key_check::verify(&db, &NEW, None)
            .await
            .expect("new key alone");
        assert_eq!(alone.state, KeyState::Rotated);
        assert!(
            key_check::verify(&db, &OLD, None).await.is_err(),
            "old key alone"
        );
    }
}
