//! Mirroring over GraphQL: the change feed as a connection and as a live subscription, and
//! the Apollo Federation entity resolvers.

use std::{collections::VecDeque, time::Duration};

use async_graphql::{
    Context, ID, Json, Object, Result, Subscription,
    connection::{Connection, Edge},
};
use chrono::{DateTime, Utc};
use entity::{ChangeOperation, EntityType, change_event};
use futures_util::Stream;
use sea_orm::DatabaseConnection;

use super::{
    ConnectionFields, MaxPageSize, data, db, identity,
    types::{Clause, Organization, Template, TenderResult},
};
use crate::{
    error::{GqlResult, ServiceError},
    feed::changes,
    indexing::IndexerHandle,
    service::{self, clause::parse_id, page::PageRequest},
};

/// One published change: the record's type, id and version, what happened, and the published
/// (anonymised) record itself. Deletions are tombstones without a payload; they stay in the
/// feed forever.
pub struct ChangeEvent(pub change_event::Model);

#[Object]
impl ChangeEvent {
    /// Pass to `changes(after:)` or `catalogueChanges(after:)` to continue after this event.
    async fn cursor(&self) -> String {
        changes::encode_cursor(self.0.seq)
    }
    async fn entity_type(&self) -> EntityType {
        self.0.entity_type
    }
    async fn entity_id(&self) -> ID {
        ID(self.0.entity_id.to_string())
    }
    /// The published version the event is about (clauses and templates).
    async fn version(&self) -> Option<i32> {
        self.0.version
    }
    async fn operation(&self) -> ChangeOperation {
        self.0.operation
    }
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
    /// The record as published, in the NDJSON snapshot's record format: an `organization`,
    /// a `clause` with the version it brings, a `template` with its version and citations, or
    /// a `tenderResult` with its clauses. `null` for deletions.
    async fn payload(&self) -> Result<Option<Json<serde_json::Value>>> {
        self.0
            .payload
            .as_deref()
            .map(|raw| {
                serde_json::from_str(raw).map(Json).map_err(|e| {
                    ServiceError::Internal(anyhow::anyhow!("change event payload: {e}"))
                        .into_graphql()
                })
            })
            .transpose()
    }
}

pub type ChangeConnection = Connection<String, ChangeEvent, ConnectionFields>;

#[derive(Default)]
pub struct FeedQuery;

#[Object]
impl FeedQuery {
    /// Every published change in commit order, tombstones included, for mirrors. Start
    /// without `after` (or with the watermark of `/export/catalogue.ndjson`) and pass the
    /// last `endCursor` back; an empty page keeps the cursor. `totalCount` is the number of
    /// events after `after`.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity + 1")]
    async fn changes(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
    ) -> Result<ChangeConnection> {
        // Page size rules as everywhere; the feed has cursors of its own.
        let first = PageRequest::new(first, None, data::<MaxPageSize>(ctx)?.0)
            .gql()?
            .first;
        let after = match after.as_deref() {
            Some(cursor) => changes::decode_cursor("after", cursor).gql()?,
            None => 0,
        };
        let page = changes::page(db(ctx)?, after, first).await.gql()?;
        let mut connection = Connection::with_additional_fields(
            page.has_previous_page,
            page.has_next_page,
            ConnectionFields {
                total_count: page.total_count,
            },
        );
        connection.edges.extend(
            page.items
                .into_iter()
                .map(|event| Edge::new(changes::encode_cursor(event.seq), ChangeEvent(event))),
        );
        Ok(connection)
    }

    #[graphql(entity)]
    async fn find_organization_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<Option<Organization>> {
        let id = parse_id("id", &id).gql()?;
        Ok(service::organization::get(db(ctx)?, id)
            .await
            .gql()?
            .map(Organization))
    }

    #[graphql(entity)]
    async fn find_clause_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Clause>> {
        let id = parse_id("id", &id).gql()?;
        Ok(service::clause::get(db(ctx)?, identity(ctx)?, id)
            .await
            .gql()?
            .map(|row| Clause { row, current: None }))
    }

    #[graphql(entity)]
    async fn find_template_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Template>> {
        let id = parse_id("id", &id).gql()?;
        Ok(service::template::get(db(ctx)?, identity(ctx)?, id)
            .await
            .gql()?
            .map(|row| Template { row, current: None }))
    }

    #[graphql(entity)]
    async fn find_tender_result_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<Option<TenderResult>> {
        let id = parse_id("id", &id).gql()?;
        Ok(service::tender_result::get(db(ctx)?, id)
            .await
            .gql()?
            .map(TenderResult))
    }
}

/// How often a live subscription looks for changes written by other replicas or processes.
const POLL: Duration = Duration::from_millis(500);
/// Events read per database round trip while catching up.
const CATCH_UP: u64 = 200;

struct Follow {
    db: DatabaseConnection,
    cursor: i64,
    buffered: VecDeque<change_event::Model>,
    signal: Option<tokio::sync::watch::Receiver<u64>>,
}

impl Follow {
    async fn next(mut self) -> Option<(ChangeEvent, Self)> {
        loop {
            if let Some(event) = self.buffered.pop_front() {
                self.cursor = event.seq;
                return Some((ChangeEvent(event), self));
            }
            match changes::after(&self.db, self.cursor, CATCH_UP).await {
                Ok(events) if !events.is_empty() => self.buffered.extend(events),
                Ok(_) => self.wait().await,
                Err(error) => {
                    tracing::warn!(%error, "change-feed subscription cannot read; will retry");
                    tokio::time::sleep(POLL * 4).await;
                }
            }
        }
    }

    async fn wait(&mut self) {
        match self.signal.as_mut() {
            Some(signal) => {
                tokio::select! {
                    changed = signal.changed() => if changed.is_err() { self.signal = None },
                    () = tokio::time::sleep(POLL) => {}
                }
            }
            None => tokio::time::sleep(POLL).await,
        }
    }
}

#[derive(Default)]
pub struct FeedSubscription;

#[Subscription]
impl FeedSubscription {
    /// The change feed, live (graphql-transport-ws at `/graphql/ws`): the same events as
    /// `changes`, in the same order, as they commit. Without `after` it starts with the next
    /// change; with a cursor it first replays what came after it.
    async fn catalogue_changes(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
    ) -> Result<impl Stream<Item = ChangeEvent> + use<>> {
        let db = db(ctx)?.clone();
        let cursor = match after.as_deref() {
            Some(cursor) => changes::decode_cursor("after", cursor).gql()?,
            None => changes::head(&db)
                .await
                .map_err(|e| ServiceError::from(e).into_graphql())?,
        };
        let signal = ctx
            .data::<IndexerHandle>()
            .ok()
            .map(IndexerHandle::feed_signal);
        let follow = Follow {
            db,
            cursor,
            buffered: VecDeque::new(),
            signal,
        };
        Ok(futures_util::stream::unfold(follow, Follow::next))
    }
}
