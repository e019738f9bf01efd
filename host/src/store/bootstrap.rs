//! First-start set-up: the `admin` account, the built-in plugins, one
//! provider per built-in plugin and its default prices. Each step is
//! idempotent, so it runs at every start.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use super::entities::{plugins, prices, providers, users};
use crate::plugins::{AUTO_DISABLED, LoadedPlugin};
use crate::secrets::{hash_password, random_hex};

/// Default upstream connect timeout of a new provider.
pub const DEFAULT_CONNECT_TIMEOUT_MS: i32 = 5_000;
/// Default upstream read timeout (time to first byte and between chunks).
pub const DEFAULT_READ_TIMEOUT_MS: i32 = 300_000;

/// Creates the `admin` account if there is none; returns the generated
/// password when one had to be made up.
pub async fn ensure_admin(
    db: &DatabaseConnection,
    password: Option<&str>,
) -> anyhow::Result<Option<String>> {
    let existing = users::Entity::find()
        .filter(users::Column::Username.eq("admin"))
        .one(db)
        .await?;
    if existing.is_some() {
        return Ok(None);
    }
    let (password, generated) = match password {
        Some(p) => (p.to_owned(), false),
        None => (random_hex(12), true),
    };
    let hash = hash_password(&password).map_err(|e| anyhow::anyhow!("hashing password: {e}"))?;
    let now = Utc::now();
    users::ActiveModel {
        username: Set("admin".into()),
        password_hash: Set(hash),
        role: Set("admin".into()),
        enabled: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(generated.then_some(password))
}

/// Stores a plugin's bytes unless that exact component is stored
/// (built-ins at every start, plugin files named in the configuration).
pub async fn register_builtin_plugin(
    db: &DatabaseConnection,
    plugin: &LoadedPlugin,
    bytes: &[u8],
    builtin: bool,
) -> anyhow::Result<()> {
    let sha = hex::encode(Sha256::digest(bytes));
    let known = plugins::Entity::find()
        .filter(plugins::Column::Sha256.eq(&sha))
        .one(db)
        .await?;
    if let Some(row) = known {
        return enable_if_auto_disabled(db, row).await;
    }
    let same_version = plugins::Entity::find()
        .filter(plugins::Column::Name.eq(&plugin.name))
        .filter(plugins::Column::Version.eq(&plugin.version))
        .one(db)
        .await?;
    if let Some(row) = same_version {
        // A rebuilt built-in with an unchanged version replaces its bytes.
        let mut row: plugins::ActiveModel = row.into();
        row.sha256 = Set(sha);
        row.wasm = Set(bytes.to_vec());
        row.update(db).await?;
        return Ok(());
    }
    plugins::ActiveModel {
        name: Set(plugin.name.clone()),
        version: Set(plugin.version.clone()),
        sha256: Set(sha),
        wasm: Set(bytes.to_vec()),
        builtin: Set(builtin),
        enabled: Set(true),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// A version the failure guard disabled serves again after a restart: the
/// guard's verdict is not an operator's decision, and a restart is how an
/// operator clears it. (Versions an operator disabled stay disabled.)
async fn enable_if_auto_disabled(
    db: &DatabaseConnection,
    row: plugins::Model,
) -> anyhow::Result<()> {
    let auto = row
        .disabled_reason
        .as_deref()
        .is_some_and(|r| r.starts_with(AUTO_DISABLED));
    if row.enabled || !auto {
        return Ok(());
    }
    tracing::warn!(plugin = %row.name, version = %row.version, "enabling a version the failure guard disabled before this start");
    let mut row: plugins::ActiveModel = row.into();
    row.enabled = Set(true);
    row.disabled_reason = Set(None);
    row.update(db).await?;
    Ok(())
}

/// Creates a provider named after the plugin, with the plugin's default
/// base URL and prices, unless one by that name exists.
pub async fn ensure_provider(db: &DatabaseConnection, plugin: &LoadedPlugin) -> anyhow::Result<()> {
    let existing = providers::Entity::find()
        .filter(providers::Column::Name.eq(&plugin.name))
        .one(db)
        .await?;
    if existing.is_some() {
        return Ok(());
    }
    let now = Utc::now();
    let provider = providers::ActiveModel {
        name: Set(plugin.name.clone()),
        plugin_name: Set(plugin.name.clone()),
        base_url: Set(plugin.info.default_base_url.clone()),
        connect_timeout_ms: Set(DEFAULT_CONNECT_TIMEOUT_MS),
        read_timeout_ms: Set(DEFAULT_READ_TIMEOUT_MS),
        enabled: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    seed_prices(db, provider.id, plugin).await
}

/// Inserts the plugin's default prices for a provider.
pub async fn seed_prices(
    db: &impl sea_orm::ConnectionTrait,
    provider_id: i32,
    plugin: &LoadedPlugin,
) -> anyhow::Result<()> {
    let to_i64 = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    let rows: Vec<prices::ActiveModel> = plugin
        .default_prices
        .iter()
        .map(|p| prices::ActiveModel {
            provider_id: Set(provider_id),
            model: Set(p.model.clone()),
            input: Set(to_i64(p.input)),
            output: Set(to_i64(p.output)),
            cached_input: Set(p.cached_input.map(to_i64)),
            cache_write: Set(p.cache_write.map(to_i64)),
            ..Default::default()
        })
        .collect();
    if !rows.is_empty() {
        prices::Entity::insert_many(rows).exec(db).await?;
    }
    Ok(())
}
