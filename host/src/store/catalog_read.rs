//! The reads a catalog load makes: every row the proxy's snapshot is built
//! from, in plain stored form. Building the snapshot (decrypting secrets,
//! compiling plugins, applying grants) is `catalog::load`'s; nothing here
//! knows the catalog's types, so the catalog depends on the store and never
//! the other way round.
//!
//! The reads are separate statements, not one snapshot: an admin change
//! landing between two of them is picked up whole by the reload that
//! change triggers.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::store::entities::{
    budgets, client_key_providers, client_keys, oauth_clients, plugin_conformance, plugin_rollouts,
    plugins, prices, providers, upstream_keys, user_grants, users,
};

/// Every row a catalog is built from, besides the plugins.
pub struct CatalogRows {
    pub prices: Vec<prices::Model>,
    pub providers: Vec<providers::Model>,
    pub upstream_keys: Vec<upstream_keys::Model>,
    pub client_keys: Vec<client_keys::Model>,
    /// The per-model routes of client keys.
    pub routes: Vec<client_key_providers::Model>,
    pub oauth_clients: Vec<oauth_clients::Model>,
    pub budgets: Vec<budgets::Model>,
    pub accounts: Vec<Account>,
    pub grants: Vec<user_grants::Model>,
}

/// What the catalog needs of an account that may own client keys (never
/// its password hash).
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub id: i32,
    pub role: String,
    pub enabled: bool,
}

/// An enabled plugin version, without its module.
#[derive(Debug, Clone, PartialEq)]
pub struct EnabledPlugin {
    pub id: i32,
    pub name: String,
    pub sha256: String,
    pub call_timeout_ms: Option<i32>,
    pub memory_mib: Option<i32>,
}

/// A provider's rollout row with its candidate's name and version
/// (`None` when the candidate's row is gone).
pub struct RolloutRow {
    pub rollout: plugin_rollouts::Model,
    pub candidate: Option<(String, String)>,
}

/// Reads every row of the catalog's tables.
pub async fn read_catalog(db: &impl ConnectionTrait) -> Result<CatalogRows, DbErr> {
    let accounts = users::Entity::find()
        .select_only()
        .columns([
            users::Column::Id,
            users::Column::Role,
            users::Column::Enabled,
        ])
        .into_tuple::<(i32, String, bool)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(id, role, enabled)| Account { id, role, enabled })
        .collect();
    Ok(CatalogRows {
        prices: prices::Entity::find().all(db).await?,
        providers: providers::Entity::find().all(db).await?,
        upstream_keys: upstream_keys::Entity::find().all(db).await?,
        client_keys: client_keys::Entity::find().all(db).await?,
        routes: client_key_providers::Entity::find().all(db).await?,
        oauth_clients: oauth_clients::Entity::find().all(db).await?,
        budgets: budgets::Entity::find().all(db).await?,
        accounts,
        grants: user_grants::Entity::find().all(db).await?,
    })
}

/// The enabled plugin versions that may serve (those that failed their
/// conformance vectors unforced are left out), oldest first.
pub async fn enabled_plugins(db: &impl ConnectionTrait) -> Result<Vec<EnabledPlugin>, DbErr> {
    type Row = (i32, String, String, Option<i32>, Option<i32>);
    let rows: Vec<Row> = plugins::Entity::find()
        .select_only()
        .columns([
            plugins::Column::Id,
            plugins::Column::Name,
            plugins::Column::Sha256,
            plugins::Column::CallTimeoutMs,
            plugins::Column::MemoryMib,
        ])
        .filter(plugins::Column::Enabled.eq(true))
        .order_by_asc(plugins::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let blocked = plugin_conformance::blocked(db).await?;
    Ok(rows
        .into_iter()
        .filter(|(id, ..)| !blocked.contains(id))
        .map(
            |(id, name, sha256, call_timeout_ms, memory_mib)| EnabledPlugin {
                id,
                name,
                sha256,
                call_timeout_ms,
                memory_mib,
            },
        )
        .collect())
}

/// The stored module of plugin version `id`, for one not compiled yet.
pub async fn plugin_module(db: &impl ConnectionTrait, id: i32) -> Result<Option<Vec<u8>>, DbErr> {
    Ok(plugins::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|row| row.wasm))
}

/// Every provider's rollout, with its candidate's name and version.
pub async fn rollouts(db: &impl ConnectionTrait) -> Result<Vec<RolloutRow>, DbErr> {
    let mut out = Vec::new();
    for rollout in plugin_rollouts::Entity::find().all(db).await? {
        let candidate = plugins::Entity::find_by_id(rollout.plugin_id)
            .select_only()
            .columns([plugins::Column::Name, plugins::Column::Version])
            .into_tuple()
            .one(db)
            .await?;
        out.push(RolloutRow { rollout, candidate });
    }
    Ok(out)
}
