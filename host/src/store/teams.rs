//! The `teams` table: teams whose budget their client keys' requests are
//! charged to. Members are in [`super::team_members`].

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};

use super::entities::{budgets, client_keys, team_members, teams};

/// Teams by id: every one, or those among `only`.
pub async fn list(
    db: &impl ConnectionTrait,
    only: Option<Vec<i32>>,
) -> Result<Vec<teams::Model>, DbErr> {
    let mut query = teams::Entity::find().order_by_asc(teams::Column::Id);
    if let Some(ids) = only {
        query = query.filter(teams::Column::Id.is_in(ids));
    }
    query.all(db).await
}

/// The team with this id.
pub async fn find(db: &impl ConnectionTrait, id: i32) -> Result<Option<teams::Model>, DbErr> {
    teams::Entity::find_by_id(id).one(db).await
}

/// Whether a team is named `name`.
pub async fn name_taken(db: &impl ConnectionTrait, name: &str) -> Result<bool, DbErr> {
    let found = teams::Entity::find()
        .filter(teams::Column::Name.eq(name))
        .one(db)
        .await?;
    Ok(found.is_some())
}

/// Stores a new team.
pub async fn insert(
    db: &impl ConnectionTrait,
    row: teams::ActiveModel,
) -> Result<teams::Model, DbErr> {
    row.insert(db).await
}

/// Deletes a team with its memberships and its budget lines (those of
/// `budget_scope` for it); its client keys stay, in no team. Run it inside
/// one change, so all of it happens or none.
pub async fn delete(db: &impl ConnectionTrait, id: i32, budget_scope: &str) -> Result<(), DbErr> {
    client_keys::Entity::update_many()
        .col_expr(client_keys::Column::TeamId, Expr::value(None::<i32>))
        .filter(client_keys::Column::TeamId.eq(id))
        .exec(db)
        .await?;
    team_members::Entity::delete_many()
        .filter(team_members::Column::TeamId.eq(id))
        .exec(db)
        .await?;
    budgets::Entity::delete_many()
        .filter(budgets::Column::Scope.eq(budget_scope))
        .filter(budgets::Column::SubjectId.eq(id))
        .exec(db)
        .await?;
    teams::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}
