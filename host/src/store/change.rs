//! The transaction an admin change runs in (`admin::write` holds the
//! rules): begun so that changes run one at a time, across instances too.
//! On SQLite the transaction starts `IMMEDIATE`, so concurrent changes
//! queue on the busy timeout; on PostgreSQL it takes the
//! transaction-scoped advisory lock [`CHANGE_LOCK`].

use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

/// The PostgreSQL advisory lock every admin change holds until it commits
/// or rolls back (the bytes of "aipchang").
pub const CHANGE_LOCK: i64 = 0x6169_7063_6861_6e67;

/// Begins a change's transaction, holding the change lock.
pub async fn begin(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let txn = db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await?;
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({CHANGE_LOCK})"))
            .await?;
    }
    Ok(txn)
}
