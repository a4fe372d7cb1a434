//! Where a mirror continues the feed after a snapshot it had to download twice.
//!
//! A first download cut short after some batches were applied leaves records from an older
//! state of the upstream. The next whole download is newer, so its watermark lies past
//! whatever changed in between; deletions in that stretch would never reach the mirror.
//! `resume_from` keeps the first cut download's watermark, and the feed is read from there.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[expect(
    elided_lifetimes_in_paths,
    reason = "async_trait rejects the explicit lifetime MigrationTrait elides"
)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("mirror_upstream")
                    .add_column(text_null("resume_from"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("mirror_upstream")
                    .drop_column("resume_from")
                    .to_owned(),
            )
            .await
    }
}
