//! The `users` table: console and API accounts (only a password hash is
//! stored), read when a caller is identified and written by the admin API.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder,
};

use super::entities::{client_keys, user_grants, users};

/// Every account, by id.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<users::Model>, DbErr> {
    users::Entity::find()
        .order_by_asc(users::Column::Id)
        .all(db)
        .await
}

/// The account with this id.
pub async fn find(db: &impl ConnectionTrait, id: i32) -> Result<Option<users::Model>, DbErr> {
    users::Entity::find_by_id(id).one(db).await
}

/// The account named `username`.
pub async fn by_username(
    db: &impl ConnectionTrait,
    username: &str,
) -> Result<Option<users::Model>, DbErr> {
    users::Entity::find()
        .filter(users::Column::Username.eq(username))
        .one(db)
        .await
}

/// How many enabled accounts of `role` there are besides `except`.
pub async fn others_enabled_in_role(
    db: &impl ConnectionTrait,
    role: &str,
    except: i32,
) -> Result<u64, DbErr> {
    users::Entity::find()
        .filter(users::Column::Role.eq(role))
        .filter(users::Column::Enabled.eq(true))
        .filter(users::Column::Id.ne(except))
        .count(db)
        .await
}

/// Stores a new account.
pub async fn insert(
    db: &impl ConnectionTrait,
    row: users::ActiveModel,
) -> Result<users::Model, DbErr> {
    row.insert(db).await
}

/// Writes the changed fields of an account.
pub async fn update(
    db: &impl ConnectionTrait,
    row: users::ActiveModel,
) -> Result<users::Model, DbErr> {
    row.update(db).await
}

/// Deletes an account and its grant, and disables its client keys as an
/// administrator would (only an administrator may enable them again). Run
/// it inside one change, so all of it happens or none.
pub async fn delete_disabling_keys(db: &impl ConnectionTrait, id: i32) -> Result<(), DbErr> {
    client_keys::Entity::update_many()
        .col_expr(client_keys::Column::Enabled, Expr::value(false))
        .col_expr(client_keys::Column::DisabledByAdmin, Expr::value(true))
        .col_expr(client_keys::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(client_keys::Column::OwnerUserId.eq(id))
        .exec(db)
        .await?;
    user_grants::Entity::delete_by_id(id).exec(db).await?;
    users::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// The accounts with these ids, by id.
pub async fn with_ids(
    db: &impl ConnectionTrait,
    ids: Vec<i32>,
) -> Result<Vec<users::Model>, DbErr> {
    users::Entity::find()
        .filter(users::Column::Id.is_in(ids))
        .order_by_asc(users::Column::Id)
        .all(db)
        .await
}
