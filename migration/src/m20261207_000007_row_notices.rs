//! Notices of committed writes, for the rows a server keeps in memory.
//!
//! A server keeps clause rows, list pages and organisations it has read (see the API's
//! `row_cache`), and may keep them only while it hears of every write. On PostgreSQL, where
//! other servers, replicas and the command line write through connections of their own,
//! a statement trigger on each watched table calls `pg_notify` with the table's name on the
//! channel [`CHANNEL`]. PostgreSQL delivers a notice only when the writing transaction
//! commits (a rolled-back write sends none) and sends one notice for a transaction however
//! many statements of it repeat the same table, so a bulk import costs one notice per batch
//! and table. SQLite needs nothing here: its single writing connection is watched in process.

use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, DbBackend},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The channel the notices go to (kept equal to the API's listener).
pub const CHANNEL: &str = "commons_rows";

/// Tables whose rows a server keeps.
const WATCHED: [&str; 3] = ["clause", "clause_version", "organization"];

/// The triggers' names (`{table}_notice`), which a listener checks are in place.
pub const TRIGGERS: [&str; 3] = [
    "clause_notice",
    "clause_version_notice",
    "organization_notice",
];

#[expect(
    elided_lifetimes_in_paths,
    reason = "async_trait rejects the explicit lifetime MigrationTrait elides"
)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared(&format!(
            "CREATE FUNCTION row_notice() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
               PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME);
               RETURN NULL;
             END $$"
        ))
        .await?;
        for table in WATCHED {
            db.execute_unprepared(&format!(
                "CREATE TRIGGER {table}_notice
                 AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
                 FOR EACH STATEMENT EXECUTE FUNCTION row_notice()"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for table in WATCHED {
            db.execute_unprepared(&format!("DROP TRIGGER {table}_notice ON {table}"))
                .await?;
        }
        db.execute_unprepared("DROP FUNCTION row_notice()").await?;
        Ok(())
    }
}
