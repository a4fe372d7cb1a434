//! The clause page: the whole clause, its evidence in plain words, lineage, staleness,
//! every published version with a word-level diff between any two, and the actions.

use axum::{
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::StatusCode,
    response::Response,
};
use maud::{Markup, html};
use serde_json::{Value, json};

use super::{
    Lang,
    context::{Ctx, PageError},
    cpv,
    diff::{self, Change},
    layout::{self, add_to_basket, csrf_field, date, proven_badge, stale_warning},
    ops::{self, float, int, list, opt, s},
};
use crate::startup::AppState;

/// The evidence of a clause or template in one sentence: "Kept in 7 tenders by 4
/// organisations; median 3 tenders received; 86 % awarded."
pub fn evidence_sentence(lang: Lang, evidence: &Value) -> String {
    let results = int(evidence, "results");
    if results == 0 {
        return lang.t("evidence.none").to_owned();
    }
    let kept = results - int(evidence, "dropped");
    let mut parts = vec![lang.f(
        "evidence.kept",
        &[
            ("tenders", &lang.plural("count.tenders", kept)),
            (
                "organizations",
                &lang.plural("count.organizations", int(evidence, "organizations")),
            ),
        ],
    )];
    if let Some(median) = float(evidence, "medianTendersReceived") {
        let decimals = usize::from(median.fract() != 0.0);
        parts.push(lang.f("evidence.median", &[("n", &lang.number(median, decimals))]));
    }
    if let Some(share) = float(evidence, "shareAwarded") {
        parts.push(lang.f("evidence.awarded", &[("share", &lang.percent(share))]));
    }
    format!("{}.", parts.join("; "))
}

/// The text fields of a version, in reading order, with their label keys.
const TEXT_FIELDS: [(&str, &str); 6] = [
    ("title", "clause.title"),
    ("purpose", "clause.purpose"),
    ("text", "clause.text"),
    ("scoringRule", "clause.scoring_rule"),
    ("verification", "clause.verification"),
    ("followUp", "clause.follow_up"),
];

fn paragraphs(text: &str) -> Markup {
    html! {
        @for block in text.split("\n\n").map(str::trim).filter(|b| !b.is_empty()) {
            p { (block) }
        }
    }
}

/// `GET /{lang}/clauses/{id}` (`?from=1&to=3` compares two versions).
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((_, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    let data = match ops::run(&state, &ctx, &ops::CLAUSE_PAGE, json!({ "id": id })).await {
        Ok(data) => data,
        // An id that is no id at all is a page that does not exist.
        Err(PageError::BadRequest(_)) => return PageError::NotFound.render(&ctx),
        Err(error) => return error.render(&ctx),
    };
    let clause = &data["clause"];
    if clause.is_null() {
        return PageError::NotFound.render(&ctx);
    }
    let versions = list(clause, "versions");
    let Some(latest) = versions.first() else {
        // Never published: only its organisation sees it, as a draft to edit elsewhere.
        return PageError::NotFound.render(&ctx);
    };
    let (from, to) = compared(query.as_deref(), versions);
    let lang = ctx.lang;
    let title = s(latest, "title");
    let clause_lang = s(latest, "language").to_ascii_lowercase();
    let own_org = data["viewer"]["organization"]["id"].as_str();
    let can_reuse = data["viewer"]["authenticated"].as_bool() == Some(true)
        && own_org.is_some()
        && own_org != clause["organization"]["id"].as_str()
        && clause["withdrawal"].is_null();
    let body = html! {
        article class="clause" {
            header {
                p class="kicker" {
                    @if let Some(kind) = opt(latest, "kind") { (lang.label("ClauseKind", kind)) }
                    @if let Some(level) = opt(latest, "ambitionLevel") { " · " (lang.label("AmbitionLevel", level)) }
                }
                h1 lang=(clause_lang) { (title) }
                p class="meta" {
                    (s(&clause["organization"], "name"))
                    @if let Some(country) = opt(&clause["organization"], "country") { " · " (lang.label("Country", country)) }
                    " · " (lang.f("clause.version_of", &[("version", &int(latest, "version").to_string()), ("date", date(s(latest, "publishedAt")))]))
                }
                div class="badges" {
                    (proven_badge(lang, s(&clause["evidence"], "provenLevel")))
                    @if clause["staleness"]["stale"].as_bool() == Some(true) {
                        " " (stale_warning(lang, list(&clause["staleness"], "reasons")))
                    }
                }
            }
            @if !clause["withdrawal"].is_null() {
                div class="notice warning" role="note" {
                    h2 { (lang.t("clause.withdrawn")) }
                    p { (lang.f("clause.withdrawn_on", &[("date", date(s(&clause["withdrawal"], "at")))])) }
                    p { (s(&clause["withdrawal"], "reason")) }
                }
            }
            div class="actions" {
                (add_to_basket(&ctx, s(clause, "id"), title))
                @if can_reuse {
                    form method="post" action=(ctx.link(&format!("/clauses/{}/reuse", s(clause, "id")))) class="inline" {
                        (csrf_field(&ctx))
                        input type="hidden" name="version" value=(int(latest, "version"));
                        button type="submit" class="secondary" { (lang.t("clause.reuse")) }
                    }
                }
            }
            section aria-labelledby="requirement" lang=(clause_lang) {
                h2 id="requirement" lang=(lang.code()) { (lang.t("clause.requirement")) }
                @for (key, label) in &TEXT_FIELDS[1..] {
                    @if let Some(text) = opt(latest, key) {
                        h3 lang=(lang.code()) { (lang.t(label)) }
                        (paragraphs(text))
                    }
                }
            }
            section aria-labelledby="evidence" {
                h2 id="evidence" { (lang.t("clause.evidence")) }
                p { (evidence_sentence(lang, &clause["evidence"])) }
                p { (lang.t("clause.proven_level")) ": " (proven_badge(lang, s(&clause["evidence"], "provenLevel"))) " " (lang.t(&format!("proven.explain.{}", s(&clause["evidence"], "provenLevel")))) }
                @if int(&clause["evidence"], "followUpsChecked") > 0 {
                    p { (lang.f("evidence.follow_ups", &[
                        ("n", &int(&clause["evidence"], "followUpsChecked").to_string()),
                        ("share", &float(&clause["evidence"], "followUpCompliance").map(|v| lang.percent(v)).unwrap_or_default()),
                    ])) }
                }
            }
            (details(lang, latest))
            (lineage(&ctx, clause))
            (versions_section(&ctx, clause, versions, from, to))
        }
    };
    ctx.html(StatusCode::OK, layout::page(&ctx, title, body))
}

/// Which versions to compare: `from`/`to` from the URL when both are published versions,
/// else the latest change.
fn compared(query: Option<&str>, versions: &[Value]) -> (Option<i64>, Option<i64>) {
    let numbers: Vec<i64> = versions.iter().map(|v| int(v, "version")).collect();
    let mut from = None;
    let mut to = None;
    for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()).take(10) {
        let number = value.parse::<i64>().ok().filter(|n| numbers.contains(n));
        match key.as_ref() {
            "from" => from = number,
            "to" => to = number,
            _ => {}
        }
    }
    match (from, to) {
        (Some(from), Some(to)) => (Some(from), Some(to)),
        _ if numbers.len() >= 2 => (Some(numbers[1]), Some(numbers[0])),
        _ => (None, None),
    }
}

fn details(lang: Lang, latest: &Value) -> Markup {
    let names = |taxonomy: &str, key: &str| -> String {
        list(latest, key)
            .iter()
            .filter_map(Value::as_str)
            .map(|v| lang.label(taxonomy, v))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let impacts = names("EnvironmentalImpact", "environmentalImpacts");
    let objectives = names("SocialObjective", "socialObjectives");
    let labels: Vec<&str> = list(latest, "labels")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    html! {
        section aria-labelledby="details" {
            h2 id="details" { (lang.t("clause.details")) }
            dl class="facts" {
                @for (taxonomy, key) in [("ClauseKind", "kind"), ("AmbitionLevel", "ambitionLevel"), ("ProductGroup", "productGroup"), ("CriteriaOrigin", "origin"), ("Applicability", "applicability")] {
                    @if let Some(value) = opt(latest, key) {
                        dt { (lang.t(&format!("field.{key}"))) }
                        dd { (lang.label(taxonomy, value)) }
                    }
                }
                @if !impacts.is_empty() { dt { (lang.t("field.environmentalImpacts")) } dd { (impacts) } }
                @if !objectives.is_empty() { dt { (lang.t("field.socialObjectives")) } dd { (objectives) } }
                @if !list(latest, "cpvCodes").is_empty() {
                    dt { (lang.t("field.cpvCodes")) }
                    dd {
                        ul class="plain" {
                            @for code in list(latest, "cpvCodes").iter().filter_map(Value::as_str) {
                                li { code { (code) } @if let Some(name) = cpv::label(lang, code) { " " (name) } }
                            }
                        }
                    }
                }
                @if !labels.is_empty() { dt { (lang.t("field.labels")) } dd { (labels.join(", ")) } }
                dt { (lang.t("field.language")) } dd { (lang.label("Language", s(latest, "language"))) }
                dt { (lang.t("field.licence")) } dd { (s(latest, "licence")) }
                @if let Some(reviewed) = opt(latest, "lastReviewed") { dt { (lang.t("field.lastReviewed")) } dd { (reviewed) } }
            }
        }
    }
}

fn lineage(ctx: &Ctx, clause: &Value) -> Markup {
    let lang = ctx.lang;
    let source = &clause["derivedFrom"];
    let copies = list(&clause["lineage"], "descendants");
    html! {
        section aria-labelledby="lineage" {
            h2 id="lineage" { (lang.t("clause.lineage")) }
            @if source.is_null() {
                p { (lang.t("clause.original")) }
            } @else {
                p {
                    (lang.t("clause.adapted_from")) " "
                    @if source["clause"].is_null() {
                        (lang.t("clause.not_visible"))
                    } @else {
                        a href=(ctx.link(&format!("/clauses/{}", s(source, "clauseId")))) { (s(&source["clause"]["latest"], "title")) }
                        " (" (s(&source["clause"]["organization"], "name")) ", " (lang.f("clause.version", &[("version", &int(source, "version").to_string())])) ")"
                    }
                }
            }
            p { (lang.plural("clause.reused", int(&clause["lineage"], "reuseCount"))) }
            @if !copies.is_empty() {
                h3 { (lang.t("clause.adapted_by")) }
                ul {
                    @for copy in copies.iter().filter(|c| !c["latest"].is_null()) {
                        li { a href=(ctx.link(&format!("/clauses/{}", s(copy, "id")))) { (s(&copy["latest"], "title")) } " – " (s(&copy["organization"], "name")) }
                    }
                }
            }
        }
    }
}

fn versions_section(
    ctx: &Ctx,
    clause: &Value,
    versions: &[Value],
    from: Option<i64>,
    to: Option<i64>,
) -> Markup {
    let lang = ctx.lang;
    let find = |n: Option<i64>| n.and_then(|n| versions.iter().find(|v| int(v, "version") == n));
    let (old, new) = (find(from), find(to));
    html! {
        section aria-labelledby="versions" {
            h2 id="versions" { (lang.t("clause.versions")) }
            ol class="versions" reversed {
                @for version in versions {
                    li { (lang.f("clause.version_of", &[("version", &int(version, "version").to_string()), ("date", date(s(version, "publishedAt")))])) }
                }
            }
            @if versions.len() >= 2 {
                form method="get" action=(ctx.link(&format!("/clauses/{}", s(clause, "id")))) class="compare" {
                    label for="from" { (lang.t("clause.compare_from")) }
                    select id="from" name="from" {
                        @for v in versions { option value=(int(v, "version")) selected[Some(int(v, "version")) == from] { (int(v, "version")) } }
                    }
                    label for="to" { (lang.t("clause.compare_to")) }
                    select id="to" name="to" {
                        @for v in versions { option value=(int(v, "version")) selected[Some(int(v, "version")) == to] { (int(v, "version")) } }
                    }
                    button type="submit" { (lang.t("clause.compare")) }
                }
            }
            @if let (Some(old), Some(new)) = (old, new) {
                h3 { (lang.f("clause.changes", &[("from", &int(old, "version").to_string()), ("to", &int(new, "version").to_string())])) }
                @let changed: Vec<_> = TEXT_FIELDS.iter().filter(|(key, _)| s(old, key) != s(new, key)).collect();
                @if changed.is_empty() {
                    p { (lang.t("clause.no_text_changes")) }
                }
                @for (key, label) in changed {
                    h4 { (lang.t(label)) }
                    p class="diff" lang=(s(new, "language").to_ascii_lowercase()) {
                        @for (change, piece) in diff::words(s(old, key), s(new, key)) {
                            @match change {
                                Change::Same => (piece),
                                Change::Added => ins { span class="visually-hidden" { "[" (lang.t("diff.added")) ": " } (piece) span class="visually-hidden" { "]" } },
                                Change::Removed => del { span class="visually-hidden" { "[" (lang.t("diff.removed")) ": " } (piece) span class="visually-hidden" { "]" } },
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `POST /{lang}/clauses/{id}/reuse`: copies the clause into a draft of the signed-in
/// officer's organisation and opens the search with a note (the draft is edited by the
/// organisation's tools).
pub async fn reuse(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let mut csrf = None;
    let mut version = None;
    for (key, value) in form_urlencoded::parse(&body).take(10) {
        match key.as_ref() {
            "csrf" => csrf = Some(value.into_owned()),
            "version" => version = value.parse::<i64>().ok(),
            _ => {}
        }
    }
    if !ctx.csrf_ok(csrf.as_deref()) {
        return PageError::StaleForm.render(&ctx);
    }
    match ops::run(
        &state,
        &ctx,
        &ops::REUSE_CLAUSE,
        json!({ "id": id, "version": version }),
    )
    .await
    {
        // The copy is the organisation's own draft now: open it in the editor.
        Ok(data) => {
            let draft = s(&data["reuseClause"]["clause"], "id");
            ctx.redirect(&ctx.link(&format!("/mine/{draft}?notice=reused")))
        }
        Err(error) => error.render(&ctx),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_reads_as_a_sentence() {
        let evidence = json!({
            "results": 8, "dropped": 1, "organizations": 4,
            "medianTendersReceived": 3.0, "shareAwarded": 0.857
        });
        assert_eq!(
            evidence_sentence(Lang::En, &evidence),
            "Kept in 7 tenders by 4 organisations; median 3 tenders received; 86% awarded."
        );
        assert_eq!(
            evidence_sentence(Lang::Sv, &evidence),
            "Behållet i 7 upphandlingar av 4 organisationer; median 3 mottagna anbud; 86\u{a0}% tilldelade."
        );
        assert_eq!(
            evidence_sentence(Lang::En, &json!({ "results": 0 })),
            Lang::En.t("evidence.none")
        );
    }
}
