//! What makes the catalogue trustworthy, in GraphQL: evidence, reuse lineage, staleness,
//! anonymisation previews and deny-lists, national statistics.

use async_graphql::{
    Context, ID, InputObject, Object, Result, SimpleObject, dataloader::DataLoader,
};
use chrono::NaiveDate;
use entity::{Country, Language};
use uuid::Uuid;

use super::{
    data, db, identity, load,
    loaders::{ClauseKey, Loaders, ReuseCountKey},
    mutation::{ReuseInput, TenderResultPayload, wake},
    types::{Clause, ClauseVersionRef, Template, TenderResult},
};
use crate::{
    error::{GqlResult, ServiceError},
    service::{
        self,
        anonymisation::FieldPreview,
        clause::parse_id,
        lineage::{Lineage, Node},
        organization::SizeClass,
        stats::{StatsCell, StatsFilter},
    },
};

async fn reuse_count(ctx: &Context<'_>, kind: Lineage, id: Uuid) -> Result<i64> {
    Ok(load(ctx, ReuseCountKey(kind, id)).await?.unwrap_or(0))
}

async fn ancestors(ctx: &Context<'_>, kind: Lineage, id: Uuid) -> Result<Vec<(Uuid, i32)>> {
    kind.ancestors(db(ctx)?, identity(ctx)?, id)
        .await
        .map_err(ServiceError::from)
        .gql()
}

async fn descendants(ctx: &Context<'_>, kind: Lineage, id: Uuid) -> Result<Vec<Node>> {
    kind.descendants(db(ctx)?, identity(ctx)?, id)
        .await
        .map_err(ServiceError::from)
        .gql()
}

/// Where a clause came from and where it went.
pub struct ClauseLineage(pub Uuid);

#[Object]
impl ClauseLineage {
    /// How many times the clause was copied into an organisation (copies still in draft
    /// included).
    async fn reuse_count(&self, ctx: &Context<'_>) -> Result<i64> {
        reuse_count(ctx, Lineage::Clause, self.0).await
    }
    /// The clause versions it was copied from, nearest first.
    async fn ancestors(&self, ctx: &Context<'_>) -> Result<Vec<ClauseVersionRef>> {
        Ok(ancestors(ctx, Lineage::Clause, self.0)
            .await?
            .into_iter()
            .map(|(clause_id, version)| ClauseVersionRef { clause_id, version })
            .collect())
    }
    /// Copies, and copies of copies, that the caller may see (at most 200).
    async fn descendants(&self, ctx: &Context<'_>) -> Result<Vec<Clause>> {
        let nodes = descendants(ctx, Lineage::Clause, self.0).await?;
        let loader = data::<DataLoader<Loaders>>(ctx)?;
        let rows = loader
            .load_many(nodes.iter().map(|n| ClauseKey(n.id)))
            .await
            .map_err(|e| ServiceError::Internal(anyhow::anyhow!("loader: {e}")).into_graphql())?;
        Ok(nodes
            .iter()
            .filter_map(|n| rows.get(&ClauseKey(n.id)).cloned())
            .map(|row| Clause { row, current: None })
            .collect())
    }
}

/// A reference to an exact template version (reuse lineage).
pub struct TemplateVersionRef {
    pub template_id: Uuid,
    pub version: i32,
}

#[Object]
impl TemplateVersionRef {
    async fn template_id(&self) -> ID {
        ID(self.template_id.to_string())
    }
    async fn version(&self) -> i32 {
        self.version
    }
    /// The template, when visible to the caller.
    async fn template(&self, ctx: &Context<'_>) -> Result<Option<Template>> {
        Ok(
            service::template::get(db(ctx)?, identity(ctx)?, self.template_id)
                .await
                .gql()?
                .map(|row| Template { row, current: None }),
        )
    }
}

/// Where a template came from and where it went.
pub struct TemplateLineage(pub Uuid);

#[Object]
impl TemplateLineage {
    /// How many times the template was copied into an organisation.
    async fn reuse_count(&self, ctx: &Context<'_>) -> Result<i64> {
        reuse_count(ctx, Lineage::Template, self.0).await
    }
    /// The template versions it was copied from, nearest first.
    async fn ancestors(&self, ctx: &Context<'_>) -> Result<Vec<TemplateVersionRef>> {
        Ok(ancestors(ctx, Lineage::Template, self.0)
            .await?
            .into_iter()
            .map(|(template_id, version)| TemplateVersionRef {
                template_id,
                version,
            })
            .collect())
    }
    /// Copies, and copies of copies, that the caller may see (at most 200).
    async fn descendants(&self, ctx: &Context<'_>) -> Result<Vec<Template>> {
        let nodes = descendants(ctx, Lineage::Template, self.0).await?;
        let (db, identity) = (db(ctx)?, identity(ctx)?);
        let mut out = Vec::with_capacity(nodes.len());
        for node in nodes {
            if let Some(row) = service::template::get(db, identity, node.id).await.gql()? {
                out.push(Template { row, current: None });
            }
        }
        Ok(out)
    }
}

/// A label in the registry clauses are checked against.
#[derive(SimpleObject)]
pub struct Label {
    pub key: String,
    pub scheme: String,
    pub name: String,
    pub generation: Option<i32>,
    pub valid_from: Option<NaiveDate>,
    /// Last day the generation is current; `null` when it does not expire.
    pub valid_until: Option<NaiveDate>,
    /// Whether the label is current today.
    pub current: bool,
}

#[derive(Default)]
pub struct TrustQuery;

#[Object]
impl TrustQuery {
    /// What publishing would remove as personal data. Give exactly one of `text` (with
    /// `language`), `clauseId` or `templateId` (a draft of the caller's organisation). The
    /// caller's organisation's deny-list applies.
    async fn preview_anonymisation(
        &self,
        ctx: &Context<'_>,
        text: Option<String>,
        language: Option<Language>,
        clause_id: Option<ID>,
        template_id: Option<ID>,
    ) -> Result<Vec<FieldPreview>> {
        let db = db(ctx)?;
        let identity = identity(ctx)?;
        match (text, clause_id, template_id) {
            (Some(text), None, None) => {
                let language = language
                    .ok_or_else(|| ServiceError::bad_input("language", "is required with text"))
                    .gql()?;
                service::anonymisation::preview_text(db, identity, &text, language)
                    .await
                    .gql()
            }
            (None, Some(id), None) => {
                let id = parse_id("clauseId", &id).gql()?;
                service::clause::preview_draft(db, identity, id).await.gql()
            }
            (None, None, Some(id)) => {
                let id = parse_id("templateId", &id).gql()?;
                service::template::preview_draft(db, identity, id)
                    .await
                    .gql()
            }
            _ => Err(ServiceError::bad_input(
                "text",
                "give exactly one of text, clauseId or templateId",
            ))
            .gql(),
        }
    }

    /// The names and terms the caller's organisation has removed from everything it publishes.
    async fn anonymisation_deny_list(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        service::anonymisation::own_deny_list(db(ctx)?, identity(ctx)?)
            .await
            .gql()
    }

    /// The label registry: schemes and generations with their validity.
    async fn labels(&self, ctx: &Context<'_>) -> Result<Vec<Label>> {
        let registry = service::staleness::LabelRegistry::load(db(ctx)?)
            .await
            .map_err(ServiceError::from)
            .gql()?;
        let today = chrono::Utc::now().date_naive();
        Ok(registry
            .labels()
            .iter()
            .map(|l| Label {
                key: l.key.clone(),
                scheme: l.scheme.clone(),
                name: l.name.clone(),
                generation: l.generation,
                valid_from: l.valid_from,
                valid_until: l.valid_until,
                current: l.valid_from.is_none_or(|d| d <= today)
                    && l.valid_until.is_none_or(|d| d >= today),
            })
            .collect())
    }

    /// Tender statistics per organisation size class. Cells backed by fewer than five
    /// tenders are suppressed unless the caller is an agency.
    async fn procurement_stats(
        &self,
        ctx: &Context<'_>,
        country: Option<Country>,
        size_class: Option<SizeClass>,
        #[graphql(desc = "Earliest award month, `YYYY-MM`.")] from: Option<String>,
        #[graphql(desc = "Latest award month, `YYYY-MM`.")] to: Option<String>,
    ) -> Result<Vec<StatsCell>> {
        let filter = StatsFilter {
            country,
            size_class,
            from,
            to,
        };
        service::stats::procurement_stats(db(ctx)?, identity(ctx)?, filter)
            .await
            .gql()
    }
}

#[derive(InputObject)]
pub struct SetDenyListInput {
    /// Every term, replacing the current list (at most 1,000, 2–200 characters each).
    pub terms: Vec<String>,
}

#[derive(SimpleObject)]
pub struct DenyListPayload {
    pub terms: Vec<String>,
}

#[derive(SimpleObject)]
pub struct ReuseTemplatePayload {
    /// The new template draft, derived from the source.
    pub template: Template,
    /// The copied clause drafts the new template cites, in template order.
    pub clauses: Vec<Clause>,
}

#[derive(InputObject)]
pub struct WithdrawTenderResultInput {
    pub id: ID,
    /// Why the result is withdrawn (shown to every reader).
    pub reason: String,
}

#[derive(Default)]
pub struct TrustMutation;

#[Object]
impl TrustMutation {
    /// Replaces the caller's organisation's anonymisation deny-list.
    async fn set_anonymisation_deny_list(
        &self,
        ctx: &Context<'_>,
        input: SetDenyListInput,
    ) -> Result<DenyListPayload> {
        let terms = service::anonymisation::set_deny_list(db(ctx)?, identity(ctx)?, input.terms)
            .await
            .gql()?;
        Ok(DenyListPayload { terms })
    }

    /// Admins only. Re-scans every published clause version, template version, tender
    /// result and withdrawal reason with the current anonymiser and lists the fields it would
    /// change (kinds and counts, never the text). With `apply: true` each affected record is
    /// mended: an anonymised successor version is published for an affected latest version
    /// (so search and mirrors follow through the change feed), earlier versions, reasons,
    /// tender results and earlier change-event payloads are anonymised in place, and each
    /// record gets an audit event. `commons anonymise --check|--apply` does the same.
    async fn rescan_anonymisation(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] apply: bool,
    ) -> Result<service::rescan::RescanReport> {
        let caller = identity(ctx)?.admin().gql()?.clone();
        let report = service::rescan::rescan(db(ctx)?, &caller, apply, None)
            .await
            .gql()?;
        if apply && !report.affected.is_empty() {
            wake(ctx);
        }
        Ok(report)
    }

    /// Copies a published template and the clause versions it cites into the caller's
    /// organisation as drafts.
    async fn reuse_template(
        &self,
        ctx: &Context<'_>,
        input: ReuseInput,
    ) -> Result<ReuseTemplatePayload> {
        let id = parse_id("input.id", &input.id).gql()?;
        let (template, clauses) =
            service::template::reuse(db(ctx)?, identity(ctx)?, id, input.version)
                .await
                .gql()?;
        Ok(ReuseTemplatePayload {
            template: Template {
                row: template,
                current: None,
            },
            clauses: clauses
                .into_iter()
                .map(|row| Clause { row, current: None })
                .collect(),
        })
    }

    /// Withdraws a tender result the caller's organisation reported.
    async fn withdraw_tender_result(
        &self,
        ctx: &Context<'_>,
        input: WithdrawTenderResultInput,
    ) -> Result<TenderResultPayload> {
        let id = parse_id("input.id", &input.id).gql()?;
        let row = service::tender_result::withdraw(db(ctx)?, identity(ctx)?, id, input.reason)
            .await
            .gql()?;
        wake(ctx);
        Ok(TenderResultPayload {
            tender_result: TenderResult(row),
        })
    }
}
