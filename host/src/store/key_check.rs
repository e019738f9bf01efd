//! The master key's check value: at its first start the gateway records
//! SHA-256 of a fixed label and the master key (one way: never the key) in
//! `master_key_check`; every later start, on every instance sharing the
//! database, compares its own. An instance with another key refuses to
//! start with an error that says so, instead of serving requests whose
//! upstream keys it cannot decrypt.

use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use sha2::{Digest, Sha256};

/// The table's one row.
const CHECK_ROW: i32 = 1;
/// What is hashed with the key, so the value is of use for nothing else.
const LABEL: &[u8] = b"ai-proxy master key check v1\0";

/// Why a start cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum KeyCheckError {
    #[error(
        "the master key is not the one this database was set up with: every instance sharing a database needs the same key (AI_PROXY_MASTER_KEY, or the same data/master.key file)"
    )]
    Mismatch,
    #[error("checking the master key against the database: {0}")]
    Db(#[from] DbErr),
}

/// The check value of `master_key`, hex.
pub fn check_value(master_key: &[u8; 32]) -> String {
    let mut hash = Sha256::new();
    hash.update(LABEL);
    hash.update(master_key);
    hex::encode(hash.finalize())
}

/// Records the key's check value at the first start; refuses a key whose
/// value differs from the recorded one. Two first starts at once record
/// one value between them (the row is inserted only when absent) and the
/// loser compares against it.
pub async fn verify(db: &DatabaseConnection, master_key: &[u8; 32]) -> Result<(), KeyCheckError> {
    let mine = check_value(master_key);
    let table = Alias::new("master_key_check");
    let (id, value) = (Alias::new("id"), Alias::new("check_value"));
    let insert = Query::insert()
        .into_table(table.clone())
        .columns([id.clone(), value.clone()])
        .values_panic([CHECK_ROW.into(), mine.clone().into()])
        .on_conflict(OnConflict::column(id.clone()).do_nothing().to_owned())
        .to_owned();
    db.execute(&insert).await?;
    let select = Query::select()
        .column(value.clone())
        .from(table)
        .and_where(Expr::col(id).eq(CHECK_ROW))
        .to_owned();
    let recorded: Option<String> = match db.query_one(&select).await? {
        Some(row) => Some(row.try_get("", "check_value")?),
        None => None,
    };
    match recorded {
        Some(recorded) if recorded == mine => Ok(()),
        _ => Err(KeyCheckError::Mismatch),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_check_value_depends_on_the_key_and_is_not_the_key() {
        let a = check_value(&[7; 32]);
        assert_eq!(a, check_value(&[7; 32]));
        assert_ne!(a, check_value(&[8; 32]));
        assert!(!a.contains(&hex::encode([7u8; 32])));
    }

    #[tokio::test]
    async fn the_first_key_is_recorded_and_another_one_refused() {
        let dir = std::env::temp_dir().join(format!("aip-kc-{}", crate::secrets::random_hex(6)));
        let url = format!("sqlite://{}/t.db?mode=rwc", dir.display());
        let db = crate::store::connect(&url, &dir).await.expect("db");
        verify(&db, &[1; 32]).await.expect("first start records");
        verify(&db, &[1; 32]).await.expect("same key");
        assert!(matches!(
            verify(&db, &[2; 32]).await,
            Err(KeyCheckError::Mismatch)
        ));
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
