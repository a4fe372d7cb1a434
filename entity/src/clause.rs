//! A clause's identity and publication state. Its texts live in [`crate::clause_version`]:
//! version 0 is the editable draft, versions 1.. are frozen published versions.

use sea_orm::entity::prelude::*;

use crate::PublicationStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "clause")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub status: PublicationStatus,
    /// Optimistic-concurrency counter, bumped by every write (`expectedVersion` is checked
    /// against it).
    pub revision: i32,
    /// Latest published version; 0 while never published (then the draft is the current view).
    pub published_version: i32,
    pub withdrawn_reason: Option<String>,
    pub withdrawn_at: Option<DateTimeUtc>,
    /// Reuse lineage: the clause version this one was copied from.
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
    #[sea_orm(has_many = "super::clause_version::Entity")]
    Versions,
}

impl Related<super::organization::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organization.def()
    }
}

impl Related<super::clause_version::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Versions.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
