//! The columns of an upstream key (`upstream_keys`) that change while the
//! gateway runs, not through the admin API: the health status the checker
//! stores, and an OAuth key's tokens, state and refresh lease (the one
//! thing instances sharing a database coordinate a refresh through).
//! Values arrive encrypted and named (`oauth`, `health` own what they
//! mean); this file only reads and writes them.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};

use crate::store::entities::upstream_keys::{ActiveModel, Column, Entity, Model};

/// An upstream key's row.
pub async fn find(db: &impl ConnectionTrait, id: i32) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).one(db).await
}

/// Stores `row`'s health status.
pub async fn set_health_status(
    db: &impl ConnectionTrait,
    row: Model,
    status: &str,
) -> Result<(), DbErr> {
    let mut row: ActiveModel = row.into();
    row.health_status = Set(status.to_owned());
    row.update(db).await?;
    Ok(())
}

/// An OAuth key's columns after an exchange or a refresh.
pub struct Tokens {
    /// The access token, encrypted.
    pub secret_ciphertext: Vec<u8>,
    /// The access token masked.
    pub secret_hint: String,
    /// The refresh token, encrypted.
    pub refresh_ciphertext: Option<Vec<u8>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub oauth_state: &'static str,
    pub health_status: &'static str,
    pub refreshed_at: DateTime<Utc>,
}

/// Stores new tokens on `row`, clearing the last error.
pub async fn store_tokens(db: &impl ConnectionTrait, row: Model, t: Tokens) -> Result<(), DbErr> {
    let mut active: ActiveModel = row.into();
    active.secret_ciphertext = Set(t.secret_ciphertext);
    active.secret_hint = Set(t.secret_hint);
    active.oauth_refresh_ciphertext = Set(t.refresh_ciphertext);
    active.oauth_expires_at = Set(t.expires_at);
    active.oauth_state = Set(Some(t.oauth_state.to_owned()));
    active.oauth_last_refresh_at = Set(Some(t.refreshed_at));
    active.oauth_last_error = Set(None);
    active.health_status = Set(t.health_status.to_owned());
    active.updated_at = Set(t.refreshed_at);
    active.update(db).await?;
    Ok(())
}

/// Stores an OAuth state and health status reached by failing, with why.
pub async fn store_failure(
    db: &impl ConnectionTrait,
    row: Model,
    oauth_state: &str,
    health_status: &str,
    why: &str,
) -> Result<(), DbErr> {
    let mut active: ActiveModel = row.into();
    active.oauth_state = Set(Some(oauth_state.to_owned()));
    active.oauth_last_error = Set(Some(why.to_owned()));
    active.health_status = Set(health_status.to_owned());
    active.updated_at = Set(Utc::now());
    active.update(db).await?;
    Ok(())
}

/// Stores why the last refresh failed (one that will be retried).
pub async fn store_refresh_error(
    db: &impl ConnectionTrait,
    row: Model,
    why: &str,
) -> Result<(), DbErr> {
    let mut active: ActiveModel = row.into();
    active.oauth_last_error = Set(Some(why.to_owned()));
    active.update(db).await?;
    Ok(())
}

/// Claims key `id`'s refresh lease until `until` unless another instance
/// holds one that has not run out at `now`; whether it was claimed.
pub async fn take_lease(
    db: &impl ConnectionTrait,
    id: i32,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let done = Entity::update_many()
        .col_expr(Column::OauthLeaseUntil, Expr::value(until))
        .filter(Column::Id.eq(id))
        .filter(
            Condition::any()
                .add(Column::OauthLeaseUntil.is_null())
                .add(Column::OauthLeaseUntil.lt(now)),
        )
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Gives key `id`'s refresh lease up.
pub async fn release_lease(db: &impl ConnectionTrait, id: i32) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(
            Column::OauthLeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
