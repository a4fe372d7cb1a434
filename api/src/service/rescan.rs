//! Re-scanning what is already published with the current anonymiser: needed after every
//! improvement of the recogniser and after a deny-list change.
//!
//! [`rescan`] reads every published clause version, template version, tender result and
//! withdrawal reason of this instance's own organisations (mirrored records are their
//! upstream's to fix) and reports which fields the anonymiser would change now, with the kinds
//! of what it finds and never the text. With `apply`, each affected record is mended in one
//! transaction of its own:
//!
//! - a clause or template whose latest version is affected gets an anonymised **successor
//!   version**, announced by an `UPSERT` change event, so search and every mirror follow;
//! - earlier versions, withdrawal reasons and tender results are anonymised in place, and
//!   the payloads of the record's earlier change events are rewritten, so neither the
//!   `versions` history nor the change feed still holds what was found;
//! - an audit event `anonymisation.apply` records the record, its new version and how many
//!   findings were mended (counts only).

use std::collections::HashMap;

use async_graphql::SimpleObject;
use entity::{
    ChangeOperation, EntityType, Language, PublicationStatus, change_event, clause, clause_version,
    template, template_version, tender_result,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionSession,
};
use serde::Serialize;
use uuid::Uuid;

use super::{
    Db,
    anonymisation::{Scrubber, language_of},
    audit, record_change,
};
use crate::{
    anonymise::FindingKind,
    auth::Caller,
    error::{ServiceError, ServiceResult},
    feed::records::Record,
};

/// Records read at once.
const PAGE: u64 = 500;

/// One field the anonymiser would change.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AffectedField {
    /// The published version the field belongs to; `None` for a record without versions or
    /// for the withdrawal reason.
    pub version: Option<i32>,
    /// `title`, `text`, `withdrawalReason`, `lessonsLearned`, …
    pub field: String,
    /// What was found, each kind once.
    pub kinds: Vec<FindingKind>,
    pub findings: i32,
}

/// A published record with findings.
#[derive(Debug, Clone, SimpleObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AffectedRecord {
    pub entity_type: EntityType,
    pub id: Uuid,
    pub organization_id: Uuid,
    pub fields: Vec<AffectedField>,
    /// With `apply`: the anonymised successor version that was published.
    pub new_version: Option<i32>,
}

/// What a re-scan found (and, with `apply`, mended).
#[derive(Debug, Clone, SimpleObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RescanReport {
    /// Published records read.
    pub scanned: i32,
    pub affected: Vec<AffectedRecord>,
    /// Whether the affected records were mended.
    pub applied: bool,
}

/// Each organisation's scrubber, prepared once.
struct Scrubbers(HashMap<Uuid, (Scrubber, Language)>);

impl Scrubbers {
    async fn get(
        &mut self,
        db: &impl ConnectionTrait,
        org: Uuid,
    ) -> ServiceResult<&(Scrubber, Language)> {
        if let std::collections::hash_map::Entry::Vacant(entry) = self.0.entry(org) {
            let language = entity::organization::Entity::find_by_id(org)
                .one(db)
                .await?
                .map_or(Language::En, |o| language_of(&o));
            entry.insert((Scrubber::for_org(db, org).await?, language));
        }
        Ok(&self.0[&org])
    }
}

/// Scans one text; records a field when the anonymiser would change it.
fn scan(
    scrubber: &Scrubber,
    language: Language,
    version: Option<i32>,
    field: &str,
    text: Option<&str>,
    out: &mut Vec<AffectedField>,
) {
    let Some(text) = text else { return };
    let findings = scrubber.findings(text, language);
    if findings.is_empty() {
        return;
    }
    let mut kinds: Vec<FindingKind> = Vec::new();
    for finding in &findings {
        if !kinds.contains(&finding.kind) {
            kinds.push(finding.kind);
        }
    }
    out.push(AffectedField {
        version,
        field: field.to_owned(),
        kinds,
        findings: findings.len() as i32,
    });
}

fn scan_clause_version(scrubber: &Scrubber, v: &clause_version::Model) -> Vec<AffectedField> {
    let mut out = Vec::new();
    let at = Some(v.version);
    for (field, text) in [
        ("title", Some(v.title.as_str())),
        ("purpose", v.purpose.as_deref()),
        ("text", Some(v.text.as_str())),
        ("scoringRule", v.scoring_rule.as_deref()),
        ("verification", v.verification.as_deref()),
        ("followUp", v.follow_up.as_deref()),
    ] {
        scan(scrubber, v.language, at, field, text, &mut out);
    }
    let labels: Vec<String> = serde_json::from_str(&v.labels).unwrap_or_default();
    for label in &labels {
        scan(scrubber, v.language, at, "labels", Some(label), &mut out);
    }
    out
}

fn scrub_clause_version(scrubber: &Scrubber, v: &clause_version::Model) -> clause_version::Model {
    let language = v.language;
    let mut v = v.clone();
    v.title = scrubber.text(&v.title, language);
    v.text = scrubber.text(&v.text, language);
    for field in [
        &mut v.purpose,
        &mut v.scoring_rule,
        &mut v.verification,
        &mut v.follow_up,
    ] {
        *field = scrubber.optional(field.take(), language);
    }
    // Labels are a JSON list; anonymise each label as publishing does.
    let labels: Vec<String> = serde_json::from_str(&v.labels).unwrap_or_default();
    let labels: Vec<String> = labels.iter().map(|l| scrubber.text(l, language)).collect();
    v.labels = serde_json::to_string(&labels).unwrap_or_else(|_| "[]".to_owned());
    v
}

fn scan_template_version(scrubber: &Scrubber, v: &template_version::Model) -> Vec<AffectedField> {
    let mut out = Vec::new();
    let at = Some(v.version);
    scan(scrubber, v.language, at, "title", Some(&v.title), &mut out);
    scan(
        scrubber,
        v.language,
        at,
        "description",
        v.description.as_deref(),
        &mut out,
    );
    out
}

fn scrub_template_version(
    scrubber: &Scrubber,
    v: &template_version::Model,
) -> template_version::Model {
    let mut v = v.clone();
    v.title = scrubber.text(&v.title, v.language);
    v.description = scrubber.optional(v.description.take(), v.language);
    v
}

/// Re-scans every published record; with `apply`, mends each affected one. `bar`, when
/// given, is set to the number of records and advanced as they are read.
pub async fn rescan(
    db: &impl Db,
    caller: &Caller,
    apply: bool,
    bar: Option<&indicatif::ProgressBar>,
) -> ServiceResult<RescanReport> {
    if let Some(bar) = bar {
        let clauses = clause::Entity::find()
            .filter(clause::Column::PublishedVersion.gt(0))
            .filter(clause::Column::Origin.is_null())
            .count(db)
            .await?;
        let templates = template::Entity::find()
            .filter(template::Column::PublishedVersion.gt(0))
            .filter(template::Column::Origin.is_null())
            .count(db)
            .await?;
        let results = tender_result::Entity::find()
            .filter(tender_result::Column::Origin.is_null())
            .filter(tender_result::Column::Status.ne(PublicationStatus::Draft))
            .count(db)
            .await?;
        bar.set_length(clauses + templates + results);
    }
    let tick = || {
        if let Some(bar) = bar {
            bar.inc(1);
        }
    };
    let mut scrubbers = Scrubbers(HashMap::new());
    let mut report = RescanReport {
        scanned: 0,
        affected: Vec::new(),
        applied: apply,
    };

    // Clauses, page by page.
    let mut after = Uuid::nil();
    loop {
        let clauses = clause::Entity::find()
            .filter(clause::Column::Id.gt(after))
            .filter(clause::Column::PublishedVersion.gt(0))
            .filter(clause::Column::Origin.is_null())
            .order_by_asc(clause::Column::Id)
            .limit(PAGE)
            .all(db)
            .await?;
        let Some(last) = clauses.last() else { break };
        after = last.id;
        let ids: Vec<Uuid> = clauses.iter().map(|c| c.id).collect();
        let mut versions: HashMap<Uuid, Vec<clause_version::Model>> = HashMap::new();
        for v in clause_version::Entity::find()
            .filter(clause_version::Column::ClauseId.is_in(ids))
            .filter(clause_version::Column::Version.gt(0))
            .all(db)
            .await?
        {
            versions.entry(v.clause_id).or_default().push(v);
        }
        for c in clauses {
            report.scanned += 1;
            tick();
            let (scrubber, language) = scrubbers.get(db, c.organization_id).await?;
            let mut fields = Vec::new();
            for v in versions.get(&c.id).into_iter().flatten() {
                fields.extend(scan_clause_version(scrubber, v));
            }
            scan(
                scrubber,
                *language,
                None,
                "withdrawalReason",
                c.withdrawn_reason.as_deref(),
                &mut fields,
            );
            if fields.is_empty() {
                continue;
            }
            let new_version = if apply {
                mend_clause(db, caller, scrubber, *language, c.id).await?
            } else {
                None
            };
            report.affected.push(AffectedRecord {
                entity_type: EntityType::Clause,
                id: c.id,
                organization_id: c.organization_id,
                fields,
                new_version,
            });
        }
    }

    // Templates.
    let mut after = Uuid::nil();
    loop {
        let templates = template::Entity::find()
            .filter(template::Column::Id.gt(after))
            .filter(template::Column::PublishedVersion.gt(0))
            .filter(template::Column::Origin.is_null())
            .order_by_asc(template::Column::Id)
            .limit(PAGE)
            .all(db)
            .await?;
        let Some(last) = templates.last() else { break };
        after = last.id;
        let ids: Vec<Uuid> = templates.iter().map(|t| t.id).collect();
        let mut versions: HashMap<Uuid, Vec<template_version::Model>> = HashMap::new();
        for v in template_version::Entity::find()
            .filter(template_version::Column::TemplateId.is_in(ids))
            .filter(template_version::Column::Version.gt(0))
            .all(db)
            .await?
        {
            versions.entry(v.template_id).or_default().push(v);
        }
        for t in templates {
            report.scanned += 1;
            tick();
            let (scrubber, language) = scrubbers.get(db, t.organization_id).await?;
            let mut fields = Vec::new();
            for v in versions.get(&t.id).into_iter().flatten() {
                fields.extend(scan_template_version(scrubber, v));
            }
            scan(
                scrubber,
                *language,
                None,
                "withdrawalReason",
                t.withdrawn_reason.as_deref(),
                &mut fields,
            );
            if fields.is_empty() {
                continue;
            }
            let new_version = if apply {
                mend_template(db, caller, scrubber, *language, t.id).await?
            } else {
                None
            };
            report.affected.push(AffectedRecord {
                entity_type: EntityType::Template,
                id: t.id,
                organization_id: t.organization_id,
                fields,
                new_version,
            });
        }
    }

    // Tender results.
    let mut after = Uuid::nil();
    loop {
        let results = tender_result::Entity::find()
            .filter(tender_result::Column::Id.gt(after))
            .filter(tender_result::Column::Origin.is_null())
            .filter(tender_result::Column::Status.ne(PublicationStatus::Draft))
            .order_by_asc(tender_result::Column::Id)
            .limit(PAGE)
            .all(db)
            .await?;
        let Some(last) = results.last() else { break };
        after = last.id;
        for r in results {
            report.scanned += 1;
            tick();
            let (scrubber, language) = scrubbers.get(db, r.organization_id).await?;
            let mut fields = Vec::new();
            for (field, text) in [
                ("lessonsLearned", r.lessons_learned.as_deref()),
                ("noAwardReason", r.no_award_reason.as_deref()),
                ("withdrawalReason", r.withdrawn_reason.as_deref()),
            ] {
                scan(scrubber, *language, None, field, text, &mut fields);
            }
            if fields.is_empty() {
                continue;
            }
            if apply {
                mend_tender_result(db, caller, scrubber, *language, r.id).await?;
            }
            report.affected.push(AffectedRecord {
                entity_type: EntityType::TenderResult,
                id: r.id,
                organization_id: r.organization_id,
                fields,
                new_version: None,
            });
        }
    }
    Ok(report)
}

/// Rewrites the payloads of a record's earlier change events through the scrubber.
async fn mend_events(
    txn: &impl ConnectionTrait,
    scrubber: &Scrubber,
    language: Language,
    entity_type: EntityType,
    id: Uuid,
) -> ServiceResult<()> {
    let events = change_event::Entity::find()
        .filter(change_event::Column::EntityType.eq(entity_type))
        .filter(change_event::Column::EntityId.eq(id))
        .all(txn)
        .await?;
    for event in events {
        let Some(raw) = event.payload.as_deref() else {
            continue;
        };
        let record: Record = serde_json::from_str(raw)
            .map_err(|e| ServiceError::Internal(anyhow::anyhow!("change event payload: {e}")))?;
        let record = match record {
            Record::Clause {
                mut clause,
                versions,
            } => {
                clause.withdrawn_reason = scrubber.optional(clause.withdrawn_reason, language);
                Record::Clause {
                    clause,
                    versions: versions
                        .iter()
                        .map(|v| scrub_clause_version(scrubber, v))
                        .collect(),
                }
            }
            Record::Template {
                mut template,
                mut versions,
            } => {
                template.withdrawn_reason = scrubber.optional(template.withdrawn_reason, language);
                for v in &mut versions {
                    v.version = scrub_template_version(scrubber, &v.version);
                }
                Record::Template { template, versions }
            }
            Record::TenderResult {
                tender_result,
                clauses,
            } => Record::TenderResult {
                tender_result: scrub_result(scrubber, language, tender_result),
                clauses,
            },
            other => other,
        };
        let payload = serde_json::to_string(&record)
            .map_err(|e| ServiceError::Internal(anyhow::anyhow!("change event payload: {e}")))?;
        if payload != raw {
            let mut row = event.into_active_model();
            row.payload = Set(Some(payload));
            row.update(txn).await?;
        }
    }
    Ok(())
}

fn scrub_result(
    scrubber: &Scrubber,
    language: Language,
    mut r: tender_result::Model,
) -> tender_result::Model {
    r.lessons_learned = scrubber.optional(r.lessons_learned, language);
    r.no_award_reason = scrubber.optional(r.no_award_reason, language);
    r.withdrawn_reason = scrubber.optional(r.withdrawn_reason, language);
    r
}

/// Anonymises a clause's published versions and withdrawal reason; publishes a successor when
/// its latest version changed. Returns the successor's number.
async fn mend_clause(
    db: &impl Db,
    caller: &Caller,
    scrubber: &Scrubber,
    language: Language,
    id: Uuid,
) -> ServiceResult<Option<i32>> {
    let txn = db.begin().await?;
    let Some(c) = clause::Entity::find_by_id(id).one(&txn).await? else {
        return Ok(None);
    };
    let versions = clause_version::Entity::find()
        .filter(clause_version::Column::ClauseId.eq(id))
        .filter(clause_version::Column::Version.gt(0))
        .order_by_asc(clause_version::Column::Version)
        .all(&txn)
        .await?;
    let mut mended = 0;
    let mut successor = None;
    for v in &versions {
        let scrubbed = scrub_clause_version(scrubber, v);
        if &scrubbed == v {
            continue;
        }
        mended += 1;
        if v.version == c.published_version {
            let mut next = scrubbed.clone();
            next.version = v.version + 1;
            next.published_at = Some(super::now());
            next.into_active_model().reset_all().insert(&txn).await?;
            successor = Some(v.version + 1);
        }
        scrubbed
            .into_active_model()
            .reset_all()
            .update(&txn)
            .await?;
    }
    let reason = scrubber.optional(c.withdrawn_reason.clone(), language);
    let reason_changed = reason != c.withdrawn_reason;
    let mut changes = clause::ActiveModel {
        withdrawn_reason: Set(reason),
        ..Default::default()
    };
    if let Some(next) = successor {
        changes.published_version = Set(next);
    }
    super::clause::save_revision(&txn, &c, changes).await?;
    mend_events(&txn, scrubber, language, EntityType::Clause, id).await?;
    audit(
        &txn,
        caller,
        "anonymisation.apply",
        EntityType::Clause,
        id,
        serde_json::json!({ "mendedVersions": mended, "newVersion": successor, "reason": reason_changed }),
    )
    .await?;
    match successor {
        Some(next) => {
            record_change(
                &txn,
                EntityType::Clause,
                id,
                Some(next),
                ChangeOperation::Upsert,
            )
            .await?;
        }
        None if reason_changed => {
            record_change(
                &txn,
                EntityType::Clause,
                id,
                Some(c.published_version),
                ChangeOperation::Withdraw,
            )
            .await?;
        }
        None => {}
    }
    txn.commit().await?;
    Ok(successor)
}

/// The template counterpart of [`mend_clause`].
async fn mend_template(
    db: &impl Db,
    caller: &Caller,
    scrubber: &Scrubber,
    language: Language,
    id: Uuid,
) -> ServiceResult<Option<i32>> {
    let txn = db.begin().await?;
    let Some(t) = template::Entity::find_by_id(id).one(&txn).await? else {
        return Ok(None);
    };
    let versions = template_version::Entity::find()
        .filter(template_version::Column::TemplateId.eq(id))
        .filter(template_version::Column::Version.gt(0))
        .order_by_asc(template_version::Column::Version)
        .all(&txn)
        .await?;
    let mut mended = 0;
    let mut successor = None;
    for v in &versions {
        let scrubbed = scrub_template_version(scrubber, v);
        if &scrubbed == v {
            continue;
        }
        mended += 1;
        if v.version == t.published_version {
            let refs = super::template::clauses_of(&txn, id, v.version).await?;
            let next = v.version + 1;
            super::template::write_version(&txn, id, next, &scrubbed, &refs, Some(super::now()))
                .await?;
            successor = Some(next);
        }
        scrubbed
            .into_active_model()
            .reset_all()
            .update(&txn)
            .await?;
    }
    let reason = scrubber.optional(t.withdrawn_reason.clone(), language);
    let reason_changed = reason != t.withdrawn_reason;
    let mut changes = template::ActiveModel {
        withdrawn_reason: Set(reason),
        ..Default::default()
    };
    if let Some(next) = successor {
        changes.published_version = Set(next);
    }
    super::template::save_revision(&txn, &t, changes).await?;
    mend_events(&txn, scrubber, language, EntityType::Template, id).await?;
    audit(
        &txn,
        caller,
        "anonymisation.apply",
        EntityType::Template,
        id,
        serde_json::json!({ "mendedVersions": mended, "newVersion": successor, "reason": reason_changed }),
    )
    .await?;
    match successor {
        Some(next) => {
            record_change(
                &txn,
                EntityType::Template,
                id,
                Some(next),
                ChangeOperation::Upsert,
            )
            .await?;
        }
        None if reason_changed => {
            record_change(
                &txn,
                EntityType::Template,
                id,
                Some(t.published_version),
                ChangeOperation::Withdraw,
            )
            .await?;
        }
        None => {}
    }
    txn.commit().await?;
    Ok(successor)
}

/// Anonymises a tender result's texts in place and announces it again.
async fn mend_tender_result(
    db: &impl Db,
    caller: &Caller,
    scrubber: &Scrubber,
    language: Language,
    id: Uuid,
) -> ServiceResult<()> {
    let txn = db.begin().await?;
    let Some(r) = tender_result::Entity::find_by_id(id).one(&txn).await? else {
        return Ok(());
    };
    let status = r.status;
    let mut row = scrub_result(scrubber, language, r.clone()).into_active_model();
    row.updated_at = Set(super::now());
    row.reset(tender_result::Column::LessonsLearned);
    row.reset(tender_result::Column::NoAwardReason);
    row.reset(tender_result::Column::WithdrawnReason);
    row.update(&txn).await?;
    mend_events(&txn, scrubber, language, EntityType::TenderResult, id).await?;
    audit(
        &txn,
        caller,
        "anonymisation.apply",
        EntityType::TenderResult,
        id,
        serde_json::json!({ "mendedVersions": 0, "newVersion": null }),
    )
    .await?;
    let operation = if status == PublicationStatus::Withdrawn {
        ChangeOperation::Withdraw
    } else {
        ChangeOperation::Upsert
    };
    record_change(&txn, EntityType::TenderResult, id, None, operation).await?;
    txn.commit().await?;
    Ok(())
}
