//! `proxy_tracing` rows one at a time or in a batch: the background trace
//! writer's insert (never on the proxy path) and the request log's detail.
//! Pages and search are `trace_page` and `trace_search`; roll-up and
//! retention `trace_rollup`.

use sea_orm::{ConnectionTrait, DbErr, EntityTrait};

use crate::store::entities::proxy_tracing::{ActiveModel, Entity, Model};

/// Stores a batch of traces in one statement, asking nothing back: a plain
/// `exec` adds `RETURNING id` on both databases and reads every new id
/// back (256 rows a batch) for the last one only.
pub async fn insert_batch(db: &impl ConnectionTrait, rows: Vec<ActiveModel>) -> Result<(), DbErr> {
    Entity::insert_many(rows).exec_without_returning(db).await?;
    Ok(())
}

/// A trace by id.
pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).one(db).await
}
