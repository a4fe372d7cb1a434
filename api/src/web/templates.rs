//! Tender templates: a searchable list and a page with the template's clauses in document
//! order; "Use this template" puts them in the basket with their weights.

use axum::{
    extract::{Path, RawQuery, State},
    http::StatusCode,
    response::Response,
};
use maud::html;
use serde_json::json;

use super::{
    clause::evidence_sentence,
    context::{Ctx, PageError},
    layout::{self, csrf_field, highlighted, proven_badge},
    ops::{self, int, list, opt, s},
};
use crate::startup::AppState;

/// `GET /{lang}/templates?q=…`.
pub async fn index(State(state): State<AppState>, ctx: Ctx, RawQuery(query): RawQuery) -> Response {
    let (state, ctx, query) = (&state, &ctx, query.as_deref());
    let mut q = String::new();
    let mut after = None;
    for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()).take(10) {
        match key.as_ref() {
            "q" => q = value.trim().chars().take(200).collect(),
            "after" if value.len() <= 64 => after = Some(value.into_owned()),
            _ => {}
        }
    }
    let variables = json!({ "query": q, "first": 20, "after": after });
    let data = match ops::run(state, ctx, &ops::SEARCH_TEMPLATES, variables).await {
        Ok(data) => data,
        Err(error) => return error.render(ctx),
    };
    let lang = ctx.lang;
    let connection = &data["searchTemplates"];
    let next = connection["pageInfo"]["endCursor"]
        .as_str()
        .filter(|_| connection["pageInfo"]["hasNextPage"].as_bool() == Some(true))
        .map(|cursor| {
            let mut query = form_urlencoded::Serializer::new(String::new());
            if !q.is_empty() {
                query.append_pair("q", &q);
            }
            query.append_pair("after", cursor);
            format!("{}?{}", ctx.link("/templates"), query.finish())
        });
    let body = html! {
        h1 { (lang.t("templates.title")) }
        p class="lead" { (lang.t("templates.lead")) }
        form class="searchbar" role="search" method="get" action=(ctx.link("/templates")) {
            label for="tq" { (lang.t("templates.search")) }
            div class="row" {
                input type="search" id="tq" name="q" value=(q) maxlength="200";
                button type="submit" { (lang.t("search.submit")) }
            }
        }
        h2 { (lang.plural("templates.count", int(connection, "totalCount"))) }
        ol class="hits" {
            @for edge in list(connection, "edges") {
                @let template = &edge["node"]["template"];
                @if !template.is_null() {
                    @let latest = &template["latest"];
                    li class="hit" lang=(s(latest, "language").to_ascii_lowercase()) {
                        h3 {
                            a href=(ctx.link(&format!("/templates/{}", s(template, "id")))) {
                                (highlighted(edge["node"]["highlight"]["title"].as_str().unwrap_or_else(|| s(latest, "title"))))
                            }
                        }
                        p class="meta" lang=(lang.code()) {
                            (s(&template["organization"], "name")) " · "
                            (lang.plural("templates.clauses", i64::try_from(list(latest, "clauses").len()).unwrap_or(0)))
                        }
                        @if let Some(description) = opt(latest, "description") { p class="snippet" { (layout::excerpt(description, 280)) } }
                        div class="badges" lang=(lang.code()) { (proven_badge(lang, s(&template["evidence"], "provenLevel"))) }
                    }
                }
            }
        }
        @if let Some(next) = next {
            nav class="paging" aria-label=(lang.t("search.paging")) { a href=(next) rel="next" { (lang.t("search.next_page")) } }
        }
    };
    ctx.html(
        StatusCode::OK,
        layout::page(ctx, lang.t("templates.title"), body),
    )
}

/// `GET /{lang}/templates/{id}`.
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    let data = match ops::run(&state, &ctx, &ops::TEMPLATE_PAGE, json!({ "id": id })).await {
        Ok(data) => data,
        Err(PageError::BadRequest(_)) => return PageError::NotFound.render(&ctx),
        Err(error) => return error.render(&ctx),
    };
    let template = &data["template"];
    let latest = &template["latest"];
    if template.is_null() || latest.is_null() {
        return PageError::NotFound.render(&ctx);
    }
    let lang = ctx.lang;
    let title = s(latest, "title");
    let clauses = list(latest, "clauses");
    let total: i64 = clauses.iter().map(|c| int(c, "weight")).sum();
    let body = html! {
        article {
            h1 lang=(s(latest, "language").to_ascii_lowercase()) { (title) }
            p class="meta" { (s(&template["organization"], "name")) " · " (lang.f("clause.version", &[("version", &int(template, "version").to_string())])) }
            @if let Some(reason) = opt(&template["withdrawal"], "reason") {
                div class="notice warning" role="note" { h2 { (lang.t("clause.withdrawn")) } p { (reason) } }
            }
            @if let Some(description) = opt(latest, "description") { p lang=(s(latest, "language").to_ascii_lowercase()) { (description) } }
            p { (evidence_sentence(lang, &template["evidence"])) " " (proven_badge(lang, s(&template["evidence"], "provenLevel"))) }
            form method="post" action=(ctx.link("/basket")) {
                (csrf_field(&ctx))
                input type="hidden" name="action" value="template";
                input type="hidden" name="id" value=(s(template, "id"));
                input type="hidden" name="return" value=(ctx.link("/basket"));
                button type="submit" { (lang.t("templates.use")) }
            }
            h2 { (lang.t("templates.clauses_title")) }
            table class="clauses" {
                caption class="visually-hidden" { (lang.t("templates.clauses_title")) }
                thead { tr {
                    th scope="col" { "#" }
                    th scope="col" { (lang.t("clause.title")) }
                    th scope="col" { (lang.t("field.kind")) }
                    th scope="col" { (lang.t("basket.weight")) }
                    th scope="col" { (lang.t("templates.mandatory")) }
                    th scope="col" { (lang.t("clause.proven_level")) }
                } }
                tbody {
                    @for entry in clauses {
                        @let cited = &entry["cited"];
                        tr {
                            td { (int(entry, "position")) }
                            td {
                                @if entry["clause"].is_null() { (s(cited, "title")) } @else {
                                    a href=(ctx.link(&format!("/clauses/{}", s(&entry["clause"], "id")))) { (s(cited, "title")) }
                                }
                            }
                            td { @if let Some(kind) = opt(cited, "kind") { (lang.label("ClauseKind", kind)) } }
                            td { @if let Some(w) = entry["weight"].as_i64() { (w) " %" } }
                            td { (lang.t(if entry["mandatory"].as_bool() == Some(true) { "common.yes" } else { "common.no" })) }
                            td { @if !entry["clause"].is_null() { (proven_badge(lang, s(&entry["clause"]["evidence"], "provenLevel"))) } }
                        }
                    }
                }
            }
            @if total > 0 { p { (lang.f("basket.total_weight", &[("weight", &total.to_string())])) } }
        }
    };
    ctx.html(StatusCode::OK, layout::page(&ctx, title, body))
}
