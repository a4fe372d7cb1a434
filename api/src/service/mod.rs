//! Domain services: rules and transactions. Resolvers stay thin and call these.
//!
//! Every write runs in one transaction that also records its audit event and, for changes to
//! published material, its change event, so the feed never disagrees with the tables.

pub mod anonymisation;
pub mod clause;
pub mod cpv;
pub mod evidence;
pub mod lineage;
pub mod listing;
pub mod organization;
pub mod page;
pub mod rescan;
pub mod staleness;
pub mod stats;
pub mod template;
pub mod tender_result;
pub mod validate;

use chrono::Utc;
use entity::{ChangeOperation, EntityType, audit_event, change_event};
pub use sea_orm::TransactionSession;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, EntityTrait,
    QueryFilter, Set, Statement,
};
use uuid::Uuid;

use crate::{
    auth::Caller,
    error::{ServiceError, ServiceResult},
};

/// A new time-ordered id.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

/// Timestamps are kept to the microsecond so SQLite and PostgreSQL store the same value.
pub fn now() -> chrono::DateTime<Utc> {
    let now = Utc::now();
    now - chrono::Duration::nanoseconds(i64::from(now.timestamp_subsec_nanos() % 1_000))
}

/// Appends an audit event. `details` must hold no personal data and no clause text.
pub async fn audit(
    db: &impl ConnectionTrait,
    caller: &Caller,
    action: &str,
    entity_type: EntityType,
    entity_id: Uuid,
    details: serde_json::Value,
) -> ServiceResult<()> {
    audit_row(caller, action, entity_type, entity_id, &details)
        .insert(db)
        .await?;
    Ok(())
}

/// An audit event row, for writers that insert many at once (see [`audit`]).
pub fn audit_row(
    caller: &Caller,
    action: &str,
    entity_type: EntityType,
    entity_id: Uuid,
    details: &serde_json::Value,
) -> audit_event::ActiveModel {
    audit_event::ActiveModel {
        id: Set(new_id()),
        occurred_at: Set(now()),
        actor_sub: Set(caller.sub.clone()),
        actor_org: Set(caller.org),
        action: Set(action.to_owned()),
        entity_type: Set(entity_type),
        entity_id: Set(entity_id),
        details: Set(details.to_string()),
    }
}

/// Advisory-lock key that orders change events (arbitrary, fixed).
const FEED_LOCK: i64 = 0x0067_7063_5f66_6565;

/// Appends a change event for published material (outbox for indexing and mirroring), with
/// the published record it announces as its payload.
///
/// Sequence numbers are drawn at insert time but transactions commit in any order, so without
/// care a reader could see event 12 committed while 11 is still in flight, move its cursor past
/// 11 and never see it. Writers therefore take a transaction-scoped lock before drawing their
/// number and hold it until they commit or roll back (PostgreSQL releases it only after the
/// commit is visible): numbers are drawn in commit order, and every event a reader can see has
/// all lower-numbered events either visible or rolled back for good. On SQLite the single
/// writer connection gives the same order. Readers of [`entity::change_event`] can therefore
/// page by `seq` alone; a gap is always a rollback. Call this last in the transaction, so the
/// lock is held only for the commit.
pub async fn record_change(
    db: &impl ConnectionTrait,
    entity_type: EntityType,
    entity_id: Uuid,
    version: Option<i32>,
    operation: ChangeOperation,
) -> ServiceResult<()> {
    lock_feed(db).await?;
    let payload =
        crate::feed::records::payload(db, entity_type, entity_id, version, operation).await?;
    change_row(entity_type, entity_id, version, operation, payload.as_ref())?
        .insert(db)
        .await?;
    Ok(())
}

/// Takes the transaction-scoped lock that orders change events (see [`record_change`]); a
/// no-op on SQLite, whose single writer already orders them.
pub async fn lock_feed(db: &impl ConnectionTrait) -> ServiceResult<()> {
    if db.get_database_backend() == DatabaseBackend::Postgres {
        db.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [FEED_LOCK.into()],
        ))
        .await?;
    }
    Ok(())
}

/// A change event row announcing `record` (none for a deletion). Writers that insert many
/// at once must call [`lock_feed`] first, in the same transaction.
pub fn change_row(
    entity_type: EntityType,
    entity_id: Uuid,
    version: Option<i32>,
    operation: ChangeOperation,
    record: Option<&crate::feed::records::Record>,
) -> ServiceResult<change_event::ActiveModel> {
    let payload = record
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| ServiceError::Internal(e.into()))?;
    Ok(change_event::ActiveModel {
        entity_type: Set(entity_type),
        entity_id: Set(entity_id),
        version: Set(version),
        operation: Set(operation),
        occurred_at: Set(now()),
        payload: Set(payload),
        ..Default::default()
    })
}

/// How many `(id, version)` pairs one query asks for: an OR of hundreds of pairs goes past
/// SQLite's expression-depth limit (1,000).
const PAIR_CHUNK: usize = 200;

/// The rows of `E` matching any of the `(id, version)` pairs, asked for in chunks.
pub async fn find_by_pairs<E: EntityTrait>(
    db: &impl ConnectionTrait,
    id: E::Column,
    version: E::Column,
    pairs: &[(Uuid, i32)],
) -> Result<Vec<E::Model>, sea_orm::DbErr> {
    let mut rows = Vec::new();
    for chunk in pairs.chunks(PAIR_CHUNK) {
        let condition = chunk.iter().fold(Condition::any(), |any, (i, v)| {
            any.add(Condition::all().add(id.eq(*i)).add(version.eq(*v)))
        });
        rows.extend(E::find().filter(condition).all(db).await?);
    }
    Ok(rows)
}

/// A connection or transaction the services can run on (and open nested transactions in).
pub trait Db: ConnectionTrait + sea_orm::TransactionTrait {}

impl<T: ConnectionTrait + sea_orm::TransactionTrait> Db for T {}
