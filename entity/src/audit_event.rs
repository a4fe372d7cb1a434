//! Who did what, when, to which record. `details` never holds personal data or clause text.

use sea_orm::entity::prelude::*;

use crate::EntityType;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_event")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub occurred_at: DateTimeUtc,
    /// The token's subject (an opaque identifier from the identity provider).
    pub actor_sub: String,
    pub actor_org: Option<Uuid>,
    /// Dotted action name, e.g. `clause.publish`.
    pub action: String,
    pub entity_type: EntityType,
    pub entity_id: Uuid,
    /// JSON object with non-personal facts (versions, counts, reasons' lengths).
    pub details: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
