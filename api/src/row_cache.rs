//! Clause rows kept in memory for search result pages.
//!
//! A result page shows each hit's clause with its current view. Reading those ten rows from
//! SQLite costs more than the rest of the GraphQL layer together (the statement runs on
//! SQLite's worker thread, and its 35 columns are decoded into two models), so the rows a
//! page read are kept here and the next page that shows them takes them from memory.
//!
//! A kept row must never be older than what the database would answer, or a result list
//! could show a text after its redaction. The cache therefore watches the single writing
//! connection of an SQLite database (see [`crate::db::connect_and_migrate_watched`]):
//! - SQLite calls [`ClauseRowCache::writing`] from the statement that changes a `clause` or
//!   `clause_version` row, before the change commits. Everything kept is dropped and the
//!   cache stops taking rows.
//! - When the connection goes back to the pool, its transaction has committed or rolled
//!   back, and [`ClauseRowCache::settled`] lets the cache take rows again.
//! - A page's read asks for a [`Ticket`] first and hands its rows back with it; they are
//!   kept only if no write began in between. A read that started before a write and
//!   finished after it is therefore never kept, and one that starts after a write settled
//!   sees what it committed.
//!
//! Writes from another process do not pass through this connection. They still reach the
//! change feed, and the indexer calls [`ClauseRowCache::invalidate`] for every batch of
//! events it reads, so such a write is reflected no later than the search index reflects
//! it. A cache that is not watching a writer (PostgreSQL, whose replicas write through
//! pools of their own) keeps nothing.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Mutex, MutexGuard},
};

use sea_orm::{ColumnTrait, QueryFilter};
use uuid::Uuid;

use crate::{error::ServiceResult, service::clause::ClauseRow};

/// Most rows kept; the oldest go first.
const MAX_ROWS: usize = 20_000;
/// Most text kept, counted as the rows' string lengths plus [`ROW_OVERHEAD`] each.
const MAX_BYTES: usize = 64 << 20;
/// What a row costs beyond its strings (two models, the map entry, the queue slot).
const ROW_OVERHEAD: usize = 512;

#[derive(Default)]
pub struct ClauseRowCache {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Set once a writing connection is watched; until then nothing is kept.
    watching: bool,
    /// A write to the clause tables has begun and not yet committed or rolled back.
    writing: bool,
    /// Moves on at every write and invalidation; a [`Ticket`] from an earlier one is void.
    generation: u64,
    rows: HashMap<Uuid, (ClauseRow, usize)>,
    /// Kept ids, oldest first.
    order: VecDeque<Uuid>,
    bytes: usize,
}

impl State {
    fn clear(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        self.rows.clear();
        self.order.clear();
        self.bytes = 0;
    }

    /// `order` holds exactly the kept ids: rows leave only here or in [`State::clear`].
    fn evict_oldest(&mut self) {
        if let Some((_, size)) = self.order.pop_front().and_then(|id| self.rows.remove(&id)) {
            self.bytes -= size;
        }
    }
}

/// Permission to keep the rows of one read, if nothing was written while it ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket(u64);

/// What a page found in memory, and what it must read from the database.
pub struct Lookup {
    pub found: HashMap<Uuid, ClauseRow>,
    pub missing: Vec<Uuid>,
    pub ticket: Option<Ticket>,
}

impl ClauseRowCache {
    fn state(&self) -> MutexGuard<'_, State> {
        // The state stays consistent even if a holder panicked: every update is one step.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The kept rows among `ids`, the rest, and a ticket to keep the rest once read (none
    /// while a write is under way or when nothing is watched).
    pub fn lookup(&self, ids: &[Uuid]) -> Lookup {
        let state = self.state();
        let mut found = HashMap::with_capacity(ids.len());
        let mut missing = Vec::new();
        for id in ids {
            match state.rows.get(id) {
                Some((row, _)) => {
                    found.insert(*id, row.clone());
                }
                None => missing.push(*id),
            }
        }
        let ticket = (state.watching && !state.writing).then_some(Ticket(state.generation));
        Lookup {
            found,
            missing,
            ticket,
        }
    }

    /// Keeps `rows`, read from the database after `ticket` was issued, if no write began
    /// since.
    pub fn fill<'a>(&self, ticket: Option<Ticket>, rows: impl IntoIterator<Item = &'a ClauseRow>) {
        let mut state = self.state();
        if ticket != Some(Ticket(state.generation)) || state.writing || !state.watching {
            return;
        }
        for row in rows {
            let id = row.0.id;
            let size = size_of(row);
            if size > MAX_BYTES || state.rows.contains_key(&id) {
                continue;
            }
            while state.rows.len() >= MAX_ROWS || state.bytes + size > MAX_BYTES {
                state.evict_oldest();
            }
            state.rows.insert(id, (row.clone(), size));
            state.order.push_back(id);
            state.bytes += size;
        }
    }

    /// Whether rows are kept at all (a writing connection is watched).
    pub fn watching(&self) -> bool {
        self.state().watching
    }

    /// The clauses `ids` with their current views: those kept here, and the rest read in one
    /// query (and kept, if nothing was written meanwhile).
    pub async fn read(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        ids: &[Uuid],
    ) -> ServiceResult<HashMap<Uuid, ClauseRow>> {
        let Lookup {
            mut found,
            missing,
            ticket,
        } = self.lookup(ids);
        if !missing.is_empty() {
            let rows = crate::service::clause::with_current()
                .filter(entity::clause::Column::Id.is_in(missing))
                .all(db)
                .await?;
            self.fill(ticket, &rows);
            found.extend(rows.into_iter().map(|row| (row.0.id, row)));
        }
        Ok(found)
    }

    /// A writing connection is watched from now on.
    pub fn watch(&self) {
        let mut state = self.state();
        state.watching = true;
        state.writing = false;
        state.clear();
    }

    /// A statement is changing the clause tables: drops every row and keeps none until the
    /// write has [settled](Self::settled).
    pub fn writing(&self) {
        let mut state = self.state();
        state.writing = true;
        state.clear();
    }

    /// The writing connection has finished its transaction (committed or rolled back).
    pub fn settled(&self) {
        let mut state = self.state();
        if state.writing {
            state.writing = false;
            state.clear();
        }
    }

    /// Drops every row: something may have changed that the watched connection did not
    /// write.
    pub fn invalidate(&self) {
        self.state().clear();
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.state().rows.len()
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn size_of((clause, version): &ClauseRow) -> usize {
    let optional = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    let clause_bytes = optional(&clause.withdrawn_reason) + optional(&clause.origin);
    let version_bytes = version.as_ref().map_or(0, |v| {
        v.title.len()
            + v.text.len()
            + optional(&v.purpose)
            + optional(&v.scoring_rule)
            + optional(&v.verification)
            + optional(&v.follow_up)
            + v.environmental_impacts.len()
            + v.social_objectives.len()
            + v.cpv_codes.len()
            + v.labels.len()
            + v.licence.len()
    });
    ROW_OVERHEAD + clause_bytes + version_bytes
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use entity::{PublicationStatus, clause};

    use super::*;

    fn row(id: Uuid) -> ClauseRow {
        let now = Utc::now();
        (
            clause::Model {
                id,
                organization_id: Uuid::nil(),
                status: PublicationStatus::Published,
                revision: 1,
                published_version: 1,
                withdrawn_reason: None,
                withdrawn_at: None,
                derived_from_id: None,
                derived_from_version: None,
                created_at: now,
                updated_at: now,
                origin: None,
            },
            None,
        )
    }

    fn watched() -> ClauseRowCache {
        let cache = ClauseRowCache::default();
        cache.watch();
        cache
    }

    #[test]
    fn rows_read_with_a_ticket_are_found_by_the_next_page() {
        let cache = watched();
        let id = Uuid::new_v4();
        let first = cache.lookup(&[id]);
        assert_eq!(first.missing, vec![id]);
        cache.fill(first.ticket, &[row(id)]);
        let second = cache.lookup(&[id]);
        assert!(second.missing.is_empty());
        assert_eq!(second.found[&id].0.id, id);
    }

    #[test]
    fn nothing_is_kept_before_a_writer_is_watched() {
        let cache = ClauseRowCache::default();
        let id = Uuid::new_v4();
        let lookup = cache.lookup(&[id]);
        assert_eq!(lookup.ticket, None);
        cache.fill(lookup.ticket, &[row(id)]);
        assert!(cache.is_empty());
    }

    #[test]
    fn a_read_that_overlaps_a_write_is_not_kept() {
        let cache = watched();
        let id = Uuid::new_v4();
        let before = cache.lookup(&[id]);
        // The write begins while the page reads; what it read may predate the commit.
        cache.writing();
        cache.fill(before.ticket, &[row(id)]);
        assert!(cache.is_empty());
        // While the write is under way no ticket is issued at all.
        assert_eq!(cache.lookup(&[id]).ticket, None);
        cache.settled();
        // A ticket from before the write stays void after it settled.
        cache.fill(before.ticket, &[row(id)]);
        assert!(cache.is_empty());
        let after = cache.lookup(&[id]);
        cache.fill(after.ticket, &[row(id)]);
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn a_write_and_an_invalidation_drop_what_is_kept() {
        let cache = watched();
        let ids = [Uuid::new_v4(), Uuid::new_v4()];
        let lookup = cache.lookup(&ids);
        cache.fill(lookup.ticket, &ids.map(row));
        assert_eq!(cache.len(), 2);
        cache.writing();
        assert!(cache.is_empty());
        cache.settled();
        let lookup = cache.lookup(&ids);
        cache.fill(lookup.ticket, &ids.map(row));
        cache.invalidate();
        assert!(cache.is_empty());
        cache.fill(lookup.ticket, &ids.map(row));
        assert!(cache.is_empty());
    }

    #[test]
    fn the_oldest_rows_go_first_when_full() {
        let cache = watched();
        let ids: Vec<Uuid> = (0..MAX_ROWS + 3).map(|_| Uuid::new_v4()).collect();
        for id in &ids {
            let lookup = cache.lookup(&[*id]);
            cache.fill(lookup.ticket, &[row(*id)]);
        }
        assert_eq!(cache.len(), MAX_ROWS);
        let oldest = cache.lookup(&ids[..3]);
        assert_eq!(oldest.missing, ids[..3].to_vec());
        let newest = cache.lookup(&ids[3..]);
        assert!(newest.missing.is_empty());
    }
}
