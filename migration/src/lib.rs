//! Schema migrations. Every migration runs on SQLite and PostgreSQL and can be rolled back.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_catalogue;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m20261122_000001_catalogue::Migration)]
    }
}
