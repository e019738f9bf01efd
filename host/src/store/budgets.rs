//! The `budgets` table for the admin API: a team's or an account's budget
//! lines, one row per subject (a row with no limit is not kept).

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::entities::budgets;

/// The budget of subject `id` in `scope` (a `BudgetScope` name), if any.
pub async fn find(
    db: &impl ConnectionTrait,
    scope: &str,
    id: i32,
) -> Result<Option<budgets::Model>, DbErr> {
    budgets::Entity::find()
        .filter(budgets::Column::Scope.eq(scope))
        .filter(budgets::Column::SubjectId.eq(id))
        .one(db)
        .await
}

/// Stores a budget.
pub async fn insert(db: &impl ConnectionTrait, row: budgets::ActiveModel) -> Result<(), DbErr> {
    row.insert(db).await?;
    Ok(())
}

/// Deletes the budget row `row_id`.
pub async fn delete(db: &impl ConnectionTrait, row_id: i32) -> Result<(), DbErr> {
    budgets::Entity::delete_by_id(row_id).exec(db).await?;
    Ok(())
}
