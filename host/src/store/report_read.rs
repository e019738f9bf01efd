//! The rows the read-only reports look up beside their traffic figures
//! (`store::traffic`): the key a per-key page is about, and the teams,
//! accounts and client keys the budget report lists. Reads only.

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use crate::store::entities::{client_keys, teams, upstream_keys, users};

/// An upstream key by id.
pub async fn upstream_key(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<Option<upstream_keys::Model>, DbErr> {
    upstream_keys::Entity::find_by_id(id).one(db).await
}

/// A client key by id.
pub async fn client_key(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<Option<client_keys::Model>, DbErr> {
    client_keys::Entity::find_by_id(id).one(db).await
}

/// Every client key.
pub async fn client_keys(db: &impl ConnectionTrait) -> Result<Vec<client_keys::Model>, DbErr> {
    client_keys::Entity::find().all(db).await
}

/// A team's id and name.
#[derive(Debug, Clone, PartialEq)]
pub struct Named {
    pub id: i32,
    pub name: String,
}

/// The teams among `ids` (every team for `None`).
pub async fn teams(db: &impl ConnectionTrait, ids: Option<Vec<i32>>) -> Result<Vec<Named>, DbErr> {
    let mut query = teams::Entity::find();
    if let Some(ids) = ids {
        query = query.filter(teams::Column::Id.is_in(ids));
    }
    let rows = query.all(db).await?;
    Ok(rows
        .into_iter()
        .map(|t| Named {
            id: t.id,
            name: t.name,
        })
        .collect())
}

/// The account `id` (every account for `None`), by id and username.
pub async fn accounts(db: &impl ConnectionTrait, id: Option<i32>) -> Result<Vec<Named>, DbErr> {
    let mut query = users::Entity::find();
    if let Some(id) = id {
        query = query.filter(users::Column::Id.eq(id));
    }
    let rows = query.all(db).await?;
    Ok(rows
        .into_iter()
        .map(|u| Named {
            id: u.id,
            name: u.username,
        })
        .collect())
}
