//! How many clauses, templates and tender results each organisation has in each status.
//!
//! Kept by database triggers (migration `m20261207_000006_list_pages`) on every insert,
//! delete and change of status or organisation, so `totalCount` of a list filtered only by
//! status and organisation is a sum over a few rows instead of a count over the catalogue.
//! Nothing in Rust writes it.

use sea_orm::entity::prelude::*;

use crate::PublicationStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "list_count")]
pub struct Model {
    /// The counted table: `clause`, `template` or `tender_result`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub entity_type: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub status: PublicationStatus,
    pub n: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
