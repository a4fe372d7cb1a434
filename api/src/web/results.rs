//! Reporting a finished tender from the web app: the procedure's facts and, for each clause
//! of the tender basket that was used, how it went. Every report is evidence the catalogue
//! shows other buyers ("kept in 7 tenders …").

use std::collections::HashMap;

use axum::{body::Bytes, extract::State, http::StatusCode, response::Response};
use maud::{Markup, html};
use serde_json::{Map, Value, json};

use super::{
    Lang,
    context::{Ctx, PageError},
    editor::{described_by, publisher},
    layout::{self, csrf_field},
    ops::{self, Refusal, s},
};
use crate::startup::AppState;

/// Whole-number fields: (API name, label key, required).
const NUMBERS: [(&str, &str, bool); 6] = [
    ("tendersReceived", "results.tenders_received", true),
    ("smeTenders", "results.sme_tenders", false),
    ("priceWeight", "results.price_weight", true),
    ("costWeight", "results.cost_weight", true),
    ("qualityWeight", "results.quality_weight", true),
    (
        "sustainabilityWeight",
        "results.sustainability_weight",
        true,
    ),
];

/// Form values as typed, by field name (`outcome-{clause id}` for the clauses).
type Values = HashMap<String, String>;

type FieldError = (String, String);

/// `GET /{lang}/mine/results/new`.
pub async fn new_page(State(state): State<AppState>, ctx: Ctx) -> Response {
    if let Err(response) = publisher(&ctx) {
        return *response;
    }
    let clauses = match super::basket::load(&state, &ctx).await {
        Ok(clauses) => clauses,
        Err(error) => return error.render(&ctx),
    };
    let mut values = Values::new();
    values.insert("awarded".into(), "true".into());
    values.insert("procedure".into(), "OPEN".into());
    for clause in clauses.iter().filter(|c| !c.is_null()) {
        values.insert(
            format!("outcome-{}", s(clause, "id")),
            "MET_BY_WINNER".into(),
        );
    }
    render(&ctx, &clauses, &values, None, StatusCode::OK)
}

/// `POST /{lang}/mine/results/new`.
pub async fn report(State(state): State<AppState>, ctx: Ctx, body: Bytes) -> Response {
    if let Err(response) = publisher(&ctx) {
        return *response;
    }
    let values: Values = form_urlencoded::parse(&body)
        .take(200)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if !ctx.csrf_ok(values.get("csrf").map(String::as_str)) {
        return PageError::StaleForm.render(&ctx);
    }
    let clauses = match super::basket::load(&state, &ctx).await {
        Ok(clauses) => clauses,
        Err(error) => return error.render(&ctx),
    };
    let input = match input(ctx.lang, &values, &clauses) {
        Ok(input) => input,
        Err(error) => {
            return render(
                &ctx,
                &clauses,
                &values,
                Some(error),
                StatusCode::BAD_REQUEST,
            );
        }
    };
    match ops::submit(
        &state,
        &ctx,
        &ops::REPORT_TENDER_RESULT,
        json!({ "input": input }),
    )
    .await
    {
        Ok(_) => {
            let lang = ctx.lang;
            let body = html! {
                h1 { (lang.t("results.done_title")) }
                p role="status" { (lang.t("results.done")) }
                ul {
                    @for clause in clauses.iter().filter(|c| !outcome(&values, c).is_empty()) {
                        li { a href=(ctx.link(&format!("/clauses/{}", s(clause, "id")))) { (s(&clause["latest"], "title")) } }
                    }
                }
                p { a href=(ctx.link("/mine")) { (lang.t("mine.title")) } }
            };
            ctx.html(
                StatusCode::OK,
                layout::page(&ctx, lang.t("results.done_title"), body),
            )
        }
        Err(Refusal::Invalid { field, message }) => {
            // `clauses[2].outcome` is the third clause sent: name it by its own field.
            render(
                &ctx,
                &clauses,
                &values,
                Some((field, message)),
                StatusCode::BAD_REQUEST,
            )
        }
        Err(Refusal::Conflict) => PageError::Internal.render(&ctx),
        Err(Refusal::Page(error)) => error.render(&ctx),
    }
}

fn outcome<'a>(values: &'a Values, clause: &Value) -> &'a str {
    values
        .get(&format!("outcome-{}", s(clause, "id")))
        .map_or("", String::as_str)
}

/// `ReportTenderResultInput` from the form; values the schema would refuse outright are
/// reported with their field before anything is sent.
fn input(lang: Lang, values: &Values, clauses: &[Value]) -> Result<Map<String, Value>, FieldError> {
    let get = |name: &str| values.get(name).map_or("", |v| v.trim());
    let mut input = Map::new();
    let cpv = get("cpvCode");
    if cpv.is_empty() {
        return Err(("cpvCode".into(), lang.t("results.required").into()));
    }
    input.insert("cpvCode".into(), cpv.into());
    for (name, taxonomy) in [("procedure", "ProcedureType"), ("valueBand", "ValueBand")] {
        let value = get(name);
        if !Lang::values(taxonomy).iter().any(|v| v == value) {
            return Err((name.into(), lang.t("editor.choose").into()));
        }
        input.insert(name.into(), value.into());
    }
    let month = get("awardMonth");
    let month_ok = month.len() == 7
        && chrono::NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").is_ok();
    if !month_ok {
        return Err(("awardMonth".into(), lang.t("results.month_format").into()));
    }
    input.insert("awardMonth".into(), month.into());
    for (name, _, required) in NUMBERS {
        let value = get(name);
        if value.is_empty() && !required {
            continue;
        }
        match value.parse::<i32>() {
            Ok(n) if n >= 0 => input.insert(name.into(), n.into()),
            _ => return Err((name.into(), lang.t("results.whole_number").into())),
        };
    }
    let awarded = get("awarded") == "true";
    input.insert("awarded".into(), awarded.into());
    let reason = get("noAwardReason");
    if !awarded {
        input.insert("noAwardReason".into(), reason.into());
    }
    input.insert("appealed".into(), (get("appealed") == "on").into());
    let lessons = get("lessonsLearned");
    if !lessons.is_empty() {
        input.insert("lessonsLearned".into(), lessons.into());
    }
    let mut used = Vec::new();
    for clause in clauses.iter().filter(|c| !c.is_null()) {
        let outcome = outcome(values, clause);
        if outcome.is_empty() {
            continue;
        }
        if !Lang::values("ClauseOutcome").iter().any(|v| v == outcome) {
            return Err((
                format!("outcome-{}", s(clause, "id")),
                lang.t("editor.choose").into(),
            ));
        }
        used.push(json!({ "clauseId": s(clause, "id"), "outcome": outcome }));
    }
    input.insert("clauses".into(), used.into());
    Ok(input)
}

fn render(
    ctx: &Ctx,
    clauses: &[Value],
    values: &Values,
    error: Option<FieldError>,
    status: StatusCode,
) -> Response {
    let lang = ctx.lang;
    let get = |name: &str| values.get(name).map_or("", String::as_str);
    let error_for = |name: &str| {
        error
            .as_ref()
            .filter(|(field, _)| field == name)
            .map(|(_, message)| message.as_str())
    };
    let body = html! {
        p { a href=(ctx.link("/mine")) { "← " (lang.t("mine.title")) } }
        h1 { (lang.t("results.new")) }
        p class="lead" { (lang.t("results.lead")) }
        @if let Some((field, message)) = &error {
            div class="notice error-summary" role="alert" tabindex="-1" id="error-summary" {
                h2 { (lang.t("editor.error_summary")) }
                p { a href={ "#f-" (field) } { (message) } }
            }
        }
        form method="post" action=(ctx.link("/mine/results/new")) class="editor" novalidate {
            (csrf_field(ctx))
            (field(lang, "cpvCode", "results.cpv_code", Some("results.cpv_hint"), error_for("cpvCode"), html! {
                input type="text" id="f-cpvCode" name="cpvCode" value=(get("cpvCode")) required
                    aria-describedby=[described_by("cpvCode", true, error_for("cpvCode").is_some())]
                    aria-invalid=[error_for("cpvCode").map(|_| "true")];
            }))
            (super::editor::cpv_finder(ctx, "f-cpvCode"))
            div class="grid" {
                (choice(lang, "procedure", "ProcedureType", "results.procedure", get("procedure"), error_for("procedure")))
                (choice(lang, "valueBand", "ValueBand", "results.value_band", get("valueBand"), error_for("valueBand")))
                (field(lang, "awardMonth", "results.award_month", Some("results.month_hint"), error_for("awardMonth"), html! {
                    input type="month" id="f-awardMonth" name="awardMonth" value=(get("awardMonth")) required placeholder="2026-05"
                        aria-describedby=[described_by("awardMonth", true, error_for("awardMonth").is_some())]
                        aria-invalid=[error_for("awardMonth").map(|_| "true")];
                }))
            }
            div class="grid" {
                @for (name, label, required) in NUMBERS {
                    (field(lang, name, label, None, error_for(name), html! {
                        input type="number" inputmode="numeric" min="0" step="1" id={ "f-" (name) } name=(name) value=(get(name)) required[required]
                            aria-describedby=[error_for(name).map(|_| format!("f-{name}-error"))]
                            aria-invalid=[error_for(name).map(|_| "true")];
                    }))
                }
            }
            p class="hint" { (lang.t("results.weights_hint")) }
            fieldset class="field" id="f-awarded" {
                legend { (lang.t("results.awarded")) }
                ul class="plain choices" {
                    li class="check" {
                        input type="radio" id="f-awarded-yes" name="awarded" value="true" checked[get("awarded") != "false"];
                        label for="f-awarded-yes" { (lang.t("results.yes")) }
                    }
                    li class="check" {
                        input type="radio" id="f-awarded-no" name="awarded" value="false" checked[get("awarded") == "false"];
                        label for="f-awarded-no" { (lang.t("results.no")) }
                    }
                }
            }
            (field(lang, "noAwardReason", "results.no_award_reason", Some("results.no_award_hint"), error_for("noAwardReason"), html! {
                textarea id="f-noAwardReason" name="noAwardReason" rows="2"
                    aria-describedby=[described_by("noAwardReason", true, error_for("noAwardReason").is_some())]
                    aria-invalid=[error_for("noAwardReason").map(|_| "true")] { (get("noAwardReason")) }
            }))
            div class="check" {
                input type="checkbox" id="f-appealed" name="appealed" checked[get("appealed") == "on"];
                label for="f-appealed" { (lang.t("results.appealed")) }
            }
            (field(lang, "lessonsLearned", "results.lessons", Some("results.lessons_hint"), error_for("lessonsLearned"), html! {
                textarea id="f-lessonsLearned" name="lessonsLearned" rows="4"
                    aria-describedby=[described_by("lessonsLearned", true, error_for("lessonsLearned").is_some())]
                    aria-invalid=[error_for("lessonsLearned").map(|_| "true")] { (get("lessonsLearned")) }
            }))
            h2 { (lang.t("results.clauses")) }
            @if clauses.is_empty() {
                p { (lang.t("results.no_clauses")) " " a href=(ctx.link("/")) { (lang.t("nav.search")) } }
            } @else {
                p class="hint" { (lang.t("results.clauses_hint")) }
                @for clause in clauses.iter().filter(|c| !c.is_null()) {
                    @let name = format!("outcome-{}", s(clause, "id"));
                    (choice_labelled(lang, &name, "ClauseOutcome", s(&clause["latest"], "title"), outcome(values, clause), error_for(&name), Some(lang.t("results.not_used"))))
                }
            }
            ul class="actions" { li { button type="submit" { (lang.t("results.submit")) } } }
        }
    };
    ctx.html(status, layout::page(ctx, lang.t("results.new"), body))
}

/// A labelled field around `control`, with its hint and error.
fn field(
    lang: Lang,
    name: &str,
    label: &str,
    hint: Option<&str>,
    error: Option<&str>,
    control: Markup,
) -> Markup {
    html! {
        div class={ "field" @if error.is_some() { " invalid" } } {
            label for={ "f-" (name) } { (lang.t(label)) }
            @if let Some(hint) = hint { p class="hint" id={ "f-" (name) "-hint" } { (lang.t(hint)) } }
            @if let Some(message) = error { p class="error" id={ "f-" (name) "-error" } { (message) } }
            (control)
        }
    }
}

fn choice(
    lang: Lang,
    name: &str,
    taxonomy: &str,
    label: &str,
    current: &str,
    error: Option<&str>,
) -> Markup {
    choice_labelled(lang, name, taxonomy, lang.t(label), current, error, None)
}

fn choice_labelled(
    lang: Lang,
    name: &str,
    taxonomy: &str,
    label: &str,
    current: &str,
    error: Option<&str>,
    none: Option<&str>,
) -> Markup {
    html! {
        div class={ "field" @if error.is_some() { " invalid" } } {
            label for={ "f-" (name) } { (label) }
            @if let Some(message) = error { p class="error" id={ "f-" (name) "-error" } { (message) } }
            select id={ "f-" (name) } name=(name)
                aria-describedby=[error.map(|_| format!("f-{name}-error"))]
                aria-invalid=[error.map(|_| "true")] {
                @if let Some(none) = none {
                    option value="" selected[current.is_empty()] { (none) }
                } @else if current.is_empty() {
                    option value="" selected { (lang.t("editor.not_set")) }
                }
                @for value in Lang::values(taxonomy) {
                    option value=(value) selected[value == current] { (lang.label(taxonomy, value)) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Values {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_form_names_the_field_it_cannot_send() {
        let clause = json!({ "id": "c1", "latest": { "title": "Take-back" } });
        let good = form(&[
            ("cpvCode", "30213100-6"),
            ("procedure", "OPEN"),
            ("valueBand", "EUR100K_TO1M"),
            ("awardMonth", "2026-05"),
            ("tendersReceived", "4"),
            ("priceWeight", "60"),
            ("costWeight", "0"),
            ("qualityWeight", "40"),
            ("sustainabilityWeight", "20"),
            ("awarded", "true"),
            ("outcome-c1", "MET_BY_ALL"),
        ]);
        let sent = input(Lang::En, &good, std::slice::from_ref(&clause)).expect("valid");
        assert_eq!(
            sent["clauses"],
            json!([{ "clauseId": "c1", "outcome": "MET_BY_ALL" }])
        );
        assert_eq!(sent["tendersReceived"], json!(4));
        assert!(sent.get("smeTenders").is_none());
        for (field, bad) in [
            ("awardMonth", "May 2026"),
            ("tendersReceived", "four"),
            ("procedure", "AUCTION"),
            ("outcome-c1", "MET"),
        ] {
            let mut values = good.clone();
            values.insert(field.into(), bad.into());
            let (named, _) =
                input(Lang::Sv, &values, std::slice::from_ref(&clause)).expect_err("refused");
            assert_eq!(named, field);
        }
        let mut unused = good.clone();
        unused.insert("outcome-c1".into(), String::new());
        let sent = input(Lang::En, &unused, &[clause]).expect("valid");
        assert_eq!(sent["clauses"], json!([]));
    }
}
