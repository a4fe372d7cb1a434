//! The GraphQL operations the pages send, kept as documents in `operations/` (a test
//! validates them against `schema.graphql`), run in-process exactly as `POST /graphql` would
//! run them for the same caller.

use async_graphql::{Request, Variables};
use serde_json::Value;

use super::context::{Ctx, PageError};
use crate::startup::AppState;

/// One named operation document.
pub struct Operation {
    pub name: &'static str,
    pub document: &'static str,
}

macro_rules! operation {
    ($const:ident, $name:literal) => {
        pub const $const: Operation = Operation {
            name: $name,
            document: include_str!(concat!("operations/", $name, ".graphql")),
        };
    };
}

operation!(SEARCH_CLAUSES, "SearchClauses");
operation!(FACET_COUNTS, "FacetCounts");
operation!(CLAUSE_PAGE, "ClausePage");
operation!(BASKET_CLAUSES, "BasketClauses");
operation!(SEARCH_TEMPLATES, "SearchTemplates");
operation!(TEMPLATE_PAGE, "TemplatePage");
operation!(PROCUREMENT_STATS, "ProcurementStats");
operation!(REUSE_CLAUSE, "ReuseClause");

/// Runs `operation` for the page's caller and returns its `data`. A `NOT_FOUND` error is
/// the page's 404; a `BAD_USER_INPUT` error carries the API's message for the user; anything
/// else is logged by the API and shown without detail.
pub async fn run(
    state: &AppState,
    ctx: &Ctx,
    operation: &Operation,
    variables: Value,
) -> Result<Value, PageError> {
    let request = Request::new(operation.document)
        .operation_name(operation.name)
        .variables(Variables::from_json(variables));
    let response = crate::graphql::execute_as(state, ctx.identity.clone(), request).await;
    if let Some(error) = response.errors.first() {
        let code = error
            .extensions
            .as_ref()
            .and_then(|e| e.get("code"))
            .map(|v| v.to_string().trim_matches('"').to_owned())
            .unwrap_or_default();
        let has_field = error
            .extensions
            .as_ref()
            .is_some_and(|e| e.get("field").is_some());
        return Err(match code.as_str() {
            "NOT_FOUND" => PageError::NotFound,
            // A service's refusal names the field and is meant for the user; a document
            // the schema refuses is this app's bug.
            "BAD_USER_INPUT" if has_field => PageError::BadRequest(error.message.clone()),
            "UNAUTHENTICATED" | "FORBIDDEN" => PageError::Forbidden,
            "SEARCH_UNAVAILABLE" | "RATE_LIMITED" => PageError::Unavailable,
            "BAD_USER_INPUT" => {
                // The message is about the document, never about the caller's input.
                tracing::error!(operation = operation.name, message = %error.message, "the schema refuses a page operation");
                PageError::Internal
            }
            _ => {
                tracing::warn!(operation = operation.name, code, "page operation failed");
                PageError::Internal
            }
        });
    }
    response.data.into_json().map_err(|_| PageError::Internal)
}

/// A string field of a JSON object, `""` when absent or null.
pub fn s<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

/// An optional, non-empty string field.
pub fn opt<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

pub fn int(value: &Value, key: &str) -> i64 {
    value.get(key).and_then(Value::as_i64).unwrap_or(0)
}

pub fn float(value: &Value, key: &str) -> Option<f64> {
    value.get(key).and_then(Value::as_f64)
}

/// An array field, empty when absent or null.
pub fn list<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value
        .get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}
