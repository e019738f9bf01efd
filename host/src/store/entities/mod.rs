//! SeaORM entities, one file per table (schema in the `migration` crate).

pub mod audit_log;
pub mod budget_alerts;
pub mod budgets;
pub mod client_key_providers;
pub mod client_keys;
pub mod config_version;
pub mod conformance_vectors;
pub mod oauth_clients;
pub mod oauth_sessions;
pub mod plugin_conformance;
pub mod plugin_rollouts;
pub mod plugins;
pub mod prices;
pub mod providers;
pub mod proxy_tracing;
pub mod revoked_sessions;
pub mod shadow_totals;
pub mod shadow_verdicts;
pub mod team_members;
pub mod teams;
pub mod upstream_keys;
pub mod user_grants;
pub mod users;
