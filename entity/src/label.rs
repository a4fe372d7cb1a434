//! The label registry: ecolabels and certifications clauses cite, with the validity period of
//! each generation (used to flag clauses that cite an expired generation as stale).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "label")]
pub struct Model {
    /// Stable key, e.g. `tco-certified-9`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// The label scheme, e.g. `TCO Certified`.
    pub scheme: String,
    pub name: String,
    /// Generation number, for schemes that have generations.
    pub generation: Option<i32>,
    pub valid_from: Option<Date>,
    /// Last day the generation is current; `None` when it does not expire.
    pub valid_until: Option<Date>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
