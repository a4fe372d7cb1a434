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
operation!(MY_CLAUSES, "MyClauses");
operation!(CLAUSE_EDITOR, "ClauseEditor");
operation!(CREATE_CLAUSE, "CreateClause");
operation!(UPDATE_CLAUSE, "UpdateClause");
operation!(PUBLISH_CLAUSE, "PublishClause");
operation!(WITHDRAW_CLAUSE, "WithdrawClause");
operation!(PREVIEW_ANONYMISATION, "PreviewAnonymisation");
operation!(REPORT_TENDER_RESULT, "ReportTenderResult");
operation!(CPV_SUGGESTIONS, "CpvSuggestions");

/// Why the API refused an operation a form sent.
#[derive(Debug)]
pub enum Refusal {
    /// A value the user gave is not accepted; `field` is the input field's name as the form
    /// uses it (`title`, `cpvCodes`), taken from the error's `field` extension.
    Invalid { field: String, message: String },
    /// The record changed since the form was read (a stale `expectedVersion`).
    Conflict,
    /// Anything else, shown as an error page.
    Page(PageError),
}

/// Runs `operation` for the page's caller and returns its `data`. A `NOT_FOUND` error is
/// the page's 404; a `BAD_USER_INPUT` error carries the API's message for the user; anything
/// else is logged by the API and shown without detail.
pub async fn run(
    state: &AppState,
    ctx: &Ctx,
    operation: &Operation,
    variables: Value,
) -> Result<Value, PageError> {
    submit(state, ctx, operation, variables)
        .await
        .map_err(|refusal| match refusal {
            Refusal::Invalid { message, .. } => PageError::BadRequest(message),
            Refusal::Conflict => PageError::BadRequest(ctx.lang.t("editor.conflict").to_owned()),
            Refusal::Page(error) => error,
        })
}

/// Like [`run`], for forms: a refused value and a conflict come back as such, so the form
/// can show them next to what the user typed.
pub async fn submit(
    state: &AppState,
    ctx: &Ctx,
    operation: &Operation,
    variables: Value,
) -> Result<Value, Refusal> {
    let request = Request::new(operation.document)
        .operation_name(operation.name)
        .variables(Variables::from_json(variables));
    let response = crate::graphql::execute_as(state, ctx.identity.clone(), request).await;
    if let Some(error) = response.errors.first() {
        let extension = |key: &str| {
            error
                .extensions
                .as_ref()
                .and_then(|e| e.get(key))
                .map(|v| v.to_string().trim_matches('"').to_owned())
        };
        let code = extension("code").unwrap_or_default();
        let field = extension("field");
        return Err(match (code.as_str(), field) {
            ("NOT_FOUND", _) => Refusal::Page(PageError::NotFound),
            // A service's refusal names the field and is meant for the user; a document
            // the schema refuses is this app's bug.
            ("BAD_USER_INPUT", Some(field)) => Refusal::Invalid {
                field: form_field(&field).to_owned(),
                message: error.message.clone(),
            },
            ("CONFLICT", _) => Refusal::Conflict,
            ("UNAUTHENTICATED" | "FORBIDDEN", _) => Refusal::Page(PageError::Forbidden),
            ("SEARCH_UNAVAILABLE" | "RATE_LIMITED", _) => Refusal::Page(PageError::Unavailable),
            ("BAD_USER_INPUT", None) => {
                // The message is about the document, never about the caller's input.
                tracing::error!(operation = operation.name, message = %error.message, "the schema refuses a page operation");
                Refusal::Page(PageError::Internal)
            }
            _ => {
                tracing::warn!(operation = operation.name, code, "page operation failed");
                Refusal::Page(PageError::Internal)
            }
        });
    }
    response
        .data
        .into_json()
        .map_err(|_| Refusal::Page(PageError::Internal))
}

/// The form field an error's `field` path names: `input.cpvCodes[2]` and `draft.cpvCodes`
/// are both the form's `cpvCodes`.
fn form_field(path: &str) -> &str {
    let last = path.rsplit('.').next().unwrap_or(path);
    last.split('[').next().unwrap_or(last)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_paths_name_the_form_field() {
        assert_eq!(form_field("input.title"), "title");
        assert_eq!(form_field("draft.cpvCodes"), "cpvCodes");
        assert_eq!(form_field("input.labels[3]"), "labels");
        assert_eq!(form_field("input.clauses[0].outcome"), "outcome");
        assert_eq!(form_field("reason"), "reason");
    }
}
