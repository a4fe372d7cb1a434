//! Builds search documents from the database: the latest published version of each clause,
//! flattened with its organisation.

use std::collections::HashMap;

use entity::{PublicationStatus, clause, clause_version, codes, organization};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use search::{ClauseDocument, document::cpv_prefixes};
use serde::Serialize;
use uuid::Uuid;

use crate::service::organization::SizeClass;

/// The GraphQL name of an enum value (`TECHNICAL_SPECIFICATION`), as search filters use it.
pub fn name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn names<T: Serialize>(values: &[T]) -> Vec<String> {
    values.iter().map(name).collect()
}

fn size_class_name(class: SizeClass) -> &'static str {
    match class {
        SizeClass::Small => "SMALL",
        SizeClass::Medium => "MEDIUM",
        SizeClass::Large => "LARGE",
        SizeClass::Unknown => "UNKNOWN",
    }
}

pub fn document(
    clause: &clause::Model,
    version: clause_version::Model,
    org: &organization::Model,
) -> ClauseDocument {
    let impacts: Vec<entity::EnvironmentalImpact> =
        codes::decode_enums(&version.environmental_impacts);
    let objectives: Vec<entity::SocialObjective> = codes::decode_enums(&version.social_objectives);
    let mut focus = Vec::new();
    if !impacts.is_empty() {
        focus.push("ENVIRONMENTAL".to_owned());
    }
    if !objectives.is_empty() {
        focus.push("SOCIAL".to_owned());
    }
    let cpv_codes = codes::decode(&version.cpv_codes);
    ClauseDocument {
        id: clause.id.to_string(),
        version: version.version,
        organization_id: org.id.to_string(),
        organization_name: org.name.clone(),
        country: name(&org.country),
        size_class: size_class_name(SizeClass::of(org.population)).to_owned(),
        title: version.title,
        text: version.text,
        purpose: version.purpose,
        scoring_rule: version.scoring_rule,
        verification: version.verification,
        follow_up: version.follow_up,
        kind: version.kind.as_ref().map(name),
        ambition_level: version.ambition_level.as_ref().map(name),
        environmental_impacts: names(&impacts),
        social_objectives: names(&objectives),
        focus,
        origin: version.origin.as_ref().map(name),
        applicability: version.applicability.as_ref().map(name),
        cpv_prefixes: cpv_prefixes(&cpv_codes),
        cpv_codes,
        product_group: version.product_group.as_ref().map(name),
        labels: codes::decode(&version.labels),
        language: name(&version.language),
        published_at: version.published_at.map_or(0, |t| t.timestamp()),
    }
}

/// What the index should hold for each clause: its document, or `None` to remove it.
pub async fn current(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<Vec<(Uuid, Option<ClauseDocument>)>, sea_orm::DbErr> {
    let clauses = clause::Entity::find()
        .filter(clause::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    let mut by_id: HashMap<Uuid, clause::Model> = clauses.into_iter().map(|c| (c.id, c)).collect();
    let published: Vec<&clause::Model> = by_id
        .values()
        .filter(|c| c.status == PublicationStatus::Published)
        .collect();
    let docs = build(db, &published).await?;
    Ok(ids
        .iter()
        .map(|id| {
            let doc = by_id.remove(id).and_then(|_| docs.get(id).cloned());
            (*id, doc)
        })
        .collect())
}

async fn build(
    db: &impl ConnectionTrait,
    clauses: &[&clause::Model],
) -> Result<HashMap<Uuid, ClauseDocument>, sea_orm::DbErr> {
    if clauses.is_empty() {
        return Ok(HashMap::new());
    }
    let condition = clauses.iter().fold(Condition::any(), |any, c| {
        any.add(
            Condition::all()
                .add(clause_version::Column::ClauseId.eq(c.id))
                .add(clause_version::Column::Version.eq(c.published_version)),
        )
    });
    let versions: HashMap<Uuid, clause_version::Model> = clause_version::Entity::find()
        .filter(condition)
        .all(db)
        .await?
        .into_iter()
        .map(|v| (v.clause_id, v))
        .collect();
    let orgs: HashMap<Uuid, organization::Model> = organization::Entity::find()
        .filter(organization::Column::Id.is_in(clauses.iter().map(|c| c.organization_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let mut versions = versions;
    Ok(clauses
        .iter()
        .filter_map(|c| {
            let version = versions.remove(&c.id)?;
            let org = orgs.get(&c.organization_id)?;
            Some((c.id, document(c, version, org)))
        })
        .collect())
}

/// One page of published clauses after `after`, for rebuilding the index.
pub async fn published_page(
    db: &impl ConnectionTrait,
    after: Option<Uuid>,
    limit: u64,
) -> Result<(Vec<ClauseDocument>, Option<Uuid>), sea_orm::DbErr> {
    let mut query = clause::Entity::find()
        .filter(clause::Column::Status.eq(PublicationStatus::Published))
        .order_by_asc(clause::Column::Id)
        .limit(limit);
    if let Some(after) = after {
        query = query.filter(clause::Column::Id.gt(after));
    }
    let clauses = query.all(db).await?;
    let last = clauses.last().map(|c| c.id);
    let refs: Vec<&clause::Model> = clauses.iter().collect();
    let mut docs = build(db, &refs).await?;
    let ordered = clauses.iter().filter_map(|c| docs.remove(&c.id)).collect();
    Ok((ordered, last))
}
