//! The tender basket: clauses an officer collects for one procurement, kept in a cookie of
//! the browser (no sign-in), reordered and weighted there, and exported as a Word document
//! or a printable page grouped the way procurement documents are.

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use maud::{Markup, html};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    Lang,
    clause::evidence_sentence,
    context::{Ctx, PageError, cookie, cookie_header},
    docx::Docx,
    layout::{self, csrf_field, proven_badge},
    ops::{self, int, list, opt, s},
};
use crate::startup::AppState;

pub const BASKET_COOKIE: &str = "gpc_basket";
/// More clauses than one tender uses; keeps the cookie under 4 kB.
pub const MAX_ITEMS: usize = 60;

/// Clause kinds in the order procurement documents present them.
const KIND_ORDER: [&str; 4] = [
    "SELECTION_CRITERION",
    "TECHNICAL_SPECIFICATION",
    "AWARD_CRITERION",
    "CONTRACT_PERFORMANCE_CLAUSE",
];

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Basket {
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub id: Uuid,
    /// Weight in percent the officer gives an award criterion.
    pub weight: Option<u8>,
}

impl Basket {
    /// The basket in the cookie: `id` or `id~weight`, joined by dots. Anything unreadable is
    /// dropped, never trusted.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let Some(value) = cookie(headers, BASKET_COOKIE) else {
            return Self::default();
        };
        let mut basket = Self::default();
        for part in value.split('.').take(MAX_ITEMS) {
            let (id, weight) = part.split_once('~').unwrap_or((part, ""));
            let Ok(id) = Uuid::parse_str(id) else {
                continue;
            };
            let weight = weight.parse::<u8>().ok().filter(|w| *w <= 100);
            if !basket.items.iter().any(|i| i.id == id) {
                basket.items.push(Item { id, weight });
            }
        }
        basket
    }

    fn cookie_value(&self) -> String {
        self.items
            .iter()
            .map(|item| match item.weight {
                Some(w) => format!("{}~{w}", item.id.simple()),
                None => item.id.simple().to_string(),
            })
            .collect::<Vec<_>>()
            .join(".")
    }

    pub fn contains(&self, id: &str) -> bool {
        Uuid::parse_str(id).is_ok_and(|id| self.items.iter().any(|i| i.id == id))
    }

    fn position(&self, id: Uuid) -> Option<usize> {
        self.items.iter().position(|i| i.id == id)
    }

    /// Adds a clause at the end; `false` when the basket is full.
    fn add(&mut self, id: Uuid, weight: Option<u8>) -> bool {
        if let Some(i) = self.position(id) {
            if weight.is_some() {
                self.items[i].weight = weight;
            }
            return true;
        }
        if self.items.len() >= MAX_ITEMS {
            return false;
        }
        self.items.push(Item { id, weight });
        true
    }

    fn ids(&self) -> Vec<String> {
        self.items.iter().map(|i| i.id.to_string()).collect()
    }
}

/// What a basket form asks for.
struct Change {
    csrf: Option<String>,
    action: String,
    id: Option<Uuid>,
    back: Option<String>,
    weights: Vec<(Uuid, Option<u8>)>,
}

fn read_form(body: &[u8]) -> Change {
    let mut change = Change {
        csrf: None,
        action: String::new(),
        id: None,
        back: None,
        weights: Vec::new(),
    };
    for (key, value) in form_urlencoded::parse(body).take(MAX_ITEMS + 10) {
        match key.as_ref() {
            "csrf" => change.csrf = Some(value.into_owned()),
            "action" => change.action = value.into_owned(),
            "id" => change.id = Uuid::parse_str(value.trim()).ok(),
            "return" => change.back = Some(value.into_owned()),
            key => {
                if let Some(id) = key
                    .strip_prefix("w-")
                    .and_then(|id| Uuid::parse_str(id).ok())
                {
                    let weight = value.trim().parse::<u8>().ok().filter(|w| *w <= 100);
                    change.weights.push((id, weight));
                }
            }
        }
    }
    change
}

/// `POST /{lang}/basket`: add, remove, move, weigh, clear or fill from a template; then back
/// to where the form was (303), so reloading never repeats it.
pub async fn change(State(state): State<AppState>, mut ctx: Ctx, body: Bytes) -> Response {
    let change = read_form(&body);
    if !ctx.csrf_ok(change.csrf.as_deref()) {
        return PageError::StaleForm.render(&ctx);
    }
    let mut basket = ctx.basket.clone();
    let lang = ctx.lang;
    match (change.action.as_str(), change.id) {
        ("add", Some(id)) => {
            if !basket.add(id, None) {
                return PageError::BadRequest(
                    lang.f("basket.full", &[("max", &MAX_ITEMS.to_string())]),
                )
                .render(&ctx);
            }
        }
        ("remove", Some(id)) => basket.items.retain(|i| i.id != id),
        ("up", Some(id)) => {
            if let Some(i) = basket.position(id).filter(|i| *i > 0) {
                basket.items.swap(i, i - 1);
            }
        }
        ("down", Some(id)) => {
            if let Some(i) = basket.position(id).filter(|i| i + 1 < basket.items.len()) {
                basket.items.swap(i, i + 1);
            }
        }
        ("weights", _) => {
            for (id, weight) in change.weights {
                if let Some(i) = basket.position(id) {
                    basket.items[i].weight = weight;
                }
            }
        }
        ("clear", _) => basket.items.clear(),
        ("template", Some(id)) => {
            let data = match ops::run(&state, &ctx, &ops::TEMPLATE_PAGE, json!({ "id": id })).await
            {
                Ok(data) => data,
                Err(error) => return error.render(&ctx),
            };
            let template = &data["template"];
            if template.is_null() {
                return PageError::NotFound.render(&ctx);
            }
            for entry in list(&template["latest"], "clauses") {
                let Ok(clause) = Uuid::parse_str(s(&entry["clause"], "id")) else {
                    continue;
                };
                let weight = entry["weight"].as_u64().and_then(|w| u8::try_from(w).ok());
                if !basket.add(clause, weight) {
                    return PageError::BadRequest(
                        lang.f("basket.full", &[("max", &MAX_ITEMS.to_string())]),
                    )
                    .render(&ctx);
                }
            }
        }
        _ => return PageError::BadRequest(lang.t("error.bad_form").to_owned()).render(&ctx),
    }
    let value = basket.cookie_value();
    // A year: the basket outlives the browser session, as a shopping basket does.
    let max_age = if value.is_empty() { 0 } else { 365 * 24 * 3600 };
    ctx.set_cookies.push(cookie_header(
        BASKET_COOKIE,
        &value,
        ctx.secure,
        Some(max_age),
    ));
    let back = ctx.return_to(change.back.as_deref(), "/basket");
    ctx.redirect(&back)
}

pub(super) async fn load(state: &AppState, ctx: &Ctx) -> Result<Vec<Value>, PageError> {
    if ctx.basket.items.is_empty() {
        return Ok(Vec::new());
    }
    let data = ops::run(
        state,
        ctx,
        &ops::BASKET_CLAUSES,
        json!({ "ids": ctx.basket.ids() }),
    )
    .await?;
    Ok(list(&data, "clausesByIds").to_vec())
}

/// `GET /{lang}/basket`.
pub async fn page(State(state): State<AppState>, ctx: Ctx) -> Response {
    let clauses = match load(&state, &ctx).await {
        Ok(clauses) => clauses,
        Err(error) => return error.render(&ctx),
    };
    let lang = ctx.lang;
    let total: u32 = ctx
        .basket
        .items
        .iter()
        .zip(&clauses)
        .filter(|(_, c)| s(&c["latest"], "kind") == "AWARD_CRITERION")
        .filter_map(|(item, _)| item.weight.map(u32::from))
        .sum();
    let count = ctx.basket.items.len();
    let award_criteria = clauses
        .iter()
        .filter(|c| s(&c["latest"], "kind") == "AWARD_CRITERION")
        .count();
    let body = html! {
        h1 { (lang.t("basket.title")) }
        p class="lead" { (lang.t("basket.lead")) }
        @if count == 0 {
            p { (lang.t("basket.empty")) " " a href=(ctx.link("/")) { (lang.t("basket.find")) } }
        } @else {
            form id="weights" method="post" action=(ctx.link("/basket")) {
                (csrf_field(&ctx))
                input type="hidden" name="action" value="weights";
            }
            ol class="basket" {
                @for (i, (item, clause)) in ctx.basket.items.iter().zip(&clauses).enumerate() {
                    (basket_item(&ctx, i, count, item, clause))
                }
            }
            @if award_criteria > 0 {
                p class="total" {
                    (lang.f("basket.total_weight", &[("weight", &format!("{total}"))]))
                }
                p { button type="submit" form="weights" { (lang.t("basket.save_weights")) } }
            }
            h2 { (lang.t("basket.export")) }
            ul class="actions" {
                li { a class="button" href=(ctx.link("/basket/tender.docx")) download { (lang.t("basket.download_docx")) } }
                li { a class="button secondary" href=(ctx.link("/basket/print")) { (lang.t("basket.print")) } }
            }
            form method="post" action=(ctx.link("/basket")) {
                (csrf_field(&ctx))
                input type="hidden" name="action" value="clear";
                button type="submit" class="secondary" { (lang.t("basket.clear")) }
            }
        }
    };
    ctx.html(
        StatusCode::OK,
        layout::page(&ctx, lang.t("basket.title"), body),
    )
}

fn move_form(ctx: &Ctx, action: &str, id: &str, label: &str, title: &str) -> Markup {
    html! {
        form method="post" action=(ctx.link("/basket")) class="inline" {
            (csrf_field(ctx))
            input type="hidden" name="action" value=(action);
            input type="hidden" name="id" value=(id);
            button type="submit" class="small secondary" aria-label=(format!("{label}: {title}")) { (label) }
        }
    }
}

fn basket_item(ctx: &Ctx, i: usize, count: usize, item: &Item, clause: &Value) -> Markup {
    let lang = ctx.lang;
    let id = item.id.to_string();
    let latest = &clause["latest"];
    let title = if clause.is_null() {
        lang.t("basket.gone").to_owned()
    } else {
        s(latest, "title").to_owned()
    };
    let kind = opt(latest, "kind");
    html! {
        li class="item" {
            div class="what" {
                @if clause.is_null() {
                    p { (title) }
                } @else {
                    h2 class="h3" lang=(s(latest, "language").to_ascii_lowercase()) {
                        a href=(ctx.link(&format!("/clauses/{id}"))) { (title) }
                    }
                    p class="meta" {
                        (s(&clause["organization"], "name"))
                        @if let Some(kind) = kind { " · " (lang.label("ClauseKind", kind)) }
                        " · " (proven_badge(lang, s(&clause["evidence"], "provenLevel")))
                    }
                    @if let Some(reason) = opt(&clause["withdrawal"], "reason") {
                        p class="warning" { (lang.t("clause.withdrawn")) ": " (reason) }
                    }
                    @if kind == Some("AWARD_CRITERION") {
                        @let field = format!("w-{id}");
                        label for=(field) { (lang.t("basket.weight")) }
                        input type="number" id=(field) name=(field) form="weights" min="0" max="100"
                            step="1" inputmode="numeric" value=[item.weight] class="weight";
                        " %"
                    }
                }
            }
            div class="controls" {
                @if i > 0 { (move_form(ctx, "up", &id, lang.t("basket.up"), &title)) }
                @if i + 1 < count { (move_form(ctx, "down", &id, lang.t("basket.down"), &title)) }
                (move_form(ctx, "remove", &id, lang.t("basket.remove"), &title))
            }
        }
    }
}

/// One clause of the exported document.
struct Entry<'a> {
    clause: &'a Value,
    weight: Option<u8>,
}

/// The basket grouped by clause kind in document order (kindless clauses last), basket
/// order kept within a group; clauses no longer available are left out.
fn grouped<'a>(
    basket: &Basket,
    clauses: &'a [Value],
) -> Vec<(Option<&'static str>, Vec<Entry<'a>>)> {
    let kinds = KIND_ORDER.iter().map(|k| Some(*k)).chain([None]);
    kinds
        .map(|kind| {
            let entries: Vec<Entry<'a>> = basket
                .items
                .iter()
                .zip(clauses)
                .filter(|(_, c)| !c.is_null())
                .filter(|(_, c)| {
                    let own = opt(&c["latest"], "kind");
                    match kind {
                        Some(k) => own == Some(k),
                        None => own.is_none_or(|o| !KIND_ORDER.contains(&o)),
                    }
                })
                .map(|(item, clause)| Entry {
                    clause,
                    weight: item.weight,
                })
                .collect();
            (kind, entries)
        })
        .filter(|(_, entries)| !entries.is_empty())
        .collect()
}

fn heading(lang: Lang, kind: Option<&str>) -> &'static str {
    lang.t(&format!("doc.heading.{}", kind.unwrap_or("OTHER")))
}

fn source_line(state: &AppState, ctx: &Ctx, clause: &Value) -> String {
    let lang = ctx.lang;
    let url = format!(
        "{}{}",
        state.instance.trim_end_matches('/'),
        ctx.link(&format!("/clauses/{}", s(clause, "id")))
    );
    lang.f(
        "doc.source",
        &[
            ("organization", s(&clause["organization"], "name")),
            ("version", &int(clause, "version").to_string()),
            ("url", &url),
        ],
    )
}

/// The fields of a clause the document shows, labelled.
fn fields(lang: Lang, latest: &Value) -> Vec<(&'static str, &str)> {
    [
        ("clause.scoring_rule", "scoringRule"),
        ("clause.verification", "verification"),
        ("clause.follow_up", "followUp"),
    ]
    .into_iter()
    .filter_map(|(label, key)| opt(latest, key).map(|text| (lang.t(label), text)))
    .collect()
}

/// `GET /{lang}/basket/tender.docx`: the basket as a Word document.
pub async fn docx(State(state): State<AppState>, ctx: Ctx) -> Response {
    let clauses = match load(&state, &ctx).await {
        Ok(clauses) => clauses,
        Err(error) => return error.render(&ctx),
    };
    let lang = ctx.lang;
    let mut doc = Docx::new(lang.t("doc.lang_tag"));
    doc.title(lang.t("doc.title"));
    doc.text(lang.t("doc.intro"));
    for (kind, entries) in grouped(&ctx.basket, &clauses) {
        doc.heading(1, heading(lang, kind));
        for entry in entries {
            let latest = &entry.clause["latest"];
            doc.heading(2, s(latest, "title"));
            doc.text(s(latest, "text"));
            if let Some(weight) = entry.weight.filter(|_| kind == Some("AWARD_CRITERION")) {
                doc.labelled(lang.t("basket.weight"), &format!("{weight} %"));
            }
            for (label, text) in fields(lang, latest) {
                doc.labelled(label, text);
            }
            doc.note(&source_line(&state, &ctx, entry.clause));
            doc.note(&evidence_sentence(lang, &entry.clause["evidence"]));
        }
    }
    let created = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let bytes = match doc.finish(lang.t("doc.title"), &created) {
        Ok(bytes) => bytes,
        Err(error) => {
            tracing::error!(%error, "writing a DOCX failed");
            return PageError::Internal.render(&ctx);
        }
    };
    let file = format!("{}.docx", lang.t("doc.file_name"));
    let mut response = (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        )],
        bytes,
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    ctx.add_cookies(&mut response);
    response
}

/// `GET /{lang}/basket/print`: the same document as a page to print or save as PDF.
pub async fn print(State(state): State<AppState>, ctx: Ctx) -> Response {
    let clauses = match load(&state, &ctx).await {
        Ok(clauses) => clauses,
        Err(error) => return error.render(&ctx),
    };
    let lang = ctx.lang;
    let body = html! {
        article class="document" {
            h1 { (lang.t("doc.title")) }
            p { (lang.t("doc.intro")) }
            @for (kind, entries) in grouped(&ctx.basket, &clauses) {
                section {
                    h2 { (heading(lang, kind)) }
                    @for entry in entries {
                        @let latest = &entry.clause["latest"];
                        section class="doc-clause" lang=(s(latest, "language").to_ascii_lowercase()) {
                            h3 { (s(latest, "title")) }
                            @for block in s(latest, "text").split("\n\n") { p { (block) } }
                            @if let Some(weight) = entry.weight.filter(|_| kind == Some("AWARD_CRITERION")) {
                                p lang=(lang.code()) { strong { (lang.t("basket.weight")) ": " } (weight) " %" }
                            }
                            @for (label, text) in fields(lang, latest) {
                                p { strong lang=(lang.code()) { (label) ": " } (text) }
                            }
                            p class="note" lang=(lang.code()) { (source_line(&state, &ctx, entry.clause)) }
                            p class="note" lang=(lang.code()) { (evidence_sentence(lang, &entry.clause["evidence"])) }
                        }
                    }
                }
            }
        }
    };
    ctx.html(
        StatusCode::OK,
        layout::page(&ctx, lang.t("doc.title"), body),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_cookie(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("other=1; {BASKET_COOKIE}={value}"))
                .expect("a cookie header"),
        );
        headers
    }

    #[test]
    fn the_cookie_round_trips_and_drops_what_it_cannot_read() {
        let a = Uuid::now_v7();
        let b = Uuid::now_v7();
        let value = format!(
            "{}~25.nonsense.{}.{}~250",
            a.simple(),
            b.simple(),
            a.simple()
        );
        let basket = Basket::from_headers(&with_cookie(&value));
        assert_eq!(
            basket.items,
            [
                Item {
                    id: a,
                    weight: Some(25)
                },
                Item {
                    id: b,
                    weight: None
                }
            ]
        );
        assert_eq!(
            Basket::from_headers(&with_cookie(&basket.cookie_value())),
            basket
        );
    }

    #[test]
    fn a_full_basket_refuses_more() {
        let mut basket = Basket::default();
        for _ in 0..MAX_ITEMS {
            assert!(basket.add(Uuid::now_v7(), None));
        }
        assert!(!basket.add(Uuid::now_v7(), None));
        let again = basket.items[0].id;
        assert!(
            basket.add(again, Some(10)),
            "a clause already there is no addition"
        );
        assert!(basket.cookie_value().len() < 4000);
    }
}
