//! Reading the change feed: keyset pages over `seq` with opaque cursors.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use entity::change_event;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::{
    error::{ServiceError, ServiceResult},
    service::page::Page,
};

const CURSOR_PREFIX: &str = "s1:";

/// The cursor that continues after the event `seq` (0: from the beginning).
pub fn encode_cursor(seq: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{seq}"))
}

pub fn decode_cursor(field: &str, cursor: &str) -> ServiceResult<i64> {
    let invalid =
        || ServiceError::bad_input(field, "not a change-feed cursor returned by this API");
    let raw = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let raw = String::from_utf8(raw).map_err(|_| invalid())?;
    raw.strip_prefix(CURSOR_PREFIX)
        .and_then(|seq| seq.parse::<i64>().ok())
        .filter(|seq| *seq >= 0)
        .ok_or_else(invalid)
}

/// Up to `limit` events after `after`, oldest first.
pub async fn after(
    db: &impl ConnectionTrait,
    after: i64,
    limit: u64,
) -> Result<Vec<change_event::Model>, sea_orm::DbErr> {
    change_event::Entity::find()
        .filter(change_event::Column::Seq.gt(after))
        .order_by_asc(change_event::Column::Seq)
        .limit(limit)
        .all(db)
        .await
}

/// Up to `first` events after `after`, oldest first. `total_count` is the number of events
/// after `after`, so a mirror can show how far behind it is.
pub async fn page(
    db: &impl ConnectionTrait,
    after: i64,
    first: u64,
) -> ServiceResult<Page<change_event::Model>> {
    let mut items = self::after(db, after, first + 1).await?;
    let total_count = change_event::Entity::find()
        .filter(change_event::Column::Seq.gt(after))
        .count(db)
        .await?;
    let has_next_page = items.len() as u64 > first;
    items.truncate(first as usize);
    Ok(Page {
        items,
        has_next_page,
        has_previous_page: after > 0,
        total_count,
    })
}

/// The highest sequence number visible to `db` (0 when the feed is empty).
pub async fn head(db: &impl ConnectionTrait) -> Result<i64, sea_orm::DbErr> {
    Ok(change_event::Entity::find()
        .order_by_desc(change_event::Column::Seq)
        .one(db)
        .await?
        .map_or(0, |e| e.seq))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        assert_eq!(decode_cursor("after", &encode_cursor(42)).ok(), Some(42));
        assert_eq!(decode_cursor("after", &encode_cursor(0)).ok(), Some(0));
        assert!(decode_cursor("after", "garbage").is_err());
        assert!(decode_cursor("after", &URL_SAFE_NO_PAD.encode("s1:-3")).is_err());
        // A list cursor is not a feed cursor.
        assert!(
            decode_cursor(
                "after",
                &crate::service::page::encode_cursor(&crate::service::page::Cursor::Id(
                    uuid::Uuid::nil()
                ))
            )
            .is_err()
        );
    }
}
