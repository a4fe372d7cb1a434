//! A tender template's identity and publication state; texts and clause references live in
//! [`crate::template_version`] and [`crate::template_clause`] (version 0 is the draft).

use sea_orm::entity::prelude::*;

use crate::PublicationStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "template")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub status: PublicationStatus,
    pub revision: i32,
    pub published_version: i32,
    pub withdrawn_reason: Option<String>,
    pub withdrawn_at: Option<DateTimeUtc>,
    pub derived_from_id: Option<Uuid>,
    pub derived_from_version: Option<i32>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The instance this record was authored on, when it was mirrored from another one
    /// (`None`: authored here). Mirrored records are read-only.
    #[serde(default)]
    pub origin: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::organization::Entity",
        from = "Column::OrganizationId",
        to = "super::organization::Column::Id"
    )]
    Organization,
    #[sea_orm(has_many = "super::template_version::Entity")]
    Versions,
}

impl Related<super::template_version::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Versions.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
