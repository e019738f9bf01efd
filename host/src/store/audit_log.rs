//! The `audit_log` table: every admin change and sign-in, appended and
//! read a page at a time, newest first.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder,
};

use super::entities::audit_log;

/// Appends an entry.
pub async fn insert(db: &impl ConnectionTrait, row: audit_log::ActiveModel) -> Result<(), DbErr> {
    row.insert(db).await?;
    Ok(())
}

/// Which entries a page shows: those of `resource` and `actor` when given.
pub struct AuditFilter {
    pub resource: Option<String>,
    pub actor: Option<String>,
}

/// Page `page` (1-based) of `page_size` entries matching `filter`, newest
/// first, and how many match on all pages.
pub async fn page(
    db: &impl ConnectionTrait,
    filter: AuditFilter,
    page: u64,
    page_size: u64,
) -> Result<(Vec<audit_log::Model>, u64), DbErr> {
    let mut cond = Condition::all();
    if let Some(r) = filter.resource {
        cond = cond.add(audit_log::Column::Resource.eq(r));
    }
    if let Some(a) = filter.actor {
        cond = cond.add(audit_log::Column::ActorName.eq(a));
    }
    let paginator = audit_log::Entity::find()
        .filter(cond)
        .order_by_desc(audit_log::Column::Id)
        .paginate(db, page_size);
    let total = paginator.num_items().await?;
    let rows = paginator.fetch_page(page - 1).await?;
    Ok((rows, total))
}
