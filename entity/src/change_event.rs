//! One row per published change: the search-indexing outbox and the mirroring feed.
//! Rows are never deleted, so withdrawals and deletions stay visible as tombstones.

use sea_orm::entity::prelude::*;

use crate::{ChangeOperation, EntityType};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "change_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub entity_type: EntityType,
    pub entity_id: Uuid,
    pub version: Option<i32>,
    pub operation: ChangeOperation,
    pub occurred_at: DateTimeUtc,
    /// The published record the event announces, as JSON ([`crate`] models); `None` for
    /// deletions and for events written before payloads were recorded.
    pub payload: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
