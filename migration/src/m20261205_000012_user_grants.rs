//! What an operator grants a `user` account, and who disabled a client key.
//!
//! `user_grants` holds, per account, the providers (all their upstream
//! keys) and the single upstream keys its client keys may pool, and the
//! limits given to keys the account creates. `client_keys.disabled_by_admin`
//! marks a key an administrator disabled: its owner cannot enable it again.
//!
//! Existing data keeps working and stays as strict as it was: each `user`
//! account is granted the upstream keys its client keys already pool, and
//! a key that is disabled now counts as disabled by an administrator (who
//! disabled it is not recorded before this migration).

use std::collections::BTreeMap;

use sea_orm_migration::sea_orm::ConnectionTrait;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UserGrants {
    Table,
    UserId,
    ProviderIds,
    ProviderKeyIds,
    DefaultRpsLimit,
    DefaultRpmLimit,
    DefaultRpdLimit,
    DefaultTokensPerDayLimit,
    DefaultCostPerDayLimitNanos,
}

#[derive(DeriveIden)]
enum ClientKeys {
    Table,
    OwnerUserId,
    Pool,
    Enabled,
    DisabledByAdmin,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Role,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(UserGrants::Table)
                .if_not_exists()
                .col(integer(UserGrants::UserId).primary_key())
                .col(text(UserGrants::ProviderIds).default("[]"))
                .col(text(UserGrants::ProviderKeyIds).default("[]"))
                .col(big_integer_null(UserGrants::DefaultRpsLimit))
                .col(big_integer_null(UserGrants::DefaultRpmLimit))
                .col(big_integer_null(UserGrants::DefaultRpdLimit))
                .col(big_integer_null(UserGrants::DefaultTokensPerDayLimit))
                .col(big_integer_null(UserGrants::DefaultCostPerDayLimitNanos))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(ClientKeys::Table)
                .add_column(boolean(ClientKeys::DisabledByAdmin).default(false))
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::update()
                .table(ClientKeys::Table)
                .value(ClientKeys::DisabledByAdmin, true)
                .and_where(Expr::col(ClientKeys::Enabled).eq(false))
                .to_owned(),
        )
        .await?;
        seed_grants(m).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ClientKeys::Table)
                .drop_column(ClientKeys::DisabledByAdmin)
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(UserGrants::Table).to_owned())
            .await
    }
}

/// Grants each `user` account the upstream keys its client keys pool now.
async fn seed_grants(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = m.get_connection();
    let select = Query::select()
        .column((ClientKeys::Table, ClientKeys::OwnerUserId))
        .column((ClientKeys::Table, ClientKeys::Pool))
        .from(ClientKeys::Table)
        .inner_join(
            Users::Table,
            Expr::col((Users::Table, Users::Id))
                .equals((ClientKeys::Table, ClientKeys::OwnerUserId)),
        )
        .and_where(Expr::col((Users::Table, Users::Role)).eq("user"))
        .to_owned();
    let mut pools: BTreeMap<i32, Vec<i32>> = BTreeMap::new();
    for row in db.query_all(&select).await? {
        let owner: i32 = row.try_get_by_index(0)?;
        let pool: String = row.try_get_by_index(1)?;
        let ids: Vec<i32> = serde_json::from_str(&pool).unwrap_or_default();
        let granted = pools.entry(owner).or_default();
        granted.extend(ids);
        granted.sort_unstable();
        granted.dedup();
    }
    for (user, ids) in pools {
        let ids = serde_json::to_string(&ids).map_err(|e| DbErr::Custom(e.to_string()))?;
        m.exec_stmt(
            Query::insert()
                .into_table(UserGrants::Table)
                .columns([UserGrants::UserId, UserGrants::ProviderKeyIds])
                .values_panic([user.into(), ids.into()])
                .to_owned(),
        )
        .await?;
    }
    Ok(())
}
