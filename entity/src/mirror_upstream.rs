//! The upstream instances this one mirrors, and how far each has been applied.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mirror_upstream")]
pub struct Model {
    /// The upstream's base URL as given to `commons mirror --from` (normalised); also the
    /// `origin` written on every record received from it.
    #[sea_orm(primary_key, auto_increment = false)]
    pub url: String,
    /// The upstream's change-feed cursor to continue after; `None` until a snapshot has been
    /// applied whole.
    pub cursor: Option<String>,
    pub snapshot_at: Option<DateTimeUtc>,
    pub synced_at: Option<DateTimeUtc>,
    /// Changes applied from this upstream, snapshot records included.
    pub applied: i64,
    /// The watermark of the first snapshot download that applied records and was then cut
    /// short. The next whole download continues the feed from here rather than from its own,
    /// later watermark, so what changed upstream between the two downloads (a deletion above
    /// all) still arrives. `None` once a snapshot has been applied whole.
    pub resume_from: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
