//! A clause version used in a reported tender, with its outcome and follow-up.

use sea_orm::entity::prelude::*;

use crate::{ClauseOutcome, FollowUpResult};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "tender_result_clause")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tender_result_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i32,
    pub clause_id: Uuid,
    pub clause_version: i32,
    pub outcome: ClauseOutcome,
    pub follow_up: FollowUpResult,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
