//! An ordered reference from a template version to the exact clause version it uses.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[sea_orm(table_name = "template_clause")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub template_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub template_version: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i32,
    pub clause_id: Uuid,
    pub clause_version: i32,
    /// Weight in percent, for award criteria.
    pub weight: Option<i32>,
    pub mandatory: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
