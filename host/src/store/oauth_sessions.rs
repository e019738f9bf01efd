//! `oauth_sessions`: pending upstream OAuth authorizations, found by the
//! hash of their `state`. What a session holds and how its verifier is
//! sealed is `oauth::sessions`'s; this file stores, takes and expires rows.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};

use crate::store::entities::oauth_sessions::{ActiveModel, Column, Entity, Model};

/// A session to store; its verifier is sealed once its row id is known.
pub struct NewSession<'a> {
    pub state_hash: String,
    pub upstream_key_id: i32,
    pub redirect_uri: &'a str,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Inserts `session` with the verifier `seal` makes for its row id, in one
/// transaction (the row is inserted empty and filled in).
pub async fn insert(
    db: &DatabaseConnection,
    session: NewSession<'_>,
    seal: impl FnOnce(i32) -> Vec<u8>,
) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    let id = Entity::insert(ActiveModel {
        state_hash: Set(session.state_hash),
        upstream_key_id: Set(session.upstream_key_id),
        verifier_ciphertext: Set(Vec::new()),
        redirect_uri: Set(session.redirect_uri.to_owned()),
        created_at: Set(session.created_at),
        expires_at: Set(session.expires_at),
        ..Default::default()
    })
    .exec(&txn)
    .await?
    .last_insert_id;
    Entity::update(ActiveModel {
        id: Set(id),
        verifier_ciphertext: Set(seal(id)),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    txn.commit().await
}

/// Deletes the session of `state_hash` and returns it, when this caller is
/// the one that deleted it (`None`: unknown, or another caller took it).
pub async fn take(db: &impl ConnectionTrait, state_hash: &str) -> Result<Option<Model>, DbErr> {
    let Some(row) = Entity::find()
        .filter(Column::StateHash.eq(state_hash))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let deleted = Entity::delete_by_id(row.id).exec(db).await?;
    Ok((deleted.rows_affected == 1).then_some(row))
}

/// Deletes sessions expired at `now`; returns how many.
pub async fn delete_expired(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DbErr> {
    let done = Entity::delete_many()
        .filter(Column::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    Ok(done.rows_affected)
}
