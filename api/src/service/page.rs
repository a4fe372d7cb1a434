//! Keyset pagination with opaque cursors.
//!
//! A page is read through an index: the order's key and the id (to break ties) are compared
//! with the cursor's as a row value, `(key, id) > (cursor key, cursor id)`, so a deep page
//! costs what the first one does. A cursor remembers the order it was made for; one from a
//! list in another order is refused rather than read wrongly.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{
    Order as SortOrder, QueryFilter, QueryOrder, QuerySelect, Select,
    sea_query::{Expr, ExprTrait, SimpleExpr},
};
use uuid::Uuid;

use crate::error::{ServiceError, ServiceResult};

/// Default page size when `first` is not given.
pub const DEFAULT_PAGE_SIZE: usize = 20;

/// Orders of the clause and template lists.
#[derive(async_graphql::Enum, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CatalogueOrder {
    /// Creation order (ids are time-ordered), oldest first.
    #[default]
    Id,
    /// Most recently changed first (`updatedAt`, then id, descending).
    Newest,
    /// By the current title (in the database's collation), then id.
    Title,
}

/// Orders of the tender-result list.
#[derive(async_graphql::Enum, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TenderResultOrder {
    /// Creation order (ids are time-ordered), oldest first.
    #[default]
    Id,
    /// Most recently changed first (`updatedAt`, then id, descending).
    Newest,
}

impl From<TenderResultOrder> for CatalogueOrder {
    fn from(order: TenderResultOrder) -> Self {
        match order {
            TenderResultOrder::Id => Self::Id,
            TenderResultOrder::Newest => Self::Newest,
        }
    }
}

/// Where a page starts: past this row of a list in the cursor's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    Id(Uuid),
    Newest(DateTime<Utc>, Uuid),
    Title(String, Uuid),
}

impl Cursor {
    fn order(&self) -> CatalogueOrder {
        match self {
            Self::Id(_) => CatalogueOrder::Id,
            Self::Newest(..) => CatalogueOrder::Newest,
            Self::Title(..) => CatalogueOrder::Title,
        }
    }

    /// The cursor of a row in `order`, from its id, `updated_at` and current title.
    pub fn of(order: CatalogueOrder, id: Uuid, updated_at: DateTime<Utc>, title: &str) -> Self {
        match order {
            CatalogueOrder::Id => Self::Id(id),
            CatalogueOrder::Newest => Self::Newest(updated_at, id),
            CatalogueOrder::Title => Self::Title(title.to_owned(), id),
        }
    }
}

/// A validated page request.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub first: u64,
    pub after: Option<Cursor>,
    /// Whether the caller wants `totalCount` (a count over every match, which costs more
    /// than the page itself); when false the page's `total_count` is 0 and never shown.
    pub count: bool,
}

impl PageRequest {
    /// Checks `first` against the configured maximum and decodes `after`.
    pub fn new(first: Option<i32>, after: Option<&str>, max: usize) -> ServiceResult<Self> {
        let first = match first {
            None => DEFAULT_PAGE_SIZE.min(max),
            Some(n) if n < 0 => {
                return Err(ServiceError::bad_input("first", "must not be negative"));
            }
            Some(n) if n as usize > max => {
                return Err(ServiceError::bad_input(
                    "first",
                    format!("must be at most {max}"),
                ));
            }
            Some(n) => n as usize,
        };
        let after = after.map(decode_cursor).transpose()?;
        Ok(Self {
            first: first as u64,
            after,
            count: true,
        })
    }

    /// The cursor, checked to come from a list in `order`.
    fn after_in(&self, order: CatalogueOrder) -> ServiceResult<Option<&Cursor>> {
        match &self.after {
            Some(cursor) if cursor.order() != order => Err(ServiceError::bad_input(
                "after",
                "a cursor from a list in another order; start again without `after`",
            )),
            cursor => Ok(cursor.as_ref()),
        }
    }
}

/// The columns a list's orders read: its id, `updated_at` (lists that have one) and, for
/// clauses and templates, the denormalised current title.
pub struct OrderColumns {
    pub id: SimpleExpr,
    pub updated_at: Option<SimpleExpr>,
    pub title: Option<SimpleExpr>,
    /// A joined table's column equal to the id (the current version's `clause_id`). In id
    /// order a cursor bounds it too: PostgreSQL otherwise may merge-join the version table's
    /// primary key from its start and walk every version before the cursor.
    pub joined_id: Option<SimpleExpr>,
}

/// Orders `query` and starts it after the request's cursor, reading `first + 1` rows.
pub fn keyset<E: sea_orm::EntityTrait>(
    query: Select<E>,
    order: CatalogueOrder,
    columns: OrderColumns,
    page: &PageRequest,
) -> ServiceResult<Select<E>> {
    let after = page.after_in(order)?;
    let unordered = || ServiceError::bad_input("orderBy", "this list cannot be read in that order");
    let (key, direction) = match order {
        CatalogueOrder::Id => (None, SortOrder::Asc),
        CatalogueOrder::Newest => (
            Some(columns.updated_at.ok_or_else(unordered)?),
            SortOrder::Desc,
        ),
        CatalogueOrder::Title => (Some(columns.title.ok_or_else(unordered)?), SortOrder::Asc),
    };
    let mut query = query;
    if let Some(cursor) = after {
        let cursor_key: Option<SimpleExpr> = match cursor {
            Cursor::Id(_) => None,
            Cursor::Newest(at, _) => Some(Expr::value(*at)),
            Cursor::Title(title, _) => Some(Expr::value(title.clone())),
        };
        let cursor_id = match cursor {
            Cursor::Id(id) | Cursor::Newest(_, id) | Cursor::Title(_, id) => Expr::value(*id),
        };
        let (left, right) = match (&key, cursor_key) {
            (Some(key), Some(cursor_key)) => (
                Expr::tuple([key.clone(), columns.id.clone()]),
                Expr::tuple([cursor_key, cursor_id]),
            ),
            _ => {
                if let Some(joined) = &columns.joined_id {
                    query = query.filter(Expr::expr(joined.clone()).gt(cursor_id.clone()));
                }
                (Expr::expr(columns.id.clone()), Expr::expr(cursor_id))
            }
        };
        query = query.filter(match direction {
            SortOrder::Desc => left.lt(right),
            _ => left.gt(right),
        });
    }
    if let Some(key) = key {
        query = query.order_by(key, direction.clone());
    }
    Ok(query.order_by(columns.id, direction).limit(page.first + 1))
}

/// One page of results.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub total_count: u64,
}

impl<T> Page<T> {
    /// Builds a page from `first + 1` fetched rows (the extra row only signals a next page).
    pub fn from_rows(mut rows: Vec<T>, request: &PageRequest, total_count: u64) -> Self {
        let has_next_page = rows.len() as u64 > request.first;
        rows.truncate(request.first as usize);
        Self {
            items: rows,
            has_next_page,
            has_previous_page: request.after.is_some(),
            total_count,
        }
    }
}

/// Id-order cursors (`k1:`) are those this API has always given out; ordered ones are `k2:`.
const ID_PREFIX: &str = "k1:";
const NEWEST_PREFIX: &str = "k2:n:";
const TITLE_PREFIX: &str = "k2:t:";

pub fn encode_cursor(cursor: &Cursor) -> String {
    let raw = match cursor {
        Cursor::Id(id) => format!("{ID_PREFIX}{id}"),
        Cursor::Newest(at, id) => format!(
            "{NEWEST_PREFIX}{id}:{}",
            at.to_rfc3339_opts(SecondsFormat::Micros, true)
        ),
        Cursor::Title(title, id) => format!("{TITLE_PREFIX}{id}:{title}"),
    };
    URL_SAFE_NO_PAD.encode(raw)
}

pub fn decode_cursor(cursor: &str) -> ServiceResult<Cursor> {
    let invalid = || ServiceError::bad_input("after", "not a cursor returned by this API");
    let raw = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let raw = String::from_utf8(raw).map_err(|_| invalid())?;
    // An id, then (in ordered cursors) a colon and the order's key.
    let keyed = |rest: &str| -> Option<(Uuid, String)> {
        let (id, key) = rest.split_at_checked(36)?;
        Some((Uuid::parse_str(id).ok()?, key.strip_prefix(':')?.to_owned()))
    };
    if let Some(id) = raw.strip_prefix(ID_PREFIX) {
        return Uuid::parse_str(id).map(Cursor::Id).map_err(|_| invalid());
    }
    if let Some((id, at)) = raw.strip_prefix(NEWEST_PREFIX).and_then(keyed) {
        let at = DateTime::parse_from_rfc3339(&at).map_err(|_| invalid())?;
        return Ok(Cursor::Newest(at.with_timezone(&Utc), id));
    }
    if let Some((id, title)) = raw.strip_prefix(TITLE_PREFIX).and_then(keyed) {
        return Ok(Cursor::Title(title, id));
    }
    Err(invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let id = Uuid::now_v7();
        let at = Utc::now();
        for cursor in [
            Cursor::Id(id),
            Cursor::Newest(at, id),
            Cursor::Title("Krav på återtagande: 50 % | ändå".to_owned(), id),
            Cursor::Title(String::new(), id),
        ] {
            let decoded = decode_cursor(&encode_cursor(&cursor)).ok();
            match (&cursor, decoded) {
                // Timestamps keep the database's microseconds.
                (Cursor::Newest(at, id), Some(Cursor::Newest(back, back_id))) => {
                    assert_eq!(back_id, *id);
                    assert_eq!(back.timestamp_micros(), at.timestamp_micros());
                }
                (_, decoded) => assert_eq!(decoded, Some(cursor)),
            }
        }
        assert!(decode_cursor("not a cursor").is_err());
        for bad in [
            "k1:nope",
            "k2:n:",
            "k2:t:short",
            "k2:x:0",
            "k2:n:{id}:yesterday",
        ] {
            let bad = bad.replace("{id}", &id.to_string());
            assert!(decode_cursor(&URL_SAFE_NO_PAD.encode(bad)).is_err());
        }
    }

    #[test]
    fn cursors_belong_to_their_order() {
        let id = Uuid::now_v7();
        let request = |cursor: Cursor| PageRequest {
            first: 20,
            after: Some(cursor),
            count: false,
        };
        let title = request(Cursor::Title("a".to_owned(), id));
        assert!(title.after_in(CatalogueOrder::Title).is_ok());
        assert!(title.after_in(CatalogueOrder::Id).is_err());
        assert!(
            request(Cursor::Id(id))
                .after_in(CatalogueOrder::Newest)
                .is_err()
        );
    }

    #[test]
    fn page_size_is_capped() {
        assert!(PageRequest::new(Some(101), None, 100).is_err());
        assert!(PageRequest::new(Some(-1), None, 100).is_err());
        assert_eq!(
            PageRequest::new(None, None, 100).map(|p| p.first).ok(),
            Some(20)
        );
        assert_eq!(
            PageRequest::new(None, None, 5).map(|p| p.first).ok(),
            Some(5)
        );
    }

    #[test]
    fn extra_row_signals_next_page() {
        let request = PageRequest {
            first: 2,
            after: None,
            count: true,
        };
        let page = Page::from_rows(vec![1, 2, 3], &request, 3);
        assert_eq!(page.items, vec![1, 2]);
        assert!(page.has_next_page);
        let page = Page::from_rows(vec![1, 2], &request, 2);
        assert!(!page.has_next_page);
    }
}
