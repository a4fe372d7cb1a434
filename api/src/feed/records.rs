//! The published records that travel between instances: change-event payloads, the lines of
//! the NDJSON snapshot, and what a mirror applies.
//!
//! A record holds only published material: organisation rows, clause and template headers with
//! their published (anonymised, immutable) versions, and reported tender results. Drafts never
//! appear. Field names are camelCase like the GraphQL API.

use std::collections::HashMap;

use entity::{
    ChangeOperation, EntityType, clause, clause_version, organization, template, template_clause,
    template_version, tender_result, tender_result_clause,
};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One published record with everything needed to recreate it elsewhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Record {
    Organization {
        organization: organization::Model,
    },
    /// A clause header and the published versions this record brings (all of them in a
    /// snapshot, the new one in an `UPSERT` event, none in a `WITHDRAW` event).
    #[serde(rename_all = "camelCase")]
    Clause {
        clause: clause::Model,
        versions: Vec<clause_version::Model>,
    },
    #[serde(rename_all = "camelCase")]
    Template {
        template: template::Model,
        versions: Vec<TemplateVersion>,
    },
    #[serde(rename_all = "camelCase")]
    TenderResult {
        tender_result: tender_result::Model,
        clauses: Vec<tender_result_clause::Model>,
    },
}

/// A published template version with the clause versions it cites, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateVersion {
    #[serde(flatten)]
    pub version: template_version::Model,
    pub clauses: Vec<template_clause::Model>,
}

impl Record {
    pub fn entity_type(&self) -> EntityType {
        match self {
            Self::Organization { .. } => EntityType::Organization,
            Self::Clause { .. } => EntityType::Clause,
            Self::Template { .. } => EntityType::Template,
            Self::TenderResult { .. } => EntityType::TenderResult,
        }
    }

    pub fn id(&self) -> Uuid {
        match self {
            Self::Organization { organization } => organization.id,
            Self::Clause { clause, .. } => clause.id,
            Self::Template { template, .. } => template.id,
            Self::TenderResult { tender_result, .. } => tender_result.id,
        }
    }

    /// The instance the record was authored on, if it is not the one holding it.
    pub fn origin(&self) -> Option<&str> {
        match self {
            Self::Organization { organization } => organization.origin.as_deref(),
            Self::Clause { clause, .. } => clause.origin.as_deref(),
            Self::Template { template, .. } => template.origin.as_deref(),
            Self::TenderResult { tender_result, .. } => tender_result.origin.as_deref(),
        }
    }

    /// Marks a record received from `upstream` with its origin: the upstream itself, unless
    /// the upstream had mirrored it from somewhere else first.
    pub fn set_origin_if_unset(&mut self, upstream: &str) {
        let origin = match self {
            Self::Organization { organization } => &mut organization.origin,
            Self::Clause { clause, .. } => &mut clause.origin,
            Self::Template { template, .. } => &mut template.origin,
            Self::TenderResult { tender_result, .. } => &mut tender_result.origin,
        };
        if origin.is_none() {
            *origin = Some(upstream.to_owned());
        }
    }
}

/// The payload of a change event about `id`, read in the writing transaction; `None` for a
/// deletion or when the record is not (or no longer) published.
pub async fn payload(
    db: &impl ConnectionTrait,
    entity_type: EntityType,
    id: Uuid,
    version: Option<i32>,
    operation: ChangeOperation,
) -> Result<Option<Record>, DbErr> {
    if operation == ChangeOperation::Delete {
        return Ok(None);
    }
    // An UPSERT brings the version it announces; a WITHDRAW only changes the header.
    let brought = version.filter(|_| operation == ChangeOperation::Upsert);
    Ok(match entity_type {
        EntityType::Organization => organization::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|organization| Record::Organization { organization }),
        EntityType::Clause => {
            let Some(clause) = clause::Entity::find_by_id(id).one(db).await? else {
                return Ok(None);
            };
            let versions = match brought {
                Some(v) => clause_version::Entity::find_by_id((id, v))
                    .one(db)
                    .await?
                    .into_iter()
                    .collect(),
                None => Vec::new(),
            };
            Some(Record::Clause { clause, versions })
        }
        EntityType::Template => {
            let Some(template) = template::Entity::find_by_id(id).one(db).await? else {
                return Ok(None);
            };
            let versions = match brought {
                Some(v) => template_versions(db, &[id], Some(v)).await?,
                None => Vec::new(),
            };
            Some(Record::Template { template, versions })
        }
        EntityType::TenderResult => {
            let Some(tender_result) = tender_result::Entity::find_by_id(id).one(db).await? else {
                return Ok(None);
            };
            let clauses = result_clauses(db, &[id]).await?;
            Some(Record::TenderResult {
                tender_result,
                clauses,
            })
        }
    })
}

/// Published clause versions of `ids`, grouped by clause in version order.
pub async fn clause_versions(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<clause_version::Model>>, DbErr> {
    let rows = clause_version::Entity::find()
        .filter(clause_version::Column::ClauseId.is_in(ids.iter().copied()))
        .filter(clause_version::Column::Version.gt(clause_version::DRAFT))
        .order_by_asc(clause_version::Column::ClauseId)
        .order_by_asc(clause_version::Column::Version)
        .all(db)
        .await?;
    let mut grouped: HashMap<Uuid, Vec<clause_version::Model>> = HashMap::new();
    for row in rows {
        grouped.entry(row.clause_id).or_default().push(row);
    }
    Ok(grouped)
}

/// Published versions (or just `only`) of the templates `ids`, with their cited clauses.
pub async fn template_versions(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
    only: Option<i32>,
) -> Result<Vec<TemplateVersion>, DbErr> {
    let mut versions = template_version::Entity::find()
        .filter(template_version::Column::TemplateId.is_in(ids.iter().copied()))
        .filter(template_version::Column::Version.gt(clause_version::DRAFT));
    let mut citations = template_clause::Entity::find()
        .filter(template_clause::Column::TemplateId.is_in(ids.iter().copied()))
        .filter(template_clause::Column::TemplateVersion.gt(clause_version::DRAFT));
    if let Some(v) = only {
        versions = versions.filter(template_version::Column::Version.eq(v));
        citations = citations.filter(template_clause::Column::TemplateVersion.eq(v));
    }
    let versions = versions
        .order_by_asc(template_version::Column::TemplateId)
        .order_by_asc(template_version::Column::Version)
        .all(db)
        .await?;
    let mut cited: HashMap<(Uuid, i32), Vec<template_clause::Model>> = HashMap::new();
    for row in citations
        .order_by_asc(template_clause::Column::Position)
        .all(db)
        .await?
    {
        cited
            .entry((row.template_id, row.template_version))
            .or_default()
            .push(row);
    }
    Ok(versions
        .into_iter()
        .map(|version| TemplateVersion {
            clauses: cited
                .remove(&(version.template_id, version.version))
                .unwrap_or_default(),
            version,
        })
        .collect())
}

/// The clause rows of the tender results `ids`, in position order.
pub async fn result_clauses(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<Vec<tender_result_clause::Model>, DbErr> {
    tender_result_clause::Entity::find()
        .filter(tender_result_clause::Column::TenderResultId.is_in(ids.iter().copied()))
        .order_by_asc(tender_result_clause::Column::TenderResultId)
        .order_by_asc(tender_result_clause::Column::Position)
        .all(db)
        .await
}
