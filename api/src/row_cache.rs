//! Rows kept in memory for pages that show them: clause rows with their current views, the
//! ids of list pages, and organisations.
//!
//! A result page shows each hit's clause with its current view, and a list page shows a
//! page of them with their organisations. Reading those rows from the database costs more
//! than the rest of the GraphQL layer together (on SQLite the statement runs on its worker
//! thread and 35 columns are decoded into two models; on PostgreSQL every read is a round
//! trip and a plan), so what a page read is kept here and the next page that shows it takes
//! it from memory. A list page is kept as the ids its statement found, under the statement's
//! text (filters, order, cursor and the caller's scope are all in it).
//!
//! Nothing kept may be older than what the database would answer, or a page could show a
//! text after its redaction. The cache therefore keeps nothing unless it watches every write:
//! - On SQLite it watches the single writing connection (see
//!   [`crate::db::connect_and_migrate_watched`]): SQLite calls [`ClauseRowCache::writing`]
//!   from the statement that changes a watched table, before the change commits. Everything
//!   kept is dropped and the cache stops taking rows. When the connection goes back to the
//!   pool, its transaction has committed or rolled back, and [`ClauseRowCache::settled`] lets
//!   the cache take rows again.
//! - On PostgreSQL, which other processes and replicas write through pools of their own,
//!   statement triggers on the watched tables notify a channel when a change commits, and a
//!   listening connection drops what is kept on each notice (see
//!   [`crate::db::watch_notices`]). While that connection is down the cache keeps nothing.
//!   So that a caller who wrote sees the write on the next page without waiting for the
//!   notice, a mutation or an import holds a [`WriteGuard`] while it writes: it drops what
//!   is kept when taken and again when the write is over.
//! - A page's read asks for a [`Ticket`] first and hands its rows back with it; they are
//!   kept only if nothing was written in between. A read that overlapped a watched write
//!   (the SQLite writer's, or one under a write guard) is therefore never kept, and one that
//!   starts after a write settled sees what it committed. A write on PostgreSQL from
//!   elsewhere is known only when its notice arrives, a moment after the commit: what a read
//!   kept in that moment is dropped with the notice.
//!
//! Writes to an SQLite file from another process do not pass through the watched
//! connection. They still reach the change feed, and the indexer calls
//! [`ClauseRowCache::invalidate`] for every batch of events it reads, so such a write is
//! reflected no later than the search index reflects it.

use std::{
    collections::{HashMap, VecDeque},
    hash::Hash,
    sync::{Arc, Mutex, MutexGuard},
};

use entity::organization;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::{error::ServiceResult, service::clause::ClauseRow};

/// Most clause rows kept; the oldest go first.
const MAX_ROWS: usize = 20_000;
/// Most text kept in clause rows, counted as their string lengths plus [`ROW_OVERHEAD`] each.
const MAX_BYTES: usize = 64 << 20;
/// What a row costs beyond its strings (two models, the map entry, the queue slot).
const ROW_OVERHEAD: usize = 512;
/// Most list pages kept (each its statement's text and up to a page of ids).
const MAX_PAGES: usize = 4_096;
/// Most bytes of list pages kept.
const MAX_PAGE_BYTES: usize = 8 << 20;
/// Longest statement a page is kept under (a title cursor is the client's text): longer
/// pages are read every time.
const MAX_PAGE_KEY_BYTES: usize = 4 << 10;
/// Most organisations kept.
const MAX_ORGANIZATIONS: usize = 10_000;
/// Most bytes of organisations kept.
const MAX_ORGANIZATION_BYTES: usize = 8 << 20;

/// Entries kept up to a count and a size; the oldest go first.
struct Kept<K, V> {
    entries: HashMap<K, (V, usize)>,
    /// Kept keys, oldest first: entries leave only through [`Kept::evict_oldest`] and
    /// [`Kept::clear`], so it holds exactly the keys of `entries`.
    order: VecDeque<K>,
    bytes: usize,
    max_len: usize,
    max_bytes: usize,
}

impl<K: Hash + Eq + Clone, V: Clone> Kept<K, V> {
    fn new(max_len: usize, max_bytes: usize) -> Self {
        Self {
            entries: HashMap::new(),
            order: VecDeque::new(),
            bytes: 0,
            max_len,
            max_bytes,
        }
    }

    fn get<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: std::borrow::Borrow<Q>,
    {
        self.entries.get(key).map(|(value, _)| value)
    }

    fn insert(&mut self, key: K, value: V, size: usize) {
        if size > self.max_bytes || self.entries.contains_key(&key) {
            return;
        }
        while self.entries.len() >= self.max_len || self.bytes + size > self.max_bytes {
            self.evict_oldest();
        }
        self.order.push_back(key.clone());
        self.entries.insert(key, (value, size));
        self.bytes += size;
    }

    fn evict_oldest(&mut self) {
        if let Some((_, size)) = self
            .order
            .pop_front()
            .and_then(|key| self.entries.remove(&key))
        {
            self.bytes -= size;
        }
    }

    fn clear(&mut self) {
        self.entries.clear();
        self.order.clear();
        self.bytes = 0;
    }
}

pub struct ClauseRowCache {
    state: Mutex<State>,
    /// Dropped with the cache: ends the task that listens for PostgreSQL's notices.
    closed: tokio::sync::watch::Sender<()>,
}

impl Default for ClauseRowCache {
    fn default() -> Self {
        Self {
            state: Mutex::new(State {
                watching: false,
                writing: false,
                writers: 0,
                generation: 0,
                rows: Kept::new(MAX_ROWS, MAX_BYTES),
                pages: Kept::new(MAX_PAGES, MAX_PAGE_BYTES),
                organizations: Kept::new(MAX_ORGANIZATIONS, MAX_ORGANIZATION_BYTES),
            }),
            closed: tokio::sync::watch::channel(()).0,
        }
    }
}

struct State {
    /// Set while every write is watched; until then nothing is kept.
    watching: bool,
    /// The SQLite writer has begun changing a watched table and not yet committed or rolled
    /// back.
    writing: bool,
    /// [`WriteGuard`]s alive: mutations and imports under way in this process.
    writers: usize,
    /// Moves on at every write and invalidation; a [`Ticket`] from an earlier one is void.
    generation: u64,
    rows: Kept<Uuid, ClauseRow>,
    /// List pages: the statement that reads a page (with its values), and the ids it found.
    pages: Kept<Arc<str>, Arc<[Uuid]>>,
    organizations: Kept<Uuid, organization::Model>,
}

impl State {
    fn clear(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        self.rows.clear();
        self.pages.clear();
        self.organizations.clear();
    }

    fn ticket(&self) -> Option<Ticket> {
        (self.watching && !self.writing && self.writers == 0).then_some(Ticket(self.generation))
    }

    /// Whether what was read with `ticket` may be kept.
    fn admits(&self, ticket: Option<Ticket>) -> bool {
        ticket.is_some() && ticket == self.ticket()
    }
}

/// Permission to keep the rows of one read, if nothing was written while it ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket(u64);

/// What a page found in memory, and what it must read from the database.
pub struct Lookup<V> {
    pub found: HashMap<Uuid, V>,
    pub missing: Vec<Uuid>,
    pub ticket: Option<Ticket>,
}

/// A list page's ids: kept ones, or a ticket to keep them once read.
pub enum PageLookup {
    Kept(Arc<[Uuid]>),
    Missing(Option<Ticket>),
}

impl ClauseRowCache {
    fn state(&self) -> MutexGuard<'_, State> {
        // The state stays consistent even if a holder panicked: every update is one step.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The kept rows among `ids`, the rest, and a ticket to keep the rest once read (none
    /// while a write is under way or when writes are not watched).
    pub fn lookup(&self, ids: &[Uuid]) -> Lookup<ClauseRow> {
        let state = self.state();
        lookup_in(&state.rows, ids, state.ticket())
    }

    /// Keeps `rows`, read from the database after `ticket` was issued, if nothing was written
    /// since.
    pub fn fill<'a>(&self, ticket: Option<Ticket>, rows: impl IntoIterator<Item = &'a ClauseRow>) {
        let mut state = self.state();
        if !state.admits(ticket) {
            return;
        }
        for row in rows {
            state.rows.insert(row.0.id, row.clone(), size_of(row));
        }
    }

    /// The ids of the list page whose statement is `key`, if kept.
    pub fn page(&self, key: &str) -> PageLookup {
        let state = self.state();
        match state.pages.get(key) {
            Some(ids) => PageLookup::Kept(Arc::clone(ids)),
            None => PageLookup::Missing(state.ticket()),
        }
    }

    /// Keeps the ids a list page's statement `key` found, if nothing was written since
    /// `ticket`.
    pub fn fill_page(&self, ticket: Option<Ticket>, key: String, ids: &[Uuid]) {
        if key.len() > MAX_PAGE_KEY_BYTES {
            return;
        }
        let mut state = self.state();
        if state.admits(ticket) {
            let size = key.len() + ids.len() * size_of_val(&Uuid::nil()) + 64;
            state.pages.insert(key.into(), ids.into(), size);
        }
    }

    /// The kept organisations among `ids`, the rest, and a ticket to keep the rest.
    pub fn organizations(&self, ids: &[Uuid]) -> Lookup<organization::Model> {
        let state = self.state();
        lookup_in(&state.organizations, ids, state.ticket())
    }

    /// Keeps `organizations`, read after `ticket` was issued, if nothing was written since.
    pub fn fill_organizations(
        &self,
        ticket: Option<Ticket>,
        organizations: &[organization::Model],
    ) {
        let mut state = self.state();
        if !state.admits(ticket) {
            return;
        }
        for org in organizations {
            let optional = |s: &Option<String>| s.as_ref().map_or(0, String::len);
            let size = 256
                + org.slug.len()
                + org.name.len()
                + optional(&org.municipality_code)
                + optional(&org.origin);
            state.organizations.insert(org.id, org.clone(), size);
        }
    }

    /// Whether anything is kept at all (every write is watched).
    pub fn watching(&self) -> bool {
        self.state().watching
    }

    /// The clauses `ids` with their current views: those kept here, and the rest read in one
    /// query (and kept, if nothing was written meanwhile). `db` must read at the moment of
    /// the call: not a transaction begun earlier, whose snapshot could predate a write the
    /// ticket no longer reflects.
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

    /// The organisations `ids`: those kept here, and the rest read in one query.
    pub async fn read_organizations(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, organization::Model>, sea_orm::DbErr> {
        let Lookup {
            mut found,
            missing,
            ticket,
        } = self.organizations(ids);
        if !missing.is_empty() {
            let orgs = organization::Entity::find()
                .filter(organization::Column::Id.is_in(missing))
                .all(db)
                .await?;
            self.fill_organizations(ticket, &orgs);
            found.extend(orgs.into_iter().map(|org| (org.id, org)));
        }
        Ok(found)
    }

    /// Every write is watched from now on (a new SQLite writer, or PostgreSQL's notices
    /// listened to).
    pub fn watch(&self) {
        let mut state = self.state();
        state.watching = true;
        state.writing = false;
        state.clear();
    }

    /// Writes are no longer watched (the listening connection was lost): drops everything
    /// and keeps nothing until [`watch`](Self::watch) is called again.
    pub fn unwatch(&self) {
        let mut state = self.state();
        state.watching = false;
        state.clear();
    }

    /// A statement is changing a watched table: drops everything and keeps nothing until the
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

    /// A write in this process is beginning: drops everything now and when the guard is
    /// dropped, and keeps nothing in between.
    pub fn write_guard(self: &Arc<Self>) -> WriteGuard {
        let mut state = self.state();
        state.writers += 1;
        state.clear();
        WriteGuard(Arc::clone(self))
    }

    /// Drops everything: something may have changed.
    pub fn invalidate(&self) {
        self.state().clear();
    }

    /// Resolves once the cache is dropped.
    pub fn closed(&self) -> tokio::sync::watch::Receiver<()> {
        self.closed.subscribe()
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.state().rows.entries.len()
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Held while this process writes (see [`ClauseRowCache::write_guard`]).
#[must_use = "the write is watched only while the guard is held"]
pub struct WriteGuard(Arc<ClauseRowCache>);

impl Drop for WriteGuard {
    fn drop(&mut self) {
        let mut state = self.0.state();
        state.writers -= 1;
        state.clear();
    }
}

fn lookup_in<V: Clone>(kept: &Kept<Uuid, V>, ids: &[Uuid], ticket: Option<Ticket>) -> Lookup<V> {
    let mut found = HashMap::with_capacity(ids.len());
    let mut missing = Vec::new();
    for id in ids {
        match kept.get(id) {
            Some(value) => {
                found.insert(*id, value.clone());
            }
            None => missing.push(*id),
        }
    }
    Lookup {
        found,
        missing,
        ticket,
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

    /// A ticket from before a write is void once the write is over, and a fresh one keeps.
    fn void_then_kept(cache: &ClauseRowCache, before: Option<Ticket>, id: Uuid) {
        cache.fill(before, &[row(id)]);
        assert!(cache.is_empty(), "a ticket from before the write is void");
        let after = cache.lookup(&[id]);
        cache.fill(after.ticket, &[row(id)]);
        assert_eq!(cache.len(), 1);
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
        void_then_kept(&cache, before.ticket, id);
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

    #[test]
    fn nothing_is_kept_while_a_write_guard_is_held_and_after_it_is_dropped() {
        let cache = Arc::new(watched());
        let id = Uuid::new_v4();
        let before = cache.lookup(&[id]);
        cache.fill(before.ticket, &[row(id)]);
        assert_eq!(cache.len(), 1);
        let guard = cache.write_guard();
        assert!(cache.is_empty(), "taking the guard drops what is kept");
        let during = cache.lookup(&[id]);
        assert_eq!(during.ticket, None, "no ticket while this process writes");
        // A second writer: the first one finishing does not let the cache keep rows.
        let second = cache.write_guard();
        drop(guard);
        assert_eq!(cache.lookup(&[id]).ticket, None);
        // A read that began before the write committed is not kept after it.
        drop(second);
        void_then_kept(&cache, before.ticket, id);
    }

    #[test]
    fn list_pages_are_kept_by_statement_and_dropped_with_the_rows() {
        let cache = watched();
        let ids = [Uuid::new_v4(), Uuid::new_v4()];
        let PageLookup::Missing(ticket) = cache.page("SELECT 1") else {
            panic!("nothing kept yet");
        };
        cache.fill_page(ticket, "SELECT 1".to_owned(), &ids);
        match cache.page("SELECT 1") {
            PageLookup::Kept(kept) => assert_eq!(&kept[..], &ids[..]),
            PageLookup::Missing(_) => panic!("the page was kept"),
        }
        assert!(matches!(
            cache.page("SELECT 2"),
            PageLookup::Missing(Some(_))
        ));
        cache.invalidate();
        assert!(matches!(cache.page("SELECT 1"), PageLookup::Missing(_)));
        // The ticket from before the invalidation is void.
        cache.fill_page(ticket, "SELECT 1".to_owned(), &ids);
        assert!(matches!(cache.page("SELECT 1"), PageLookup::Missing(_)));
    }

    #[test]
    fn unwatching_drops_everything_and_keeps_nothing_until_watched_again() {
        let cache = watched();
        let id = Uuid::new_v4();
        let lookup = cache.lookup(&[id]);
        cache.fill(lookup.ticket, &[row(id)]);
        cache.unwatch();
        assert!(cache.is_empty());
        assert!(!cache.watching());
        let lookup = cache.lookup(&[id]);
        assert_eq!(lookup.ticket, None);
        cache.watch();
        let lookup = cache.lookup(&[id]);
        cache.fill(lookup.ticket, &[row(id)]);
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn the_oldest_pages_go_first_when_full() {
        let cache = watched();
        for n in 0..MAX_PAGES + 2 {
            let PageLookup::Missing(ticket) = cache.page(&n.to_string()) else {
                panic!("page {n} kept before it was read");
            };
            cache.fill_page(ticket, n.to_string(), &[Uuid::new_v4()]);
        }
        assert!(matches!(cache.page("0"), PageLookup::Missing(_)));
        assert!(matches!(cache.page("1"), PageLookup::Missing(_)));
        assert!(matches!(cache.page("2"), PageLookup::Kept(_)));
        assert!(matches!(
            cache.page(&(MAX_PAGES + 1).to_string()),
            PageLookup::Kept(_)
        ));
    }

    #[test]
    fn organisations_are_kept_only_with_a_current_ticket() {
        let cache = watched();
        let now = Utc::now();
        let org = organization::Model {
            id: Uuid::new_v4(),
            slug: "lund".into(),
            name: "Lunds kommun".into(),
            kind: entity::OrganizationKind::Municipality,
            country: entity::Country::Se,
            municipality_code: None,
            population: None,
            created_at: now,
            origin: None,
        };
        let before = cache.organizations(&[org.id]);
        assert_eq!(before.missing, vec![org.id]);
        cache.invalidate();
        cache.fill_organizations(before.ticket, std::slice::from_ref(&org));
        assert_eq!(cache.organizations(&[org.id]).missing, vec![org.id]);
        let after = cache.organizations(&[org.id]);
        cache.fill_organizations(after.ticket, std::slice::from_ref(&org));
        let kept = cache.organizations(&[org.id]);
        assert!(kept.missing.is_empty());
        assert_eq!(kept.found[&org.id].name, "Lunds kommun");
    }
}
