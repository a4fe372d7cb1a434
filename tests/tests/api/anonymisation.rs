//! The anonymisation corpus, end to end: every planted identifier of
//! `tests/fixtures/anonymisation/planted.jsonl` is written through every write path (GraphQL
//! publish, bulk import, a new version, templates, tender results, withdrawal reasons) and no
//! public output may hold it afterwards (GraphQL as anonymous and as another organisation,
//! with reused drafts, search hits and highlights, the change feed, the subscription, the
//! NDJSON snapshot, OCDS, the database's published rows); every sentence of `clean.jsonl` (technical numbers,
//! department names, labels) must come out unchanged. Prints leaks and false positives per
//! kind and format; fails on any leak or on more than 1 % false positives.

use std::collections::{BTreeMap, HashMap};

use sea_orm::EntityTrait;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::helpers::*;

/// One corpus sentence; `secrets` is empty for clean ones.
#[derive(Debug, Clone, Deserialize)]
struct Record {
    id: String,
    lang: String,
    kind: String,
    #[serde(default)]
    format: String,
    field: String,
    text: String,
    #[serde(default)]
    secrets: Vec<String>,
}

fn corpus(name: &str) -> Vec<Record> {
    let path = format!(
        "{}/fixtures/anonymisation/{name}.jsonl",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{path}: {e}: {l}")))
        .collect()
}

const CLAUSE_FIELDS: [(&str, &str); 6] = [
    ("clause.title", "title"),
    ("clause.purpose", "purpose"),
    ("clause.text", "text"),
    ("clause.verification", "verification"),
    ("clause.followUp", "followUp"),
    ("clause.scoringRule", "scoringRule"),
];

fn language(lang: &str) -> &'static str {
    match lang {
        "sv" => "SV",
        "nb" => "NB",
        "da" => "DA",
        "fi" => "FI",
        _ => "EN",
    }
}

/// Whether `needle` stands in `haystack` as a whole word (or number).
fn contains_word(haystack: &str, needle: &str) -> bool {
    let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    haystack.match_indices(needle).any(|(at, _)| {
        !word(haystack[..at].chars().next_back())
            && !word(haystack[at + needle.len()..].chars().next())
    })
}

/// The text with every UUID blanked out: a secret such as "ebba" may be a UUID's group.
fn without_uuids(text: &str) -> String {
    let bytes = text.as_bytes();
    let shape = [8, 4, 4, 4, 12];
    let is_uuid_at = |at: usize| {
        let mut i = at;
        for (n, len) in shape.iter().enumerate() {
            if n > 0 {
                if bytes.get(i) != Some(&b'-') {
                    return false;
                }
                i += 1;
            }
            if i + len > bytes.len() || !bytes[i..i + len].iter().all(u8::is_ascii_hexdigit) {
                return false;
            }
            i += len;
        }
        true
    };
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    while at < text.len() {
        if (at == 0 || !bytes[at - 1].is_ascii_alphanumeric()) && is_uuid_at(at) {
            out.push_str("<uuid>");
            at += 36;
        } else {
            let c = text[at..].chars().next().unwrap();
            out.push(c);
            at += c.len_utf8();
        }
    }
    out
}

/// Every string in a JSON value, one a line.
fn strings(value: &Value, out: &mut String) {
    match value {
        Value::String(s) => {
            out.push_str(s);
            out.push('\n');
        }
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

fn text_of(value: &Value) -> String {
    let mut out = String::new();
    strings(value, &mut out);
    out
}

/// Writes of the corpus: how each record reached the catalogue.
#[derive(Default)]
struct Writes {
    /// Import lines, published in one request at the end.
    import: Vec<Value>,
}

const CLAUSE_PAGE: &str = "query($after: String, $status: [PublicationStatus!]) {
  clauses(first: 20, after: $after, filter: { status: $status }) {
    pageInfo { hasNextPage endCursor }
    edges { node { id withdrawal { reason }
      latest { title purpose text scoringRule verification followUp labels }
      versions { title purpose text scoringRule verification followUp }
      draft { title purpose text scoringRule verification followUp } } } } }";
const TEMPLATE_PAGE: &str = "query($after: String) {
  templates(first: 100, after: $after, filter: { status: [PUBLISHED, WITHDRAWN] }) {
    pageInfo { hasNextPage endCursor }
    edges { node { id withdrawal { reason } latest { title description } } } } }";
const RESULT_PAGE: &str = "query($after: String) {
  tenderResults(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { id lessonsLearned noAwardReason withdrawal { reason } } } } }";
const FEED_PAGE: &str = "query($after: String) { changes(after: $after, first: 100) {
  pageInfo { hasNextPage endCursor } edges { node { payload } } } }";

/// Every page of a connection, as the caller sees it.
async fn pages(
    app: &TestApp,
    token: Option<&str>,
    query: &str,
    root: &str,
    variables: Value,
) -> Value {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut vars = variables.clone();
        vars["after"] = json!(after);
        let data = app.ok(token, query, vars).await;
        let page = &data[root];
        all.extend(page["edges"].as_array().unwrap().iter().cloned());
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
        if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            return Value::Array(all);
        }
    }
}

async fn get_text(app: &TestApp, path: &str) -> String {
    let response = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap()
}

async fn create_clause(app: &TestApp, token: &str, input: Value) -> Value {
    app.ok(Some(token), CREATE_CLAUSE, json!({ "input": input }))
        .await["createClause"]["clause"]
        .clone()
}

backend_test!(
    the_anonymisation_corpus_never_leaks_and_keeps_technical_text,
    |app| {
        assert_eq!(
            without_uuids("id 0190c0de-ebba-7000-8000-00000000abcd, ebba"),
            "id <uuid>, ebba"
        );
        let planted = corpus("planted");
        let clean = corpus("clean");
        assert!(planted.len() >= 1_000, "{} planted", planted.len());
        assert!(clean.len() >= 300, "{} clean", clean.len());
        let owner_org = app.org("corpus-lund", "SE").await;
        let owner = publisher(owner_org);
        let other = publisher(app.org("corpus-oslo", "NO").await);

        let all: Vec<&Record> = planted.iter().chain(&clean).collect();
        let mut by_field: HashMap<&str, Vec<&Record>> = HashMap::new();
        for record in &all {
            by_field
                .entry(record.field.as_str())
                .or_default()
                .push(record);
        }
        for field in by_field.keys() {
            assert!(
                CLAUSE_FIELDS.iter().any(|(f, _)| f == field)
                    || [
                        "template.title",
                        "template.description",
                        "tenderResult.lessonsLearned",
                        "tenderResult.noAwardReason",
                        "withdrawal.reason"
                    ]
                    .contains(field),
                "unknown field {field}"
            );
        }
        let take = |field: &str, i: usize| by_field.get(field).and_then(|v| v.get(i)).copied();

        // Clauses: one record per text field; published directly, imported, or as version 2.
        let slots = CLAUSE_FIELDS
            .iter()
            .map(|(f, _)| by_field.get(f).map_or(0, Vec::len))
            .max()
            .unwrap_or(0);
        let mut writes = Writes::default();
        let mut cited = None;
        for i in 0..slots {
            let mut input = clause_input(&format!("Corpus clause {i}"));
            let mut lang = None;
            for (field, name) in CLAUSE_FIELDS {
                if let Some(record) = take(field, i) {
                    input[name] = json!(record.text);
                    lang.get_or_insert(record.lang.as_str());
                }
            }
            input["language"] = json!(language(lang.unwrap_or("en")));
            match i % 3 {
                0 => {
                    let id = published_clause(&app, &owner, input).await;
                    cited.get_or_insert(id);
                }
                1 => writes.import.push(input),
                _ => {
                    let filler = clause_input(&format!("Corpus clause {i}, first version"));
                    let created = create_clause(&app, &owner, filler).await;
                    let id = created["id"].as_str().unwrap().to_owned();
                    app.ok(Some(&owner), PUBLISH_CLAUSE, json!({ "id": id }))
                        .await;
                    let mut update = input.clone();
                    update["id"] = json!(id);
                    update["expectedVersion"] = json!(created["revision"].as_i64().unwrap() + 1);
                    app.ok(
                        Some(&owner),
                        "mutation($input: UpdateClauseInput!) { updateClause(input: $input) { clause { id } } }",
                        json!({ "input": update }),
                    )
                    .await;
                    let version = app
                        .ok(Some(&owner), PUBLISH_CLAUSE, json!({ "id": id }))
                        .await;
                    assert_eq!(version["publishClause"]["clause"]["version"], 2);
                }
            }
        }
        let body: String = writes.import.iter().map(|l| format!("{l}\n")).collect();
        let response = app
            .client
            .post(app.url("/import/clauses.ndjson"))
            .bearer_auth(&owner)
            .header("content-type", "application/x-ndjson")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        let cited = cited.expect("at least one published clause");

        // Templates: a title and a description each.
        let count = |field: &str| by_field.get(field).map_or(0, Vec::len);
        let templates = count("template.title").max(count("template.description"));
        for i in 0..templates {
            let title = take("template.title", i)
                .map_or(format!("Corpus template {i}"), |r| r.text.clone());
            let mut input = json!({ "title": title, "language": "SV", "cpvCodes": ["30213100-6"], "clauses": [{ "clauseId": cited }] });
            if let Some(record) = take("template.description", i) {
                input["description"] = json!(record.text);
                input["language"] = json!(language(&record.lang));
            }
            let id = app
                .ok(Some(&owner), "mutation($input: CreateTemplateInput!) { createTemplate(input: $input) { template { id } } }", json!({ "input": input }))
                .await["createTemplate"]["template"]["id"]
                .as_str()
                .unwrap()
                .to_owned();
            app.ok(
                Some(&owner),
                "mutation($id: ID!) { publishTemplate(input: { id: $id }) { template { id } } }",
                json!({ "id": id }),
            )
            .await;
        }

        // Tender results: lessons learned, and the reason for no award.
        const REPORT: &str = "mutation($input: ReportTenderResultInput!) { reportTenderResult(input: $input) { tenderResult { id } } }";
        for record in by_field
            .get("tenderResult.lessonsLearned")
            .into_iter()
            .flatten()
        {
            let mut input = result_input(&cited, 3, "MET_BY_WINNER", "COMPLIANT");
            input["lessonsLearned"] = json!(record.text);
            app.ok(Some(&owner), REPORT, json!({ "input": input }))
                .await;
        }
        for record in by_field
            .get("tenderResult.noAwardReason")
            .into_iter()
            .flatten()
        {
            let mut input = result_input(&cited, 0, "DROPPED", "NOT_CHECKED");
            input["awarded"] = json!(false);
            input["noAwardReason"] = json!(record.text);
            app.ok(Some(&owner), REPORT, json!({ "input": input }))
                .await;
        }

        // Withdrawal reasons, in turn of a clause, a template and a tender result.
        let mut withdrawn_results = Vec::new();
        for (i, record) in by_field
            .get("withdrawal.reason")
            .into_iter()
            .flatten()
            .enumerate()
        {
            let reason = json!(record.text);
            match i % 3 {
                0 => {
                    let id = published_clause(
                        &app,
                        &owner,
                        clause_input(&format!("Withdrawn clause {i}")),
                    )
                    .await;
                    app.ok(Some(&owner), "mutation($id: ID!, $reason: String!) { withdrawClause(input: { id: $id, reason: $reason }) { clause { id } } }", json!({ "id": id, "reason": reason })).await;
                }
                1 => {
                    let id = app
                        .ok(Some(&owner), "mutation($input: CreateTemplateInput!) { createTemplate(input: $input) { template { id } } }", json!({ "input": { "title": format!("Withdrawn template {i}"), "language": "SV", "clauses": [{ "clauseId": cited }] } }))
                        .await["createTemplate"]["template"]["id"]
                        .as_str()
                        .unwrap()
                        .to_owned();
                    app.ok(Some(&owner), "mutation($id: ID!) { publishTemplate(input: { id: $id }) { template { id } } }", json!({ "id": id })).await;
                    app.ok(Some(&owner), "mutation($id: ID!, $reason: String!) { withdrawTemplate(input: { id: $id, reason: $reason }) { template { id } } }", json!({ "id": id, "reason": reason })).await;
                }
                _ => {
                    let input = result_input(&cited, 2, "MET_BY_WINNER", "COMPLIANT");
                    let id = app
                        .ok(Some(&owner), REPORT, json!({ "input": input }))
                        .await["reportTenderResult"]["tenderResult"]["id"]
                        .as_str()
                        .unwrap()
                        .to_owned();
                    app.ok(Some(&owner), "mutation($id: ID!, $reason: String!) { withdrawTenderResult(input: { id: $id, reason: $reason }) { tenderResult { id } } }", json!({ "id": id, "reason": reason })).await;
                    withdrawn_results.push(id);
                }
            }
        }

        // Another organisation reuses every published clause: the copies are its drafts.
        let published = pages(
            &app,
            None,
            CLAUSE_PAGE,
            "clauses",
            json!({ "status": ["PUBLISHED"] }),
        )
        .await;
        for edge in published.as_array().unwrap().iter().step_by(4) {
            app.ok(
                Some(&other),
                "mutation($id: ID!) { reuseClause(input: { id: $id }) { clause { id } } }",
                json!({ "id": edge["node"]["id"] }),
            )
            .await;
        }
        assert!(app.index_caught_up().await, "the index never caught up");

        // Every public output.
        let mut outputs: Vec<(&str, String)> = Vec::new();
        let status = json!({ "status": ["PUBLISHED", "WITHDRAWN"] });
        for (who, token) in [
            ("anonymous GraphQL", None),
            ("another organisation's GraphQL", Some(other.as_str())),
        ] {
            let mut text =
                text_of(&pages(&app, token, CLAUSE_PAGE, "clauses", status.clone()).await);
            if token.is_some() {
                // Its own drafts, copied by reuse.
                let drafts = pages(
                    &app,
                    token,
                    CLAUSE_PAGE,
                    "clauses",
                    json!({ "status": ["DRAFT"] }),
                )
                .await;
                assert!(!drafts.as_array().unwrap().is_empty());
                text += &text_of(&drafts);
            }
            text += &text_of(&pages(&app, token, TEMPLATE_PAGE, "templates", json!({})).await);
            text += &text_of(&pages(&app, token, RESULT_PAGE, "tenderResults", json!({})).await);
            // Withdrawn tender results leave the list; each is still read by id.
            for id in &withdrawn_results {
                text += &text_of(&app.ok(token, "query($id: ID!) { tenderResult(id: $id) { lessonsLearned noAwardReason withdrawal { reason } } }", json!({ "id": id })).await);
            }
            outputs.push((who, text));
        }
        outputs.push((
            "change feed",
            text_of(&pages(&app, None, FEED_PAGE, "changes", json!({})).await),
        ));
        let mut snapshot = String::new();
        for line in get_text(&app, "/export/catalogue.ndjson").await.lines() {
            strings(&serde_json::from_str(line).unwrap(), &mut snapshot);
        }
        outputs.push(("NDJSON snapshot", snapshot));
        // The live subscription, replayed from the first event.
        let events = app.count("change_event").await;
        let mut socket = crate::subscription::connect(&app).await;
        let start = commons_api::feed::changes::encode_cursor(0);
        crate::subscription::subscribe(&mut socket, json!({}), Some(&start)).await;
        let mut live = String::new();
        for _ in 0..events {
            strings(
                &crate::subscription::next_event(&mut socket).await,
                &mut live,
            );
        }
        outputs.push(("subscription", live));
        let ocds: Value = serde_json::from_str(&get_text(&app, "/export/ocds").await).unwrap();
        outputs.push(("OCDS export", text_of(&ocds)));
        let versions = entity::clause_version::Entity::find()
            .all(&app.db)
            .await
            .unwrap();
        let published_rows: Vec<_> = versions.iter().filter(|v| v.version > 0).collect();
        let mut rows = format!("{published_rows:?}");
        rows += &format!(
            "{:?}",
            entity::clause::Entity::find().all(&app.db).await.unwrap()
        );
        rows += &format!(
            "{:?}",
            entity::template::Entity::find().all(&app.db).await.unwrap()
        );
        let template_versions = entity::template_version::Entity::find()
            .all(&app.db)
            .await
            .unwrap();
        rows += &format!(
            "{:?}",
            template_versions
                .iter()
                .filter(|v| v.version > 0)
                .collect::<Vec<_>>()
        );
        rows += &format!(
            "{:?}",
            entity::tender_result::Entity::find()
                .all(&app.db)
                .await
                .unwrap()
        );
        rows += &format!(
            "{:?}",
            entity::change_event::Entity::find()
                .all(&app.db)
                .await
                .unwrap()
        );
        rows += &format!(
            "{:?}",
            entity::audit_event::Entity::find()
                .all(&app.db)
                .await
                .unwrap()
        );
        outputs.push(("database rows", rows));

        // Search: each secret as a query, hits and highlights.
        let mut search = String::new();
        let secrets: Vec<&String> = planted.iter().flat_map(|r| &r.secrets).collect();
        for chunk in secrets.chunks(4) {
            let mut query = String::from("query(");
            let mut vars = serde_json::Map::new();
            for (i, _) in chunk.iter().enumerate() {
                query += &format!("$q{i}: String!, ");
            }
            query += ") {";
            for (i, secret) in chunk.iter().enumerate() {
                vars.insert(format!("q{i}"), json!(secret));
                query += &format!(
                    " c{i}: searchClauses(query: $q{i}, first: 5) {{ edges {{ node {{ highlight {{ title text }} clause {{ latest {{ title text purpose verification followUp scoringRule }} }} }} }} }} t{i}: searchTemplates(query: $q{i}, first: 5) {{ edges {{ node {{ highlight {{ title text }} template {{ latest {{ title description }} }} }} }} }}"
                );
            }
            query += " }";
            search += &text_of(&app.ok(None, &query, Value::Object(vars)).await);
        }
        outputs.push(("search hits and highlights", search));

        let public = outputs[0].1.clone();
        let outputs: Vec<(&str, String)> = outputs
            .into_iter()
            .map(|(name, text)| (name, without_uuids(&text)))
            .collect();
        // Leaks: a secret anywhere, as a whole word; but not a word some clean sentence holds
        // too ("Gustav" of "Gustav Adolfs torg"), which is no leak where it stands.
        let shared: Vec<&String> = planted
            .iter()
            .flat_map(|r| &r.secrets)
            .filter(|s| clean.iter().any(|c| contains_word(&c.text, s)))
            .collect();
        let mut leaks: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
        let mut leaked = Vec::new();
        for record in &planted {
            let channels: Vec<&str> = outputs
                .iter()
                .filter(|(_, text)| {
                    record
                        .secrets
                        .iter()
                        .any(|s| !shared.contains(&s) && contains_word(text, s))
                })
                .map(|(name, _)| *name)
                .collect();
            let row = leaks
                .entry((record.kind.clone(), record.format.clone()))
                .or_default();
            row.0 += 1;
            if !channels.is_empty() {
                row.1 += 1;
                leaked.push(format!(
                    "{} [{}] {:?} in {}: {}",
                    record.id,
                    record.lang,
                    record.secrets,
                    channels.join(", "),
                    record.text
                ));
            }
        }
        // False positives: a clean sentence that does not come out as it went in.
        let mut changed: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        let mut altered = Vec::new();
        for record in &clean {
            let row = changed.entry(record.kind.clone()).or_default();
            row.0 += 1;
            if !public.lines().any(|l| l == record.text.trim())
                && !public.contains(record.text.trim())
            {
                row.1 += 1;
                altered.push(format!(
                    "{} [{}] {}: {}",
                    record.id, record.lang, record.kind, record.text
                ));
            }
        }
        let mut report =
            String::from("\nplanted identifiers by kind and format (planted, leaked):\n");
        for ((kind, format), (n, bad)) in &leaks {
            report += &format!("  {kind:<12} {format:<40} {n:>4} {bad:>4}\n");
        }
        report += "clean sentences by kind (sentences, changed):\n";
        for (kind, (n, bad)) in &changed {
            report += &format!("  {kind:<40} {n:>4} {bad:>4}\n");
        }
        let leak_count: usize = leaks.values().map(|r| r.1).sum();
        let fp_count = altered.len();
        report += &format!(
            "{} planted, {leak_count} leaked ({} secret words also in clean sentences not scanned); {} clean, {fp_count} changed ({:.2} %)\n",
            planted.len(),
            shared.len(),
            clean.len(),
            100.0 * fp_count as f64 / clean.len() as f64
        );
        report += &leaked
            .iter()
            .chain(&altered)
            .map(|l| format!("  {l}\n"))
            .collect::<String>();
        #[expect(
            clippy::print_stderr,
            reason = "the per-kind report is the test's output"
        )]
        {
            eprintln!("{report}");
        }
        assert_eq!(leak_count, 0, "{report}");
        assert!(
            fp_count * 100 <= clean.len(),
            "more than 1 % false positives: {report}"
        );
    }
);

const RESCAN: &str = "mutation($apply: Boolean!) { rescanAnonymisation(apply: $apply) {
  scanned applied affected { entityType id newVersion fields { version field kinds findings } } } }";

// What already stands published is found again after a deny-list change, and `apply` mends
// it everywhere: a successor version, the history, the reason, the tender result, the feed.
backend_test!(a_rescan_finds_and_mends_what_was_published_before, |app| {
    let org = app.org("rescan-lund", "SE").await;
    let owner = publisher(org);
    let admin = token(None, &[commons_api::auth::Role::Admin]);
    const TERM: &str = "Projekt Örnen";

    let mut input = clause_input("Take-back for Projekt Örnen");
    input["text"] = json!("Projekt Örnen tar tillbaka [100 %] av levererade datorer.");
    let clause = published_clause(&app, &owner, input).await;
    let mut result = result_input(&clause, 3, "MET_BY_WINNER", "COMPLIANT");
    result["lessonsLearned"] = json!("Projekt Örnen fick tre anbud.");
    app.ok(Some(&owner), "mutation($input: ReportTenderResultInput!) { reportTenderResult(input: $input) { tenderResult { id } } }", json!({ "input": result })).await;
    let other = published_clause(&app, &owner, clause_input("Another clause")).await;
    app.ok(Some(&owner), "mutation($id: ID!) { withdrawClause(input: { id: $id, reason: \"Ersatt av Projekt Örnen\" }) { clause { id } } }", json!({ "id": other })).await;

    // Nothing to find yet; only admins may ask.
    let clean = app
        .ok(Some(&admin), RESCAN, json!({ "apply": false }))
        .await;
    assert_eq!(clean["rescanAnonymisation"]["affected"], json!([]));
    assert!(clean["rescanAnonymisation"]["scanned"].as_i64().unwrap() >= 3);
    let refused = app
        .gql(Some(&owner), RESCAN, json!({ "apply": false }))
        .await;
    assert_eq!(code(&refused), "FORBIDDEN", "{refused}");

    app.ok(Some(&owner), "mutation($terms: [String!]!) { setAnonymisationDenyList(input: { terms: $terms }) { terms } }", json!({ "terms": [TERM] })).await;
    let check = app
        .ok(Some(&admin), RESCAN, json!({ "apply": false }))
        .await;
    let affected = check["rescanAnonymisation"]["affected"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(affected.len(), 3, "{affected:?}");
    let of = |id: &str| affected.iter().find(|a| a["id"] == id).unwrap().clone();
    let mine = of(&clause);
    let fields: Vec<&str> = mine["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["title", "text"]);
    assert_eq!(of(&clause)["fields"][0]["kinds"], json!(["DENY_LISTED"]));
    assert_eq!(of(&other)["fields"][0]["field"], "withdrawalReason");
    assert!(
        of(&clause)["newVersion"].is_null(),
        "a check changes nothing"
    );
    let unchanged = app
        .ok(
            None,
            "query($id: ID!) { clause(id: $id) { version latest { text } } }",
            json!({ "id": clause }),
        )
        .await;
    assert_eq!(unchanged["clause"]["version"], 1);

    let applied = app.ok(Some(&admin), RESCAN, json!({ "apply": true })).await;
    let mended = &applied["rescanAnonymisation"];
    assert_eq!(mended["applied"], true);
    let new_version = mended["affected"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == clause.as_str())
        .unwrap()["newVersion"]
        .clone();
    assert_eq!(new_version, 2);

    // Every public output is clean: latest, history, reason, tender result, feed, search.
    let read = app
        .ok(
            None,
            "query($a: ID!, $b: ID!) {
        a: clause(id: $a) { version latest { title text } versions { version title text } }
        b: clause(id: $b) { withdrawal { reason } }
        tenderResults(first: 10) { edges { node { lessonsLearned } } } }",
            json!({ "a": clause, "b": other }),
        )
        .await;
    assert_eq!(read["a"]["version"], 2);
    assert_eq!(read["a"]["versions"].as_array().unwrap().len(), 2);
    assert!(
        read["a"]["latest"]["text"]
            .as_str()
            .unwrap()
            .starts_with("[removed] tar tillbaka"),
        "{read}"
    );
    let feed = text_of(&pages(&app, None, FEED_PAGE, "changes", json!({})).await);
    for (what, text) in [("reads", read.to_string()), ("feed", feed.clone())] {
        assert!(
            !text.contains("Örnen"),
            "{what} still holds the term: {text}"
        );
    }
    assert!(feed.contains("[borttaget]"));
    let searchable = eventually(INDEX_WAIT, async || {
        let hits = app
            .ok(
                None,
                "{ searchClauses(query: \"Örnen\") { totalCount } }",
                json!({}),
            )
            .await;
        hits["searchClauses"]["totalCount"] == 0
    })
    .await;
    assert!(searchable.is_some(), "search still finds the term");
    let audits = entity::audit_event::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(
        audits
            .iter()
            .filter(|a| a.action == "anonymisation.apply")
            .count(),
        3
    );

    // What the command line runs: nothing is left to mend.
    let caller = commons_api::auth::Caller {
        sub: "test".to_owned(),
        org: None,
        roles: vec![commons_api::auth::Role::Admin],
    };
    let again = commons_api::service::rescan::rescan(&app.db, &caller, false, None)
        .await
        .unwrap();
    assert!(again.affected.is_empty(), "{:?}", again.affected);
});
