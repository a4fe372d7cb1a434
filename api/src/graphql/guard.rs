//! Refuses documents whose cost the depth and complexity limits do not see, right after
//! parsing and before anything walks them.
//!
//! - Fragment bombs: `fragment F0 { ...F1 ...F1 }`, `F1 { ...F2 ...F2 }`, … is a kilobyte of
//!   text that expands to 2^n selections. Complexity counts `__typename` as free, so without
//!   this check validation and execution would expand all of them. The expanded size is
//!   computed with each fragment's size memoised, in time linear in the document.
//! - `_entities` lists: every representation is resolved on its own, so their number is
//!   capped like a page size.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    Name, Positioned, Request, ServerError, ServerResult, Value, Variables,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest},
    parser::types::{ExecutableDocument, FragmentDefinition, Selection, SelectionSet},
};

use super::parsed::ParsedDocuments;
use crate::error::ErrorCode;

/// Most selections a document may expand to, fragments spread out.
pub const MAX_SELECTIONS: u64 = 5_000;
/// Most representations one `_entities` call may ask for.
pub const MAX_ENTITIES: usize = 1_000;

/// The guard, with the parsed documents it shares between requests.
#[derive(Default)]
pub struct DocumentGuard {
    parsed: Arc<ParsedDocuments>,
}

impl ExtensionFactory for DocumentGuard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RequestGuard {
            parsed: Arc::clone(&self.parsed),
        })
    }
}

struct RequestGuard {
    parsed: Arc<ParsedDocuments>,
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

/// Checks a parsed document against [`MAX_SELECTIONS`] and [`MAX_ENTITIES`].
pub fn check(document: &ExecutableDocument, variables: &Variables) -> ServerResult<()> {
    let mut sizes = Sizes {
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
        check(request.parsed_query()?, &variables)?;
        next.run(ctx, request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(query: &str) -> ServerResult<()> {
        let document =
            async_graphql::parser::parse_query(query).map_err(|e| refuse(e.to_string()))?;
        check(&document, &Variables::default())
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
        assert!(document.is_ok_and(|d| check(&d, &variables).is_err()));
        let few = Variables::from_json(serde_json::json!({ "r": vec![0; 3] }));
        let document = async_graphql::parser::parse_query(
            "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }",
        );
        assert!(document.is_ok_and(|d| check(&d, &few).is_ok()));
    }
}
