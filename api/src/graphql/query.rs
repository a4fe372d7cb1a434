//! Read operations.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, Result};
use entity::Country;

use super::{Conn, connection, db, identity, page};
use crate::{
    error::{GqlResult, ServiceError},
    row_cache::ClauseRowCache,
    service::{
        self,
        clause::{ClauseFilter, parse_id},
        page::{CatalogueOrder, Cursor, TenderResultOrder},
        template::TemplateFilter,
        tender_result::TenderResultFilter,
    },
};

use super::types::{Clause, Organization, Template, TenderResult, Viewer};

#[derive(Default)]
pub struct QueryRoot;

#[Object]
impl QueryRoot {
    /// The caller: anonymous, or the subject, organisation and roles of the token.
    async fn viewer(&self) -> Viewer {
        Viewer
    }

    async fn organization(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Organization>> {
        let id = parse_id("id", &id).gql()?;
        Ok(service::organization::get(db(ctx)?, id)
            .await
            .gql()?
            .map(Organization))
    }

    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity + 1")]
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        country: Option<Country>,
    ) -> Result<Conn<Organization>> {
        let page = page(ctx, first, after.as_deref())?;
        let result = service::organization::list(db(ctx)?, country, page)
            .await
            .gql()?;
        Ok(connection(result, |o| Cursor::Id(o.id), Organization))
    }

    /// A clause by id; drafts only for their own organisation.
    async fn clause(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Clause>> {
        let id = parse_id("id", &id).gql()?;
        Ok(service::clause::get(db(ctx)?, identity(ctx)?, id)
            .await
            .gql()?
            .map(|row| Clause { row, current: None }))
    }

    /// Several clauses by id, in the order asked (a basket, a reading list); `null` for an id
    /// that is unknown or not visible to the caller. At most 100 ids.
    #[graphql(complexity = "ids.len() * child_complexity + 1")]
    async fn clauses_by_ids(&self, ctx: &Context<'_>, ids: Vec<ID>) -> Result<Vec<Option<Clause>>> {
        const MAX_IDS: usize = 100;
        if ids.len() > MAX_IDS {
            return Err(
                ServiceError::bad_input("ids", format!("at most {MAX_IDS} ids")).into_graphql(),
            );
        }
        let (db, identity) = (db(ctx)?, identity(ctx)?);
        let mut clauses = Vec::with_capacity(ids.len());
        for id in &ids {
            let id = parse_id("ids", id).gql()?;
            let row = service::clause::get(db, identity, id).await.gql()?;
            clauses.push(row.map(|row| Clause { row, current: None }));
        }
        Ok(clauses)
    }

    /// Clauses, in creation order unless `orderBy` says otherwise. Without a status filter
    /// only published clauses are listed. A page costs the same at any depth and catalogue
    /// size; a cursor (`after`) belongs to the order it was read in.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity + 1")]
    async fn clauses(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<ClauseFilter>,
        #[graphql(default)] order_by: CatalogueOrder,
    ) -> Result<Conn<Clause>> {
        let page = page(ctx, first, after.as_deref())?;
        let filter = filter.unwrap_or_default();
        let cache = super::data::<Arc<ClauseRowCache>>(ctx)?;
        let result = service::clause::list(db(ctx)?, cache, identity(ctx)?, filter, order_by, page)
            .await
            .gql()?;
        Ok(connection(
            result,
            |row| service::clause::cursor(order_by, row),
            |(row, current)| Clause { row, current },
        ))
    }

    async fn template(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Template>> {
        let id = parse_id("id", &id).gql()?;
        Ok(service::template::get(db(ctx)?, identity(ctx)?, id)
            .await
            .gql()?
            .map(|row| Template { row, current: None }))
    }

    /// Templates, in creation order unless `orderBy` says otherwise; like `clauses`.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity + 1")]
    async fn templates(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<TemplateFilter>,
        #[graphql(default)] order_by: CatalogueOrder,
    ) -> Result<Conn<Template>> {
        let page = page(ctx, first, after.as_deref())?;
        let filter = filter.unwrap_or_default();
        let result = service::template::list(db(ctx)?, identity(ctx)?, filter, order_by, page)
            .await
            .gql()?;
        Ok(connection(
            result,
            |row| service::template::cursor(order_by, row),
            |(row, current)| Template { row, current },
        ))
    }

    async fn tender_result(&self, ctx: &Context<'_>, id: ID) -> Result<Option<TenderResult>> {
        let id = parse_id("id", &id).gql()?;
        Ok(service::tender_result::get(db(ctx)?, id)
            .await
            .gql()?
            .map(TenderResult))
    }

    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity + 1")]
    async fn tender_results(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<TenderResultFilter>,
        #[graphql(default)] order_by: TenderResultOrder,
    ) -> Result<Conn<TenderResult>> {
        let page = page(ctx, first, after.as_deref())?;
        let filter = filter.unwrap_or_default();
        let result = service::tender_result::list(db(ctx)?, filter, order_by, page)
            .await
            .gql()?;
        Ok(connection(
            result,
            |r| service::tender_result::cursor(order_by, r),
            TenderResult,
        ))
    }
}
