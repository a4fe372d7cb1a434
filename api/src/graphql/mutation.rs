//! Write operations: each takes one `input` and returns a payload object.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};

use super::{db, identity};
use crate::indexing::IndexerHandle;
use crate::{
    error::GqlResult,
    service::{
        self,
        clause::{ClauseContent, UpdateClauseInput, parse_id},
        organization::CreateOrganizationInput,
        template::{CreateTemplateInput, UpdateTemplateInput},
        tender_result::ReportTenderResultInput,
    },
};

use super::types::{Clause, Organization, Template, TenderResult};

#[derive(SimpleObject)]
pub struct OrganizationPayload {
    pub organization: Organization,
}

#[derive(SimpleObject)]
pub struct ClausePayload {
    pub clause: Clause,
}

#[derive(SimpleObject)]
pub struct TemplatePayload {
    pub template: Template,
}

#[derive(SimpleObject)]
pub struct TenderResultPayload {
    pub tender_result: TenderResult,
}

/// Publishes the current draft as a new frozen version.
#[derive(InputObject)]
pub struct PublishInput {
    pub id: ID,
    /// When given, the record's `revision` must still be this.
    pub expected_version: Option<i32>,
}

#[derive(InputObject)]
pub struct WithdrawInput {
    pub id: ID,
    /// Why the record is taken out of use (shown to every reader).
    pub reason: String,
    pub expected_version: Option<i32>,
}

#[derive(InputObject)]
pub struct DeleteInput {
    pub id: ID,
    pub expected_version: Option<i32>,
}

#[derive(SimpleObject)]
pub struct DeletePayload {
    /// The id of the record that is gone.
    pub id: ID,
}

#[derive(InputObject)]
pub struct ReuseInput {
    /// The published clause or template to copy.
    pub id: ID,
    /// Which published version; defaults to the latest.
    pub version: Option<i32>,
}

/// Wakes the search indexer after a change to published material.
pub(super) fn wake(ctx: &Context<'_>) {
    if let Ok(indexer) = ctx.data::<IndexerHandle>() {
        indexer.wake();
    }
}

fn clause(row: entity::clause::Model) -> ClausePayload {
    ClausePayload {
        clause: Clause { row, current: None },
    }
}

fn template(row: entity::template::Model) -> TemplatePayload {
    TemplatePayload {
        template: Template { row, current: None },
    }
}

#[derive(Default)]
pub struct MutationRoot;

#[Object]
impl MutationRoot {
    /// Admins only.
    async fn create_organization(
        &self,
        ctx: &Context<'_>,
        input: CreateOrganizationInput,
    ) -> Result<OrganizationPayload> {
        let org = service::organization::create(db(ctx)?, identity(ctx)?, input)
            .await
            .gql()?;
        Ok(OrganizationPayload {
            organization: Organization(org),
        })
    }

    /// Creates a draft clause in the caller's organisation.
    async fn create_clause(
        &self,
        ctx: &Context<'_>,
        input: ClauseContent,
    ) -> Result<ClausePayload> {
        service::clause::create(db(ctx)?, identity(ctx)?, input)
            .await
            .gql()
            .map(clause)
    }

    /// Edits the draft; fails with `CONFLICT` when `expectedVersion` is stale.
    async fn update_clause(
        &self,
        ctx: &Context<'_>,
        input: UpdateClauseInput,
    ) -> Result<ClausePayload> {
        service::clause::update(db(ctx)?, identity(ctx)?, input)
            .await
            .gql()
            .map(clause)
    }

    async fn publish_clause(
        &self,
        ctx: &Context<'_>,
        input: PublishInput,
    ) -> Result<ClausePayload> {
        let id = parse_id("input.id", &input.id).gql()?;
        service::clause::publish(db(ctx)?, identity(ctx)?, id, input.expected_version)
            .await
            .gql()
            .map(|row| {
                wake(ctx);
                clause(row)
            })
    }

    async fn withdraw_clause(
        &self,
        ctx: &Context<'_>,
        input: WithdrawInput,
    ) -> Result<ClausePayload> {
        let id = parse_id("input.id", &input.id).gql()?;
        service::clause::withdraw(
            db(ctx)?,
            identity(ctx)?,
            id,
            input.reason,
            input.expected_version,
        )
        .await
        .gql()
        .map(|row| {
            wake(ctx);
            clause(row)
        })
    }

    /// Erases a clause for good (drafts and every published version), also from search and,
    /// through the change feed's tombstone, from every mirror. For material that must not be
    /// public at all; withdraw out-of-date criteria instead. `CONFLICT` while a template or
    /// tender result cites the clause.
    async fn delete_clause(&self, ctx: &Context<'_>, input: DeleteInput) -> Result<DeletePayload> {
        let id = parse_id("input.id", &input.id).gql()?;
        service::clause::delete(db(ctx)?, identity(ctx)?, id, input.expected_version)
            .await
            .gql()?;
        wake(ctx);
        Ok(DeletePayload { id: input.id })
    }

    /// Copies a published clause version into the caller's organisation as a draft.
    async fn reuse_clause(&self, ctx: &Context<'_>, input: ReuseInput) -> Result<ClausePayload> {
        let id = parse_id("input.id", &input.id).gql()?;
        service::clause::reuse(db(ctx)?, identity(ctx)?, id, input.version)
            .await
            .gql()
            .map(clause)
    }

    async fn create_template(
        &self,
        ctx: &Context<'_>,
        input: CreateTemplateInput,
    ) -> Result<TemplatePayload> {
        service::template::create(db(ctx)?, identity(ctx)?, input)
            .await
            .gql()
            .map(template)
    }

    async fn update_template(
        &self,
        ctx: &Context<'_>,
        input: UpdateTemplateInput,
    ) -> Result<TemplatePayload> {
        service::template::update(db(ctx)?, identity(ctx)?, input)
            .await
            .gql()
            .map(template)
    }

    async fn publish_template(
        &self,
        ctx: &Context<'_>,
        input: PublishInput,
    ) -> Result<TemplatePayload> {
        let id = parse_id("input.id", &input.id).gql()?;
        service::template::publish(db(ctx)?, identity(ctx)?, id, input.expected_version)
            .await
            .gql()
            .map(|row| {
                wake(ctx);
                template(row)
            })
    }

    async fn withdraw_template(
        &self,
        ctx: &Context<'_>,
        input: WithdrawInput,
    ) -> Result<TemplatePayload> {
        let id = parse_id("input.id", &input.id).gql()?;
        service::template::withdraw(
            db(ctx)?,
            identity(ctx)?,
            id,
            input.reason,
            input.expected_version,
        )
        .await
        .gql()
        .map(|row| {
            wake(ctx);
            template(row)
        })
    }

    /// Reports a finished tender of the caller's organisation; published at once.
    async fn report_tender_result(
        &self,
        ctx: &Context<'_>,
        input: ReportTenderResultInput,
    ) -> Result<TenderResultPayload> {
        let result = service::tender_result::report(db(ctx)?, identity(ctx)?, input)
            .await
            .gql()?;
        Ok(TenderResultPayload {
            tender_result: TenderResult(result),
        })
    }
}
