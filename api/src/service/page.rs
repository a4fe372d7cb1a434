//! Keyset pagination over time-ordered UUIDs with opaque cursors.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use uuid::Uuid;

use crate::error::{ServiceError, ServiceResult};

/// Default page size when `first` is not given.
pub const DEFAULT_PAGE_SIZE: usize = 20;

/// A validated page request.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub first: u64,
    pub after: Option<Uuid>,
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
    pub fn from_rows(mut rows: Vec<T>, request: PageRequest, total_count: u64) -> Self {
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

const CURSOR_PREFIX: &str = "k1:";

pub fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{id}"))
}

pub fn decode_cursor(cursor: &str) -> ServiceResult<Uuid> {
    let invalid = || ServiceError::bad_input("after", "not a cursor returned by this API");
    let raw = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let raw = String::from_utf8(raw).map_err(|_| invalid())?;
    raw.strip_prefix(CURSOR_PREFIX)
        .and_then(|id| Uuid::parse_str(id).ok())
        .ok_or_else(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let id = Uuid::now_v7();
        assert_eq!(decode_cursor(&encode_cursor(id)).ok(), Some(id));
        assert!(decode_cursor("not a cursor").is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("k1:nope")).is_err());
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
        let page = Page::from_rows(vec![1, 2, 3], request, 3);
        assert_eq!(page.items, vec![1, 2]);
        assert!(page.has_next_page);
        let page = Page::from_rows(vec![1, 2], request, 2);
        assert!(!page.has_next_page);
    }
}
