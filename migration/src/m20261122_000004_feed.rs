//! Mirroring: every change event carries the published payload it announced, every
//! catalogue record remembers the instance it was authored on (`NULL` = this one), and each
//! mirrored upstream has a row saying how far it has been applied.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Tables whose rows can arrive from an upstream instance.
const MIRRORED: [&str; 4] = ["organization", "clause", "template", "tender_result"];

#[expect(
    elided_lifetimes_in_paths,
    reason = "async_trait rejects the explicit lifetime MigrationTrait elides"
)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table("change_event")
                    .add_column(text_null("payload"))
                    .to_owned(),
            )
            .await?;
        for table in MIRRORED {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(text_null("origin"))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("mirror_upstream")
                    .col(string_len("url", 512).primary_key())
                    .col(text_null("cursor"))
                    .col(timestamp_with_time_zone_null("snapshot_at"))
                    .col(timestamp_with_time_zone_null("synced_at"))
                    .col(big_integer("applied").default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("mirror_upstream").to_owned())
            .await?;
        for table in MIRRORED {
            manager
                .alter_table(Table::alter().table(table).drop_column("origin").to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("change_event")
                    .drop_column("payload")
                    .to_owned(),
            )
            .await
    }
}
