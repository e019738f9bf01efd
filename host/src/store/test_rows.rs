//! Rows with stored secrets, for the tests of the rewrites of secrets at
//! start ([`super::rebind`], [`super::rotate`]).

use chrono::Utc;
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set};

use super::entities::{providers, upstream_keys};

/// A fresh SQLite database with the schema.
pub async fn db() -> DatabaseConnection {
    let dir = std::env::temp_dir().join(format!("aip-rows-{}", crate::secrets::random_hex(6)));
    let url = format!("sqlite://{}/t.db?mode=rwc", dir.display());
    super::connect(&url, &dir).await.expect("db")
}

/// A provider with an OAuth client secret stored as `secret`.
pub async fn provider(db: &DatabaseConnection, secret: Option<Vec<u8>>) -> i32 {
    let now = Utc::now();
    providers::ActiveModel {
        name: Set(format!("p-{}", crate::secrets::random_hex(4))),
        plugin_name: Set("openai".into()),
        base_url: Set("https://api.openai.com".into()),
        connect_timeout_ms: Set(1000),
        read_timeout_ms: Set(1000),
        enabled: Set(true),
        oauth_client_secret_ciphertext: Set(secret),
        allow_billing_headers: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("provider")
    .id
}

/// An upstream key of `provider_id` whose secret is stored as `stored`.
pub async fn key(db: &DatabaseConnection, provider_id: i32, stored: Vec<u8>) -> i32 {
    let now = Utc::now();
    upstream_keys::ActiveModel {
        provider_id: Set(provider_id),
        name: Set(format!("k-{}", crate::secrets::random_hex(4))),
        secret_ciphertext: Set(stored),
        secret_hint: Set(String::new()),
        auth_type: Set("api_key".into()),
        weight: Set(1),
        enabled: Set(true),
        health_status: Set("unknown".into()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("key")
    .id
}

/// The stored secret of upstream key `id`.
pub async fn key_secret(db: &DatabaseConnection, id: i32) -> Vec<u8> {
    upstream_keys::Entity::find_by_id(id)
        .one(db)
        .await
        .expect("find")
        .expect("row")
        .secret_ciphertext
}

/// Stores `stored` as the secret of upstream key `id`.
pub async fn set_key_secret(db: &DatabaseConnection, id: i32, stored: Vec<u8>) {
    upstream_keys::ActiveModel {
        id: Set(id),
        secret_ciphertext: Set(stored),
        ..Default::default()
    }
    .update(db)
    .await
    .expect("update");
}
