//! Refuses documents whose cost the depth and complexity limits do not see, right after
//! parsing and before anything walks them.
//!
//! - Fragment bombs: `fragment F0 { ...F1 ...F1 }`, `F1 { ...F2 ...F2 }`, … is a kilobyte of
//!   text that expands to 2^n selections. Complexity counts `__typename` as free, so without
//!   this check validation and execution would expand all of them. The expanded size is
//!   computed with each fragment's size memoised, in time linear in the document.
//! - `_entities` lists: every representation is resolved on its own, so their number is
//!   capped like a page size.
//! - Depth: data selections may nest `max_depth` deep (`--max-depth`). Introspection
//!   (`__schema`, `__type`) is measured on its own and may nest [`MAX_INTROSPECTION_DEPTH`]
//!   deep, so the standard introspection query of GraphiQL, graphql-js
//!   `getIntrospectionQuery()` and code generators (its `ofType` chain nests about 14 deep)
//!   works under the default limits while hostile documents stay bounded either way.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    Name, Positioned, Request, ServerError, ServerResult, Value, Variables,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest},
    parser::types::{ExecutableDocument, FragmentDefinition, Selection, SelectionSet},
};

use super::{parsed::ParsedDocuments, persisted::PersistedQueries};
use crate::error::ErrorCode;

/// Most selections a document may expand to, fragments spread out.
pub const MAX_SELECTIONS: u64 = 5_000;
/// Most representations one `_entities` call may ask for.
pub const MAX_ENTITIES: usize = 1_000;
/// Deepest nesting inside an introspection field.
pub const MAX_INTROSPECTION_DEPTH: u64 = 24;

/// The guard, with the parsed documents it shares between requests.
pub struct DocumentGuard {
    parsed: Arc<ParsedDocuments>,
    persisted: Arc<PersistedQueries>,
    limits: Limits,
}

/// What the guard lets through.
#[derive(Clone, Copy)]
pub struct Limits {
    /// How deep data selections may nest.
    pub max_depth: u64,
    /// Whether `__schema` and `__type` are answered.
    pub introspection: bool,
}

impl DocumentGuard {
    pub fn new(limits: Limits) -> Self {
        Self {
            parsed: Arc::default(),
            persisted: Arc::default(),
            limits,
        }
    }
}

impl ExtensionFactory for DocumentGuard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RequestGuard {
            parsed: Arc::clone(&self.parsed),
            persisted: Arc::clone(&self.persisted),
            limits: self.limits,
        })
    }
}

struct RequestGuard {
    parsed: Arc<ParsedDocuments>,
    persisted: Arc<PersistedQueries>,
    limits: Limits,
}

fn refuse(message: String) -> ServerError {
    let mut error = ServerError::new(message, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", ErrorCode::BadUserInput.as_str());
    error
}

struct Sizes<'a> {
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    memo: HashMap<&'a str, u64>,
    visiting: Vec<&'a str>,
}

impl<'a> Sizes<'a> {
    /// Selections in `set` once every fragment is spread, saturating past the limit.
    fn of(&mut self, set: &'a SelectionSet) -> u64 {
        let mut total: u64 = 0;
        for selection in &set.items {
            let size = match &selection.node {
                Selection::Field(field) => 1 + self.of(&field.node.selection_set.node),
                Selection::InlineFragment(inline) => self.of(&inline.node.selection_set.node),
                Selection::FragmentSpread(spread) => {
                    self.fragment(spread.node.fragment_name.node.as_str())
                }
            };
            total = total.saturating_add(size);
            if total > MAX_SELECTIONS {
                return total;
            }
        }
        total
    }

    fn fragment(&mut self, name: &'a str) -> u64 {
        if let Some(size) = self.memo.get(name) {
            return *size;
        }
        // A cycle never ends; validation names it, this only stops the walk.
        if self.visiting.contains(&name) {
            return 0;
        }
        let Some((key, fragment)) = self.fragments.get_key_value(name) else {
            return 0;
        };
        self.visiting.push(key.as_str());
        let size = self.of(&fragment.node.selection_set.node);
        self.visiting.pop();
        self.memo.insert(key.as_str(), size);
        size
    }
}

/// How deep a selection set nests: its data fields, and the deepest introspection subtree
/// (from its `__schema` or `__type` field down). Fragments are measured once each.
#[derive(Clone, Copy, Default)]
struct Depth {
    data: u64,
    introspection: u64,
}

struct Depths<'a> {
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    memo: HashMap<&'a str, Depth>,
    visiting: Vec<&'a str>,
}

impl<'a> Depths<'a> {
    fn of(&mut self, set: &'a SelectionSet) -> Depth {
        let mut deepest = Depth::default();
        for selection in &set.items {
            let depth = match &selection.node {
                Selection::Field(field) => {
                    let inner = self.of(&field.node.selection_set.node);
                    if matches!(field.node.name.node.as_str(), "__schema" | "__type") {
                        Depth {
                            data: 0,
                            introspection: 1 + inner.data.max(inner.introspection),
                        }
                    } else {
                        Depth {
                            data: 1 + inner.data,
                            introspection: inner.introspection,
                        }
                    }
                }
                Selection::InlineFragment(inline) => self.of(&inline.node.selection_set.node),
                Selection::FragmentSpread(spread) => {
                    self.fragment(spread.node.fragment_name.node.as_str())
                }
            };
            deepest.data = deepest.data.max(depth.data);
            deepest.introspection = deepest.introspection.max(depth.introspection);
        }
        deepest
    }

    fn fragment(&mut self, name: &'a str) -> Depth {
        if let Some(depth) = self.memo.get(name) {
            return *depth;
        }
        if self.visiting.contains(&name) {
            return Depth::default();
        }
        let Some((key, fragment)) = self.fragments.get_key_value(name) else {
            return Depth::default();
        };
        self.visiting.push(key.as_str());
        let depth = self.of(&fragment.node.selection_set.node);
        self.visiting.pop();
        self.memo.insert(key.as_str(), depth);
        depth
    }
}

/// The number of representations `_entities` is called with anywhere in `set`.
fn entity_count(set: &SelectionSet, variables: &Variables) -> usize {
    let mut count = 0;
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                if field.node.name.node == "_entities" {
                    for (name, value) in &field.node.arguments {
                        if name.node == "representations" {
                            count += match value
                                .node
                                .clone()
                                .into_const_with(|var| variables.get(&var).cloned().ok_or(()))
                            {
                                Ok(Value::List(items)) => items.len(),
                                _ => 0,
                            };
                        }
                    }
                }
                count += entity_count(&field.node.selection_set.node, variables);
            }
            Selection::InlineFragment(inline) => {
                count += entity_count(&inline.node.selection_set.node, variables);
            }
            Selection::FragmentSpread(_) => {}
        }
    }
    count
}

/// Checks a parsed document against [`MAX_SELECTIONS`], [`MAX_ENTITIES`], the data depth
/// and [`MAX_INTROSPECTION_DEPTH`] for introspection (refused when it is turned off).
pub fn check(
    document: &ExecutableDocument,
    variables: &Variables,
    limits: Limits,
) -> ServerResult<()> {
    let mut sizes = Sizes {
        fragments: &document.fragments,
        memo: HashMap::new(),
        visiting: Vec::new(),
    };
    let mut depths = Depths {
        fragments: &document.fragments,
        memo: HashMap::new(),
        visiting: Vec::new(),
    };
    for (_, operation) in document.operations.iter() {
        let set = &operation.node.selection_set.node;
        if sizes.of(set) > MAX_SELECTIONS {
            return Err(refuse(format!(
                "the query expands to more than {MAX_SELECTIONS} selections"
            )));
        }
        let depth = depths.of(set);
        if depth.introspection > 0 && !limits.introspection {
            return Err(refuse(
                "introspection is turned off on this server; the schema is served at /schema.graphql"
                    .to_owned(),
            ));
        }
        if depth.data > limits.max_depth || depth.introspection > MAX_INTROSPECTION_DEPTH {
            return Err(refuse("Query is nested too deep.".to_owned()));
        }
        let entities = entity_count(set, variables);
        if entities > MAX_ENTITIES {
            return Err(refuse(format!(
                "_entities takes at most {MAX_ENTITIES} representations, not {entities}"
            )));
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl Extension for RequestGuard {
    /// Runs before async-graphql's own recursion-depth and directive checks, which walk
    /// every expanded path and would themselves be exponential on a fragment bomb. The
    /// document is parsed here (or taken from the documents parsed before) and handed on,
    /// so it is parsed at most once; it is checked on every request, with its variables.
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        // A persisted query's text comes from its hash, then passes the same checks.
        self.persisted.resolve(&mut request)?;
        let document = match self.parsed.get(&request.query) {
            Some(document) => document,
            None => {
                let document = async_graphql::parser::parse_query(&request.query)?;
                self.parsed.insert(&request.query, &document);
                document
            }
        };
        request.set_parsed_query(document);
        let variables = request.variables.clone();
        check(request.parsed_query()?, &variables, self.limits)?;
        next.run(ctx, request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(query: &str) -> ServerResult<()> {
        let document =
            async_graphql::parser::parse_query(query).map_err(|e| refuse(e.to_string()))?;
        check(&document, &Variables::default(), LIMITS)
    }

    const LIMITS: Limits = Limits {
        max_depth: 12,
        introspection: true,
    };

    #[test]
    fn introspection_is_measured_apart_from_data() {
        let nest = |n: usize| {
            let mut query = String::new();
            for _ in 0..n {
                query.push_str("derivedFrom { clause { ");
            }
            query.push_str("id");
            for _ in 0..n {
                query.push_str(" } }");
            }
            format!("{{ clause(id: \"x\") {{ {query} }} }}")
        };
        assert!(checked(&nest(5)).is_ok(), "depth 11");
        assert!(checked(&nest(6)).is_err(), "depth 13");
        // The standard introspection query nests about 14 deep, inside a fragment chain.
        let mut type_ref = String::from("kind name");
        for _ in 0..8 {
            type_ref = format!("kind name ofType {{ {type_ref} }}");
        }
        let introspection = format!(
            "query {{ __schema {{ types {{ ...FullType }} }} }} \
             fragment FullType on __Type {{ fields {{ type {{ ...TypeRef }} }} }} \
             fragment TypeRef on __Type {{ {type_ref} }}"
        );
        assert!(checked(&introspection).is_ok());
        // Bounded all the same.
        let mut endless = String::from("name");
        for _ in 0..30 {
            endless = format!("ofType {{ {endless} }}");
        }
        assert!(checked(&format!("{{ __type(name: \"Clause\") {{ {endless} }} }}")).is_err());
    }

    #[test]
    fn fragment_bombs_are_measured_without_expanding_them() {
        let mut bomb = String::from("query { ...F0 }");
        for i in 0..40 {
            bomb.push_str(&format!(
                " fragment F{i} on Query {{ ...F{n} ...F{n} }}",
                n = i + 1
            ));
        }
        bomb.push_str(" fragment F40 on Query { __typename }");
        let started = std::time::Instant::now();
        assert!(checked(&bomb).is_err(), "2^40 selections accepted");
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        // An ordinary query with fragments passes.
        assert!(checked("query { ...A ...A } fragment A on Query { viewer { roles } }").is_ok());
        // A cycle stops the walk (validation reports it).
        assert!(
            checked("query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }")
                .is_ok()
        );
    }

    #[test]
    fn entity_lists_are_capped_inline_and_in_variables() {
        let many = vec!["{ __typename: \"Clause\", id: \"x\" }"; MAX_ENTITIES + 1].join(", ");
        let inline = format!("{{ _entities(representations: [{many}]) {{ __typename }} }}");
        assert!(checked(&inline).is_err());
        let document = async_graphql::parser::parse_query(
            "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }",
        )
        .map_err(|e| e.to_string());
        let variables = Variables::from_json(serde_json::json!({ "r": vec![0; MAX_ENTITIES + 1] }));
        assert!(document.is_ok_and(|d| check(&d, &variables, LIMITS).is_err()));
        let few = Variables::from_json(serde_json::json!({ "r": vec![0; 3] }));
        let document = async_graphql::parser::parse_query(
            "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }",
        );
        assert!(document.is_ok_and(|d| check(&d, &few, LIMITS).is_ok()));
    }
}
