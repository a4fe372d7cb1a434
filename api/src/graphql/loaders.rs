//! Batched loading of related records, so a page of N clauses costs a constant number of
//! queries rather than N (one `DataLoader` per request; keys are newtypes so each relation
//! batches separately).

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::Loader;
use entity::{
    clause, clause_version, organization, template_clause, template_version, tender_result_clause,
};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use crate::{
    row_cache::ClauseRowCache,
    service::{
        evidence::{self, Evidence},
        lineage::Lineage,
        staleness::LabelRegistry,
    },
};

pub struct Loaders {
    db: DatabaseConnection,
    /// Organisations kept in memory (see [`crate::row_cache`]).
    rows: Arc<ClauseRowCache>,
}

impl Loaders {
    pub fn new(db: DatabaseConnection, rows: Arc<ClauseRowCache>) -> Self {
        Self { db, rows }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrgKey(pub Uuid);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClauseKey(pub Uuid);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClauseVersionKey(pub Uuid, pub i32);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TemplateVersionKey(pub Uuid, pub i32);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TemplateClausesKey(pub Uuid, pub i32);
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResultClausesKey(pub Uuid);
/// Evidence of a clause or template, from the tender results that used it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EvidenceKey(pub Lineage, pub Uuid);
/// How many times a clause or template was copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReuseCountKey(pub Lineage, pub Uuid);
/// The label registry (one load per request).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LabelsKey;

type LoadResult<K, V> = Result<HashMap<K, V>, Arc<DbErr>>;

impl Loader<OrgKey> for Loaders {
    type Value = organization::Model;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[OrgKey]) -> LoadResult<OrgKey, Self::Value> {
        let ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let found = self.rows.read_organizations(&self.db, &ids).await?;
        Ok(found
            .into_iter()
            .map(|(id, org)| (OrgKey(id), org))
            .collect())
    }
}

impl Loader<ClauseKey> for Loaders {
    type Value = clause::Model;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[ClauseKey]) -> LoadResult<ClauseKey, Self::Value> {
        let rows = clause::Entity::find()
            .filter(clause::Column::Id.is_in(keys.iter().map(|k| k.0)))
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|r| (ClauseKey(r.id), r)).collect())
    }
}

impl Loader<ClauseVersionKey> for Loaders {
    type Value = clause_version::Model;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[ClauseVersionKey]) -> LoadResult<ClauseVersionKey, Self::Value> {
        let condition = keys.iter().fold(Condition::any(), |any, k| {
            any.add(
                Condition::all()
                    .add(clause_version::Column::ClauseId.eq(k.0))
                    .add(clause_version::Column::Version.eq(k.1)),
            )
        });
        let rows = clause_version::Entity::find()
            .filter(condition)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| (ClauseVersionKey(r.clause_id, r.version), r))
            .collect())
    }
}

impl Loader<TemplateVersionKey> for Loaders {
    type Value = template_version::Model;
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[TemplateVersionKey],
    ) -> LoadResult<TemplateVersionKey, Self::Value> {
        let condition = keys.iter().fold(Condition::any(), |any, k| {
            any.add(
                Condition::all()
                    .add(template_version::Column::TemplateId.eq(k.0))
                    .add(template_version::Column::Version.eq(k.1)),
            )
        });
        let rows = template_version::Entity::find()
            .filter(condition)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| (TemplateVersionKey(r.template_id, r.version), r))
            .collect())
    }
}

impl Loader<TemplateClausesKey> for Loaders {
    type Value = Vec<template_clause::Model>;
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[TemplateClausesKey],
    ) -> LoadResult<TemplateClausesKey, Self::Value> {
        let condition = keys.iter().fold(Condition::any(), |any, k| {
            any.add(
                Condition::all()
                    .add(template_clause::Column::TemplateId.eq(k.0))
                    .add(template_clause::Column::TemplateVersion.eq(k.1)),
            )
        });
        let rows = template_clause::Entity::find()
            .filter(condition)
            .order_by_asc(template_clause::Column::Position)
            .all(&self.db)
            .await?;
        let mut grouped: HashMap<TemplateClausesKey, Vec<_>> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for row in rows {
            grouped
                .entry(TemplateClausesKey(row.template_id, row.template_version))
                .or_default()
                .push(row);
        }
        Ok(grouped)
    }
}

impl Loader<ResultClausesKey> for Loaders {
    type Value = Vec<tender_result_clause::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[ResultClausesKey]) -> LoadResult<ResultClausesKey, Self::Value> {
        let rows = tender_result_clause::Entity::find()
            .filter(tender_result_clause::Column::TenderResultId.is_in(keys.iter().map(|k| k.0)))
            .order_by_asc(tender_result_clause::Column::Position)
            .all(&self.db)
            .await?;
        let mut grouped: HashMap<ResultClausesKey, Vec<_>> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for row in rows {
            grouped
                .entry(ResultClausesKey(row.tender_result_id))
                .or_default()
                .push(row);
        }
        Ok(grouped)
    }
}

/// Splits keys by kind, so clauses and templates each cost one batch.
fn by_kind<K: Copy>(keys: &[K], kind: impl Fn(&K) -> (Lineage, Uuid)) -> [(Lineage, Vec<Uuid>); 2] {
    let ids = |wanted: Lineage| {
        keys.iter()
            .map(&kind)
            .filter(|(k, _)| *k == wanted)
            .map(|(_, id)| id)
            .collect()
    };
    [
        (Lineage::Clause, ids(Lineage::Clause)),
        (Lineage::Template, ids(Lineage::Template)),
    ]
}

impl Loader<EvidenceKey> for Loaders {
    type Value = Evidence;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[EvidenceKey]) -> LoadResult<EvidenceKey, Self::Value> {
        let mut out = HashMap::with_capacity(keys.len());
        for (kind, ids) in by_kind(keys, |k| (k.0, k.1)) {
            if ids.is_empty() {
                continue;
            }
            let found = match kind {
                Lineage::Clause => evidence::for_clauses(&self.db, &ids).await?,
                Lineage::Template => evidence::for_templates(&self.db, &ids).await?,
            };
            out.extend(found.into_iter().map(|(id, e)| (EvidenceKey(kind, id), e)));
        }
        Ok(out)
    }
}

impl Loader<ReuseCountKey> for Loaders {
    type Value = i64;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[ReuseCountKey]) -> LoadResult<ReuseCountKey, Self::Value> {
        let mut out = HashMap::with_capacity(keys.len());
        for (kind, ids) in by_kind(keys, |k| (k.0, k.1)) {
            if ids.is_empty() {
                continue;
            }
            let counts = kind.reuse_counts(&self.db, &ids).await?;
            out.extend(
                counts
                    .into_iter()
                    .map(|(id, n)| (ReuseCountKey(kind, id), n)),
            );
        }
        Ok(out)
    }
}

impl Loader<LabelsKey> for Loaders {
    type Value = LabelRegistry;
    type Error = Arc<DbErr>;

    async fn load(&self, _: &[LabelsKey]) -> LoadResult<LabelsKey, Self::Value> {
        Ok(HashMap::from([(
            LabelsKey,
            LabelRegistry::load(&self.db).await?,
        )]))
    }
}
