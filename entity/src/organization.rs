use sea_orm::entity::prelude::*;

use crate::{Country, OrganizationKind};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "organization")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub slug: String,
    pub name: String,
    pub kind: OrganizationKind,
    pub country: Country,
    /// Official municipality code (e.g. SCB kommunkod, SSB kommunenummer).
    pub municipality_code: Option<String>,
    pub population: Option<i64>,
    pub created_at: DateTimeUtc,
    /// The instance this record was authored on, when it was mirrored from another one
    /// (`None`: authored here). Mirrored records are read-only.
    #[serde(default)]
    pub origin: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
