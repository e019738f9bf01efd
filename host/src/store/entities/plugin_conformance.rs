//! The conformance result of a plugin version: whether it met its
//! provider's vectors at upload, the differences when it did not, and
//! whether an operator forced it to serve anyway. No row: not checked
//! (a built-in, or stored before checks existed); such a version serves.

use sea_orm::QuerySelect;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plugin_conformance")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub plugin_id: i32,
    pub passed: bool,
    /// Serves although it failed: an operator's decision, audited.
    pub forced: bool,
    pub forced_by: Option<String>,
    /// Vectors run.
    pub cases: i32,
    /// JSON of `conformance::Report`.
    pub report: String,
    pub checked_at: ChronoDateTimeUtc,
}

/// The versions that failed their vectors and were not forced: they may
/// not serve (the catalog leaves them out as if disabled).
pub async fn blocked(
    db: &impl sea_orm::ConnectionTrait,
) -> Result<std::collections::HashSet<i32>, DbErr> {
    let ids: Vec<i32> = Entity::find()
        .select_only()
        .column(Column::PluginId)
        .filter(Column::Passed.eq(false))
        .filter(Column::Forced.eq(false))
        .into_tuple()
        .all(db)
        .await?;
    Ok(ids.into_iter().collect())
}

impl Model {
    /// Whether the version may serve traffic.
    pub fn servable(&self) -> bool {
        self.passed || self.forced
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
