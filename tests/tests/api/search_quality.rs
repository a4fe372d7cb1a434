//! Search quality on the demo catalogue, measured with the judged query set in
//! `tests/search-quality/queries.json` (see the README beside it): every query goes through
//! GraphQL `searchClauses` as an anonymous officer would send it, and the top 10 are scored
//! against the clauses judged relevant. The table (recall@10, MRR, success@1 per group, per
//! query language and overall, and the worst queries with what they missed) goes to stderr:
//!
//! ```sh
//! cargo nextest run -p commons-tests -E 'test(/search_quality/)' --no-capture
//! ```
//!
//! The embedded index must stay above the floors below; Meilisearch (with `MEILI_URL`) is
//! measured and reported the same way.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    fmt::Write as _,
    sync::Arc,
};

use futures_util::{StreamExt as _, stream};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::helpers::*;

// Floors for the embedded (tantivy) index. Each was set a little (0.02–0.03) under the value
// measured with the 260-query set as committed then (over several runs: ties in ranking move
// a few queries by a rank between runs), so that CI fails when search quality drops. Raise
// them as search improves (and measure again when queries are added); lowering one needs a
// reason in the commit that does it. Last raised on 2026-12-07 after broader concepts (half
// a word, two levels up), Finnish inflection stems, known words kept from typo correction and
// more concept terms; measured again on 2026-12-07 after the concept hierarchy grew (printing,
// human rights, life cycle assessment, packaging), kind words boost on Meilisearch and its
// results go on with the clauses having the query's last word. The Meilisearch recall floor
// was raised on 2026-12-08, to 0.93 (measured 0.943; later that day 0.947, after the title's
// own analysed attribute and the listed forms of other languages' endings).
/// MRR over every judged query (the `none` queries excluded).
const FLOOR_MRR_OVERALL: f64 = 0.94; // measured 0.961
/// MRR of the queries whose relevant clauses include some in the query's own language.
const FLOOR_MRR_SAME_LANGUAGE: f64 = 0.95; // measured 0.971
/// MRR of the queries whose relevant clauses are all in other languages.
const FLOOR_MRR_CROSS_LANGUAGE: f64 = 0.92; // measured 0.942
/// MRR of the queries with a typo in a key word.
const FLOOR_MRR_MISSPELT: f64 = 0.97; // measured 1.000
/// Recall@10 over every judged query.
const FLOOR_RECALL_OVERALL: f64 = 0.94; // measured 0.954
/// Recall@10 of the same-language, cross-language and misspelt queries.
const FLOOR_RECALL_SAME_LANGUAGE: f64 = 0.94; // measured 0.951
const FLOOR_RECALL_CROSS_LANGUAGE: f64 = 0.94; // measured 0.960
const FLOOR_RECALL_MISSPELT: f64 = 0.94; // measured 0.958
/// Meilisearch's overall MRR and recall@10 (measured against Meilisearch 1.50 built from its
/// public source; the test runs only with `MEILI_URL`).
const FLOOR_MEILI_MRR_OVERALL: f64 = 0.91; // measured 0.929
const FLOOR_MEILI_RECALL_OVERALL: f64 = 0.93; // measured 0.947

/// How many results are scored, as a search page shows them.
const TOP: usize = 10;
/// Searches in flight at once (the embedded index runs one per core; CI has two).
const CONCURRENCY: usize = 2;
/// How many of the lowest-scoring queries the report lists.
const WORST: usize = 15;

const GROUPS: [&str; 8] = [
    "same-language",
    "cross-language",
    "misspelt",
    "compound",
    "inflection",
    "multi-word",
    "facet-word",
    "none",
];
const LANGUAGES: [&str; 5] = ["SV", "NB", "DA", "FI", "EN"];

const SEARCH: &str = "query($q: String!) {
  searchClauses(query: $q, first: 10) { totalCount edges { node { clause { id } } } }
}";
const LIST: &str = "query($after: String) {
  clauses(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id latest { title } }
  }
}";

#[derive(Debug, Deserialize)]
struct Judged {
    id: String,
    query: String,
    language: String,
    groups: Vec<String>,
    relevant: Vec<String>,
}

impl Judged {
    fn is_none(&self) -> bool {
        self.groups.iter().any(|g| g == "none")
    }
}

#[derive(Deserialize)]
struct Demo {
    clauses: Vec<DemoClause>,
}

#[derive(Deserialize)]
struct DemoClause {
    key: String,
    title: String,
    language: String,
    status: String,
}

fn read(path: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn load() -> (Vec<Judged>, Vec<DemoClause>) {
    let judged: Vec<Judged> = serde_json::from_str(&read("search-quality/queries.json"))
        .unwrap_or_else(|e| panic!("search-quality/queries.json: {e}"));
    let demo: Demo = serde_json::from_str(&read("../api/data/demo-catalogue.json")).unwrap();
    check_judgments(&judged, &demo.clauses);
    (judged, demo.clauses)
}

/// The judged set must be consistent with itself and with the catalogue, or its numbers
/// mean nothing: a hand edit that breaks it fails here, with what is wrong.
fn check_judgments(judged: &[Judged], demo: &[DemoClause]) {
    let published: HashMap<&str, &str> = demo
        .iter()
        .filter(|c| c.status == "PUBLISHED")
        .map(|c| (c.key.as_str(), c.language.as_str()))
        .collect();
    let mut ids = HashSet::new();
    let mut problems = Vec::new();
    for q in judged {
        let mut problem = |what: String| problems.push(format!("{}: {what}", q.id));
        if !ids.insert(q.id.as_str()) {
            problem("id used twice".into());
        }
        if !LANGUAGES.contains(&q.language.as_str()) {
            problem(format!("unknown language {}", q.language));
        }
        if let Some(g) = q.groups.iter().find(|g| !GROUPS.contains(&g.as_str())) {
            problem(format!("unknown group {g}"));
        }
        let relevant: HashSet<&str> = q.relevant.iter().map(String::as_str).collect();
        if relevant.len() != q.relevant.len() {
            problem("a relevant key listed twice".into());
        }
        if relevant.len() > TOP {
            problem(format!("more than {TOP} relevant clauses"));
        }
        if let Some(key) = relevant.iter().find(|k| !published.contains_key(*k)) {
            problem(format!("{key} is not a published demo clause"));
        }
        let has = |g: &str| q.groups.iter().any(|x| x == g);
        if q.is_none() {
            if !relevant.is_empty() || has("same-language") || has("cross-language") {
                problem("a none query has relevant clauses or a language group".into());
            }
            continue;
        }
        if relevant.is_empty() {
            problem("no relevant clauses (only none queries have none)".into());
        }
        let same = relevant
            .iter()
            .any(|k| published.get(k) == Some(&q.language.as_str()));
        if has("same-language") != same || has("cross-language") == same {
            problem(format!(
                "must be in exactly one of same-language / cross-language, and it is {}",
                if same {
                    "same-language"
                } else {
                    "cross-language"
                }
            ));
        }
        if has("multi-word") != (q.query.split_whitespace().count() > 1) {
            problem("multi-word does not match the query's words".into());
        }
    }
    assert!(
        problems.is_empty(),
        "tests/search-quality/queries.json:\n{}",
        problems.join("\n")
    );
}

/// The clause id of every published demo clause, by its key (matched on the title).
async fn clause_ids(app: &TestApp, demo: &[DemoClause]) -> HashMap<String, String> {
    let mut by_title: HashMap<String, String> = HashMap::new();
    let mut after = Value::Null;
    loop {
        let page = app.ok(None, LIST, json!({ "after": after })).await["clauses"].clone();
        for node in page["nodes"].as_array().unwrap() {
            let title = node["latest"]["title"].as_str().unwrap().to_owned();
            let id = node["id"].as_str().unwrap().to_owned();
            assert!(
                by_title.insert(title.clone(), id).is_none(),
                "two published clauses are titled {title:?}"
            );
        }
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    let published: Vec<&DemoClause> = demo.iter().filter(|c| c.status == "PUBLISHED").collect();
    let titles: HashSet<&str> = published.iter().map(|c| c.title.as_str()).collect();
    assert_eq!(
        titles.len(),
        published.len(),
        "demo clause titles are not unique"
    );
    assert_eq!(
        by_title.len(),
        published.len(),
        "the server lists other clauses than the demo catalogue publishes"
    );
    published
        .iter()
        .map(|c| {
            let id = by_title
                .get(&c.title)
                .unwrap_or_else(|| panic!("demo clause {} ({:?}) is not listed", c.key, c.title));
            (c.key.clone(), id.clone())
        })
        .collect()
}

struct Outcome<'a> {
    judged: &'a Judged,
    /// Keys of the top results, best first (`?` for a hit that is not a demo clause).
    top: Vec<String>,
    total: i64,
    recall: f64,
    reciprocal_rank: f64,
    success: bool,
}

impl Outcome<'_> {
    fn missed(&self) -> Vec<&str> {
        self.judged
            .relevant
            .iter()
            .filter(|k| !self.top.contains(k))
            .map(String::as_str)
            .collect()
    }
}

fn score(judged: &Judged, top: Vec<String>, total: i64) -> Outcome<'_> {
    let relevant: HashSet<&str> = judged.relevant.iter().map(String::as_str).collect();
    let found = top.iter().filter(|k| relevant.contains(k.as_str())).count();
    let first = top.iter().position(|k| relevant.contains(k.as_str()));
    Outcome {
        judged,
        recall: if relevant.is_empty() {
            0.0
        } else {
            found as f64 / relevant.len() as f64
        },
        reciprocal_rank: first.map_or(0.0, |rank| 1.0 / (rank + 1) as f64),
        success: first == Some(0),
        top,
        total,
    }
}

/// Runs every judged query and scores its top 10.
async fn measure<'a>(
    app: &TestApp,
    judged: &'a [Judged],
    ids: &HashMap<String, String>,
) -> Vec<Outcome<'a>> {
    let keys: HashMap<&str, &str> = ids
        .iter()
        .map(|(k, id)| (id.as_str(), k.as_str()))
        .collect();
    let keys = &keys;
    stream::iter(judged)
        .map(|q| async move {
            let result =
                app.ok(None, SEARCH, json!({ "q": q.query })).await["searchClauses"].clone();
            let top: Vec<String> = result["edges"]
                .as_array()
                .unwrap()
                .iter()
                .take(TOP)
                .map(|edge| {
                    let id = edge["node"]["clause"]["id"].as_str().unwrap_or_default();
                    keys.get(id).copied().unwrap_or("?").to_owned()
                })
                .collect();
            score(q, top, result["totalCount"].as_i64().unwrap_or_default())
        })
        .buffered(CONCURRENCY)
        .collect()
        .await
}

#[derive(Default, Clone, Copy)]
struct Score {
    queries: usize,
    recall: f64,
    reciprocal_rank: f64,
    success: f64,
}

impl Score {
    fn add(&mut self, outcome: &Outcome<'_>) {
        self.queries += 1;
        self.recall += outcome.recall;
        self.reciprocal_rank += outcome.reciprocal_rank;
        self.success += if outcome.success { 1.0 } else { 0.0 };
    }

    fn mean(total: f64, n: usize) -> f64 {
        if n == 0 { 0.0 } else { total / n as f64 }
    }

    fn recall(&self) -> f64 {
        Self::mean(self.recall, self.queries)
    }

    fn mrr(&self) -> f64 {
        Self::mean(self.reciprocal_rank, self.queries)
    }

    fn success(&self) -> f64 {
        Self::mean(self.success, self.queries)
    }
}

struct Summary {
    overall: Score,
    groups: BTreeMap<&'static str, Score>,
    languages: BTreeMap<&'static str, Score>,
}

impl Summary {
    fn group(&self, group: &str) -> Score {
        self.groups.get(group).copied().unwrap_or_default()
    }
}

fn summarise(outcomes: &[Outcome<'_>]) -> Summary {
    let mut summary = Summary {
        overall: Score::default(),
        groups: BTreeMap::new(),
        languages: BTreeMap::new(),
    };
    for outcome in outcomes.iter().filter(|o| !o.judged.is_none()) {
        summary.overall.add(outcome);
        for group in GROUPS {
            if outcome.judged.groups.iter().any(|g| g == group) {
                summary.groups.entry(group).or_default().add(outcome);
            }
        }
        for language in LANGUAGES {
            if outcome.judged.language == language {
                summary.languages.entry(language).or_default().add(outcome);
            }
        }
    }
    summary
}

fn report(backend: &str, outcomes: &[Outcome<'_>], summary: &Summary) -> String {
    let mut out = String::new();
    let row = |out: &mut String, label: &str, s: &Score| {
        let _ = writeln!(
            out,
            "  {label:<26} {:>5} {:>10.3} {:>7.3} {:>10.3}",
            s.queries,
            s.recall(),
            s.mrr(),
            s.success()
        );
    };
    let _ = writeln!(
        out,
        "\nsearch quality on {backend}: {} queries from tests/search-quality/queries.json, top {TOP}",
        outcomes.len()
    );
    let _ = writeln!(
        out,
        "  {:<26} {:>5} {:>10} {:>7} {:>10}",
        "", "n", "recall@10", "MRR", "success@1"
    );
    row(&mut out, "overall", &summary.overall);
    for group in GROUPS.iter().filter(|g| **g != "none") {
        row(&mut out, &format!("group {group}"), &summary.group(group));
    }
    for language in LANGUAGES {
        let score = summary.languages.get(language).copied().unwrap_or_default();
        row(&mut out, &format!("language {language}"), &score);
    }

    let none: Vec<&Outcome<'_>> = outcomes.iter().filter(|o| o.judged.is_none()).collect();
    let _ = writeln!(
        out,
        "  none queries (nothing relevant, not scored): {}, {} of them with no hits; hits: {}",
        none.len(),
        none.iter().filter(|o| o.total == 0).count(),
        none.iter()
            .map(|o| format!("{:?} {}", o.judged.query, o.total))
            .collect::<Vec<_>>()
            .join(", ")
    );

    let mut worst: Vec<&Outcome<'_>> = outcomes.iter().filter(|o| !o.judged.is_none()).collect();
    // Lowest recall and rank first; among equals, the query that missed most.
    worst.sort_by(|a, b| {
        (a.recall + a.reciprocal_rank)
            .total_cmp(&(b.recall + b.reciprocal_rank))
            .then_with(|| b.missed().len().cmp(&a.missed().len()))
            .then_with(|| a.judged.id.cmp(&b.judged.id))
    });
    let empty: Vec<&str> = worst
        .iter()
        .filter(|o| o.reciprocal_rank == 0.0)
        .map(|o| o.judged.id.as_str())
        .collect();
    let _ = writeln!(
        out,
        "  no relevant clause in the top {TOP}: {} queries: {}",
        empty.len(),
        empty.join(", ")
    );
    let _ = writeln!(out, "  worst {WORST}:");
    for o in worst.iter().take(WORST) {
        let _ = writeln!(
            out,
            "    {:<36} {} {:?} [{}]: recall {:.2}, RR {:.2}, {} hits\n      missed: {}\n      top 3:  {}",
            o.judged.id,
            o.judged.language,
            o.judged.query,
            o.judged.groups.join(", "),
            o.recall,
            o.reciprocal_rank,
            o.total,
            o.missed().join(", "),
            o.top.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
        );
    }
    out
}

#[expect(
    clippy::print_stderr,
    reason = "the report is what this test is run for"
)]
fn print(report: &str) {
    eprintln!("{report}");
}

/// Measures `app` (a server with the demo catalogue) and prints the report; returns the
/// summary for floors.
async fn run(app: &TestApp, backend: &str) -> Summary {
    let (judged, demo) = load();
    assert!(app.index_caught_up().await, "the index never caught up");
    let ids = clause_ids(app, &demo).await;
    let everything = async || {
        let all = app.ok(None, SEARCH, json!({ "q": "" })).await;
        all["searchClauses"]["totalCount"].as_u64() == Some(ids.len() as u64)
    };
    assert!(
        eventually(INDEX_WAIT, everything).await.is_some(),
        "the {backend} index does not hold every published demo clause"
    );
    let outcomes = measure(app, &judged, &ids).await;
    let summary = summarise(&outcomes);
    print(&report(backend, &outcomes, &summary));
    if let Ok(path) = std::env::var("SEARCH_QUALITY_RESULTS") {
        write_results(&path, &outcomes);
    }
    summary
}

/// Writes every query's outcome as one JSON line (for comparing two runs query by query).
fn write_results(path: &str, outcomes: &[Outcome<'_>]) {
    let lines: String = outcomes
        .iter()
        .map(|o| {
            let line = json!({
                "id": o.judged.id,
                "query": o.judged.query,
                "language": o.judged.language,
                "groups": o.judged.groups,
                "recall": o.recall,
                "reciprocalRank": o.reciprocal_rank,
                "totalCount": o.total,
                "top": o.top,
                "missed": o.missed(),
            });
            format!("{line}\n")
        })
        .collect();
    std::fs::write(path, lines).unwrap_or_else(|e| panic!("{path}: {e}"));
}

fn assert_floor(what: &str, measured: f64, floor: f64, failures: &mut Vec<String>) {
    if measured < floor {
        failures.push(format!(
            "{what} is {measured:.3}, under its floor {floor:.3}"
        ));
    }
}

/// [`assert_floor`] for the MRR and the recall@10 of `score`.
fn assert_floors(
    label: &str,
    score: &Score,
    (mrr_floor, recall_floor): (f64, f64),
    failures: &mut Vec<String>,
) {
    assert_floor(&format!("{label} MRR"), score.mrr(), mrr_floor, failures);
    assert_floor(
        &format!("{label} recall@10"),
        score.recall(),
        recall_floor,
        failures,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_quality_on_the_embedded_index() {
    let options = Options {
        demo: true,
        ..Options::default()
    };
    with_app(Backend::Sqlite, options, |app| async move {
        let summary = run(&app, "the embedded index (tantivy)").await;
        let mut failures = Vec::new();
        assert_floors(
            "overall",
            &summary.overall,
            (FLOOR_MRR_OVERALL, FLOOR_RECALL_OVERALL),
            &mut failures,
        );
        for (group, mrr_floor, recall_floor) in [
            (
                "same-language",
                FLOOR_MRR_SAME_LANGUAGE,
                FLOOR_RECALL_SAME_LANGUAGE,
            ),
            (
                "cross-language",
                FLOOR_MRR_CROSS_LANGUAGE,
                FLOOR_RECALL_CROSS_LANGUAGE,
            ),
            ("misspelt", FLOOR_MRR_MISSPELT, FLOOR_RECALL_MISSPELT),
        ] {
            assert_floors(
                group,
                &summary.group(group),
                (mrr_floor, recall_floor),
                &mut failures,
            );
        }
        assert!(
            failures.is_empty(),
            "search quality dropped (see the table above):\n{}",
            failures.join("\n")
        );
    })
    .await;
}

/// The same set on Meilisearch (`MEILI_URL`, `MEILI_MASTER_KEY`), in a throw-away index
/// dropped afterwards, held to its own overall floors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_quality_on_meilisearch() {
    let Ok(url) = std::env::var("MEILI_URL") else {
        print(
            "skipped: MEILI_URL is not set, search quality was not measured on Meilisearch \
             (only on the embedded index)",
        );
        return;
    };
    let key = std::env::var("MEILI_MASTER_KEY").ok();
    let uid = format!("search_quality_{}", uuid::Uuid::now_v7().simple());
    let clauses = search::meili::MeiliBackend::connect(&url, key.as_deref(), &uid)
        .await
        .expect("connect to Meilisearch");
    let options = Options {
        demo: true,
        search: Some(commons_api::indexing::Backends {
            clauses: Arc::new(clauses),
            templates: Arc::new(search::TantivyBackend::in_memory().unwrap()),
        }),
        ..Options::default()
    };
    let outcome =
        std::panic::AssertUnwindSafe(with_app(Backend::Sqlite, options, |app| async move {
            let summary = run(&app, "Meilisearch").await;
            let mut failures = Vec::new();
            assert_floors(
                "overall",
                &summary.overall,
                (FLOOR_MEILI_MRR_OVERALL, FLOOR_MEILI_RECALL_OVERALL),
                &mut failures,
            );
            assert!(
                failures.is_empty(),
                "search quality on Meilisearch dropped (see the table above):\n{}",
                failures.join("\n")
            );
        }));
    let outcome = futures_util::FutureExt::catch_unwind(outcome).await;
    if let Ok(index) = search::meili::MeiliBackend::connect(&url, key.as_deref(), &uid).await {
        let _ = index.drop_index().await;
    }
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
