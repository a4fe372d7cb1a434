//! A reported tender and how it went. Published when reported; never holds an exact price.

use sea_orm::entity::prelude::*;

use crate::{ProcedureType, PublicationStatus, ValueBand};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "tender_result")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub status: PublicationStatus,
    pub template_id: Option<Uuid>,
    pub template_version: Option<i32>,
    /// Main CPV code of the procurement.
    pub cpv_code: String,
    pub procedure: ProcedureType,
    /// First day of the month the contract was awarded (or the procedure closed).
    pub award_month: Date,
    pub tenders_received: i32,
    pub sme_tenders: Option<i32>,
    pub price_weight: i32,
    pub cost_weight: i32,
    pub quality_weight: i32,
    pub sustainability_weight: i32,
    pub awarded: bool,
    pub no_award_reason: Option<String>,
    pub value_band: ValueBand,
    pub appealed: bool,
    pub lessons_learned: Option<String>,
    pub withdrawn_reason: Option<String>,
    pub withdrawn_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The instance this record was authored on, when it was mirrored from another one
    /// (`None`: authored here). Mirrored records are read-only.
    #[serde(default)]
    pub origin: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
