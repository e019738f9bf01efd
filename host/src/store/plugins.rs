//! The `plugins` table for the admin API: stored plugin versions, their
//! bytes read only when a version must be compiled.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::plugins;

/// A plugin row without its bytes.
#[derive(FromQueryResult)]
pub struct PluginRow {
    pub id: i32,
    pub name: String,
    pub version: String,
    pub sha256: String,
    pub builtin: bool,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub call_timeout_ms: Option<i32>,
    pub memory_mib: Option<i32>,
    pub created_at: DateTime<Utc>,
}

/// [`PluginRow`]'s columns: every one but the bytes.
const COLUMNS: [plugins::Column; 10] = [
    plugins::Column::Id,
    plugins::Column::Name,
    plugins::Column::Version,
    plugins::Column::Sha256,
    plugins::Column::Builtin,
    plugins::Column::Enabled,
    plugins::Column::DisabledReason,
    plugins::Column::CallTimeoutMs,
    plugins::Column::MemoryMib,
    plugins::Column::CreatedAt,
];

/// Every stored version without its bytes, by id.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<PluginRow>, DbErr> {
    plugins::Entity::find()
        .select_only()
        .columns(COLUMNS)
        .order_by_asc(plugins::Column::Id)
        .into_model()
        .all(db)
        .await
}

/// The version with this id, without its bytes.
pub async fn find_row(db: &impl ConnectionTrait, id: i32) -> Result<Option<PluginRow>, DbErr> {
    plugins::Entity::find_by_id(id)
        .select_only()
        .columns(COLUMNS)
        .into_model()
        .one(db)
        .await
}

/// The `(name, version)` of a stored version with these bytes
/// (`sha256`), or with this name and version.
pub async fn same_build(
    db: &impl ConnectionTrait,
    sha256: &str,
    name: &str,
    version: &str,
) -> Result<Option<(String, String)>, DbErr> {
    plugins::Entity::find()
        .filter(
            plugins::Column::Sha256.eq(sha256).or(plugins::Column::Name
                .eq(name)
                .and(plugins::Column::Version.eq(version))),
        )
        .select_only()
        .columns([plugins::Column::Name, plugins::Column::Version])
        .into_tuple::<(String, String)>()
        .one(db)
        .await
}

/// Whether plugin `name` has a stored `version`.
pub async fn version_exists(
    db: &impl ConnectionTrait,
    name: &str,
    version: &str,
) -> Result<bool, DbErr> {
    let found = plugins::Entity::find()
        .filter(plugins::Column::Name.eq(name))
        .filter(plugins::Column::Version.eq(version))
        .one(db)
        .await?;
    Ok(found.is_some())
}

/// The newest enabled stored version of plugin `name`, bytes included.
pub async fn newest_enabled(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<Option<plugins::Model>, DbErr> {
    plugins::Entity::find()
        .filter(plugins::Column::Name.eq(name))
        .filter(plugins::Column::Enabled.eq(true))
        .order_by_desc(plugins::Column::Id)
        .one(db)
        .await
}

/// Stores a new version.
pub async fn insert(
    db: &impl ConnectionTrait,
    row: plugins::ActiveModel,
) -> Result<plugins::Model, DbErr> {
    row.insert(db).await
}

/// Writes the changed fields of a version.
pub async fn update(
    db: &impl ConnectionTrait,
    row: plugins::ActiveModel,
) -> Result<plugins::Model, DbErr> {
    row.update(db).await
}

/// Deletes a version.
pub async fn delete(db: &impl ConnectionTrait, id: i32) -> Result<(), DbErr> {
    plugins::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// The version with this id, bytes included.
pub async fn find(db: &impl ConnectionTrait, id: i32) -> Result<Option<plugins::Model>, DbErr> {
    plugins::Entity::find_by_id(id).one(db).await
}

/// The newest enabled version of plugin `name` other than `except`.
pub async fn newest_enabled_other(
    db: &impl ConnectionTrait,
    name: &str,
    except: i32,
) -> Result<Option<plugins::Model>, DbErr> {
    plugins::Entity::find()
        .filter(plugins::Column::Name.eq(name))
        .filter(plugins::Column::Enabled.eq(true))
        .filter(plugins::Column::Id.ne(except))
        .order_by_desc(plugins::Column::Id)
        .one(db)
        .await
}
