//! Master key rotation on the check row: while the gateway re-encrypts
//! every secret under a new key, the row's check value is the new key's
//! and `previous_check_value` the old key's; `rotation_complete` is set
//! once nothing is left under the old key. No secret, no key: check
//! values only.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MasterKeyCheck {
    Table,
    PreviousCheckValue,
    RotationComplete,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        m.alter_table(
            Table::alter()
                .table(MasterKeyCheck::Table)
                .add_column(string_null(MasterKeyCheck::PreviousCheckValue))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(MasterKeyCheck::Table)
                .add_column(boolean(MasterKeyCheck::RotationComplete).default(false))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            MasterKeyCheck::PreviousCheckValue,
            MasterKeyCheck::RotationComplete,
        ] {
            m.alter_table(
                Table::alter()
                    .table(MasterKeyCheck::Table)
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
