//! GraphQL object types. They wrap entity rows and load relations through the data loader;
//! visibility rules come from the services.

use async_graphql::{ComplexObject, Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    AmbitionLevel, Applicability, ClauseKind, ClauseOutcome, Country, CriteriaOrigin,
    EnvironmentalImpact, FollowUpResult, Language, OrganizationKind, ProcedureType, ProductGroup,
    PublicationStatus, SocialObjective, ValueBand, clause, clause_version, codes, organization,
    template, template_clause, template_version, tender_result, tender_result_clause,
};

use super::{
    identity, load,
    loaders::{
        ClauseKey, ClauseVersionKey, EvidenceKey, LabelsKey, OrgKey, ResultClausesKey,
        TemplateClausesKey, TemplateVersionKey,
    },
    trust::{ClauseLineage, TemplateLineage, TemplateVersionRef},
};
use crate::{
    auth::Role,
    error::GqlResult,
    service::{
        self, clause::Focus, evidence::Evidence, lineage::Lineage, organization::SizeClass,
        staleness::Staleness,
    },
};

async fn evidence(ctx: &Context<'_>, kind: Lineage, id: uuid::Uuid) -> Result<Evidence> {
    Ok(load(ctx, EvidenceKey(kind, id)).await?.unwrap_or_default())
}

pub struct Organization(pub organization::Model);

#[Object]
impl Organization {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Set when the record was mirrored from another instance (read-only here).
    async fn origin(&self) -> Option<RecordOrigin> {
        record_origin(&self.0.origin, self.0.id)
    }
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn kind(&self) -> OrganizationKind {
        self.0.kind
    }
    async fn country(&self) -> Country {
        self.0.country
    }
    /// Official municipality code.
    async fn municipality_code(&self) -> Option<&str> {
        self.0.municipality_code.as_deref()
    }
    async fn population(&self) -> Option<i64> {
        self.0.population
    }
    /// Derived from population: under 20,000 small, under 100,000 medium, else large.
    async fn size_class(&self) -> SizeClass {
        SizeClass::of(self.0.population)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

async fn organization(ctx: &Context<'_>, id: uuid::Uuid) -> Result<Option<Organization>> {
    Ok(load(ctx, OrgKey(id)).await?.map(Organization))
}

/// Where a mirrored record was authored.
#[derive(SimpleObject)]
pub struct RecordOrigin {
    /// Base URL of the upstream instance it was mirrored from.
    pub instance: String,
    /// The record's id there (ids are kept when mirroring).
    pub id: ID,
}

fn record_origin(origin: &Option<String>, id: uuid::Uuid) -> Option<RecordOrigin> {
    origin.as_ref().map(|instance| RecordOrigin {
        instance: instance.clone(),
        id: ID(id.to_string()),
    })
}

/// Why and when a record was withdrawn.
#[derive(SimpleObject)]
pub struct Withdrawal {
    pub reason: String,
    pub at: Option<DateTime<Utc>>,
}

fn withdrawal(reason: &Option<String>, at: Option<DateTime<Utc>>) -> Option<Withdrawal> {
    reason.as_ref().map(|reason| Withdrawal {
        reason: reason.clone(),
        at,
    })
}

/// One version of a clause's text: the draft (version 0) or a frozen published version.
pub struct ClauseVersion(pub clause_version::Model);

#[Object]
impl ClauseVersion {
    /// 0 for the draft, 1.. for published versions.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// `null` for the draft.
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.0.published_at
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn purpose(&self) -> Option<&str> {
        self.0.purpose.as_deref()
    }
    async fn text(&self) -> &str {
        &self.0.text
    }
    async fn scoring_rule(&self) -> Option<&str> {
        self.0.scoring_rule.as_deref()
    }
    async fn verification(&self) -> Option<&str> {
        self.0.verification.as_deref()
    }
    async fn follow_up(&self) -> Option<&str> {
        self.0.follow_up.as_deref()
    }
    async fn kind(&self) -> Option<ClauseKind> {
        self.0.kind
    }
    async fn ambition_level(&self) -> Option<AmbitionLevel> {
        self.0.ambition_level
    }
    async fn environmental_impacts(&self) -> Vec<EnvironmentalImpact> {
        codes::decode_enums(&self.0.environmental_impacts)
    }
    async fn social_objectives(&self) -> Vec<SocialObjective> {
        codes::decode_enums(&self.0.social_objectives)
    }
    /// Derived: environmental when impacts are named, social when objectives are.
    async fn focus(&self) -> Vec<Focus> {
        Focus::of(&self.0)
    }
    async fn origin(&self) -> Option<CriteriaOrigin> {
        self.0.origin
    }
    async fn applicability(&self) -> Option<Applicability> {
        self.0.applicability
    }
    async fn cpv_codes(&self) -> Vec<String> {
        codes::decode(&self.0.cpv_codes)
    }
    async fn product_group(&self) -> Option<ProductGroup> {
        self.0.product_group
    }
    async fn labels(&self) -> Vec<String> {
        codes::decode(&self.0.labels)
    }
    async fn language(&self) -> Language {
        self.0.language
    }
    async fn licence(&self) -> &str {
        &self.0.licence
    }
    async fn last_reviewed(&self) -> Option<NaiveDate> {
        self.0.last_reviewed
    }
}

/// A reference to an exact clause version (reuse lineage).
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ClauseVersionRef {
    #[graphql(skip)]
    pub clause_id: uuid::Uuid,
    pub version: i32,
}

#[ComplexObject]
impl ClauseVersionRef {
    async fn clause_id(&self) -> ID {
        ID(self.clause_id.to_string())
    }
    /// The clause, when visible to the caller.
    async fn clause(&self, ctx: &Context<'_>) -> Result<Option<Clause>> {
        load_clause(ctx, self.clause_id).await
    }
}

async fn load_clause(ctx: &Context<'_>, id: uuid::Uuid) -> Result<Option<Clause>> {
    let identity = identity(ctx)?;
    Ok(load(ctx, ClauseKey(id))
        .await?
        .filter(|c| service::clause::visible(c, identity))
        .map(|row| Clause { row, current: None }))
}

async fn clause_version(
    ctx: &Context<'_>,
    clause_id: uuid::Uuid,
    version: i32,
) -> Result<Option<ClauseVersion>> {
    Ok(load(ctx, ClauseVersionKey(clause_id, version))
        .await?
        .map(ClauseVersion))
}

/// A requirement clause (criterion). Outside its organisation only published versions show.
pub struct Clause {
    pub row: clause::Model,
    /// The current view when already loaded with the row.
    pub current: Option<clause_version::Model>,
}

#[Object]
impl Clause {
    async fn id(&self) -> ID {
        ID(self.row.id.to_string())
    }
    /// Set when the clause was mirrored from another instance (read-only here).
    async fn origin(&self) -> Option<RecordOrigin> {
        record_origin(&self.row.origin, self.row.id)
    }
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        organization(ctx, self.row.organization_id).await
    }
    async fn status(&self) -> PublicationStatus {
        self.row.status
    }
    /// Latest published version number; `null` while never published.
    async fn version(&self) -> Option<i32> {
        (self.row.published_version > 0).then_some(self.row.published_version)
    }
    /// Changes with every write; pass it as `expectedVersion` to update safely.
    async fn revision(&self) -> i32 {
        self.row.revision
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.row.updated_at
    }
    async fn withdrawal(&self) -> Option<Withdrawal> {
        withdrawal(&self.row.withdrawn_reason, self.row.withdrawn_at)
    }
    /// The clause version this one was reused from.
    async fn derived_from(&self) -> Option<ClauseVersionRef> {
        Some(ClauseVersionRef {
            clause_id: self.row.derived_from_id?,
            version: self.row.derived_from_version?,
        })
    }
    /// The latest published version; `null` while never published.
    async fn latest(&self, ctx: &Context<'_>) -> Result<Option<ClauseVersion>> {
        let version = self.row.published_version;
        if version == 0 {
            return Ok(None);
        }
        match &self.current {
            Some(current) if current.version == version => Ok(Some(ClauseVersion(current.clone()))),
            _ => clause_version(ctx, self.row.id, version).await,
        }
    }
    /// The editable draft; only the owning organisation sees it.
    async fn draft(&self, ctx: &Context<'_>) -> Result<Option<ClauseVersion>> {
        if !service::clause::owns(&self.row, identity(ctx)?) {
            return Ok(None);
        }
        clause_version(ctx, self.row.id, clause_version::DRAFT).await
    }
    /// How the clause fared in reported tenders, and the proven level that earns it.
    async fn evidence(&self, ctx: &Context<'_>) -> Result<Evidence> {
        evidence(ctx, Lineage::Clause, self.row.id).await
    }
    /// Reuse count, sources and copies.
    async fn lineage(&self) -> ClauseLineage {
        ClauseLineage(self.row.id)
    }
    /// Whether the current text cites an expired label generation or is overdue for review.
    async fn staleness(&self, ctx: &Context<'_>) -> Result<Staleness> {
        let version = match self.row.published_version {
            0 if service::clause::owns(&self.row, identity(ctx)?) => clause_version::DRAFT,
            0 => return Ok(Staleness::default()),
            published => published,
        };
        let current = match &self.current {
            Some(current) if current.version == version => Some(current.clone()),
            _ => load(ctx, ClauseVersionKey(self.row.id, version)).await?,
        };
        let Some(current) = current else {
            return Ok(Staleness::default());
        };
        let registry = load(ctx, LabelsKey).await?.unwrap_or_default();
        Ok(registry.assess(&current, Utc::now().date_naive()))
    }
    /// Published versions, newest first.
    async fn versions(&self, ctx: &Context<'_>) -> Result<Vec<ClauseVersion>> {
        let db = super::db(ctx)?;
        Ok(service::clause::history(db, self.row.id)
            .await
            .gql()?
            .into_iter()
            .map(ClauseVersion)
            .collect())
    }
}

/// One version of a template: the draft (0) or a published version.
pub struct TemplateVersion(pub template_version::Model);

#[Object]
impl TemplateVersion {
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.0.published_at
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn language(&self) -> Language {
        self.0.language
    }
    async fn cpv_codes(&self) -> Vec<String> {
        codes::decode(&self.0.cpv_codes)
    }
    /// Clauses in document order, each citing an exact clause version.
    async fn clauses(&self, ctx: &Context<'_>) -> Result<Vec<TemplateClause>> {
        Ok(
            load(ctx, TemplateClausesKey(self.0.template_id, self.0.version))
                .await?
                .unwrap_or_default()
                .into_iter()
                .map(TemplateClause)
                .collect(),
        )
    }
}

pub struct TemplateClause(pub template_clause::Model);

#[Object]
impl TemplateClause {
    async fn position(&self) -> i32 {
        self.0.position
    }
    async fn clause(&self, ctx: &Context<'_>) -> Result<Option<Clause>> {
        load_clause(ctx, self.0.clause_id).await
    }
    async fn clause_version(&self) -> i32 {
        self.0.clause_version
    }
    /// The exact clause text the template uses.
    async fn cited(&self, ctx: &Context<'_>) -> Result<Option<ClauseVersion>> {
        clause_version(ctx, self.0.clause_id, self.0.clause_version).await
    }
    /// Weight in percent (award criteria).
    async fn weight(&self) -> Option<i32> {
        self.0.weight
    }
    async fn mandatory(&self) -> bool {
        self.0.mandatory
    }
}

/// A tender template: an ordered set of clause versions for one kind of purchase.
pub struct Template {
    pub row: template::Model,
    pub current: Option<template_version::Model>,
}

#[Object]
impl Template {
    async fn id(&self) -> ID {
        ID(self.row.id.to_string())
    }
    /// Set when the template was mirrored from another instance (read-only here).
    async fn origin(&self) -> Option<RecordOrigin> {
        record_origin(&self.row.origin, self.row.id)
    }
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        organization(ctx, self.row.organization_id).await
    }
    async fn status(&self) -> PublicationStatus {
        self.row.status
    }
    /// Latest published version number; `null` while never published.
    async fn version(&self) -> Option<i32> {
        (self.row.published_version > 0).then_some(self.row.published_version)
    }
    /// Changes with every write; pass it as `expectedVersion` to update safely.
    async fn revision(&self) -> i32 {
        self.row.revision
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.row.updated_at
    }
    async fn withdrawal(&self) -> Option<Withdrawal> {
        withdrawal(&self.row.withdrawn_reason, self.row.withdrawn_at)
    }
    async fn latest(&self, ctx: &Context<'_>) -> Result<Option<TemplateVersion>> {
        let version = self.row.published_version;
        if version == 0 {
            return Ok(None);
        }
        match &self.current {
            Some(current) if current.version == version => {
                Ok(Some(TemplateVersion(current.clone())))
            }
            _ => Ok(load(ctx, TemplateVersionKey(self.row.id, version))
                .await?
                .map(TemplateVersion)),
        }
    }
    /// The editable draft; only the owning organisation sees it.
    async fn draft(&self, ctx: &Context<'_>) -> Result<Option<TemplateVersion>> {
        if identity(ctx)?.org() != Some(self.row.organization_id) {
            return Ok(None);
        }
        Ok(load(ctx, TemplateVersionKey(self.row.id, 0))
            .await?
            .map(TemplateVersion))
    }
    /// The template version this one was reused from.
    async fn derived_from(&self) -> Option<TemplateVersionRef> {
        Some(TemplateVersionRef {
            template_id: self.row.derived_from_id?,
            version: self.row.derived_from_version?,
        })
    }
    /// How the template fared in reported tenders, and the proven level that earns it.
    async fn evidence(&self, ctx: &Context<'_>) -> Result<Evidence> {
        evidence(ctx, Lineage::Template, self.row.id).await
    }
    /// Reuse count, sources and copies.
    async fn lineage(&self) -> TemplateLineage {
        TemplateLineage(self.row.id)
    }
    /// Published versions, newest first.
    async fn versions(&self, ctx: &Context<'_>) -> Result<Vec<TemplateVersion>> {
        let db = super::db(ctx)?;
        Ok(service::template::history(db, self.row.id)
            .await
            .gql()?
            .into_iter()
            .map(TemplateVersion)
            .collect())
    }
}

/// A clause used in a reported tender and what became of it.
pub struct TenderResultClause(pub tender_result_clause::Model);

#[Object]
impl TenderResultClause {
    async fn clause(&self, ctx: &Context<'_>) -> Result<Option<Clause>> {
        load_clause(ctx, self.0.clause_id).await
    }
    async fn clause_version(&self) -> i32 {
        self.0.clause_version
    }
    /// The exact clause text used in the tender.
    async fn cited(&self, ctx: &Context<'_>) -> Result<Option<ClauseVersion>> {
        clause_version(ctx, self.0.clause_id, self.0.clause_version).await
    }
    async fn outcome(&self) -> ClauseOutcome {
        self.0.outcome
    }
    async fn follow_up(&self) -> FollowUpResult {
        self.0.follow_up
    }
}

/// A reported tender. Exact prices are never stored: only a value band.
pub struct TenderResult(pub tender_result::Model);

#[Object]
impl TenderResult {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Set when the result was mirrored from another instance (read-only here).
    async fn origin(&self) -> Option<RecordOrigin> {
        record_origin(&self.0.origin, self.0.id)
    }
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        organization(ctx, self.0.organization_id).await
    }
    async fn status(&self) -> PublicationStatus {
        self.0.status
    }
    async fn withdrawal(&self) -> Option<Withdrawal> {
        withdrawal(&self.0.withdrawn_reason, self.0.withdrawn_at)
    }
    /// The template version used, when one was.
    async fn template(&self, ctx: &Context<'_>) -> Result<Option<TemplateVersion>> {
        let (Some(id), Some(version)) = (self.0.template_id, self.0.template_version) else {
            return Ok(None);
        };
        Ok(load(ctx, TemplateVersionKey(id, version))
            .await?
            .map(TemplateVersion))
    }
    async fn template_id(&self) -> Option<ID> {
        self.0.template_id.map(|id| ID(id.to_string()))
    }
    async fn cpv_code(&self) -> &str {
        &self.0.cpv_code
    }
    async fn procedure(&self) -> ProcedureType {
        self.0.procedure
    }
    /// `YYYY-MM`.
    async fn award_month(&self) -> String {
        self.0.award_month.format("%Y-%m").to_string()
    }
    async fn tenders_received(&self) -> i32 {
        self.0.tenders_received
    }
    async fn sme_tenders(&self) -> Option<i32> {
        self.0.sme_tenders
    }
    async fn price_weight(&self) -> i32 {
        self.0.price_weight
    }
    async fn cost_weight(&self) -> i32 {
        self.0.cost_weight
    }
    async fn quality_weight(&self) -> i32 {
        self.0.quality_weight
    }
    async fn sustainability_weight(&self) -> i32 {
        self.0.sustainability_weight
    }
    async fn awarded(&self) -> bool {
        self.0.awarded
    }
    async fn no_award_reason(&self) -> Option<&str> {
        self.0.no_award_reason.as_deref()
    }
    async fn value_band(&self) -> ValueBand {
        self.0.value_band
    }
    async fn appealed(&self) -> bool {
        self.0.appealed
    }
    async fn lessons_learned(&self) -> Option<&str> {
        self.0.lessons_learned.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn clauses(&self, ctx: &Context<'_>) -> Result<Vec<TenderResultClause>> {
        Ok(load(ctx, ResultClausesKey(self.0.id))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(TenderResultClause)
            .collect())
    }
}

/// The caller as the API sees it.
pub struct Viewer;

#[Object]
impl Viewer {
    async fn authenticated(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(identity(ctx)?.caller().is_ok())
    }
    /// The token's subject.
    async fn subject(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        Ok(identity(ctx)?.caller().ok().map(|c| c.sub.clone()))
    }
    async fn roles(&self, ctx: &Context<'_>) -> Result<Vec<Role>> {
        Ok(identity(ctx)?
            .caller()
            .map(|c| c.roles.clone())
            .unwrap_or_default())
    }
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<Organization>> {
        match identity(ctx)?.org() {
            Some(org) => organization(ctx, org).await,
            None => Ok(None),
        }
    }
}
