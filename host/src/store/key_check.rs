//! The master key's check value: at its first start the gateway records
//! SHA-256 of a fixed label and the master key (one way: never the key) in
//! `master_key_check`; every later start, on every instance sharing the
//! database, compares its own. An instance with another key refuses to
//! start with an error that says so, instead of serving requests whose
//! upstream keys it cannot decrypt.
//!
//! Rotation (see [`crate::store::rotate`]) is three states of the one row:
//! *settled* (one check value), *rotating* (the new key's value, the old
//! key's as `previous_check_value`: rows may still be sealed under the
//! old key) and *rotated* (`rotation_complete`: nothing is left under the
//! old key). The first instance started with the new key and
//! `AI_PROXY_MASTER_KEY_PREVIOUS` = the recorded key moves the row to
//! rotating, with a compare-and-swap so concurrent starts agree. From then
//! on an instance with the old key alone refuses to start (it could not
//! read what is re-encrypted), and so does one with the new key alone
//! until the rotation is complete.

use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use sha2::{Digest, Sha256};

/// The table's one row.
const CHECK_ROW: i32 = 1;
/// What is hashed with the key, so the value is of use for nothing else.
const LABEL: &[u8] = b"ai-proxy master key check v1\0";
/// Reads of the row at start: one more than the compare-and-swap of a
/// rotation's beginning needs.
const START_ATTEMPTS: usize = 3;

/// Why a start cannot go on. No message holds a key or a check value.
#[derive(Debug, thiserror::Error)]
pub enum KeyCheckError {
    #[error(
        "the master key is not the one this database was set up with: every instance sharing a database needs the same key (AI_PROXY_MASTER_KEY, or the same data/master.key file)"
    )]
    Mismatch,
    #[error(
        "this master key was replaced by a newer one (a key rotation is recorded in the database): start with the new key as AI_PROXY_MASTER_KEY, and this one as AI_PROXY_MASTER_KEY_PREVIOUS until the rotation is complete"
    )]
    Superseded,
    #[error(
        "a master key rotation is under way and some secrets are still sealed under the previous key: give it as AI_PROXY_MASTER_KEY_PREVIOUS until the rotation is complete (GET /api/master-key/rotation)"
    )]
    PreviousNeeded,
    #[error("AI_PROXY_MASTER_KEY_PREVIOUS is not the key this database is being rotated away from")]
    WrongPrevious,
    #[error(
        "the rotation to the recorded master key is not complete: finish it (keep its previous key as AI_PROXY_MASTER_KEY_PREVIOUS until GET /api/master-key/rotation says complete) before rotating again"
    )]
    EarlierRotationUnfinished,
    #[error("checking the master key against the database: {0}")]
    Db(#[from] DbErr),
}

/// Where the database stands with its master key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    /// One key; no rotation recorded, or none since the last one ended.
    Settled,
    /// Secrets may still be sealed under the previous key.
    Rotating,
    /// Every secret was re-encrypted; the previous key may be dropped.
    Rotated,
}

/// What a start found: the state, and whether this instance holds the
/// previous key of the recorded rotation (and so may re-encrypt).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub state: KeyState,
    pub holds_previous: bool,
}

/// The row as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub check: String,
    pub previous: Option<String>,
    pub complete: bool,
}

impl Recorded {
    /// The state the row describes.
    pub fn state(&self) -> KeyState {
        match (&self.previous, self.complete) {
            (None, _) => KeyState::Settled,
            (Some(_), false) => KeyState::Rotating,
            (Some(_), true) => KeyState::Rotated,
        }
    }
}

/// What to do with the check values of this instance's keys.
#[derive(Debug)]
enum Decision {
    Accept(Verified),
    BeginRotation,
    Refuse(KeyCheckError),
}

/// The check value of `master_key`, hex.
pub fn check_value(master_key: &[u8; 32]) -> String {
    let mut hash = Sha256::new();
    hash.update(LABEL);
    hash.update(master_key);
    hex::encode(hash.finalize())
}

/// The key selection: whether an instance with check values `mine` and
/// `previous` may start against `recorded`.
fn decide(recorded: &Recorded, mine: &str, previous: Option<&str>) -> Decision {
    let holds_previous = previous.is_some() && previous == recorded.previous.as_deref();
    if recorded.check == mine {
        let state = recorded.state();
        return match (state, previous) {
            (KeyState::Rotating, None) => Decision::Refuse(KeyCheckError::PreviousNeeded),
            (KeyState::Rotating, Some(_)) if !holds_previous => {
                Decision::Refuse(KeyCheckError::WrongPrevious)
            }
            _ => Decision::Accept(Verified {
                state,
                holds_previous,
            }),
        };
    }
    // Before a new rotation: the old key as current and the new one as
    // previous (swapped) would otherwise look like rotating back.
    if recorded.previous.as_deref() == Some(mine) {
        return Decision::Refuse(KeyCheckError::Superseded);
    }
    if previous == Some(recorded.check.as_str()) {
        return match recorded.state() {
            KeyState::Rotating => Decision::Refuse(KeyCheckError::EarlierRotationUnfinished),
            KeyState::Settled | KeyState::Rotated => Decision::BeginRotation,
        };
    }
    Decision::Refuse(KeyCheckError::Mismatch)
}

/// Records the key's check value at the first start; refuses a key whose
/// value differs from the recorded one, unless `previous` is the recorded
/// key: then a rotation to `master_key` begins. Two first starts at once
/// record one value between them (the row is inserted only when absent)
/// and the loser compares against it; two starts beginning a rotation at
/// once swap the row once between them.
pub async fn verify(
    db: &DatabaseConnection,
    master_key: &[u8; 32],
    previous: Option<&[u8; 32]>,
) -> Result<Verified, KeyCheckError> {
    let mine = check_value(master_key);
    let previous = previous.map(check_value);
    let insert = Query::insert()
        .into_table(Alias::new("master_key_check"))
        .columns([Alias::new("id"), Alias::new("check_value")])
        .values_panic([CHECK_ROW.into(), mine.clone().into()])
        .on_conflict(OnConflict::column(Alias::new("id")).do_nothing().to_owned())
        .to_owned();
    db.execute(&insert).await?;
    for _ in 0..START_ATTEMPTS {
        let recorded = recorded(db).await?.ok_or(KeyCheckError::Mismatch)?;
        match decide(&recorded, &mine, previous.as_deref()) {
            Decision::Accept(verified) => return Ok(verified),
            Decision::Refuse(error) => return Err(error),
            Decision::BeginRotation => {
                begin_rotation(db, &recorded.check, &mine).await?;
            }
        }
    }
    Err(KeyCheckError::Mismatch)
}

/// The row, if a first start wrote it.
pub async fn recorded(db: &DatabaseConnection) -> Result<Option<Recorded>, DbErr> {
    // Qualified names: SQLite reads an unknown unqualified "name" as a
    // string, so a pooled connection that has not yet seen the migration
    // adding these columns would answer with the wrong column names.
    let table = Alias::new("master_key_check");
    let select = Query::select()
        .columns(
            ["check_value", "previous_check_value", "rotation_complete"]
                .map(|c| (table.clone(), Alias::new(c))),
        )
        .from(table.clone())
        .and_where(Expr::col(Alias::new("id")).eq(CHECK_ROW))
        .to_owned();
    let Some(row) = db.query_one(&select).await? else {
        return Ok(None);
    };
    Ok(Some(Recorded {
        check: row.try_get("", "check_value")?,
        previous: row.try_get("", "previous_check_value")?,
        complete: row.try_get("", "rotation_complete")?,
    }))
}

/// Moves the row from `old` to rotating towards `new`, if it still holds
/// `old` (another instance may have done it first).
async fn begin_rotation(db: &DatabaseConnection, old: &str, new: &str) -> Result<(), DbErr> {
    let update = Query::update()
        .table(Alias::new("master_key_check"))
        .value(Alias::new("check_value"), new)
        .value(Alias::new("previous_check_value"), old)
        .value(Alias::new("rotation_complete"), false)
        .and_where(Expr::col(Alias::new("id")).eq(CHECK_ROW))
        .and_where(Expr::col(Alias::new("check_value")).eq(old))
        .to_owned();
    db.execute(&update).await.map(|_| ())
}

/// Records that nothing is left under the previous key of the rotation
/// whose new key has check value `check`. Returns whether this call made
/// it so.
pub async fn mark_rotated(db: &DatabaseConnection, check: &str) -> Result<bool, DbErr> {
    let update = Query::update()
        .table(Alias::new("master_key_check"))
        .value(Alias::new("rotation_complete"), true)
        .and_where(Expr::col(Alias::new("id")).eq(CHECK_ROW))
        .and_where(Expr::col(Alias::new("check_value")).eq(check))
        .and_where(Expr::col(Alias::new("previous_check_value")).is_not_null())
        .and_where(Expr::col(Alias::new("rotation_complete")).eq(false))
        .to_owned();
    Ok(db.execute(&update).await?.rows_affected() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(check: &str, previous: Option<&str>, complete: bool) -> Recorded {
        Recorded {
            check: check.into(),
            previous: previous.map(Into::into),
            complete,
        }
    }

    fn accepted(decision: Decision) -> Option<(KeyState, bool)> {
        match decision {
            Decision::Accept(v) => Some((v.state, v.holds_previous)),
            _ => None,
        }
    }

    #[test]
    fn the_check_value_depends_on_the_key_and_is_not_the_key() {
        let a = check_value(&[7; 32]);
        assert_eq!(a, check_value(&[7; 32]));
        assert_ne!(a, check_value(&[8; 32]));
        assert!(!a.contains(&hex::encode([7u8; 32])));
    }

    #[test]
    fn a_settled_database_accepts_its_key_and_begins_a_rotation_from_it() {
        let settled = row("A", None, false);
        assert_eq!(
            accepted(decide(&settled, "A", None)),
            Some((KeyState::Settled, false))
        );
        // A new key to be read, not yet written: nothing changes.
        let learning = decide(&settled, "A", Some("B"));
        assert_eq!(accepted(learning), Some((KeyState::Settled, false)));
        assert!(matches!(
            decide(&settled, "B", Some("A")),
            Decision::BeginRotation
        ));
        assert!(matches!(
            decide(&settled, "B", None),
            Decision::Refuse(KeyCheckError::Mismatch)
        ));
        assert!(matches!(
            decide(&settled, "B", Some("C")),
            Decision::Refuse(KeyCheckError::Mismatch)
        ));
    }

    #[test]
    fn while_rotating_both_keys_are_needed_and_the_old_one_alone_is_refused() {
        let rotating = row("B", Some("A"), false);
        let both = decide(&rotating, "B", Some("A"));
        assert_eq!(accepted(both), Some((KeyState::Rotating, true)));
        let cases = [
            (decide(&rotating, "B", None), "new alone"),
            (decide(&rotating, "B", Some("C")), "wrong previous"),
            (decide(&rotating, "A", None), "old alone"),
            (decide(&rotating, "A", Some("B")), "swapped"),
            (decide(&rotating, "C", Some("B")), "a rotation on top"),
            (decide(&rotating, "C", None), "another key"),
        ];
        let refused: Vec<String> = cases
            .into_iter()
            .map(|(d, what)| match d {
                Decision::Refuse(e) => format!("{what}: {e:?}"),
                other => panic!("{what}: {other:?}"),
            })
            .collect();
        assert!(refused[0].ends_with("PreviousNeeded"), "{refused:?}");
        assert!(refused[1].ends_with("WrongPrevious"), "{refused:?}");
        assert!(refused[2].ends_with("Superseded"), "{refused:?}");
        assert!(refused[3].ends_with("Superseded"), "{refused:?}");
        assert!(
            refused[4].ends_with("EarlierRotationUnfinished"),
            "{refused:?}"
        );
        assert!(refused[5].ends_with("Mismatch"), "{refused:?}");
    }

    #[test]
    fn after_rotation_the_new_key_alone_starts_and_the_old_one_is_refused() {
        let rotated = row("B", Some("A"), true);
        assert_eq!(
            accepted(decide(&rotated, "B", None)),
            Some((KeyState::Rotated, false))
        );
        assert_eq!(
            accepted(decide(&rotated, "B", Some("A"))),
            Some((KeyState::Rotated, true))
        );
        assert!(matches!(
            decide(&rotated, "A", None),
            Decision::Refuse(KeyCheckError::Superseded)
        ));
        assert!(matches!(
            decide(&rotated, "C", Some("B")),
            Decision::BeginRotation
        ));
    }

    async fn sqlite() -> (DatabaseConnection, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("aip-kc-{}", crate::secrets::random_hex(6)));
        let url = format!("sqlite://{}/t.db?mode=rwc", dir.display());
        (crate::store::connect(&url, &dir).await.expect("db"), dir)
    }

    #[tokio::test]
    async fn the_first_key_is_recorded_and_another_one_refused() {
        let (db, dir) = sqlite().await;
        verify(&db, &[1; 32], None)
            .await
            .expect("first start records");
        verify(&db, &[1; 32], None).await.expect("same key");
        assert!(matches!(
            verify(&db, &[2; 32], None).await,
            Err(KeyCheckError::Mismatch)
        ));
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_rotation_is_recorded_once_and_completed_only_for_its_new_key() {
        let (db, dir) = sqlite().await;
        let (a, b) = ([1; 32], [2; 32]);
        verify(&db, &a, None).await.expect("first start");
        let started = verify(&db, &b, Some(&a)).await.expect("begin");
        assert_eq!(started.state, KeyState::Rotating);
        let again = verify(&db, &b, Some(&a)).await.expect("second instance");
        assert_eq!(again.state, KeyState::Rotating);
        assert!(matches!(
            verify(&db, &a, None).await,
            Err(KeyCheckError::Superseded)
        ));
        assert!(
            !mark_rotated(&db, &check_value(&a)).await.expect("old key"),
            "not its rotation"
        );
        assert!(mark_rotated(&db, &check_value(&b)).await.expect("done"));
        assert!(
            !mark_rotated(&db, &check_value(&b)).await.expect("again"),
            "once"
        );
        let alone = verify(&db, &b, None).await.expect("new key alone");
        assert_eq!(alone.state, KeyState::Rotated);
        let recorded = recorded(&db).await.expect("read").expect("row");
        assert_eq!(recorded.check, check_value(&b));
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
