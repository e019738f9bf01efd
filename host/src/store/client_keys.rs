//! The `client_keys` table for the admin API: gateway keys for
//! applications (only a hash of each key is stored).

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};

use super::entities::{client_key_providers, client_keys, oauth_clients};

/// Client keys by id: every one, or those `owner` owns.
pub async fn list(
    db: &impl ConnectionTrait,
    owner: Option<i32>,
) -> Result<Vec<client_keys::Model>, DbErr> {
    let mut query = client_keys::Entity::find().order_by_asc(client_keys::Column::Id);
    if let Some(owner) = owner {
        query = query.filter(client_keys::Column::OwnerUserId.eq(owner));
    }
    query.all(db).await
}

/// The client key with this id.
pub async fn find(db: &impl ConnectionTrait, id: i32) -> Result<Option<client_keys::Model>, DbErr> {
    client_keys::Entity::find_by_id(id).one(db).await
}

/// Stores a new client key.
pub async fn insert(
    db: &impl ConnectionTrait,
    row: client_keys::ActiveModel,
) -> Result<client_keys::Model, DbErr> {
    row.insert(db).await
}

/// Writes the changed fields of a client key.
pub async fn update(
    db: &impl ConnectionTrait,
    row: client_keys::ActiveModel,
) -> Result<client_keys::Model, DbErr> {
    row.update(db).await
}

/// Deletes a client key with its OAuth clients and per-key provider
/// bindings (run it inside one change, so all go or none).
pub async fn delete_with_dependents(db: &impl ConnectionTrait, id: i32) -> Result<(), DbErr> {
    oauth_clients::Entity::delete_many()
        .filter(oauth_clients::Column::ClientKeyId.eq(id))
        .exec(db)
        .await?;
    client_key_providers::Entity::delete_many()
        .filter(client_key_providers::Column::ClientKeyId.eq(id))
        .exec(db)
        .await?;
    client_keys::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// The client keys charged to `team`, by id.
pub async fn in_team(
    db: &impl ConnectionTrait,
    team: i32,
) -> Result<Vec<client_keys::Model>, DbErr> {
    client_keys::Entity::find()
        .filter(client_keys::Column::TeamId.eq(team))
        .order_by_asc(client_keys::Column::Id)
        .all(db)
        .await
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use sea_orm::{Set, TransactionTrait};

    use super::*;
    use crate::store::test_rows::{db, provider};

    async fn client_key(db: &impl ConnectionTrait, provider_id: i32) -> i32 {
        let now = Utc::now();
        let row = client_keys::ActiveModel {
            name: Set("k".into()),
            key_hash: Set(crate::secrets::random_hex(8)),
            key_prefix: Set("aip-".into()),
            provider_id: Set(provider_id),
            pool: Set("[]".into()),
            strategy: Set("round_robin".into()),
            enabled: Set(true),
            quota_overrun: Set("finish".into()),
            disabled_by_admin: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        };
        insert(db, row).await.unwrap().id
    }

    async fn dependents(db: &impl ConnectionTrait, id: i32) -> usize {
        let clients = oauth_clients::Entity::find()
            .filter(oauth_clients::Column::ClientKeyId.eq(id))
            .all(db)
            .await
            .unwrap();
        let routes = client_key_providers::Entity::find()
            .filter(client_key_providers::Column::ClientKeyId.eq(id))
            .all(db)
            .await
            .unwrap();
        clients.len() + routes.len()
    }

    #[tokio::test]
    async fn a_client_key_and_its_dependents_go_together_or_not_at_all() {
        let db = db().await;
        let provider_id = provider(&db, None).await;
        let id = client_key(&db, provider_id).await;
        let now = Utc::now();
        oauth_clients::ActiveModel {
            name: Set("c".into()),
            client_id: Set(crate::secrets::random_hex(8)),
            secret_hash: Set(String::new()),
            client_key_id: Set(id),
            enabled: Set(true),
            token_generation: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&db)
        .await
        .unwrap();
        client_key_providers::ActiveModel {
            client_key_id: Set(id),
            provider_id: Set(provider_id),
            position: Set(0),
            pool: Set("[]".into()),
            ..Default::default()
        }
        .insert(&db)
        .await
        .unwrap();
        let txn = db.begin().await.unwrap();
        delete_with_dependents(&txn, id).await.unwrap();
        drop(txn);
        assert!(find(&db, id).await.unwrap().is_some(), "rolled back");
        assert_eq!(dependents(&db, id).await, 2);
        let txn = db.begin().await.unwrap();
        delete_with_dependents(&txn, id).await.unwrap();
        txn.commit().await.unwrap();
        assert!(find(&db, id).await.unwrap().is_none());
        assert_eq!(dependents(&db, id).await, 0);
    }
}
