//! The search page: one box, facets with counts, sort, paging; every choice in the URL.

use axum::{
    extract::{RawQuery, State},
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};
use maud::{Markup, html};
use serde_json::{Value, json};

use super::{
    Lang,
    context::{Ctx, PageError},
    layout::{self, add_to_basket, highlighted, proven_badge, stale_warning},
    ops::{self, int, list, s},
};
use crate::startup::AppState;

/// Hits per page.
const PAGE_SIZE: i64 = 20;

/// A facet of the page: its URL parameter, the API's facet and filter field, and the
/// taxonomy its labels come from.
struct Facet {
    param: &'static str,
    api: &'static str,
    filter: &'static str,
    taxonomy: &'static str,
}

const FACETS: [Facet; 8] = [
    Facet {
        param: "kind",
        api: "KIND",
        filter: "kind",
        taxonomy: "ClauseKind",
    },
    Facet {
        param: "level",
        api: "AMBITION_LEVEL",
        filter: "ambitionLevel",
        taxonomy: "AmbitionLevel",
    },
    Facet {
        param: "focus",
        api: "FOCUS",
        filter: "focus",
        taxonomy: "Focus",
    },
    Facet {
        param: "proven",
        api: "PROVEN_LEVEL",
        filter: "provenLevel",
        taxonomy: "ProvenLevel",
    },
    Facet {
        param: "group",
        api: "PRODUCT_GROUP",
        filter: "productGroup",
        taxonomy: "ProductGroup",
    },
    Facet {
        param: "country",
        api: "COUNTRY",
        filter: "country",
        taxonomy: "Country",
    },
    Facet {
        param: "language",
        api: "LANGUAGE",
        filter: "language",
        taxonomy: "Language",
    },
    Facet {
        param: "size",
        api: "SIZE_CLASS",
        filter: "sizeClass",
        taxonomy: "SizeClass",
    },
];

const SORTS: [(&str, &str); 3] = [
    ("relevance", "RELEVANCE"),
    ("evidence", "EVIDENCE"),
    ("newest", "NEWEST"),
];

/// The page's state, read from and written back to the URL.
#[derive(Debug, Default, Clone)]
pub struct Params {
    q: String,
    /// Chosen values per facet, in `FACETS` order.
    chosen: [Vec<String>; 8],
    cpv: String,
    /// Show stale clauses too.
    stale: bool,
    sort: usize,
    after: Option<String>,
    /// Only the parts search-as-you-type replaces.
    partial: bool,
}

impl Params {
    pub fn parse(query: Option<&str>) -> Self {
        let mut params = Self::default();
        let pairs = form_urlencoded::parse(query.unwrap_or("").as_bytes()).take(200);
        for (key, value) in pairs {
            let value = value.trim();
            match key.as_ref() {
                "q" => params.q = value.chars().take(200).collect(),
                "cpv" => params.cpv = value.chars().take(12).collect(),
                "stale" => params.stale = value == "1",
                "partial" => params.partial = value == "1",
                "sort" => params.sort = SORTS.iter().position(|(k, _)| *k == value).unwrap_or(0),
                "after" if !value.is_empty() && value.len() <= 64 => {
                    params.after = Some(value.to_owned());
                }
                key => {
                    if let Some(i) = FACETS.iter().position(|f| f.param == key) {
                        // Only values the taxonomy has: anything else is dropped, not sent on.
                        if Lang::knows(FACETS[i].taxonomy, value)
                            && !params.chosen[i].iter().any(|v| v == value)
                        {
                            params.chosen[i].push(value.to_owned());
                        }
                    }
                }
            }
        }
        params
    }

    /// The URL query for these choices (without the page cursor unless asked).
    pub fn query(&self, with_after: bool) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        if !self.q.is_empty() {
            out.append_pair("q", &self.q);
        }
        for (facet, values) in FACETS.iter().zip(&self.chosen) {
            for value in values {
                out.append_pair(facet.param, value);
            }
        }
        if !self.cpv.is_empty() {
            out.append_pair("cpv", &self.cpv);
        }
        if self.stale {
            out.append_pair("stale", "1");
        }
        if self.sort != 0 {
            out.append_pair("sort", SORTS[self.sort].0);
        }
        if with_after && let Some(after) = &self.after {
            out.append_pair("after", after);
        }
        out.finish()
    }

    fn filter(&self, without: Option<usize>) -> Value {
        let mut filter = serde_json::Map::new();
        for (i, (facet, values)) in FACETS.iter().zip(&self.chosen).enumerate() {
            if !values.is_empty() && Some(i) != without {
                filter.insert(facet.filter.to_owned(), json!(values));
            }
        }
        if !self.cpv.is_empty() {
            filter.insert("cpv".to_owned(), json!(self.cpv));
        }
        if !self.stale {
            filter.insert("stale".to_owned(), json!(false));
        }
        Value::Object(filter)
    }

    fn any_filter(&self) -> bool {
        self.chosen.iter().any(|v| !v.is_empty()) || !self.cpv.is_empty() || self.stale
    }
}

pub async fn page(State(state): State<AppState>, ctx: Ctx, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.as_deref());
    let lang = ctx.lang;
    let found = search(&state, &ctx, &params).await;
    let (status, results) = match &found {
        Ok(data) => (StatusCode::OK, Some(data)),
        Err(PageError::BadRequest(_)) => (StatusCode::BAD_REQUEST, None),
        Err(PageError::Unavailable) => (StatusCode::SERVICE_UNAVAILABLE, None),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, None),
    };
    let error = match &found {
        Err(PageError::BadRequest(message)) => Some(message.clone()),
        Err(PageError::Unavailable) => Some(lang.t("error.unavailable").to_owned()),
        Err(_) => Some(lang.t("error.internal").to_owned()),
        Ok(_) => None,
    };
    let filters = filters(&ctx, &params, results);
    let hits = results_section(&ctx, &params, results, error.as_deref());
    if params.partial {
        let mut response = (status, Html(html! { (filters) (hits) }.into_string())).into_response();
        ctx.add_cookies(&mut response);
        return response;
    }
    let title = if params.q.is_empty() {
        lang.t("search.title").to_owned()
    } else {
        lang.f("search.title_for", &[("query", &params.q)])
    };
    let body = html! {
        h1 class="visually-hidden" { (lang.t("search.title")) }
        div class="intro" {
            p class="lead" { (lang.t("search.lead")) }
        }
        form id="search" class="searchbar" role="search" method="get" action=(ctx.link("/")) {
            label for="q" { (lang.t("search.label")) }
            div class="row" {
                input type="search" id="q" name="q" value=(params.q) maxlength="200"
                    autocomplete="off" aria-describedby="q-hint" data-live=(ctx.link("/"));
                button type="submit" { (lang.t("search.submit")) }
            }
            p id="q-hint" class="hint" { (lang.t("search.hint")) }
            div class="options" {
                label for="sort" { (lang.t("search.sort")) }
                select id="sort" name="sort" data-autosubmit {
                    @for (i, (key, _)) in SORTS.iter().enumerate() {
                        option value=(key) selected[i == params.sort] { (lang.t(&format!("search.sort.{key}"))) }
                    }
                }
            }
        }
        div class="columns" {
            (filters)
            (hits)
        }
    };
    ctx.html(status, layout::page(&ctx, &title, body))
}

async fn search(state: &AppState, ctx: &Ctx, params: &Params) -> Result<Value, PageError> {
    let variables = json!({
        "query": params.q,
        "filter": params.filter(None),
        "sort": SORTS[params.sort].1,
        "first": PAGE_SIZE,
        "after": params.after,
    });
    let mut data = ops::run(state, ctx, &ops::SEARCH_CLAUSES, variables).await?;
    // A facet in use shows its alternatives' counts as if it were not chosen (as shoppers
    // expect from facets): one more count for each such facet.
    let in_use: Vec<usize> = (0..FACETS.len())
        .filter(|i| !params.chosen[*i].is_empty())
        .collect();
    let counts = futures_util::future::join_all(in_use.iter().map(|&i| {
        let variables = json!({
            "query": params.q,
            "filter": params.filter(Some(i)),
            "facet": FACETS[i].api,
        });
        ops::run(state, ctx, &ops::FACET_COUNTS, variables)
    }))
    .await;
    if let Some(facets) = data
        .pointer_mut("/searchClauses/facets")
        .and_then(Value::as_array_mut)
    {
        for counted in counts {
            let counted = counted?;
            for distribution in list(&counted["searchClauses"], "facets") {
                let field = s(distribution, "field");
                if let Some(slot) = facets.iter_mut().find(|f| s(f, "field") == field) {
                    *slot = distribution.clone();
                }
            }
        }
    }
    Ok(data)
}

fn filters(ctx: &Ctx, params: &Params, data: Option<&Value>) -> Markup {
    let lang = ctx.lang;
    let facets = data.map_or(&[][..], |d| list(&d["searchClauses"], "facets"));
    html! {
        aside id="filters" class="filters" aria-labelledby="filters-title" {
            h2 id="filters-title" { (lang.t("search.filters")) }
            @for (i, facet) in FACETS.iter().enumerate() {
                @let values = facet_values(facets, facet, &params.chosen[i], lang);
                @if !values.is_empty() {
                    fieldset {
                        legend { (lang.t(&format!("facet.{}", facet.param))) }
                        ul {
                            @for (value, label, count) in &values {
                                @let id = format!("f-{}-{}", facet.param, value);
                                li {
                                    input type="checkbox" form="search" id=(id) name=(facet.param) value=(value)
                                        checked[params.chosen[i].contains(value)] data-autosubmit;
                                    label for=(id) { (label) " " span class="n" { "(" (count) ")" } }
                                }
                            }
                        }
                    }
                }
            }
            fieldset {
                legend { (lang.t("facet.cpv")) }
                label for="cpv" { (lang.t("facet.cpv.label")) }
                input type="text" id="cpv" name="cpv" form="search" value=(params.cpv)
                    inputmode="numeric" pattern="[0-9]{2,8}" maxlength="8" aria-describedby="cpv-hint";
                p id="cpv-hint" class="hint" { (lang.t("facet.cpv.hint")) }
            }
            div class="check" {
                input type="checkbox" form="search" id="stale" name="stale" value="1" checked[params.stale] data-autosubmit;
                label for="stale" { (lang.t("search.show_stale")) }
            }
            button type="submit" form="search" { (lang.t("search.apply")) }
            @if params.any_filter() {
                p { a href=(clear_filters(ctx, params)) { (lang.t("search.clear_filters")) } }
            }
        }
    }
}

fn clear_filters(ctx: &Ctx, params: &Params) -> String {
    let cleared = Params {
        q: params.q.clone(),
        sort: params.sort,
        ..Params::default()
    };
    link_with(ctx, &cleared.query(false))
}

fn link_with(ctx: &Ctx, query: &str) -> String {
    if query.is_empty() {
        ctx.link("/")
    } else {
        format!("{}?{query}", ctx.link("/"))
    }
}

/// A facet's values with labels and counts: what the search counted, plus chosen values it
/// did not (count 0), most frequent first.
fn facet_values(
    facets: &[Value],
    facet: &Facet,
    chosen: &[String],
    lang: Lang,
) -> Vec<(String, &'static str, i64)> {
    let counted = facets
        .iter()
        .find(|f| s(f, "field") == facet.api)
        .map_or(&[][..], |f| list(f, "values"));
    let mut values: Vec<(String, &'static str, i64)> = counted
        .iter()
        .map(|v| (s(v, "value").to_owned(), int(v, "count")))
        .filter(|(value, _)| Lang::knows(facet.taxonomy, value))
        .map(|(value, count)| {
            let label = lang.label(facet.taxonomy, &value);
            (value, label, count)
        })
        .collect();
    for value in chosen {
        if !values.iter().any(|(v, _, _)| v == value) {
            values.push((value.clone(), lang.label(facet.taxonomy, value), 0));
        }
    }
    values.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.1.cmp(b.1)));
    values
}

fn results_section(
    ctx: &Ctx,
    params: &Params,
    data: Option<&Value>,
    error: Option<&str>,
) -> Markup {
    let lang = ctx.lang;
    let connection = data.map(|d| &d["searchClauses"]);
    let total = connection.map_or(0, |c| int(c, "totalCount"));
    let edges = connection.map_or(&[][..], |c| list(c, "edges"));
    html! {
        section id="results" class="results" aria-labelledby="results-title" {
            h2 id="results-title" aria-live="polite" {
                @if error.is_some() { (lang.t("search.failed")) } @else { (lang.plural("search.count", total)) }
            }
            @if let Some(error) = error {
                p class="error" role="alert" { (error) }
            }
            @if error.is_none() && edges.is_empty() {
                p { (lang.t("search.nothing")) }
            }
            ol class="hits" {
                @for edge in edges {
                    @if let Some(hit) = hit(ctx, &edge["node"]) { (hit) }
                }
            }
            nav class="paging" aria-label=(lang.t("search.paging")) {
                @if params.after.is_some() {
                    a href=(link_with(ctx, &params.query(false))) { (lang.t("search.first_page")) }
                }
                @if let Some(c) = connection && c["pageInfo"]["hasNextPage"].as_bool() == Some(true) {
                    @let next = Params { after: c["pageInfo"]["endCursor"].as_str().map(str::to_owned), ..params.clone() };
                    a href=(link_with(ctx, &next.query(true))) rel="next" { (lang.t("search.next_page")) }
                }
            }
        }
    }
}

fn hit(ctx: &Ctx, node: &Value) -> Option<Markup> {
    let lang = ctx.lang;
    let clause = node.get("clause").filter(|c| !c.is_null())?;
    let latest = &clause["latest"];
    let id = s(clause, "id");
    let title = node["highlight"]["title"]
        .as_str()
        .unwrap_or_else(|| s(latest, "title"));
    let text = node["highlight"]["text"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| layout::excerpt(s(latest, "text"), 280));
    let plain_title = s(latest, "title");
    let kind = ops::opt(latest, "kind");
    let level = ops::opt(latest, "ambitionLevel");
    Some(html! {
        li class="hit" lang=(s(latest, "language").to_ascii_lowercase()) {
            h3 { a href=(ctx.link(&format!("/clauses/{id}"))) { (highlighted(title)) } }
            p class="meta" lang=(lang.code()) {
                (s(&clause["organization"], "name"))
                @if let Some(kind) = kind { " · " (lang.label("ClauseKind", kind)) }
                @if let Some(level) = level { " · " (lang.label("AmbitionLevel", level)) }
                " · " (lang.label("Language", s(latest, "language")))
            }
            p class="snippet" { (highlighted(&text)) }
            div class="badges" lang=(lang.code()) {
                (proven_badge(lang, s(&clause["evidence"], "provenLevel")))
                @if clause["staleness"]["stale"].as_bool() == Some(true) {
                    " " (stale_warning(lang, list(&clause["staleness"], "reasons")))
                }
            }
            div lang=(lang.code()) { (add_to_basket(ctx, id, plain_title)) }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_round_trips_every_choice_and_drops_unknown_values() {
        let params = Params::parse(Some(
            "q=%C3%A5tertagande&kind=AWARD_CRITERION&kind=BOGUS&country=SE&country=SE&cpv=302&stale=1&sort=evidence&after=abc",
        ));
        assert_eq!(params.q, "återtagande");
        assert_eq!(params.chosen[0], ["AWARD_CRITERION"]);
        assert_eq!(params.chosen[5], ["SE"]);
        assert_eq!(
            params.query(true),
            "q=%C3%A5tertagande&kind=AWARD_CRITERION&country=SE&cpv=302&stale=1&sort=evidence&after=abc"
        );
        let filter = params.filter(Some(0));
        assert!(filter.get("kind").is_none());
        assert_eq!(filter["country"], json!(["SE"]));
        assert!(
            filter.get("stale").is_none(),
            "stale clauses were asked for"
        );
        assert_eq!(Params::parse(None).filter(None)["stale"], json!(false));
    }
}
