//! The statistics page: `procurementStats` per size class as bar charts drawn on the server
//! (SVG, no script), each with the same figures as a table.

use axum::{
    extract::{RawQuery, State},
    http::StatusCode,
    response::Response,
};
use maud::{Markup, html};
use serde_json::{Value, json};

use super::{
    Lang,
    context::Ctx,
    layout,
    ops::{self, float, int, list, s},
};
use crate::startup::AppState;

/// The figures shown, as (field, label key, whether the figure is a percentage already).
const FIGURES: [(&str, &str, bool); 4] = [
    ("shareSustainabilityWeight25", "stats.share25", false),
    ("meanSustainabilityWeight", "stats.mean_weight", true),
    (
        "shareWithEnvironmentalClause",
        "stats.share_environmental",
        false,
    ),
    ("shareWithSocialClause", "stats.share_social", false),
];

const COUNTRIES: [&str; 5] = ["SE", "NO", "DK", "FI", "IS"];

pub async fn page(State(state): State<AppState>, ctx: Ctx, RawQuery(query): RawQuery) -> Response {
    let country = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "country")
        .map(|(_, v)| v.into_owned())
        .filter(|v| COUNTRIES.contains(&v.as_str()));
    let data = match ops::run(
        &state,
        &ctx,
        &ops::PROCUREMENT_STATS,
        json!({ "country": country }),
    )
    .await
    {
        Ok(data) => data,
        Err(error) => return error.render(&ctx),
    };
    let lang = ctx.lang;
    let cells = list(&data, "procurementStats");
    let body = html! {
        h1 { (lang.t("stats.title")) }
        p class="lead" { (lang.t("stats.lead")) }
        form method="get" action=(ctx.link("/statistics")) class="options" {
            label for="country" { (lang.t("facet.country")) }
            select id="country" name="country" data-autosubmit {
                option value="" { (lang.t("stats.all_countries")) }
                @for code in COUNTRIES {
                    option value=(code) selected[country.as_deref() == Some(code)] { (lang.label("Country", code)) }
                }
            }
            button type="submit" { (lang.t("stats.show")) }
        }
        @for (i, (field, label, is_percent)) in FIGURES.iter().enumerate() {
            section aria-labelledby=(format!("chart-{i}")) {
                h2 id=(format!("chart-{i}")) { (lang.t(label)) }
                (chart(lang, i, cells, field, *is_percent))
                (table(lang, cells, field, *is_percent, label))
            }
        }
        p class="note" { (lang.t("stats.suppressed_note")) }
    };
    ctx.html(
        StatusCode::OK,
        layout::page(&ctx, lang.t("stats.title"), body),
    )
}

/// A figure as a fraction of the chart's full width (0–1).
fn fraction(cell: &Value, field: &str, is_percent: bool) -> Option<f64> {
    let value = float(cell, field)?;
    Some(if is_percent { value / 100.0 } else { value }.clamp(0.0, 1.0))
}

fn shown(lang: Lang, cell: &Value, field: &str, is_percent: bool) -> String {
    if cell["suppressed"].as_bool() == Some(true) {
        return lang.t("stats.suppressed").to_owned();
    }
    match float(cell, field) {
        Some(v) if is_percent => lang.percent(v / 100.0),
        Some(v) => lang.percent(v),
        None => lang.t("stats.no_data").to_owned(),
    }
}

fn chart(lang: Lang, index: usize, cells: &[Value], field: &str, is_percent: bool) -> Markup {
    const ROW: usize = 36;
    const LABEL: f64 = 290.0;
    const BAR: f64 = 320.0;
    let height = cells.len() * ROW + 8;
    html! {
        svg class="chart" viewBox=(format!("0 0 720 {height}")) role="img" aria-labelledby=(format!("chart-{index}")) focusable="false" {
            @for (row, cell) in cells.iter().enumerate() {
                @let y = row * ROW + 4;
                @let size = s(cell, "sizeClass");
                text x="0" y=(y + 22) class="axis" { (lang.label("SizeClass", size)) }
                rect x=(LABEL) y=(y + 6) width=(BAR) height="22" class="track" {}
                @if let Some(f) = fraction(cell, field, is_percent).filter(|_| cell["suppressed"].as_bool() != Some(true)) {
                    rect x=(LABEL) y=(y + 6) width=(format!("{:.1}", f * BAR)) height="22" class="bar" {}
                }
                text x=(LABEL + BAR + 10.0) y=(y + 22) class={ "value" @if cell["suppressed"].as_bool() == Some(true) { " suppressed" } } {
                    (shown(lang, cell, field, is_percent))
                }
            }
        }
    }
}

fn table(lang: Lang, cells: &[Value], field: &str, is_percent: bool, label: &str) -> Markup {
    html! {
        details {
            summary { (lang.t("stats.as_table")) }
            table {
                caption { (lang.t(label)) }
                thead { tr {
                    th scope="col" { (lang.t("facet.size")) }
                    th scope="col" { (lang.t("stats.value")) }
                    th scope="col" { (lang.t("stats.tenders")) }
                } }
                tbody {
                    @for cell in cells {
                        tr {
                            th scope="row" { (lang.label("SizeClass", s(cell, "sizeClass"))) }
                            td { (shown(lang, cell, field, is_percent)) }
                            td { @if cell["suppressed"].as_bool() == Some(true) { (lang.t("stats.suppressed")) } @else { (int(cell, "tendersReported")) } }
                        }
                    }
                }
            }
        }
    }
}
