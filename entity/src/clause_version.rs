//! The texts of a clause: version 0 is the draft, 1.. are frozen published versions.

use sea_orm::entity::prelude::*;

use crate::{AmbitionLevel, Applicability, ClauseKind, CriteriaOrigin, Language, ProductGroup};

/// Version number of the editable draft row.
pub const DRAFT: i32 = 0;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "clause_version")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub clause_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub version: i32,
    pub title: String,
    pub purpose: Option<String>,
    pub text: String,
    pub scoring_rule: Option<String>,
    pub verification: Option<String>,
    pub follow_up: Option<String>,
    pub kind: Option<ClauseKind>,
    pub ambition_level: Option<AmbitionLevel>,
    /// JSON list of eForms BT-774 codes ([`crate::codes`]).
    pub environmental_impacts: String,
    /// JSON list of eForms BT-775 codes.
    pub social_objectives: String,
    pub origin: Option<CriteriaOrigin>,
    pub applicability: Option<Applicability>,
    /// JSON list of CPV codes with check digit.
    pub cpv_codes: String,
    pub product_group: Option<ProductGroup>,
    /// JSON list of referenced labels.
    pub labels: String,
    pub language: Language,
    pub licence: String,
    pub last_reviewed: Option<Date>,
    /// When this version was published; `None` for the draft.
    pub published_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::clause::Entity",
        from = "Column::ClauseId",
        to = "super::clause::Column::Id"
    )]
    Clause,
}

impl Related<super::clause::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Clause.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
