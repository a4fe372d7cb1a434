//! Applying records received from an upstream instance to the local database.
//!
//! Applying is idempotent: a record is upserted by id, published versions (immutable) are
//! inserted when missing, and a deletion of something already gone does nothing. Each applied
//! change writes a local change event, so the local indexer makes the record searchable and
//! the local feed passes it on to mirrors of this mirror. Records authored on this instance are
//! never overwritten by a copy coming back from elsewhere.

use entity::{
    ChangeOperation, EntityType, PublicationStatus, clause, clause_version, organization, template,
    template_clause, template_version, tender_result, tender_result_clause,
};
use std::collections::HashSet;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, Iterable,
    PaginatorTrait, QueryFilter, QuerySelect, Set, sea_query::OnConflict,
};
use uuid::Uuid;

use super::records::Record;
use crate::{
    error::ServiceResult,
    service::{change_row, lock_feed, record_change},
};

/// Withdrawal reason of a record deleted upstream but kept here because local records cite it.
pub const DELETED_UPSTREAM: &str = "Deleted by its publisher.";

/// What applying one change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Written,
    /// A record authored on this instance came back from elsewhere and was left alone.
    KeptLocal,
    /// A deletion of a record that is cited here was turned into a withdrawal.
    Withdrawn,
    Deleted,
    /// A deletion of something this instance never had.
    Absent,
}

/// Upserts every column but the primary key.
fn upsert_all<C: ColumnTrait + Iterable>(pk: &[C]) -> OnConflict {
    let key: Vec<String> = pk.iter().map(|c| c.as_str().to_owned()).collect();
    let mut on_conflict = OnConflict::columns(pk.to_vec());
    on_conflict.update_columns(C::iter().filter(|c| !key.iter().any(|k| k == c.as_str())));
    on_conflict
}

/// Whether the row with this id in `E` was authored on this instance.
async fn authored_here<E>(
    db: &impl ConnectionTrait,
    id: Uuid,
    origin: impl Fn(&E::Model) -> bool,
) -> Result<bool, DbErr>
where
    E: EntityTrait,
    <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: From<Uuid>,
{
    Ok(E::find_by_id(id)
        .one(db)
        .await?
        .is_some_and(|row| !origin(&row)))
}

/// Applies an upserted or withdrawn record, with the upstream's event version.
pub async fn record(
    db: &impl ConnectionTrait,
    mut record: Record,
    upstream: &str,
    operation: ChangeOperation,
    version: Option<i32>,
) -> ServiceResult<Applied> {
    record.set_origin_if_unset(upstream);
    let id = record.id();
    let entity_type = record.entity_type();
    match record {
        Record::Organization { mut organization } => {
            if authored_here::<organization::Entity>(db, id, |o| o.origin.is_some()).await? {
                return Ok(Applied::KeptLocal);
            }
            // Slugs are unique per instance; a mirrored organisation whose slug is taken here
            // keeps it with its id appended.
            let taken = organization::Entity::find()
                .filter(organization::Column::Slug.eq(organization.slug.clone()))
                .filter(organization::Column::Id.ne(id))
                .count(db)
                .await?
                > 0;
            if taken {
                organization.slug =
                    format!("{}-{}", organization.slug, &id.simple().to_string()[..8]);
            }
            organization::Entity::insert(organization.into_active_model().reset_all())
                .on_conflict(upsert_all(&[organization::Column::Id]))
                .exec_without_returning(db)
                .await?;
        }
        Record::Clause { clause, versions } => {
            if authored_here::<clause::Entity>(db, id, |c| c.origin.is_some()).await? {
                return Ok(Applied::KeptLocal);
            }
            clause::Entity::insert(clause.into_active_model().reset_all())
                .on_conflict(upsert_all(&[clause::Column::Id]))
                .exec_without_returning(db)
                .await?;
            let rows: Vec<_> = versions
                .into_iter()
                .filter(|v| v.version > clause_version::DRAFT)
                .map(|v| v.into_active_model().reset_all())
                .collect();
            if !rows.is_empty() {
                clause_version::Entity::insert_many(rows)
                    .on_conflict(
                        OnConflict::columns([
                            clause_version::Column::ClauseId,
                            clause_version::Column::Version,
                        ])
                        .do_nothing()
                        .to_owned(),
                    )
                    .exec_without_returning(db)
                    .await?;
            }
        }
        Record::Template { template, versions } => {
            if authored_here::<template::Entity>(db, id, |t| t.origin.is_some()).await? {
                return Ok(Applied::KeptLocal);
            }
            template::Entity::insert(template.into_active_model().reset_all())
                .on_conflict(upsert_all(&[template::Column::Id]))
                .exec_without_returning(db)
                .await?;
            for version in versions.into_iter().filter(|v| v.version.version > 0) {
                let exists = template_version::Entity::find_by_id((
                    version.version.template_id,
                    version.version.version,
                ))
                .one(db)
                .await?
                .is_some();
                if exists {
                    continue;
                }
                version
                    .version
                    .into_active_model()
                    .reset_all()
                    .insert(db)
                    .await?;
                let citations: Vec<_> = version
                    .clauses
                    .into_iter()
                    .map(|c| c.into_active_model().reset_all())
                    .collect();
                if !citations.is_empty() {
                    template_clause::Entity::insert_many(citations)
                        .exec_without_returning(db)
                        .await?;
                }
            }
        }
        Record::TenderResult {
            tender_result,
            clauses,
        } => {
            if authored_here::<tender_result::Entity>(db, id, |r| r.origin.is_some()).await? {
                return Ok(Applied::KeptLocal);
            }
            tender_result::Entity::insert(tender_result.into_active_model().reset_all())
                .on_conflict(upsert_all(&[tender_result::Column::Id]))
                .exec_without_returning(db)
                .await?;
            // A result's clause rows never change once reported.
            let known = tender_result_clause::Entity::find()
                .filter(tender_result_clause::Column::TenderResultId.eq(id))
                .count(db)
                .await?;
            if known == 0 && !clauses.is_empty() {
                tender_result_clause::Entity::insert_many(
                    clauses
                        .into_iter()
                        .map(|c| c.into_active_model().reset_all()),
                )
                .exec_without_returning(db)
                .await?;
            }
        }
    }
    record_change(db, entity_type, id, version, operation).await?;
    Ok(Applied::Written)
}

/// What applying a batch of snapshot records did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchApplied {
    pub written: u64,
    pub kept_local: u64,
}

/// Rows per `INSERT`: a clause version has 22 columns, and SQLite binds at most 32,766 values
/// per statement.
const ROWS_PER_INSERT: usize = 500;

/// Inserts `rows` in statements of [`ROWS_PER_INSERT`], each with `on_conflict` when given.
async fn insert_chunked<A>(
    db: &impl ConnectionTrait,
    rows: Vec<A>,
    on_conflict: Option<OnConflict>,
) -> Result<(), DbErr>
where
    A: ActiveModelTrait,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(ROWS_PER_INSERT).collect();
        let mut insert = A::Entity::insert_many(chunk);
        if let Some(on_conflict) = &on_conflict {
            insert = insert.on_conflict(on_conflict.clone());
        }
        insert.exec_without_returning(db).await?;
    }
    Ok(())
}

/// Ids among `ids` of rows of `E` authored on this instance (no origin).
async fn local_ids<E>(
    db: &impl ConnectionTrait,
    id: E::Column,
    origin: E::Column,
    ids: Vec<Uuid>,
) -> Result<HashSet<Uuid>, DbErr>
where
    E: EntityTrait,
{
    let mut local = HashSet::new();
    for chunk in ids.chunks(ROWS_PER_INSERT) {
        let rows = E::find()
            .select_only()
            .column(id)
            .filter(id.is_in(chunk.iter().copied()))
            .filter(origin.is_null())
            .into_tuple::<Uuid>()
            .all(db)
            .await?;
        local.extend(rows);
    }
    Ok(local)
}

/// Applies snapshot records (upserts) the way [`record`] applies each, with a few statements
/// per table for the whole batch instead of several round trips per record: a full mirror
/// sync is bound by writing, not by waiting. Organisations (few, and their slugs need a look
/// each) go one by one; the batch keeps the snapshot's order of kinds (organisations, clauses,
/// templates, tender results), so what a record cites is written before it.
pub async fn snapshot_batch(
    db: &impl ConnectionTrait,
    records: Vec<Record>,
    upstream: &str,
) -> ServiceResult<BatchApplied> {
    let mut done = BatchApplied::default();
    let (mut clauses, mut templates, mut results) = (Vec::new(), Vec::new(), Vec::new());
    for mut record in records {
        record.set_origin_if_unset(upstream);
        match record {
            Record::Organization { .. } => {
                match self::record(db, record, upstream, ChangeOperation::Upsert, None).await? {
                    Applied::KeptLocal => done.kept_local += 1,
                    _ => done.written += 1,
                }
            }
            Record::Clause { clause, versions } => clauses.push((clause, versions)),
            Record::Template { template, versions } => templates.push((template, versions)),
            Record::TenderResult {
                tender_result,
                clauses,
            } => results.push((tender_result, clauses)),
        }
    }
    let mut events = Vec::new();

    let local = local_ids::<clause::Entity>(
        db,
        clause::Column::Id,
        clause::Column::Origin,
        clauses.iter().map(|(c, _)| c.id).collect(),
    )
    .await?;
    done.kept_local += local.len() as u64;
    clauses.retain(|(c, _)| !local.contains(&c.id));
    insert_chunked(
        db,
        clauses
            .iter()
            .map(|(c, _)| c.clone().into_active_model().reset_all())
            .collect(),
        Some(upsert_all(&[clause::Column::Id])),
    )
    .await?;
    insert_chunked(
        db,
        clauses
            .iter()
            .flat_map(|(_, versions)| versions)
            .filter(|v| v.version > clause_version::DRAFT)
            .map(|v| v.clone().into_active_model().reset_all())
            .collect(),
        Some(
            OnConflict::columns([
                clause_version::Column::ClauseId,
                clause_version::Column::Version,
            ])
            .do_nothing()
            .to_owned(),
        ),
    )
    .await?;
    for (clause, mut versions) in clauses {
        let version = clause.published_version;
        versions.retain(|v| v.version == version);
        let record = Record::Clause { clause, versions };
        events.push((record, Some(version)));
    }

    let local = local_ids::<template::Entity>(
        db,
        template::Column::Id,
        template::Column::Origin,
        templates.iter().map(|(t, _)| t.id).collect(),
    )
    .await?;
    done.kept_local += local.len() as u64;
    templates.retain(|(t, _)| !local.contains(&t.id));
    insert_chunked(
        db,
        templates
            .iter()
            .map(|(t, _)| t.clone().into_active_model().reset_all())
            .collect(),
        Some(upsert_all(&[template::Column::Id])),
    )
    .await?;
    // Published template versions never change: only those missing here are written.
    let pairs: Vec<(Uuid, i32)> = templates
        .iter()
        .flat_map(|(_, versions)| versions)
        .filter(|v| v.version.version > 0)
        .map(|v| (v.version.template_id, v.version.version))
        .collect();
    let known: HashSet<(Uuid, i32)> = crate::service::find_by_pairs::<template_version::Entity>(
        db,
        template_version::Column::TemplateId,
        template_version::Column::Version,
        &pairs,
    )
    .await?
    .into_iter()
    .map(|v| (v.template_id, v.version))
    .collect();
    let missing = templates
        .iter()
        .flat_map(|(_, versions)| versions)
        .filter(|v| {
            v.version.version > 0 && !known.contains(&(v.version.template_id, v.version.version))
        });
    let (mut version_rows, mut citation_rows) = (Vec::new(), Vec::new());
    for version in missing {
        version_rows.push(version.version.clone().into_active_model().reset_all());
        citation_rows.extend(
            version
                .clauses
                .iter()
                .map(|c| c.clone().into_active_model().reset_all()),
        );
    }
    insert_chunked(db, version_rows, None).await?;
    insert_chunked(db, citation_rows, None).await?;
    for (template, mut versions) in templates {
        let version = template.published_version;
        versions.retain(|v| v.version.version == version);
        events.push((Record::Template { template, versions }, Some(version)));
    }

    let local = local_ids::<tender_result::Entity>(
        db,
        tender_result::Column::Id,
        tender_result::Column::Origin,
        results.iter().map(|(r, _)| r.id).collect(),
    )
    .await?;
    done.kept_local += local.len() as u64;
    results.retain(|(r, _)| !local.contains(&r.id));
    insert_chunked(
        db,
        results
            .iter()
            .map(|(r, _)| r.clone().into_active_model().reset_all())
            .collect(),
        Some(upsert_all(&[tender_result::Column::Id])),
    )
    .await?;
    // A result's clause rows never change once reported.
    let mut reported = HashSet::new();
    for chunk in results.chunks(ROWS_PER_INSERT) {
        reported.extend(
            tender_result_clause::Entity::find()
                .select_only()
                .column(tender_result_clause::Column::TenderResultId)
                .distinct()
                .filter(
                    tender_result_clause::Column::TenderResultId
                        .is_in(chunk.iter().map(|(r, _)| r.id)),
                )
                .into_tuple::<Uuid>()
                .all(db)
                .await?,
        );
    }
    insert_chunked(
        db,
        results
            .iter()
            .filter(|(r, _)| !reported.contains(&r.id))
            .flat_map(|(_, clauses)| clauses)
            .map(|c| c.clone().into_active_model().reset_all())
            .collect(),
        None,
    )
    .await?;
    for (tender_result, clauses) in results {
        let record = Record::TenderResult {
            tender_result,
            clauses,
        };
        events.push((record, None));
    }

    // One change event per record, as `record` writes, in the batch's order.
    done.written += events.len() as u64;
    lock_feed(db).await?;
    let rows = events
        .iter()
        .map(|(record, version)| {
            change_row(
                record.entity_type(),
                record.id(),
                *version,
                ChangeOperation::Upsert,
                Some(record),
            )
        })
        .collect::<ServiceResult<Vec<_>>>()?;
    insert_chunked(db, rows, None).await?;
    Ok(done)
}

/// Announces a record deleted upstream but kept here, withdrawn, because local records cite
/// the text it holds.
async fn withdrawn_instead(
    db: &impl ConnectionTrait,
    entity_type: EntityType,
    id: Uuid,
    version: i32,
) -> ServiceResult<Applied> {
    record_change(
        db,
        entity_type,
        id,
        Some(version),
        ChangeOperation::Withdraw,
    )
    .await?;
    Ok(Applied::Withdrawn)
}

/// Applies a deletion (tombstone) from upstream. A record that local records cite is
/// withdrawn instead, so what cites it keeps pointing at real text.
pub async fn delete(
    db: &impl ConnectionTrait,
    entity_type: EntityType,
    id: Uuid,
) -> ServiceResult<Applied> {
    let removed = match entity_type {
        EntityType::Clause => {
            let Some(row) = clause::Entity::find_by_id(id).one(db).await? else {
                return Ok(Applied::Absent);
            };
            if row.origin.is_none() {
                return Ok(Applied::KeptLocal);
            }
            let cited = template_clause::Entity::find()
                .filter(template_clause::Column::ClauseId.eq(id))
                .count(db)
                .await?
                + tender_result_clause::Entity::find()
                    .filter(tender_result_clause::Column::ClauseId.eq(id))
                    .count(db)
                    .await?;
            if cited > 0 {
                let withdrawn = clause::ActiveModel {
                    status: Set(PublicationStatus::Withdrawn),
                    withdrawn_reason: Set(Some(DELETED_UPSTREAM.to_owned())),
                    withdrawn_at: Set(Some(crate::service::now())),
                    ..Default::default()
                };
                clause::Entity::update_many()
                    .set(withdrawn)
                    .filter(clause::Column::Id.eq(id))
                    .exec(db)
                    .await?;
                return withdrawn_instead(db, entity_type, id, row.published_version).await;
            }
            clause_version::Entity::delete_many()
                .filter(clause_version::Column::ClauseId.eq(id))
                .exec(db)
                .await?;
            clause::Entity::delete_by_id(id)
                .exec(db)
                .await?
                .rows_affected
        }
        EntityType::Template => {
            let Some(row) = template::Entity::find_by_id(id).one(db).await? else {
                return Ok(Applied::Absent);
            };
            if row.origin.is_none() {
                return Ok(Applied::KeptLocal);
            }
            let cited = tender_result::Entity::find()
                .filter(tender_result::Column::TemplateId.eq(id))
                .count(db)
                .await?;
            if cited > 0 {
                let withdrawn = template::ActiveModel {
                    status: Set(PublicationStatus::Withdrawn),
                    withdrawn_reason: Set(Some(DELETED_UPSTREAM.to_owned())),
                    withdrawn_at: Set(Some(crate::service::now())),
                    ..Default::default()
                };
                template::Entity::update_many()
                    .set(withdrawn)
                    .filter(template::Column::Id.eq(id))
                    .exec(db)
                    .await?;
                return withdrawn_instead(db, entity_type, id, row.published_version).await;
            }
            template_clause::Entity::delete_many()
                .filter(template_clause::Column::TemplateId.eq(id))
                .exec(db)
                .await?;
            template_version::Entity::delete_many()
                .filter(template_version::Column::TemplateId.eq(id))
                .exec(db)
                .await?;
            template::Entity::delete_by_id(id)
                .exec(db)
                .await?
                .rows_affected
        }
        EntityType::TenderResult => {
            let Some(row) = tender_result::Entity::find_by_id(id).one(db).await? else {
                return Ok(Applied::Absent);
            };
            if row.origin.is_none() {
                return Ok(Applied::KeptLocal);
            }
            tender_result_clause::Entity::delete_many()
                .filter(tender_result_clause::Column::TenderResultId.eq(id))
                .exec(db)
                .await?;
            tender_result::Entity::delete_by_id(id)
                .exec(db)
                .await?
                .rows_affected
        }
        // Organisations are never deleted upstream; nothing to do.
        EntityType::Organization => 0,
    };
    if removed == 0 {
        return Ok(Applied::Absent);
    }
    record_change(db, entity_type, id, None, ChangeOperation::Delete).await?;
    Ok(Applied::Deleted)
}
