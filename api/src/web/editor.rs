//! Publishing from the web app, for a signed-in publisher: the organisation's clauses, a
//! form for every field of a draft (the API's refusal shown next to the field it names), a
//! preview that marks what the anonymiser will replace before anything is published, and
//! publish and withdraw. A save against a stale revision keeps what was typed and shows
//! the newer saved text beside it.

use std::collections::HashMap;

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};
use maud::{Markup, html};
use serde_json::{Map, Value, json};

use super::{
    Lang,
    context::{Ctx, PageError},
    layout::{self, csrf_field, date},
    ops::{self, Refusal, int, list, opt, s},
};
use crate::{
    auth::{Identity, Role},
    startup::AppState,
};

/// Free-text fields in the order the form shows them: (API name, label key, textarea rows;
/// 0 is a one-line input).
const TEXTS: [(&str, &str, u8); 6] = [
    ("title", "clause.title", 0),
    ("purpose", "clause.purpose", 3),
    ("text", "clause.text", 8),
    ("scoringRule", "clause.scoring_rule", 3),
    ("verification", "clause.verification", 3),
    ("followUp", "clause.follow_up", 3),
];

/// Single choices: (API name, taxonomy, label key, required on creation).
const CHOICES: [(&str, &str, &str, bool); 6] = [
    ("language", "Language", "facet.language", true),
    ("kind", "ClauseKind", "facet.kind", false),
    ("ambitionLevel", "AmbitionLevel", "facet.level", false),
    ("productGroup", "ProductGroup", "facet.group", false),
    ("origin", "CriteriaOrigin", "editor.origin", false),
    (
        "applicability",
        "Applicability",
        "editor.applicability",
        false,
    ),
];

/// Several choices, as checkboxes: (API name, taxonomy, legend key).
const MULTI: [(&str, &str, &str); 2] = [
    (
        "environmentalImpacts",
        "EnvironmentalImpact",
        "editor.environmental_impacts",
    ),
    (
        "socialObjectives",
        "SocialObjective",
        "editor.social_objectives",
    ),
];

/// The longest form body read; the API's own limits are far below it.
const MAX_BODY: usize = 256 * 1024;

/// A clause as the form holds it: every field as typed.
#[derive(Debug, Default, Clone)]
pub struct ClauseForm {
    values: HashMap<String, String>,
    multi: HashMap<String, Vec<String>>,
}

/// A form value the API would not even parse, found before it is sent.
type FieldError = (String, String);

impl ClauseForm {
    fn get(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }

    fn chosen(&self, name: &str, value: &str) -> bool {
        self.multi
            .get(name)
            .is_some_and(|values| values.iter().any(|v| v == value))
    }

    /// The form filled from a draft as `ClauseEditor` reads it.
    fn from_draft(draft: &Value) -> Self {
        let mut form = Self::default();
        for (name, ..) in TEXTS {
            form.values.insert(name.into(), s(draft, name).into());
        }
        for (name, ..) in CHOICES {
            form.values.insert(name.into(), s(draft, name).into());
        }
        for (name, ..) in MULTI {
            let values = list(draft, name)
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            form.multi.insert(name.into(), values);
        }
        let strings = |key: &str| -> Vec<&str> {
            list(draft, key).iter().filter_map(Value::as_str).collect()
        };
        form.values
            .insert("cpvCodes".into(), strings("cpvCodes").join(", "));
        form.values
            .insert("labels".into(), strings("labels").join("\n"));
        form.values
            .insert("licence".into(), s(draft, "licence").into());
        form.values
            .insert("lastReviewed".into(), s(draft, "lastReviewed").into());
        form
    }

    /// Reads a posted form; also returns the other fields (`csrf`, `action`, …).
    fn from_body(body: &[u8]) -> (Self, HashMap<String, String>) {
        let mut form = Self::default();
        let mut other = HashMap::new();
        for (key, value) in form_urlencoded::parse(body).take(200) {
            let key = key.as_ref();
            if MULTI.iter().any(|(name, ..)| *name == key) {
                form.multi
                    .entry(key.to_owned())
                    .or_default()
                    .push(value.into_owned());
            } else if TEXTS.iter().any(|(name, ..)| *name == key)
                || CHOICES.iter().any(|(name, ..)| *name == key)
                || ["cpvCodes", "labels", "licence", "lastReviewed"].contains(&key)
            {
                form.values.insert(key.to_owned(), value.into_owned());
            } else {
                other.insert(key.to_owned(), value.into_owned());
            }
        }
        (form, other)
    }

    /// The API input: `CreateClauseInput` when `create`, else the fields of
    /// `UpdateClauseInput` (texts always sent, so emptying a field clears it). Values the
    /// schema would refuse outright (an unknown choice, a malformed date) are reported here
    /// with their field.
    fn input(&self, lang: Lang, create: bool) -> Result<Map<String, Value>, FieldError> {
        let mut input = Map::new();
        for (name, ..) in TEXTS {
            let value = self.get(name);
            if create && value.trim().is_empty() && !matches!(name, "title" | "text") {
                continue;
            }
            input.insert(name.into(), value.into());
        }
        for (name, taxonomy, _, required) in CHOICES {
            let value = self.get(name);
            if value.is_empty() {
                if required && create {
                    return Err((name.into(), lang.t("editor.choose").into()));
                }
                continue;
            }
            if !Lang::values(taxonomy).iter().any(|v| v == value) {
                return Err((name.into(), lang.t("editor.choose").into()));
            }
            input.insert(name.into(), value.into());
        }
        for (name, taxonomy, _) in MULTI {
            let values = self.multi.get(name).map_or(&[][..], Vec::as_slice);
            if let Some(unknown) = values.iter().find(|v| !Lang::values(taxonomy).contains(v)) {
                tracing::debug!(field = name, value = %unknown, "unknown choice posted");
                return Err((name.into(), lang.t("editor.choose").into()));
            }
            input.insert(name.into(), json!(values));
        }
        let cpv: Vec<&str> = self
            .get("cpvCodes")
            .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
            .filter(|c| !c.is_empty())
            .collect();
        input.insert("cpvCodes".into(), json!(cpv));
        let labels: Vec<&str> = self
            .get("labels")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        input.insert("labels".into(), json!(labels));
        let licence = self.get("licence").trim();
        if !licence.is_empty() {
            input.insert("licence".into(), licence.into());
        }
        let reviewed = self.get("lastReviewed").trim();
        if !reviewed.is_empty() {
            if chrono::NaiveDate::parse_from_str(reviewed, "%Y-%m-%d").is_err() {
                return Err(("lastReviewed".into(), lang.t("editor.date_format").into()));
            }
            input.insert("lastReviewed".into(), reviewed.into());
        }
        Ok(input)
    }
}

/// The publisher's organisation, or the page to show instead: sign-in for a visitor, a
/// refusal for a caller who may not publish.
pub(super) fn publisher(ctx: &Ctx) -> Result<uuid::Uuid, Box<Response>> {
    match &ctx.identity {
        Identity::Anonymous => Err(Box::new(ctx.redirect(&ctx.link("/sign-in")))),
        Identity::User(caller) => match caller.org {
            Some(org) if caller.has(Role::Publisher) => Ok(org),
            _ => Err(Box::new(PageError::Forbidden.render(ctx))),
        },
    }
}

#[derive(serde::Deserialize)]
pub struct ListQuery {
    after: Option<String>,
}

/// `GET /{lang}/mine`: the organisation's drafts, published and withdrawn clauses.
pub async fn mine(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(query): Query<ListQuery>,
) -> Response {
    let org = match publisher(&ctx) {
        Ok(org) => org,
        Err(response) => return *response,
    };
    let variables = json!({ "organizationId": org.to_string(), "after": query.after });
    let data = match ops::run(&state, &ctx, &ops::MY_CLAUSES, variables).await {
        Ok(data) => data,
        Err(error) => return error.render(&ctx),
    };
    let lang = ctx.lang;
    let name = data["organization"]["name"].as_str().unwrap_or("");
    let clauses = &data["clauses"];
    let nodes = list(clauses, "nodes");
    let groups = ["DRAFT", "PUBLISHED", "WITHDRAWN"].map(|status| {
        let rows: Vec<&Value> = nodes.iter().filter(|n| s(n, "status") == status).collect();
        (status, rows)
    });
    let body = html! {
        p class="kicker" { (name) }
        h1 { (lang.t("mine.title")) }
        ul class="actions" {
            li { a class="button" href=(ctx.link("/mine/new")) { (lang.t("mine.new")) } }
            li { a class="button secondary" href=(ctx.link("/mine/results/new")) { (lang.t("results.new")) } }
        }
        p { (lang.plural("count.clauses", int(clauses, "totalCount"))) }
        @for (status, rows) in &groups {
            @if !rows.is_empty() {
                h2 { (lang.label("PublicationStatus", status)) }
                table {
                    thead { tr {
                        th scope="col" { (lang.t("clause.title")) }
                        th scope="col" { (lang.t("facet.language")) }
                        th scope="col" { (lang.t("facet.kind")) }
                        th scope="col" { (lang.t("mine.published_version")) }
                        th scope="col" { (lang.t("mine.updated")) }
                    } }
                    tbody {
                        @for row in rows {
                            @let id = s(row, "id");
                            @let draft = &row["draft"];
                            @let title = opt(draft, "title").or(opt(&row["latest"], "title")).unwrap_or("–");
                            tr {
                                td { a href=(ctx.link(&format!("/mine/{id}"))) { (title) } }
                                td { (lang.label("Language", s(draft, "language"))) }
                                td { @if let Some(kind) = opt(draft, "kind") { (lang.label("ClauseKind", kind)) } @else { "–" } }
                                td {
                                    @match row["latest"]["version"].as_i64() {
                                        Some(v) => a href=(ctx.link(&format!("/clauses/{id}"))) { (lang.f("mine.version", &[("n", &v.to_string())])) },
                                        None => "–",
                                    }
                                }
                                td { (date(s(row, "updatedAt"))) }
                            }
                        }
                    }
                }
            }
        }
        @if nodes.is_empty() { p { (lang.t("mine.empty")) } }
        @if clauses["pageInfo"]["hasNextPage"].as_bool() == Some(true) {
            @let cursor = clauses["pageInfo"]["endCursor"].as_str().unwrap_or("");
            p class="paging" { a href={ (ctx.link("/mine")) "?after=" (urlencode(cursor)) } { (lang.t("search.next_page")) } }
        }
    };
    ctx.html(
        StatusCode::OK,
        layout::page(&ctx, lang.t("mine.title"), body),
    )
}

fn urlencode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// What the editor shows besides the form.
#[derive(Default)]
struct Editor<'a> {
    /// The clause as `ClauseEditor` read it; `None` for a new clause.
    clause: Option<&'a Value>,
    /// The revision the next save must name.
    revision: Option<i64>,
    error: Option<FieldError>,
    /// The saved draft that replaced the one this form was read from.
    conflict: Option<&'a Value>,
    notice: Option<&'static str>,
    preview: Option<Value>,
    /// Withdrawal reason as typed, with its error.
    withdraw_error: Option<(String, String)>,
}

/// `GET /{lang}/mine/new`.
pub async fn new_page(ctx: Ctx) -> Response {
    if let Err(response) = publisher(&ctx) {
        return *response;
    }
    let mut form = ClauseForm::default();
    form.values.insert("language".into(), ctx.lang.api().into());
    render(&ctx, &form, Editor::default(), StatusCode::OK)
}

/// The clause form a publisher posted with this browser's CSRF token, and its other fields.
fn clause_form(
    ctx: &Ctx,
    body: &[u8],
) -> Result<(ClauseForm, HashMap<String, String>), Box<Response>> {
    publisher(ctx)?;
    if body.len() > MAX_BODY {
        let error = PageError::BadRequest(ctx.lang.t("error.bad_form").into());
        return Err(Box::new(error.render(ctx)));
    }
    let (form, other) = ClauseForm::from_body(body);
    if !ctx.csrf_ok(other.get("csrf").map(String::as_str)) {
        return Err(Box::new(PageError::StaleForm.render(ctx)));
    }
    Ok((form, other))
}

/// `POST /{lang}/mine/new`: creates the draft (or previews the text without saving).
pub async fn create(State(state): State<AppState>, ctx: Ctx, body: Bytes) -> Response {
    let (form, other) = match clause_form(&ctx, &body) {
        Ok(read) => read,
        Err(response) => return *response,
    };
    if other.get("action").map(String::as_str) == Some("preview") {
        return preview_response(&state, &ctx, &form, None, &other).await;
    }
    let input = match form.input(ctx.lang, true) {
        Ok(input) => input,
        Err(error) => return refused(&ctx, &form, Editor::default(), error),
    };
    match ops::submit(&state, &ctx, &ops::CREATE_CLAUSE, json!({ "input": input })).await {
        Ok(data) => {
            let id = s(&data["createClause"]["clause"], "id");
            ctx.redirect(&ctx.link(&format!("/mine/{id}?notice=created")))
        }
        Err(Refusal::Invalid { field, message }) => {
            refused(&ctx, &form, Editor::default(), (field, message))
        }
        Err(Refusal::Conflict) => PageError::Internal.render(&ctx),
        Err(Refusal::Page(error)) => error.render(&ctx),
    }
}

#[derive(serde::Deserialize)]
pub struct EditQuery {
    notice: Option<String>,
}

async fn load(state: &AppState, ctx: &Ctx, id: &str) -> Result<Value, PageError> {
    let data = ops::run(state, ctx, &ops::CLAUSE_EDITOR, json!({ "id": id }))
        .await
        .map_err(|error| match error {
            // An id that is no id at all is a page that does not exist.
            PageError::BadRequest(_) => PageError::NotFound,
            other => other,
        })?;
    let clause = data["clause"].clone();
    // Another organisation's clause has no draft for this caller: not theirs to edit.
    if clause.is_null() || clause["draft"].is_null() {
        return Err(PageError::NotFound);
    }
    Ok(clause)
}

/// `GET /{lang}/mine/{id}`: the editor of one clause.
pub async fn edit_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((_, id)): Path<(String, String)>,
    Query(query): Query<EditQuery>,
) -> Response {
    if let Err(response) = publisher(&ctx) {
        return *response;
    }
    let clause = match load(&state, &ctx, &id).await {
        Ok(clause) => clause,
        Err(error) => return error.render(&ctx),
    };
    let form = ClauseForm::from_draft(&clause["draft"]);
    let preview = preview(&state, &ctx, &form).await.ok();
    let notice = match query.notice.as_deref() {
        Some("created") => Some("editor.created"),
        Some("saved") => Some("editor.saved"),
        Some("published") => Some("editor.published"),
        Some("withdrawn") => Some("editor.withdrawn"),
        Some("reused") => Some("editor.reused"),
        _ => None,
    };
    let editor = Editor {
        clause: Some(&clause),
        revision: Some(int(&clause, "revision")),
        notice,
        preview,
        ..Editor::default()
    };
    render(&ctx, &form, editor, StatusCode::OK)
}

/// `POST /{lang}/mine/{id}`: saves the draft, or previews it without saving.
pub async fn save(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let (form, other) = match clause_form(&ctx, &body) {
        Ok(read) => read,
        Err(response) => return *response,
    };
    let clause = match load(&state, &ctx, &id).await {
        Ok(clause) => clause,
        Err(error) => return error.render(&ctx),
    };
    let expected = other
        .get("expectedVersion")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(-1);
    if other.get("action").map(String::as_str) == Some("preview") {
        return preview_response(&state, &ctx, &form, Some(&clause), &other).await;
    }
    let editor = || Editor {
        clause: Some(&clause),
        revision: Some(expected),
        ..Editor::default()
    };
    let mut input = match form.input(ctx.lang, false) {
        Ok(input) => input,
        Err(error) => return refused(&ctx, &form, editor(), error),
    };
    input.insert("id".into(), id.clone().into());
    input.insert("expectedVersion".into(), expected.into());
    match ops::submit(&state, &ctx, &ops::UPDATE_CLAUSE, json!({ "input": input })).await {
        Ok(_) => ctx.redirect(&ctx.link(&format!("/mine/{id}?notice=saved"))),
        Err(Refusal::Invalid { field, message }) => {
            refused(&ctx, &form, editor(), (field, message))
        }
        // Someone saved first: keep what this user typed, show what was saved, and let the
        // next save go against the newer revision.
        Err(Refusal::Conflict) => {
            let editor = Editor {
                clause: Some(&clause),
                revision: Some(int(&clause, "revision")),
                conflict: Some(&clause["draft"]),
                ..Editor::default()
            };
            render(&ctx, &form, editor, StatusCode::CONFLICT)
        }
        Err(Refusal::Page(error)) => error.render(&ctx),
    }
}

/// A short action form (publish, withdraw): a publisher's, with this browser's CSRF token.
fn action_form(ctx: &Ctx, body: &[u8]) -> Result<HashMap<String, String>, Box<Response>> {
    publisher(ctx)?;
    let fields: HashMap<String, String> = form_urlencoded::parse(body)
        .take(10)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if !ctx.csrf_ok(fields.get("csrf").map(String::as_str)) {
        return Err(Box::new(PageError::StaleForm.render(ctx)));
    }
    Ok(fields)
}

/// The editor as the clause is saved now, after an action the API refused: a refused value
/// at its field (or at the withdrawal reason, given as typed), a conflict as a notice.
async fn after_refusal(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    refusal: Refusal,
    reason: Option<&str>,
) -> Response {
    let clause = match load(state, ctx, id).await {
        Ok(clause) => clause,
        Err(error) => return error.render(ctx),
    };
    let form = ClauseForm::from_draft(&clause["draft"]);
    let mut editor = Editor {
        clause: Some(&clause),
        revision: Some(int(&clause, "revision")),
        ..Editor::default()
    };
    let status = match refusal {
        Refusal::Invalid { field, message } => {
            match reason {
                Some(reason) => editor.withdraw_error = Some((reason.to_owned(), message)),
                // What publishing needs (a kind, a CPV code, …) is shown at that field.
                None => editor.error = Some((field, message)),
            }
            StatusCode::BAD_REQUEST
        }
        Refusal::Conflict => {
            editor.notice = Some("editor.publish_conflict");
            StatusCode::CONFLICT
        }
        Refusal::Page(error) => return error.render(ctx),
    };
    render(ctx, &form, editor, status)
}

/// `POST /{lang}/mine/{id}/publish`.
pub async fn publish(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let fields = match action_form(&ctx, &body) {
        Ok(fields) => fields,
        Err(response) => return *response,
    };
    let expected = fields
        .get("expectedVersion")
        .and_then(|v| v.parse::<i64>().ok());
    let variables = json!({ "id": id, "expectedVersion": expected });
    match ops::submit(&state, &ctx, &ops::PUBLISH_CLAUSE, variables).await {
        Ok(_) => ctx.redirect(&ctx.link(&format!("/mine/{id}?notice=published"))),
        Err(refusal) => after_refusal(&state, &ctx, &id, refusal, None).await,
    }
}

/// `POST /{lang}/mine/{id}/withdraw`.
pub async fn withdraw(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let fields = match action_form(&ctx, &body) {
        Ok(fields) => fields,
        Err(response) => return *response,
    };
    let reason = fields.get("reason").map_or("", |r| r.trim());
    let expected = fields
        .get("expectedVersion")
        .and_then(|v| v.parse::<i64>().ok());
    let refusal = if reason.is_empty() {
        Refusal::Invalid {
            field: "reason".into(),
            message: ctx.lang.t("editor.reason_missing").into(),
        }
    } else {
        let variables = json!({ "id": id, "reason": reason, "expectedVersion": expected });
        match ops::submit(&state, &ctx, &ops::WITHDRAW_CLAUSE, variables).await {
            Ok(_) => return ctx.redirect(&ctx.link(&format!("/mine/{id}?notice=withdrawn"))),
            Err(refusal) => refusal,
        }
    };
    after_refusal(&state, &ctx, &id, refusal, Some(reason)).await
}

fn refused(ctx: &Ctx, form: &ClauseForm, mut editor: Editor<'_>, error: FieldError) -> Response {
    editor.error = Some(error);
    render(ctx, form, editor, StatusCode::BAD_REQUEST)
}

/// The anonymisation preview of the form's text fields, as the API computes it.
async fn preview(state: &AppState, ctx: &Ctx, form: &ClauseForm) -> Result<Value, Refusal> {
    let language = form.get("language");
    let language = if Lang::values("Language").iter().any(|v| v == language) {
        language
    } else {
        ctx.lang.api()
    };
    let mut variables = Map::new();
    variables.insert("language".into(), language.into());
    for (name, ..) in TEXTS {
        let text = form.get(name);
        if !text.trim().is_empty() {
            variables.insert(name.into(), text.into());
            let flag = format!("check{}{}", name[..1].to_uppercase(), &name[1..]);
            variables.insert(flag, true.into());
        }
    }
    let data = ops::submit(
        state,
        ctx,
        &ops::PREVIEW_ANONYMISATION,
        Value::Object(variables),
    )
    .await?;
    // Each alias is a list with the one field it was asked for.
    let fields = TEXTS
        .iter()
        .filter_map(|(name, ..)| Some(((*name).to_owned(), data.get(*name)?.get(0)?.clone())))
        .collect();
    Ok(Value::Object(fields))
}

/// A preview asked for with the form's "check" button, or by the page's script
/// (`partial=1`: only the preview section).
async fn preview_response(
    state: &AppState,
    ctx: &Ctx,
    form: &ClauseForm,
    clause: Option<&Value>,
    other: &HashMap<String, String>,
) -> Response {
    let (preview, error) = match preview(state, ctx, form).await {
        Ok(preview) => (Some(preview), None),
        Err(Refusal::Invalid { field, message }) => (None, Some((field, message))),
        Err(Refusal::Conflict) => (None, None),
        Err(Refusal::Page(error)) => return error.render(ctx),
    };
    if other.get("partial").map(String::as_str) == Some("1") {
        let mut response =
            Html(preview_section(ctx, preview.as_ref(), form).into_string()).into_response();
        ctx.add_cookies(&mut response);
        return response;
    }
    let expected = other
        .get("expectedVersion")
        .and_then(|v| v.parse::<i64>().ok());
    let editor = Editor {
        clause,
        revision: expected,
        error,
        preview,
        ..Editor::default()
    };
    render(ctx, form, editor, StatusCode::OK)
}

/// The form field's element id.
fn field_id(name: &str) -> String {
    format!("f-{name}")
}

fn render(ctx: &Ctx, form: &ClauseForm, editor: Editor<'_>, status: StatusCode) -> Response {
    let lang = ctx.lang;
    let id = editor.clause.map(|c| s(c, "id"));
    let action = match id {
        Some(id) => ctx.link(&format!("/mine/{id}")),
        None => ctx.link("/mine/new"),
    };
    let title = match id {
        Some(_) => lang.f("editor.edit_title", &[("title", form.get("title"))]),
        None => lang.t("editor.new_title").to_owned(),
    };
    let error = editor.error.as_ref();
    let error_for = |name: &str| {
        error
            .filter(|(field, _)| field == name)
            .map(|(_, m)| m.as_str())
    };
    // The API names fields this form does not have (rarely): show those at the top.
    let known = |name: &str| {
        TEXTS.iter().any(|(n, ..)| *n == name)
            || CHOICES.iter().any(|(n, ..)| *n == name)
            || MULTI.iter().any(|(n, ..)| *n == name)
            || ["cpvCodes", "labels", "licence", "lastReviewed"].contains(&name)
    };
    let status_value = editor.clause.map_or("DRAFT", |c| s(c, "status"));
    let body = html! {
        p { a href=(ctx.link("/mine")) { "← " (lang.t("mine.title")) } }
        h1 { (title) }
        p class="badges" {
            span class="badge" { (lang.label("PublicationStatus", status_value)) }
            @if let Some(version) = editor.clause.and_then(|c| c["latest"]["version"].as_i64()) {
                " " a href=(ctx.link(&format!("/clauses/{}", id.unwrap_or_default()))) { (lang.f("mine.version", &[("n", &version.to_string())])) }
            }
        }
        @if let Some(key) = editor.notice {
            div class="notice" role="status" { p { (lang.t(key)) } }
        }
        @if let Some((field, message)) = error {
            div class="notice error-summary" role="alert" tabindex="-1" id="error-summary" {
                h2 { (lang.t("editor.error_summary")) }
                p {
                    @if known(field) { a href={ "#" (field_id(field)) } { (field_label(lang, field)) ": " (message) } }
                    @else { (message) }
                }
            }
        }
        @if let Some(saved) = editor.conflict {
            (conflict_panel(lang, saved, form))
        }
        @if let Some(withdrawal) = editor.clause.map(|c| &c["withdrawal"]).filter(|w| !w.is_null()) {
            div class="notice" {
                h2 { (lang.t("clause.withdrawn")) }
                p { (s(withdrawal, "reason")) " (" (date(s(withdrawal, "at"))) ")" }
            }
        }
        div class="editor-layout" {
        form method="post" action=(action) class="editor" id="editor" data-preview novalidate {
            (csrf_field(ctx))
            @if let Some(revision) = editor.revision {
                input type="hidden" name="expectedVersion" value=(revision);
            }
            @for (name, label, rows) in TEXTS {
                (text_field(lang, form, name, label, rows, error_for(name)))
            }
            div class="grid" {
                @for (name, taxonomy, label, required) in CHOICES {
                    (choice_field(lang, form, name, taxonomy, label, required, error_for(name)))
                }
            }
            @for (name, taxonomy, legend) in MULTI {
                (multi_field(lang, form, name, taxonomy, legend, error_for(name)))
            }
            (plain_field(lang, form, "cpvCodes", "editor.cpv_codes", Some("editor.cpv_hint"), "text", error_for("cpvCodes")))
            (cpv_finder(ctx, "f-cpvCodes"))
            (labels_field(lang, form, error_for("labels")))
            div class="grid" {
                (plain_field(lang, form, "licence", "editor.licence", None, "text", error_for("licence")))
                (plain_field(lang, form, "lastReviewed", "editor.last_reviewed", Some("editor.date_hint"), "date", error_for("lastReviewed")))
            }
            ul class="actions" {
                li { button type="submit" name="action" value="save" { (lang.t(if id.is_some() { "editor.save" } else { "editor.create" })) } }
                li { button type="submit" name="action" value="preview" class="secondary" { (lang.t("editor.check")) } }
            }
        }
        (preview_section(ctx, editor.preview.as_ref(), form))
        }
        @if let (Some(id), Some(clause)) = (id, editor.clause) {
            (publish_section(ctx, id, clause, editor.revision))
            @if status_value == "PUBLISHED" {
                (withdraw_section(ctx, id, editor.revision, editor.withdraw_error.as_ref()))
            }
        }
    };
    ctx.html(status, layout::page(ctx, &title, body))
}

fn field_label(lang: Lang, name: &str) -> &'static str {
    TEXTS
        .iter()
        .find(|(n, ..)| *n == name)
        .map(|(_, key, _)| *key)
        .or_else(|| CHOICES.iter().find(|(n, ..)| *n == name).map(|c| c.2))
        .or_else(|| MULTI.iter().find(|(n, ..)| *n == name).map(|m| m.2))
        .map_or_else(
            || match name {
                "cpvCodes" => lang.t("editor.cpv_codes"),
                "labels" => lang.t("editor.labels"),
                "licence" => lang.t("editor.licence"),
                "lastReviewed" => lang.t("editor.last_reviewed"),
                _ => lang.t("editor.field"),
            },
            |key| lang.t(key),
        )
}

/// The ids the field's description and error carry, for `aria-describedby`.
pub(super) fn described_by(name: &str, hint: bool, error: bool) -> Option<String> {
    let mut ids = Vec::new();
    if hint {
        ids.push(format!("{}-hint", field_id(name)));
    }
    if error {
        ids.push(format!("{}-error", field_id(name)));
    }
    (!ids.is_empty()).then(|| ids.join(" "))
}

fn error_line(name: &str, error: Option<&str>) -> Markup {
    html! {
        @if let Some(message) = error {
            p class="error" id={ (field_id(name)) "-error" } { (message) }
        }
    }
}

fn text_field(
    lang: Lang,
    form: &ClauseForm,
    name: &str,
    label: &str,
    rows: u8,
    error: Option<&str>,
) -> Markup {
    let id = field_id(name);
    let hint_key = format!("editor.hint.{name}");
    let required = matches!(name, "title" | "text");
    html! {
        div class={ "field" @if error.is_some() { " invalid" } } {
            label for=(id) { (lang.t(label)) @if required { " " span class="hint" { (lang.t("editor.required")) } } }
            p class="hint" id={ (id) "-hint" } { (lang.t(&hint_key)) }
            (error_line(name, error))
            @if rows == 0 {
                input type="text" id=(id) name=(name) value=(form.get(name)) required[required]
                    aria-describedby=[described_by(name, true, error.is_some())]
                    aria-invalid=[error.map(|_| "true")];
            } @else {
                textarea id=(id) name=(name) rows=(rows) required[required]
                    aria-describedby=[described_by(name, true, error.is_some())]
                    aria-invalid=[error.map(|_| "true")] { (form.get(name)) }
            }
        }
    }
}

fn choice_field(
    lang: Lang,
    form: &ClauseForm,
    name: &str,
    taxonomy: &str,
    label: &str,
    required: bool,
    error: Option<&str>,
) -> Markup {
    let id = field_id(name);
    let current = form.get(name);
    html! {
        div class={ "field" @if error.is_some() { " invalid" } } {
            label for=(id) { (lang.t(label)) }
            (error_line(name, error))
            select id=(id) name=(name) aria-describedby=[described_by(name, false, error.is_some())]
                aria-invalid=[error.map(|_| "true")] {
                @if !required || current.is_empty() {
                    option value="" selected[current.is_empty()] { (lang.t("editor.not_set")) }
                }
                @for value in Lang::values(taxonomy) {
                    option value=(value) selected[value == current] { (lang.label(taxonomy, value)) }
                }
            }
        }
    }
}

fn multi_field(
    lang: Lang,
    form: &ClauseForm,
    name: &str,
    taxonomy: &str,
    legend: &str,
    error: Option<&str>,
) -> Markup {
    let id = field_id(name);
    html! {
        fieldset class={ "field" @if error.is_some() { " invalid" } } id=(id)
            aria-describedby=[described_by(name, false, error.is_some())] {
            legend { (lang.t(legend)) }
            (error_line(name, error))
            ul class="plain choices" {
                @for value in Lang::values(taxonomy) {
                    @let box_id = format!("{id}-{value}");
                    li class="check" {
                        input type="checkbox" id=(box_id) name=(name) value=(value) checked[form.chosen(name, value)];
                        label for=(box_id) { (lang.label(taxonomy, value)) }
                    }
                }
            }
        }
    }
}

fn plain_field(
    lang: Lang,
    form: &ClauseForm,
    name: &str,
    label: &str,
    hint: Option<&str>,
    kind: &str,
    error: Option<&str>,
) -> Markup {
    let id = field_id(name);
    html! {
        div class={ "field" @if error.is_some() { " invalid" } } {
            label for=(id) { (lang.t(label)) }
            @if let Some(hint) = hint { p class="hint" id={ (id) "-hint" } { (lang.t(hint)) } }
            (error_line(name, error))
            input type=(kind) id=(id) name=(name) value=(form.get(name))
                aria-describedby=[described_by(name, hint.is_some(), error.is_some())]
                aria-invalid=[error.map(|_| "true")];
        }
    }
}

/// A finder for CPV codes by digits or words, shown by the page's script (which sends
/// `CpvSuggestions` to `/graphql`); choosing a code adds it to the field `target`.
pub fn cpv_finder(ctx: &Ctx, target: &str) -> Markup {
    let lang = ctx.lang;
    html! {
        div class="cpv-finder" hidden data-cpv-finder data-target=(target)
            data-query=(ops::CPV_SUGGESTIONS.document) data-language=(lang.api()) {
            label for={ (target) "-find" } { (lang.t("editor.cpv_find")) }
            p class="hint" id={ (target) "-find-hint" } { (lang.t("editor.cpv_find_hint")) }
            input type="search" id={ (target) "-find" } autocomplete="off"
                aria-describedby={ (target) "-find-hint" } aria-controls={ (target) "-found" };
            ul class="plain found" id={ (target) "-found" } aria-live="polite" {}
        }
    }
}

fn labels_field(lang: Lang, form: &ClauseForm, error: Option<&str>) -> Markup {
    let id = field_id("labels");
    html! {
        div class={ "field" @if error.is_some() { " invalid" } } {
            label for=(id) { (lang.t("editor.labels")) }
            p class="hint" id={ (id) "-hint" } { (lang.t("editor.labels_hint")) }
            (error_line("labels", error))
            textarea id=(id) name="labels" rows="3"
                aria-describedby=[described_by("labels", true, error.is_some())]
                aria-invalid=[error.map(|_| "true")] { (form.get("labels")) }
        }
    }
}

/// The saved draft that won, beside what this user typed: the fields that differ.
fn conflict_panel(lang: Lang, saved: &Value, form: &ClauseForm) -> Markup {
    let saved_form = ClauseForm::from_draft(saved);
    let differing: Vec<(&str, &str)> = TEXTS
        .iter()
        .filter(|(name, ..)| saved_form.get(name).trim() != form.get(name).trim())
        .map(|(name, label, _)| (*name, *label))
        .collect();
    html! {
        section class="notice conflict" role="alert" aria-labelledby="conflict-title" {
            h2 id="conflict-title" { (lang.t("editor.conflict_title")) }
            p { (lang.t("editor.conflict")) }
            @if differing.is_empty() {
                p { (lang.t("editor.conflict_same_text")) }
            }
            @for (name, label) in differing {
                h3 { (lang.t(label)) }
                blockquote class="saved" { (saved_form.get(name)) }
            }
        }
    }
}

/// The findings of the anonymisation preview, marked in each text.
fn preview_section(ctx: &Ctx, preview: Option<&Value>, form: &ClauseForm) -> Markup {
    let lang = ctx.lang;
    let fields: Vec<(&str, &str, &Value)> = TEXTS
        .iter()
        .filter_map(|(name, label, _)| {
            preview
                .and_then(|p| p.get(*name))
                .filter(|p| !list(p, "findings").is_empty())
                .map(|p| (*name, *label, p))
        })
        .collect();
    let total: usize = fields
        .iter()
        .map(|(_, _, p)| list(p, "findings").len())
        .sum();
    html! {
        section id="anon-preview" class="preview" aria-live="polite" aria-labelledby="anon-preview-title" {
            h2 id="anon-preview-title" { (lang.t("editor.preview_title")) }
            @if preview.is_none() {
                p class="hint" { (lang.t("editor.preview_hint")) }
            } @else if fields.is_empty() {
                p { (lang.t("editor.preview_none")) }
            } @else {
                p { (lang.plural("count.findings", total as i64)) " " (lang.t("editor.preview_lead")) }
                @for (name, label, field) in fields {
                    h3 { (lang.t(label)) }
                    p class="marked" { (marked(lang, field, form.get(name))) }
                }
            }
        }
    }
}

/// The text as typed with each finding marked and followed by what replaces it on
/// publishing. Offsets count Unicode characters.
fn marked(lang: Lang, field: &Value, original: &str) -> Markup {
    let chars: Vec<char> = original.chars().collect();
    let mut findings: Vec<&Value> = list(field, "findings").iter().collect();
    findings.sort_by_key(|f| int(f, "start"));
    let mut pieces = Vec::new();
    let mut at = 0usize;
    for finding in findings {
        let start = usize::try_from(int(finding, "start"))
            .unwrap_or(0)
            .clamp(at, chars.len());
        let end = usize::try_from(int(finding, "end"))
            .unwrap_or(0)
            .clamp(start, chars.len());
        let found: String = chars[start..end].iter().collect();
        pieces.push((
            chars[at..start].iter().collect::<String>(),
            Some((found, finding)),
        ));
        at = end;
    }
    pieces.push((chars[at..].iter().collect(), None));
    html! {
        @for (plain, finding) in pieces {
            (plain)
            @if let Some((found, finding)) = finding {
                mark class="finding" { (found) }
                " "
                span class="replacement" {
                    span class="visually-hidden" { "(" (lang.label("FindingKind", s(finding, "kind"))) ", " (lang.t("editor.replaced_by")) ") " }
                    "→ " (s(finding, "placeholder"))
                }
            }
        }
    }
}

fn publish_section(ctx: &Ctx, id: &str, clause: &Value, revision: Option<i64>) -> Markup {
    let lang = ctx.lang;
    let next = clause["latest"]["version"].as_i64().unwrap_or(0) + 1;
    html! {
        section class="publish" aria-labelledby="publish-title" {
            h2 id="publish-title" { (lang.t("editor.publish_title")) }
            p { (lang.t("editor.publish_lead")) }
            form method="post" action=(ctx.link(&format!("/mine/{id}/publish"))) {
                (csrf_field(ctx))
                @if let Some(revision) = revision { input type="hidden" name="expectedVersion" value=(revision); }
                button type="submit" { (lang.f("editor.publish", &[("n", &next.to_string())])) }
            }
        }
    }
}

fn withdraw_section(
    ctx: &Ctx,
    id: &str,
    revision: Option<i64>,
    error: Option<&(String, String)>,
) -> Markup {
    let lang = ctx.lang;
    html! {
        section class="withdraw" aria-labelledby="withdraw-title" {
            h2 id="withdraw-title" { (lang.t("editor.withdraw_title")) }
            form method="post" action=(ctx.link(&format!("/mine/{id}/withdraw"))) class="stack" novalidate {
                (csrf_field(ctx))
                @if let Some(revision) = revision { input type="hidden" name="expectedVersion" value=(revision); }
                label for="f-reason" { (lang.t("editor.reason")) }
                p class="hint" id="f-reason-hint" { (lang.t("editor.reason_hint")) }
                (error_line("reason", error.map(|(_, m)| m.as_str())))
                textarea id="f-reason" name="reason" rows="3" required
                    aria-describedby=(described_by("reason", true, error.is_some()).unwrap_or_default())
                    aria-invalid=[error.map(|_| "true")] { (error.map_or("", |(r, _)| r.as_str())) }
                button type="submit" class="secondary" { (lang.t("editor.withdraw")) }
            }
        }
    }
}
