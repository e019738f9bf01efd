//! Database migrations of the ai-proxy gateway, for SQLite and PostgreSQL.
//!
//! The gateway runs [`Migrator::up`] at every start, before it serves; a
//! migration never changes once released, later changes add new ones.

pub use sea_orm_migration::prelude::*;

mod m20261126_000001_init;
mod m20261126_000002_audit_log;
mod m20261126_000003_client_key_models;
mod m20261126_000004_oauth_clients;
mod m20261126_000005_limits;
mod m20261126_000006_plugin_versions;
mod m20261126_000007_config_version;
mod m20261126_000008_revoked_sessions;
mod m20261126_000009_quota_overrun;
mod m20261126_000010_upstream_oauth;
mod m20261205_000011_secret_binding;
mod m20261205_000012_user_grants;
mod m20261205_000013_endpoint_classes;
mod m20261205_000014_oauth_client_reset;
mod m20261205_000015_provider_billing_headers;
mod m20261205_000016_master_key_check;
mod m20261205_000017_master_key_rotation;
mod m20261205_000019_trace_daily;
mod m20261205_000020_trace_filter_indexes;
mod m20261205_000021_plugin_conformance;
mod m20261205_000022_plugin_rollout;
mod m20261205_000023_client_key_providers;
mod m20261205_000024_budgets;
mod m20261205_000025_trace_search;
mod m20261205_000026_prefix_indexes;
mod m20261205_000027_upstream_key_name;
mod m20261205_000028_shadow_totals;

pub use m20261205_000025_trace_search::{
    SEARCH_INDEX, SEARCH_TABLE, SEARCHED_COLUMNS, search_document,
};
pub use m20261205_000026_prefix_indexes::MODEL_PREFIX_INDEX;

/// Every migration in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_init::Migration),
            Box::new(m20261126_000002_audit_log::Migration),
            Box::new(m20261126_000003_client_key_models::Migration),
            Box::new(m20261126_000004_oauth_clients::Migration),
            Box::new(m20261126_000005_limits::Migration),
            Box::new(m20261126_000006_plugin_versions::Migration),
            Box::new(m20261126_000007_config_version::Migration),
            Box::new(m20261126_000008_revoked_sessions::Migration),
            Box::new(m20261126_000009_quota_overrun::Migration),
            Box::new(m20261126_000010_upstream_oauth::Migration),
            Box::new(m20261205_000011_secret_binding::Migration),
            Box::new(m20261205_000012_user_grants::Migration),
            Box::new(m20261205_000013_endpoint_classes::Migration),
            Box::new(m20261205_000014_oauth_client_reset::Migration),
            Box::new(m20261205_000015_provider_billing_headers::Migration),
            Box::new(m20261205_000016_master_key_check::Migration),
            Box::new(m20261205_000017_master_key_rotation::Migration),
            Box::new(m20261205_000019_trace_daily::Migration),
            Box::new(m20261205_000020_trace_filter_indexes::Migration),
            Box::new(m20261205_000021_plugin_conformance::Migration),
            Box::new(m20261205_000022_plugin_rollout::Migration),
            Box::new(m20261205_000023_client_key_providers::Migration),
            Box::new(m20261205_000024_budgets::Migration),
            Box::new(m20261205_000025_trace_search::Migration),
            Box::new(m20261205_000026_prefix_indexes::Migration),
            Box::new(m20261205_000027_upstream_key_name::Migration),
            Box::new(m20261205_000028_shadow_totals::Migration),
        ]
    }
}
