//! Builds search documents from the database: the latest published version of each clause,
//! flattened with its organisation.

use std::collections::HashMap;

use entity::{
    PublicationStatus, clause, clause_version, codes, organization, template, template_clause,
    template_version,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use search::{CatalogueDocument, document::cpv_prefixes};
use serde::Serialize;
use uuid::Uuid;

use crate::service::{
    clause::{self as clause_service, ClauseRow, Focus},
    evidence::{self, Evidence},
    find_by_pairs,
    organization::SizeClass,
    staleness::LabelRegistry,
};

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

/// What a clause's search document adds to its published text.
pub struct Assessment<'a> {
    pub evidence: &'a Evidence,
    /// The first day the version is stale, if ever.
    pub stale_from: Option<chrono::NaiveDate>,
}

pub fn document(
    clause: &clause::Model,
    version: clause_version::Model,
    org: &organization::Model,
    assessment: Assessment<'_>,
) -> CatalogueDocument {
    let impacts: Vec<entity::EnvironmentalImpact> =
        codes::decode_enums(&version.environmental_impacts);
    let objectives: Vec<entity::SocialObjective> = codes::decode_enums(&version.social_objectives);
    let focus = Focus::of(&version)
        .into_iter()
        .map(|f| f.code().to_owned())
        .collect();
    let cpv_codes = codes::decode(&version.cpv_codes);
    CatalogueDocument {
        id: clause.id.to_string(),
        version: version.version,
        organization_id: org.id.to_string(),
        organization_name: org.name.clone(),
        country: name(&org.country),
        size_class: SizeClass::of(org.population).code().to_owned(),
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
        proven_level: assessment.evidence.proven_level.code().to_owned(),
        evidence_score: assessment.evidence.score(),
        stale_from: assessment
            .stale_from
            .map_or(search::document::NEVER_STALE, |day| {
                day.and_hms_opt(0, 0, 0)
                    .map_or(0, |t| t.and_utc().timestamp())
            }),
    }
}

/// The document of a clause an import is about to publish, built from the rows it writes
/// instead of read back. The clause is new, so no tender result has used it yet.
pub fn of_new_clause(
    clause: &clause::Model,
    version: clause_version::Model,
    org: &organization::Model,
    registry: &LabelRegistry,
) -> (Uuid, CatalogueDocument) {
    let assessment = Assessment {
        evidence: &Evidence::from_uses(&[]),
        stale_from: registry.stale_from(&version),
    };
    (clause.id, document(clause, version, org, assessment))
}

/// What the index should hold for each clause: its document, or `None` to remove it.
pub async fn current(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<Vec<(Uuid, Option<CatalogueDocument>)>, sea_orm::DbErr> {
    let published = clause_service::with_current()
        .filter(clause::Column::Id.is_in(ids.iter().copied()))
        .filter(clause::Column::Status.eq(PublicationStatus::Published))
        .all(db)
        .await?;
    let mut docs = build(db, published).await?;
    Ok(ids.iter().map(|id| (*id, docs.remove(id))).collect())
}

/// Documents of published clauses, each read with its latest version.
async fn build(
    db: &impl ConnectionTrait,
    clauses: Vec<ClauseRow>,
) -> Result<HashMap<Uuid, CatalogueDocument>, sea_orm::DbErr> {
    if clauses.is_empty() {
        return Ok(HashMap::new());
    }
    let orgs: HashMap<Uuid, organization::Model> = organization::Entity::find()
        .filter(organization::Column::Id.is_in(clauses.iter().map(|(c, _)| c.organization_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let ids: Vec<Uuid> = clauses.iter().map(|(c, _)| c.id).collect();
    let evidence = evidence::for_clauses(db, &ids).await?;
    let registry = LabelRegistry::load(db).await?;
    Ok(clauses
        .into_iter()
        .filter_map(|(c, version)| {
            let version = version.filter(|v| v.version > 0)?;
            let org = orgs.get(&c.organization_id)?;
            let assessment = Assessment {
                evidence: evidence.get(&c.id)?,
                stale_from: registry.stale_from(&version),
            };
            Some((c.id, document(&c, version, org, assessment)))
        })
        .collect())
}

/// One page of published clauses after `after`, for rebuilding the index.
pub async fn published_page(
    db: &impl ConnectionTrait,
    after: Option<Uuid>,
    limit: u64,
) -> Result<(Vec<CatalogueDocument>, Option<Uuid>), sea_orm::DbErr> {
    let mut query = clause_service::with_current()
        .filter(clause::Column::Status.eq(PublicationStatus::Published))
        .order_by_asc(clause::Column::Id)
        .limit(limit);
    if let Some(after) = after {
        query = query.filter(clause::Column::Id.gt(after));
    }
    let clauses = query.all(db).await?;
    let last = clauses.last().map(|(c, _)| c.id);
    let order: Vec<Uuid> = clauses.iter().map(|(c, _)| c.id).collect();
    let mut docs = build(db, clauses).await?;
    let ordered = order.iter().filter_map(|id| docs.remove(id)).collect();
    Ok((ordered, last))
}

fn template_document(
    template: &template::Model,
    version: template_version::Model,
    cited_titles: &[String],
    org: &organization::Model,
    evidence: &Evidence,
) -> CatalogueDocument {
    let cpv_codes = codes::decode(&version.cpv_codes);
    let mut text = version.description.clone().unwrap_or_default();
    for title in cited_titles {
        text.push('\n');
        text.push_str(title);
    }
    CatalogueDocument {
        id: template.id.to_string(),
        version: version.version,
        organization_id: org.id.to_string(),
        organization_name: org.name.clone(),
        country: name(&org.country),
        size_class: SizeClass::of(org.population).code().to_owned(),
        title: version.title,
        text: text.trim().to_owned(),
        cpv_prefixes: cpv_prefixes(&cpv_codes),
        cpv_codes,
        language: name(&version.language),
        published_at: version.published_at.map_or(0, |t| t.timestamp()),
        proven_level: evidence.proven_level.code().to_owned(),
        evidence_score: evidence.score(),
        ..CatalogueDocument::default()
    }
}

async fn build_templates(
    db: &impl ConnectionTrait,
    templates: &[&template::Model],
) -> Result<HashMap<Uuid, CatalogueDocument>, sea_orm::DbErr> {
    if templates.is_empty() {
        return Ok(HashMap::new());
    }
    let key = |t: &template::Model| (t.id, t.published_version);
    let wanted: Vec<(Uuid, i32)> = templates.iter().map(|t| key(t)).collect();
    let mut versions: HashMap<(Uuid, i32), template_version::Model> =
        find_by_pairs::<template_version::Entity>(
            db,
            template_version::Column::TemplateId,
            template_version::Column::Version,
            &wanted,
        )
        .await?
        .into_iter()
        .map(|v| ((v.template_id, v.version), v))
        .collect();
    let mut refs = find_by_pairs::<template_clause::Entity>(
        db,
        template_clause::Column::TemplateId,
        template_clause::Column::TemplateVersion,
        &wanted,
    )
    .await?;
    refs.sort_by_key(|r| r.position);
    let cited: Vec<(Uuid, i32)> = refs
        .iter()
        .map(|r| (r.clause_id, r.clause_version))
        .collect();
    let titles: HashMap<(Uuid, i32), String> = find_by_pairs::<clause_version::Entity>(
        db,
        clause_version::Column::ClauseId,
        clause_version::Column::Version,
        &cited,
    )
    .await?
    .into_iter()
    .map(|v| ((v.clause_id, v.version), v.title))
    .collect();
    let orgs: HashMap<Uuid, organization::Model> = organization::Entity::find()
        .filter(organization::Column::Id.is_in(templates.iter().map(|t| t.organization_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let ids: Vec<Uuid> = templates.iter().map(|t| t.id).collect();
    let evidence = evidence::for_templates(db, &ids).await?;
    Ok(templates
        .iter()
        .filter_map(|t| {
            let version = versions.remove(&key(t))?;
            let org = orgs.get(&t.organization_id)?;
            let cited: Vec<String> = refs
                .iter()
                .filter(|r| r.template_id == t.id && r.template_version == t.published_version)
                .filter_map(|r| titles.get(&(r.clause_id, r.clause_version)).cloned())
                .collect();
            let evidence = evidence.get(&t.id)?;
            Some((t.id, template_document(t, version, &cited, org, evidence)))
        })
        .collect())
}

/// What the template index should hold for each template: its document, or `None` to remove it.
pub async fn current_templates(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<Vec<(Uuid, Option<CatalogueDocument>)>, sea_orm::DbErr> {
    let templates = template::Entity::find()
        .filter(template::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    let published: Vec<&template::Model> = templates
        .iter()
        .filter(|t| t.status == PublicationStatus::Published)
        .collect();
    let docs = build_templates(db, &published).await?;
    Ok(ids.iter().map(|id| (*id, docs.get(id).cloned())).collect())
}

/// One page of published templates after `after`, for rebuilding the index.
pub async fn published_templates_page(
    db: &impl ConnectionTrait,
    after: Option<Uuid>,
    limit: u64,
) -> Result<(Vec<CatalogueDocument>, Option<Uuid>), sea_orm::DbErr> {
    let mut query = template::Entity::find()
        .filter(template::Column::Status.eq(PublicationStatus::Published))
        .order_by_asc(template::Column::Id)
        .limit(limit);
    if let Some(after) = after {
        query = query.filter(template::Column::Id.gt(after));
    }
    let templates = query.all(db).await?;
    let last = templates.last().map(|t| t.id);
    let refs: Vec<&template::Model> = templates.iter().collect();
    let mut docs = build_templates(db, &refs).await?;
    let ordered = templates
        .iter()
        .filter_map(|t| docs.remove(&t.id))
        .collect();
    Ok((ordered, last))
}
