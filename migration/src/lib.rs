//! Schema migrations. Every migration runs on SQLite and PostgreSQL and can be rolled back.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_catalogue;
mod m20261122_000002_search_cursor;
pub mod m20261122_000003_trust;
mod m20261122_000004_feed;
mod m20261204_000005_mirror_resume;
mod m20261207_000006_list_pages;
pub mod m20261207_000007_row_notices;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_catalogue::Migration),
            Box::new(m20261122_000002_search_cursor::Migration),
            Box::new(m20261122_000003_trust::Migration),
            Box::new(m20261122_000004_feed::Migration),
            Box::new(m20261204_000005_mirror_resume::Migration),
            Box::new(m20261207_000006_list_pages::Migration),
            Box::new(m20261207_000007_row_notices::Migration),
        ]
    }
}
