//! The rotating query set: 1–3 words from the synthetic catalogue's vocabulary, about one in
//! ten with a typo, half with filters, facets always requested. The same query goes to the
//! GraphQL API and, as a [`SearchRequest`], straight to a backend.

use commons_api::synthetic::{LANGUAGES, Rng, lexicon};
use search::{Facet, SearchFilter, SearchRequest};
use serde_json::{Value, json};

/// The GraphQL operation every search sends: what a front-end's result list asks for.
pub const SEARCH: &str = "query($q: String!, $filter: ClauseSearchFilter, $facets: [SearchFacet!]) { searchClauses(query: $q, filter: $filter, facets: $facets, first: 10) { totalCount edges { node { highlight { title text } clause { id latest { title } } } } facets { field values { value count } } } }";

/// The same search asking only for what the backend answers (ids, highlights, counts,
/// facets): the GraphQL layer's own cost, without the database read of each hit's clause.
pub const SEARCH_HITS: &str = "query($q: String!, $filter: ClauseSearchFilter, $facets: [SearchFacet!]) { searchClauses(query: $q, filter: $filter, facets: $facets, first: 10) { totalCount edges { node { highlight { title text } } } facets { field values { value count } } } }";

/// Results per page, as in [`SEARCH`].
const PAGE: usize = 10;

const COUNTRIES: [&str; 5] = ["SE", "NO", "DK", "FI", "IS"];
const KINDS: [&str; 4] = [
    "SELECTION_CRITERION",
    "TECHNICAL_SPECIFICATION",
    "AWARD_CRITERION",
    "CONTRACT_PERFORMANCE_CLAUSE",
];
const LEVELS: [&str; 3] = ["CORE", "ADVANCED", "SPEARHEAD"];
const CPV_PREFIXES: [&str; 5] = ["302", "3021", "322", "48", "72"];

#[derive(Debug, Clone)]
pub struct Query {
    pub text: String,
    /// (facet, GraphQL filter field, values).
    pub filter: Vec<(Facet, &'static str, Vec<String>)>,
    pub cpv: Option<String>,
}

/// One edit (replace or drop a letter) in the middle of the longest word.
fn typo(rng: &mut Rng, words: &mut [String]) {
    let Some(word) = words.iter_mut().max_by_key(|w| w.chars().count()) else {
        return;
    };
    let mut chars: Vec<char> = word.chars().collect();
    if chars.len() < 5 {
        return;
    }
    let at = 1 + rng.below(chars.len() - 2);
    if rng.chance(50) {
        chars.remove(at);
    } else {
        chars[at] = *rng.pick(&['a', 'e', 'i', 'o', 'r', 's', 't']);
    }
    *word = chars.into_iter().collect();
}

/// `count` queries, the same for the same seed.
pub fn generate(count: usize, seed: u64) -> Vec<Query> {
    let mut rng = Rng::new(seed);
    (0..count)
        .map(|_| {
            let language = *rng.pick(&LANGUAGES);
            let lexicon = lexicon(language);
            let mut words: Vec<String> = (0..1 + rng.below(3))
                .map(|_| lexicon.word(&mut rng).to_owned())
                .collect();
            if rng.chance(10) {
                typo(&mut rng, &mut words);
            }
            let mut filter = Vec::new();
            let mut cpv = None;
            if rng.chance(50) {
                match rng.below(4) {
                    0 => filter.push((
                        Facet::Country,
                        "country",
                        vec![rng.pick(&COUNTRIES).to_string()],
                    )),
                    1 => filter.push((Facet::Kind, "kind", vec![rng.pick(&KINDS).to_string()])),
                    2 => filter.push((
                        Facet::AmbitionLevel,
                        "ambitionLevel",
                        vec![rng.pick(&LEVELS).to_string()],
                    )),
                    _ => cpv = Some(rng.pick(&CPV_PREFIXES).to_string()),
                }
                if rng.chance(30) {
                    let code = serde_json::to_value(language)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default();
                    filter.push((Facet::Language, "language", vec![code]));
                }
            }
            Query {
                text: words.join(" "),
                filter,
                cpv,
            }
        })
        .collect()
}

const FACETS: [Facet; 3] = [Facet::Country, Facet::Language, Facet::Kind];

impl Query {
    /// The GraphQL request body sending `operation` ([`SEARCH`] or [`SEARCH_HITS`]).
    pub fn graphql_body(&self, operation: &str) -> Vec<u8> {
        let mut filter = serde_json::Map::new();
        for (_, field, values) in &self.filter {
            filter.insert((*field).to_owned(), json!(values));
        }
        if let Some(cpv) = &self.cpv {
            filter.insert("cpv".to_owned(), json!(cpv));
        }
        let filter = if filter.is_empty() {
            Value::Null
        } else {
            Value::Object(filter)
        };
        json!({
            "query": operation,
            "variables": { "q": self.text, "filter": filter, "facets": ["COUNTRY", "LANGUAGE", "KIND"] },
        })
        .to_string()
        .into_bytes()
    }

    /// The same search as a backend request (what the API sends to the backend).
    pub fn request(&self) -> SearchRequest {
        SearchRequest {
            query: self.text.clone(),
            filter: SearchFilter {
                values: self
                    .filter
                    .iter()
                    .map(|(facet, _, values)| (*facet, values.clone()))
                    .collect(),
                cpv_prefix: self.cpv.clone(),
                stale: None,
            },
            facets: FACETS.to_vec(),
            limit: PAGE,
            ..SearchRequest::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_set_has_the_promised_mix() {
        let queries = generate(2_000, 1);
        let with_filters = queries
            .iter()
            .filter(|q| !q.filter.is_empty() || q.cpv.is_some())
            .count();
        assert!((800..1_200).contains(&with_filters), "{with_filters}");
        assert!(
            queries
                .iter()
                .all(|q| (1..=3).contains(&q.text.split(' ').count()))
        );
        let distinct: std::collections::HashSet<_> = queries.iter().map(|q| &q.text).collect();
        assert!(distinct.len() > 1_000, "{} distinct texts", distinct.len());
        assert_eq!(generate(5, 9)[4].text, generate(5, 9)[4].text);
    }
}
