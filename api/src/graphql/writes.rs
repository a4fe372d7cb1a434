//! Mutations hold the row cache's write guard while they run.
//!
//! On PostgreSQL the rows kept in memory are dropped when the notice of a committed write
//! arrives (see [`crate::row_cache`]), a moment after the commit. A caller whose mutation
//! has answered must see its write on the very next page, so a mutation drops what is kept
//! when it starts, keeps nothing while it writes, and drops it again once it has committed.

use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::{
    Response, ServerResult, Variables,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery},
    parser::types::{DocumentOperations, ExecutableDocument, OperationType},
};

use crate::row_cache::ClauseRowCache;

pub struct MutationWrites(pub Arc<ClauseRowCache>);

impl ExtensionFactory for MutationWrites {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Watch {
            rows: Arc::clone(&self.0),
            operations: Mutex::default(),
        })
    }
}

/// One request's watch: the operations its document declares, by name.
struct Watch {
    rows: Arc<ClauseRowCache>,
    operations: Mutex<Option<Operations>>,
}

/// Operation types by name (`None` for a document's single anonymous operation).
pub type Operations = Vec<(Option<String>, OperationType)>;

/// The operations `document` declares.
pub fn declared(document: &ExecutableDocument) -> Operations {
    match &document.operations {
        DocumentOperations::Single(op) => vec![(None, op.node.ty)],
        DocumentOperations::Multiple(ops) => ops
            .iter()
            .map(|(name, op)| (Some(name.to_string()), op.node.ty))
            .collect(),
    }
}

/// The operation a request runs: the one named `name`, or the first when it names none.
pub fn picked<'a>(
    operations: &'a Operations,
    name: Option<&str>,
) -> Option<&'a (Option<String>, OperationType)> {
    match name {
        Some(name) => operations.iter().find(|(n, _)| n.as_deref() == Some(name)),
        None => operations.first(),
    }
}

#[async_trait::async_trait]
impl Extension for Watch {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        *self
            .operations
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(declared(&document));
        Ok(document)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mutation = self
            .operations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .is_some_and(|ops| {
                picked(ops, operation_name).is_some_and(|(_, ty)| *ty == OperationType::Mutation)
            });
        if mutation {
            let _writing = self.rows.write_guard();
            next.run(ctx, operation_name).await
        } else {
            next.run(ctx, operation_name).await
        }
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{Context, EmptySubscription, Object, Request, Schema};

    use super::*;

    /// Whether the cache would keep what a read took now.
    fn keeps(ctx: &Context<'_>) -> bool {
        ctx.data_unchecked::<Arc<ClauseRowCache>>()
            .lookup(&[])
            .ticket
            .is_some()
    }

    struct Query;

    #[Object]
    impl Query {
        async fn keeps(&self, ctx: &Context<'_>) -> bool {
            keeps(ctx)
        }
    }

    struct Mutation;

    #[Object]
    impl Mutation {
        async fn write(&self, ctx: &Context<'_>) -> bool {
            keeps(ctx)
        }
    }

    async fn answer(
        schema: &Schema<Query, Mutation, EmptySubscription>,
        request: Request,
    ) -> String {
        let response = schema.execute(request).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        response.data.to_string()
    }

    #[tokio::test]
    async fn a_mutation_keeps_nothing_while_it_runs_and_a_query_does() {
        let rows = Arc::new(ClauseRowCache::default());
        rows.watch();
        let schema = Schema::build(Query, Mutation, EmptySubscription)
            .data(Arc::clone(&rows))
            .extension(MutationWrites(Arc::clone(&rows)))
            .finish();
        assert_eq!(
            answer(&schema, Request::new("{ keeps }")).await,
            "{keeps: true}"
        );
        assert_eq!(
            answer(&schema, Request::new("mutation { write }")).await,
            "{write: false}"
        );
        // The operation picked by name decides, in a document that has both kinds.
        let both = "query Read { keeps } mutation Write { write }";
        assert_eq!(
            answer(&schema, Request::new(both).operation_name("Write")).await,
            "{write: false}"
        );
        assert_eq!(
            answer(&schema, Request::new(both).operation_name("Read")).await,
            "{keeps: true}"
        );
        // The guard is gone once the mutation has answered.
        assert!(rows.lookup(&[]).ticket.is_some());
    }
}
