//! Upstream keys got one name across the API, the code and the console
//! (they were also "provider keys"). The audit log names the resource of
//! each entry; entries written before say `provider_key`, and a filter by
//! `upstream_key` should find them too, so they are renamed here.
//!
//! Tables and columns keep their first names (`provider_keys`,
//! `provider_key_id`): the entities in `store/entities` map them, and the
//! stored secrets are bound to the table name (`secrets::cipher`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The audit resource of an upstream key before and after.
const OLD_RESOURCE: &str = "provider_key";
const NEW_RESOURCE: &str = "upstream_key";

fn rename(from: &str, to: &str) -> String {
    format!("UPDATE audit_log SET resource = '{to}' WHERE resource = '{from}'")
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared(&rename(OLD_RESOURCE, NEW_RESOURCE))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared(&rename(NEW_RESOURCE, OLD_RESOURCE))
            .await?;
        Ok(())
    }
}
