//! Where each consumer of the change feed (the search indexer) has got to.

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
            .create_table(
                Table::create()
                    .table("feed_cursor")
                    .col(string_len("consumer", 64).primary_key())
                    .col(big_integer("last_seq"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("feed_cursor").to_owned())
            .await
    }
}
