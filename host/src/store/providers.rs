//! The `providers` table: where each provider is and which plugin speaks
//! to it. Reads and writes for the admin API; each takes the connection
//! or the change's transaction it runs in.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder,
};

use super::entities::{client_keys, prices, providers, upstream_keys};

/// Every provider, by id.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<providers::Model>, DbErr> {
    providers::Entity::find()
        .order_by_asc(providers::Column::Id)
        .all(db)
        .await
}

/// The provider with this id.
pub async fn find(db: &impl ConnectionTrait, id: i32) -> Result<Option<providers::Model>, DbErr> {
    providers::Entity::find_by_id(id).one(db).await
}

/// Whether a provider is named `name`.
pub async fn name_taken(db: &impl ConnectionTrait, name: &str) -> Result<bool, DbErr> {
    let found = providers::Entity::find()
        .filter(providers::Column::Name.eq(name))
        .one(db)
        .await?;
    Ok(found.is_some())
}

/// Stores a new provider.
pub async fn insert(
    db: &impl ConnectionTrait,
    row: providers::ActiveModel,
) -> Result<providers::Model, DbErr> {
    row.insert(db).await
}

/// Writes the changed fields of a provider.
pub async fn update(
    db: &impl ConnectionTrait,
    row: providers::ActiveModel,
) -> Result<providers::Model, DbErr> {
    row.update(db).await
}

/// How many upstream keys and client keys belong to the provider.
pub async fn keys_using(db: &impl ConnectionTrait, id: i32) -> Result<(u64, u64), DbErr> {
    let upstream = upstream_keys::Entity::find()
        .filter(upstream_keys::Column::ProviderId.eq(id))
        .count(db)
        .await?;
    let client = client_keys::Entity::find()
        .filter(client_keys::Column::ProviderId.eq(id))
        .count(db)
        .await?;
    Ok((upstream, client))
}

/// Deletes a provider and its prices (run it inside one change, so both
/// go or neither).
pub async fn delete_with_prices(db: &impl ConnectionTrait, id: i32) -> Result<(), DbErr> {
    prices::Entity::delete_many()
        .filter(prices::Column::ProviderId.eq(id))
        .exec(db)
        .await?;
    providers::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use sea_orm::{Set, TransactionTrait};

    use super::*;
    use crate::store::test_rows::{db, key, provider};

    async fn price(db: &impl ConnectionTrait, provider_id: i32) {
        prices::ActiveModel {
            provider_id: Set(provider_id),
            model: Set("m".into()),
            input: Set(1),
            output: Set(2),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
    }

    async fn prices_of(db: &impl ConnectionTrait, provider_id: i32) -> u64 {
        prices::Entity::find()
            .filter(prices::Column::ProviderId.eq(provider_id))
            .count(db)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_provider_and_its_prices_go_together_or_not_at_all() {
        let db = db().await;
        let id = provider(&db, None).await;
        price(&db, id).await;
        let txn = db.begin().await.unwrap();
        delete_with_prices(&txn, id).await.unwrap();
        drop(txn);
        assert!(find(&db, id).await.unwrap().is_some(), "rolled back");
        assert_eq!(prices_of(&db, id).await, 1);
        let txn = db.begin().await.unwrap();
        delete_with_prices(&txn, id).await.unwrap();
        txn.commit().await.unwrap();
        assert!(find(&db, id).await.unwrap().is_none());
        assert_eq!(prices_of(&db, id).await, 0);
    }

    #[tokio::test]
    async fn keys_using_counts_the_providers_upstream_keys() {
        let db = db().await;
        let id = provider(&db, None).await;
        let other = provider(&db, None).await;
        key(&db, id, Vec::new()).await;
        key(&db, id, Vec::new()).await;
        key(&db, other, Vec::new()).await;
        assert_eq!(keys_using(&db, id).await.unwrap(), (2, 0));
        assert!(
            name_taken(&db, &find(&db, id).await.unwrap().unwrap().name)
                .await
                .unwrap()
        );
        assert!(!name_taken(&db, "nobody").await.unwrap());
    }
}
