//! The outbox consumer that applies change events to the search index.
//!
//! Exactly-once is not needed: applying an event means "make the index hold the clause's
//! *current* published state", which is idempotent, so replaying after a crash is harmless.
//! What must not happen is skipping an event. Writers draw sequence numbers in commit order
//! (see [`crate::service::record_change`]), so every event past the cursor that the indexer
//! can see follows all the events it has applied, and a gap is a rollback that will never
//! fill. On PostgreSQL a transaction-scoped advisory lock lets only one replica drain at a
//! time; on SQLite the single connection serialises it.

use std::{collections::HashMap, sync::Arc, time::Duration};

use chrono::Utc;
use entity::{ChangeOperation, EntityType, change_event, feed_cursor};
use indicatif::{ProgressBar, ProgressStyle};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Statement, TransactionTrait,
    sea_query::OnConflict,
};
use search::SearchBackend;
use tokio::sync::{Notify, watch};
use uuid::Uuid;

use super::{Handoff, documents};
use crate::{row_cache::ClauseRowCache, service::evidence};

/// The search indexer's name in `feed_cursor`.
pub const CONSUMER: &str = "search";
/// Advisory-lock key shared by all replicas (arbitrary, fixed).
const LOCK_KEY: i64 = 0x0067_7063_5f69_6478;
const IDLE_POLL: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// How the indexer reads the feed, and how it takes a burst of events such as a bulk import.
///
/// Every commit of the embedded index flushes and later merges segments, at about the same
/// cost whatever its size, so a bulk import committed batch by batch spends much of its time
/// on commits. A batch of at least `burst_events` means a burst is under way: the indexer
/// stages it (the index's threads work on it at once), waits `linger` for more to arrive,
/// and reads on, committing once when a batch comes back smaller, or after `burst_max_events`
/// or `burst_max_wait`. The cursor is saved only after that commit, so a crash or failure in
/// a burst replays the whole burst. A publish on its own is applied and committed at once.
#[derive(Clone, Copy, Debug)]
pub struct Burst {
    /// Most change events read at once.
    pub batch: u64,
    /// The smallest batch that starts (or continues) a burst.
    pub burst_events: usize,
    /// How long to wait for more events after each batch of a burst.
    pub linger: Duration,
    /// Most events staged before a burst is committed.
    pub burst_max_events: usize,
    /// How late a burst's first batch may become searchable, less the final commit.
    pub burst_max_wait: Duration,
}

impl Default for Burst {
    fn default() -> Self {
        Self {
            batch: 10_000,
            burst_events: 200,
            linger: Duration::from_millis(100),
            burst_max_events: 50_000,
            burst_max_wait: Duration::from_secs(2),
        }
    }
}

/// Wakes the indexer (and live change-feed subscribers) right after a publish, so new
/// material is searchable and announced at once. Others poll, which covers changes made by
/// other replicas or processes.
#[derive(Clone)]
pub struct IndexerHandle {
    notify: Arc<Notify>,
    feed: Arc<watch::Sender<u64>>,
    handoff: Arc<Handoff>,
}

impl Default for IndexerHandle {
    fn default() -> Self {
        Self {
            notify: Arc::default(),
            feed: Arc::new(watch::channel(0).0),
            handoff: Arc::default(),
        }
    }
}

impl IndexerHandle {
    pub fn wake(&self) {
        self.notify.notify_one();
        self.feed
            .send_modify(|generation| *generation = generation.wrapping_add(1));
    }

    /// Where imports leave the documents they publish for the indexer (see [`Handoff`]).
    pub fn handoff(&self) -> &Handoff {
        &self.handoff
    }

    /// Changes whenever [`IndexerHandle::wake`] is called.
    pub fn feed_signal(&self) -> watch::Receiver<u64> {
        self.feed.subscribe()
    }
}

/// The two indexes the catalogue is searched in.
#[derive(Clone)]
pub struct Backends {
    pub clauses: Arc<dyn SearchBackend>,
    pub templates: Arc<dyn SearchBackend>,
}

pub struct Indexer {
    db: DatabaseConnection,
    /// Where batches are read on SQLite: a read-only connection beside the single writer.
    reader: Option<DatabaseConnection>,
    backends: Backends,
    handle: IndexerHandle,
    rows: Option<Arc<ClauseRowCache>>,
    burst: Burst,
}

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("search backend: {0}")]
    Search(#[from] search::SearchError),
}

async fn cursor(db: &impl ConnectionTrait) -> Result<i64, sea_orm::DbErr> {
    Ok(feed_cursor::Entity::find_by_id(CONSUMER)
        .one(db)
        .await?
        .map_or(0, |c| c.last_seq))
}

async fn save_cursor(db: &impl ConnectionTrait, seq: i64) -> Result<(), sea_orm::DbErr> {
    feed_cursor::Entity::insert(feed_cursor::ActiveModel {
        consumer: Set(CONSUMER.to_owned()),
        last_seq: Set(seq),
        updated_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(feed_cursor::Column::Consumer)
            .update_columns([feed_cursor::Column::LastSeq, feed_cursor::Column::UpdatedAt])
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

/// Serialises the indexers of this process on SQLite from reading a batch to saving the
/// cursor, so two never apply overlapping batches out of order (PostgreSQL replicas use an
/// advisory lock instead).
static SQLITE_DRAIN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The next events past the cursor and what the index should hold for what they touch.
struct Batch {
    events: usize,
    last: i64,
    clauses: Vec<(Uuid, Option<search::CatalogueDocument>)>,
    templates: Vec<(Uuid, Option<search::CatalogueDocument>)>,
}

/// One change event as the indexer reads it: which record changed, not the payload.
type Event = (i64, EntityType, Uuid, Option<i32>, ChangeOperation);

/// The events after `from`, at most `limit` of them.
async fn read_batch(
    txn: &impl ConnectionTrait,
    from: i64,
    limit: u64,
    handoff: &Handoff,
) -> Result<Option<Batch>, IndexError> {
    let events: Vec<Event> = change_event::Entity::find()
        .select_only()
        .columns([
            change_event::Column::Seq,
            change_event::Column::EntityType,
            change_event::Column::EntityId,
            change_event::Column::Version,
            change_event::Column::Operation,
        ])
        .filter(change_event::Column::Seq.gt(from))
        .order_by_asc(change_event::Column::Seq)
        .limit(limit)
        .into_tuple()
        .all(txn)
        .await?;
    let Some(last) = events.last().map(|(seq, ..)| *seq) else {
        return Ok(None);
    };
    let ids_of = |wanted: EntityType| {
        let mut ids: Vec<Uuid> = events
            .iter()
            .filter(|(_, entity_type, ..)| *entity_type == wanted)
            .map(|(_, _, id, ..)| *id)
            .collect();
        ids.sort();
        ids.dedup();
        ids
    };
    let mut clause_ids = ids_of(EntityType::Clause);
    let mut template_ids = ids_of(EntityType::Template);
    // A reported or withdrawn tender result changes the evidence of what it used.
    let mut evidence_changed = Vec::new();
    for result in ids_of(EntityType::TenderResult) {
        let (clauses, template) = evidence::affected_by_result(txn, result).await?;
        evidence_changed.extend(clauses);
        template_ids.extend(template);
    }
    let handed = handed_over(&events, &evidence_changed, handoff);
    clause_ids.extend(evidence_changed);
    for ids in [&mut clause_ids, &mut template_ids] {
        ids.sort();
        ids.dedup();
    }
    clause_ids.retain(|id| !handed.contains_key(id));
    let mut clauses = documents::current(txn, &clause_ids).await?;
    clauses.extend(handed.into_iter().map(|(id, doc)| (id, Some(doc))));
    Ok(Some(Batch {
        events: events.len(),
        last,
        clauses,
        templates: documents::current_templates(txn, &template_ids).await?,
    }))
}

/// The documents an import handed over for clauses of this batch (see [`Handoff`]): only
/// for a clause whose one event here is the upsert of the offered version and whose evidence
/// no event here changed. Every other clause is read from the database.
fn handed_over(
    events: &[Event],
    evidence_changed: &[Uuid],
    handoff: &Handoff,
) -> HashMap<Uuid, search::CatalogueDocument> {
    if handoff.is_empty() {
        return HashMap::new();
    }
    // Each clause's single upserted version, or `None` once it has any other event.
    let mut single: HashMap<Uuid, Option<i32>> = HashMap::new();
    for (_, entity_type, id, version, operation) in events {
        if *entity_type != EntityType::Clause {
            continue;
        }
        let upsert = version.filter(|_| *operation == ChangeOperation::Upsert);
        single
            .entry(*id)
            .and_modify(|seen| *seen = None)
            .or_insert(upsert);
    }
    for id in evidence_changed {
        single.remove(id);
    }
    single
        .into_iter()
        .filter_map(|(id, version)| Some((id, handoff.take(id, version?)?)))
        .collect()
}

impl Indexer {
    pub fn new(db: DatabaseConnection, backends: Backends, handle: IndexerHandle) -> Self {
        Self {
            db,
            reader: None,
            backends,
            handle,
            rows: None,
            burst: Burst::default(),
        }
    }

    /// Another batch size and burst policy (tests use small ones).
    #[must_use]
    pub fn with_burst(mut self, burst: Burst) -> Self {
        self.burst = burst;
        self
    }

    /// Drops the rows and pages kept in memory whenever a batch of events is read, so a
    /// change written to an SQLite file by another process (which the cache's watch on this
    /// process's writing connection does not see) shows on pages no later than in the index.
    /// (On PostgreSQL the notices of committed writes drop them sooner.)
    #[must_use]
    pub fn with_row_cache(mut self, rows: Arc<ClauseRowCache>) -> Self {
        self.rows = Some(rows);
        self
    }

    /// Reads batches through `reader` on SQLite (read-only connections of their own, see
    /// [`crate::db::connect_reader`]) instead of the single writing connection, so publishes
    /// and imports are not held up while a batch of thousands of clauses is read and turned
    /// into documents. A reader's snapshot holds every transaction committed before it began,
    /// and SQLite's single writer commits events in sequence order, so what it sees past the
    /// cursor is still a gap-free run of the feed. The cursor is written through the writer.
    #[must_use]
    pub fn with_reader(mut self, reader: DatabaseConnection) -> Self {
        self.reader = Some(reader);
        self
    }

    /// Applies the next batch, or the next burst of batches (see [`Burst`]); returns how many
    /// events it consumed.
    ///
    /// On PostgreSQL it all runs in one transaction holding the advisory lock, so two
    /// replicas never apply overlapping batches out of order (the pool keeps other
    /// connections free meanwhile); the cursor is saved in it. SQLite has a single writing
    /// connection: each batch is read in a transaction of its own (on the reader, when there
    /// is one), closed before the backend works, so writers are not held up; the cursor is
    /// saved afterwards (a crash in between replays the batches, which is harmless). Indexers
    /// of one process still take turns there, under [`SQLITE_DRAIN`].
    pub async fn drain_once(&self) -> Result<usize, IndexError> {
        let sqlite = self.db.get_database_backend() == DatabaseBackend::Sqlite;
        let _turn = if sqlite {
            Some(SQLITE_DRAIN.lock().await)
        } else {
            None
        };
        let held = if self.db.get_database_backend() == DatabaseBackend::Postgres {
            let txn = self.db.begin().await?;
            if !advisory_lock(&txn).await? {
                let _ = txn.rollback().await;
                return Ok(0);
            }
            Some(txn)
        } else {
            None
        };
        let drained = self.drain_burst(held.as_ref(), sqlite).await;
        match (drained, held) {
            (Ok(Some((events, last))), Some(txn)) => {
                save_cursor(&txn, last).await?;
                txn.commit().await?;
                Ok(events)
            }
            (Ok(Some((events, last))), None) => {
                save_cursor(&self.db, last).await?;
                Ok(events)
            }
            // Roll back at once: a transaction merely dropped is rolled back only when its
            // connection is next used, and until then it keeps the advisory lock, so the next
            // drain (here or on another replica) would find the lock taken.
            (Ok(None), held) => {
                if let Some(txn) = held {
                    let _ = txn.rollback().await;
                }
                Ok(0)
            }
            (Err(error), held) => {
                if let Some(txn) = held {
                    let _ = txn.rollback().await;
                }
                Err(error)
            }
        }
    }

    /// Reads and stages one burst and commits the index; returns how many events it applied
    /// and the last one's number, or `None` when there was nothing new.
    async fn drain_burst(
        &self,
        held: Option<&sea_orm::DatabaseTransaction>,
        sqlite: bool,
    ) -> Result<Option<(usize, i64)>, IndexError> {
        let source = match &self.reader {
            Some(reader) if sqlite => reader,
            _ => &self.db,
        };
        let mut last = match held {
            Some(txn) => cursor(txn).await?,
            None => cursor(source).await?,
        };
        let started = std::time::Instant::now();
        let (mut events, mut batches) = (0, 0);
        let mut staged = (false, false);
        loop {
            let batch = match held {
                Some(txn) => read_batch(txn, last, self.burst.batch, &self.handle.handoff).await?,
                None => {
                    let txn = source.begin().await?;
                    let batch =
                        read_batch(&txn, last, self.burst.batch, &self.handle.handoff).await?;
                    txn.commit().await?;
                    batch
                }
            };
            let Some(batch) = batch else { break };
            if let Some(rows) = &self.rows {
                rows.invalidate();
            }
            staged.0 |= stage(self.backends.clauses.as_ref(), batch.clauses).await?;
            staged.1 |= stage(self.backends.templates.as_ref(), batch.templates).await?;
            events += batch.events;
            batches += 1;
            last = batch.last;
            if batch.events < self.burst.burst_events
                || events >= self.burst.burst_max_events
                || started.elapsed() >= self.burst.burst_max_wait
            {
                break;
            }
            tokio::time::sleep(self.burst.linger).await;
        }
        if events == 0 {
            return Ok(None);
        }
        if staged.0 {
            self.backends.clauses.commit().await?;
        }
        if staged.1 {
            self.backends.templates.commit().await?;
        }
        tracing::debug!(events, batches, seq = last, "change events indexed");
        Ok(Some((events, last)))
    }

    /// Drains forever: at once when woken, every [`IDLE_POLL`] otherwise, with exponential
    /// back-off while the backend or database fails.
    pub async fn run(self) {
        let mut backoff = Duration::from_millis(200);
        loop {
            match self.drain_once().await {
                Ok(0) => {
                    backoff = Duration::from_millis(200);
                    tokio::select! {
                        () = self.handle.notify.notified() => {}
                        () = tokio::time::sleep(IDLE_POLL) => {}
                    }
                }
                Ok(_) => backoff = Duration::from_millis(200),
                Err(error) => {
                    tracing::warn!(%error, retry_in = ?backoff, "indexing failed; will retry");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }
}

/// Takes the replicas' shared indexing lock for the transaction, if no other holds it.
async fn advisory_lock(txn: &impl ConnectionTrait) -> Result<bool, sea_orm::DbErr> {
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_try_advisory_xact_lock($1) AS locked",
            [LOCK_KEY.into()],
        ))
        .await?;
    Ok(row
        .map(|r| r.try_get::<bool>("", "locked"))
        .transpose()?
        .unwrap_or(false))
}

/// Stages the given documents in `backend` and the removal of the records that have none;
/// returns whether there was anything to stage.
async fn stage(
    backend: &dyn SearchBackend,
    current: Vec<(Uuid, Option<search::CatalogueDocument>)>,
) -> Result<bool, IndexError> {
    let mut upserts = Vec::new();
    let mut deletes = Vec::new();
    for (id, doc) in current {
        match doc {
            Some(doc) => upserts.push(doc),
            None => deletes.push(id.to_string()),
        }
    }
    if upserts.is_empty() && deletes.is_empty() {
        return Ok(false);
    }
    backend.stage(upserts, deletes).await?;
    Ok(true)
}

/// Builds the index from scratch when this database has never been indexed (a new database,
/// or an index directory left over from another one) or an index was created empty (a new
/// index folder, or one emptied because it was built with another analysis).
pub async fn ensure_initialised(
    db: &DatabaseConnection,
    backends: &Backends,
) -> Result<(), IndexError> {
    let never_indexed = feed_cursor::Entity::find_by_id(CONSUMER)
        .one(db)
        .await?
        .is_none();
    if never_indexed || backends.clauses.is_new() || backends.templates.is_new() {
        let count = reindex(db, backends, false).await?;
        tracing::info!(count, "search index built from the database");
    }
    Ok(())
}

/// Reads every page `next_page` yields (keyset by id), advancing the progress bar.
async fn read_all<F, Fut>(
    bar: &ProgressBar,
    mut next_page: F,
) -> Result<Vec<search::CatalogueDocument>, IndexError>
where
    F: FnMut(Option<Uuid>) -> Fut,
    Fut: Future<Output = Result<(Vec<search::CatalogueDocument>, Option<Uuid>), sea_orm::DbErr>>,
{
    let mut docs = Vec::new();
    let mut after = None;
    loop {
        let (page, last) = next_page(after).await?;
        if last.is_none() {
            return Ok(docs);
        }
        bar.inc(page.len() as u64);
        docs.extend(page);
        after = last;
    }
}

/// Rebuilds both indexes from the database, with a progress bar when `progress` is set.
/// Returns the number of documents indexed.
pub async fn reindex(
    db: &DatabaseConnection,
    backends: &Backends,
    progress: bool,
) -> Result<usize, IndexError> {
    // Events after this point are replayed by the indexer; replaying is idempotent.
    let watermark = change_event::Entity::find()
        .order_by_desc(change_event::Column::Seq)
        .one(db)
        .await?
        .map_or(0, |e| e.seq);
    let clauses = entity::clause::Entity::find()
        .filter(entity::clause::Column::Status.eq(entity::PublicationStatus::Published))
        .count(db)
        .await?;
    let templates = entity::template::Entity::find()
        .filter(entity::template::Column::Status.eq(entity::PublicationStatus::Published))
        .count(db)
        .await?;
    let bar = if progress {
        ProgressBar::new(clauses + templates)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{msg:10} [{bar:40}] {pos}/{len} records ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message("clauses");
    let docs = read_all(&bar, |after| documents::published_page(db, after, 1_000)).await?;
    let mut count = docs.len();
    backends.clauses.replace_all(docs).await?;
    bar.set_message("templates");
    let docs = read_all(&bar, |after| {
        documents::published_templates_page(db, after, 1_000)
    })
    .await?;
    count += docs.len();
    backends.templates.replace_all(docs).await?;
    save_cursor(db, watermark).await?;
    bar.finish_with_message("done");
    Ok(count)
}
