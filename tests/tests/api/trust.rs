//! Evidence, lineage, staleness, statistics, OCDS export and anonymised publishing, end to end.

use serde_json::{Value, json};

use crate::helpers::*;

const REPORT: &str = "mutation($input: ReportTenderResultInput!) { reportTenderResult(input: $input) { tenderResult { id } } }";
const EVIDENCE: &str = "query($id: ID!) { clause(id: $id) { evidence { results dropped organizations medianTendersReceived shareAwarded followUpsChecked followUpCompliance provenLevel } } }";
const SEARCH: &str = "query($filter: ClauseSearchFilter, $sort: SearchSort) { searchClauses(query: \"\", filter: $filter, sort: $sort, first: 20) { edges { node { clause { id } } } } }";

async fn report(app: &TestApp, token: &str, input: Value) -> String {
    app.ok(Some(token), REPORT, json!({ "input": input })).await["reportTenderResult"]
        ["tenderResult"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn search_ids(app: &TestApp, filter: Value, sort: &str) -> Vec<String> {
    app.ok(None, SEARCH, json!({ "filter": filter, "sort": sort }))
        .await["searchClauses"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["clause"]["id"].as_str().unwrap().to_owned())
        .collect()
}

backend_test!(evidence_follows_reported_and_withdrawn_results, |app| {
    let lund = app.org("lund", "SE").await;
    let oslo = app.org("oslo", "NO").await;
    let (lund_t, oslo_t) = (publisher(lund), publisher(oslo));
    let proven = published_clause(&app, &lund_t, clause_input("Take-back plan")).await;
    let other = published_clause(&app, &lund_t, clause_input("Repair service")).await;

    let evidence = app.ok(None, EVIDENCE, json!({ "id": proven })).await;
    assert_eq!(evidence["clause"]["evidence"]["provenLevel"], "UNTESTED");
    assert_eq!(evidence["clause"]["evidence"]["results"], 0);

    let first = report(
        &app,
        &lund_t,
        result_input(&proven, 4, "MET_BY_WINNER", "COMPLIANT"),
    )
    .await;
    report(
        &app,
        &oslo_t,
        result_input(&proven, 2, "MET_BY_ALL", "DEVIATION_FOUND"),
    )
    .await;
    report(
        &app,
        &oslo_t,
        result_input(&proven, 6, "MET_BY_WINNER", "NOT_CHECKED"),
    )
    .await;
    report(
        &app,
        &oslo_t,
        result_input(&other, 3, "DROPPED", "NOT_CHECKED"),
    )
    .await;

    let e = &app.ok(None, EVIDENCE, json!({ "id": proven })).await["clause"]["evidence"];
    assert_eq!(e["results"], 3);
    assert_eq!(e["organizations"], 2);
    assert_eq!(e["medianTendersReceived"], 4.0);
    assert_eq!(e["shareAwarded"], 1.0);
    assert_eq!(e["followUpsChecked"], 2);
    assert_eq!(e["followUpCompliance"], 0.5);
    assert_eq!(e["provenLevel"], "PROVEN");
    let dropped = &app.ok(None, EVIDENCE, json!({ "id": other })).await["clause"]["evidence"];
    assert_eq!(
        (dropped["results"].clone(), dropped["dropped"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(dropped["provenLevel"], "USED");

    // The index follows: filter by proven level, sort by evidence.
    let found = eventually(INDEX_WAIT, async || {
        search_ids(&app, json!({ "provenLevel": ["PROVEN"] }), "RELEVANCE").await
            == [proven.clone()]
    })
    .await;
    assert!(
        found.is_some(),
        "the proven clause never showed under provenLevel PROVEN"
    );
    assert_eq!(
        search_ids(&app, json!({}), "EVIDENCE").await,
        [proven.clone(), other.clone()]
    );

    // Only the reporting organisation can withdraw; withdrawing lowers the level everywhere.
    let withdraw = "mutation($id: ID!) { withdrawTenderResult(input: { id: $id, reason: \"Reported twice by mistake\" }) { tenderResult { status withdrawal { reason } } } }";
    let refused = app
        .gql(Some(&oslo_t), withdraw, json!({ "id": first }))
        .await;
    assert_eq!(code(&refused), "FORBIDDEN");
    let done = app
        .ok(Some(&lund_t), withdraw, json!({ "id": first }))
        .await;
    assert_eq!(
        done["withdrawTenderResult"]["tenderResult"]["status"],
        "WITHDRAWN"
    );
    let e = &app.ok(None, EVIDENCE, json!({ "id": proven })).await["clause"]["evidence"];
    assert_eq!(
        (e["results"].clone(), e["provenLevel"].clone()),
        (json!(2), json!("USED"))
    );
    let gone = eventually(INDEX_WAIT, async || {
        search_ids(&app, json!({ "provenLevel": ["PROVEN"] }), "RELEVANCE")
            .await
            .is_empty()
    })
    .await;
    assert!(gone.is_some(), "the index kept the old proven level");
    let again = app
        .gql(Some(&lund_t), withdraw, json!({ "id": first }))
        .await;
    assert_eq!(code(&again), "BAD_USER_INPUT");
});

const LINEAGE: &str = "query($id: ID!) { clause(id: $id) { derivedFrom { clauseId version } lineage { reuseCount ancestors { clauseId version } descendants { id status } } } }";
const REUSE_CLAUSE: &str =
    "mutation($id: ID!) { reuseClause(input: { id: $id }) { clause { id } } }";

backend_test!(lineage_and_template_reuse, |app| {
    let lund = app.org("lund", "SE").await;
    let oslo = app.org("oslo", "NO").await;
    let aarhus = app.org("aarhus", "DK").await;
    let (lund_t, oslo_t, aarhus_t) = (publisher(lund), publisher(oslo), publisher(aarhus));
    let source = published_clause(&app, &lund_t, clause_input("Take-back plan")).await;
    let copy = app
        .ok(Some(&oslo_t), REUSE_CLAUSE, json!({ "id": source }))
        .await["reuseClause"]["clause"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.ok(Some(&oslo_t), PUBLISH_CLAUSE, json!({ "id": copy }))
        .await;
    let copy_of_copy = app
        .ok(Some(&aarhus_t), REUSE_CLAUSE, json!({ "id": copy }))
        .await["reuseClause"]["clause"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let anonymous = app.ok(None, LINEAGE, json!({ "id": source })).await;
    let lineage = &anonymous["clause"]["lineage"];
    assert_eq!(lineage["reuseCount"], 1);
    // Aarhus' copy is a draft: others do not see it.
    assert_eq!(
        lineage["descendants"],
        json!([{ "id": copy, "status": "PUBLISHED" }])
    );
    let as_aarhus = app
        .ok(Some(&aarhus_t), LINEAGE, json!({ "id": source }))
        .await;
    let ids: Vec<&str> = as_aarhus["clause"]["lineage"]["descendants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [copy.as_str(), copy_of_copy.as_str()]);
    let chain = app
        .ok(Some(&aarhus_t), LINEAGE, json!({ "id": copy_of_copy }))
        .await;
    assert_eq!(
        chain["clause"]["lineage"]["ancestors"],
        json!([{ "clauseId": copy, "version": 1 }, { "clauseId": source, "version": 1 }])
    );

    // reuseTemplate copies the template and every clause it cites, as drafts.
    let template = app
        .ok(
            Some(&lund_t),
            "mutation($input: CreateTemplateInput!) { createTemplate(input: $input) { template { id } } }",
            json!({ "input": { "title": "Laptops 2025", "language": "EN", "cpvCodes": ["30213100-6"], "clauses": [{ "clauseId": source }] } }),
        )
        .await["createTemplate"]["template"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.ok(
        Some(&lund_t),
        "mutation($id: ID!) { publishTemplate(input: { id: $id }) { template { version } } }",
        json!({ "id": template }),
    )
    .await;
    let reuse = "mutation($id: ID!) { reuseTemplate(input: { id: $id }) { template { id status derivedFrom { templateId version } draft { title clauses { clauseVersion clause { id status derivedFrom { clauseId version } } } } } clauses { id organization { id } } } }";
    let reused = app
        .ok(Some(&aarhus_t), reuse, json!({ "id": template }))
        .await;
    let payload = &reused["reuseTemplate"];
    assert_eq!(payload["template"]["status"], "DRAFT");
    assert_eq!(
        payload["template"]["derivedFrom"],
        json!({ "templateId": template, "version": 1 })
    );
    assert_eq!(payload["template"]["draft"]["title"], "Laptops 2025");
    let cited = &payload["template"]["draft"]["clauses"][0];
    assert_eq!(cited["clauseVersion"], 0);
    assert_eq!(cited["clause"]["status"], "DRAFT");
    assert_eq!(
        cited["clause"]["derivedFrom"],
        json!({ "clauseId": source, "version": 1 })
    );
    assert_eq!(
        payload["clauses"][0]["organization"]["id"],
        aarhus.to_string()
    );
    let new_template = payload["template"]["id"].as_str().unwrap().to_owned();
    let new_clause = payload["clauses"][0]["id"].as_str().unwrap().to_owned();

    let publish_template = "mutation($id: ID!) { publishTemplate(input: { id: $id }) { template { version latest { clauses { clauseVersion clause { id } } } } } }";
    let early = app
        .gql(
            Some(&aarhus_t),
            publish_template,
            json!({ "id": new_template }),
        )
        .await;
    assert_eq!(code(&early), "BAD_USER_INPUT");
    assert_eq!(field(&early), "draft.clauses[0].clauseId");
    app.ok(Some(&aarhus_t), PUBLISH_CLAUSE, json!({ "id": new_clause }))
        .await;
    let published = app
        .ok(
            Some(&aarhus_t),
            publish_template,
            json!({ "id": new_template }),
        )
        .await;
    assert_eq!(
        published["publishTemplate"]["template"]["latest"]["clauses"],
        json!([{ "clauseVersion": 1, "clause": { "id": new_clause } }])
    );
    let count = app
        .ok(
            None,
            "query($id: ID!) { template(id: $id) { lineage { reuseCount descendants { id } } } }",
            json!({ "id": template }),
        )
        .await;
    assert_eq!(count["template"]["lineage"]["reuseCount"], 1);
    assert_eq!(
        count["template"]["lineage"]["descendants"],
        json!([{ "id": new_template }])
    );
});

backend_test!(stale_clauses_are_flagged_and_filterable, |app| {
    let labels = app
        .ok(
            None,
            "{ labels { key generation validUntil current } }",
            json!({}),
        )
        .await;
    let gen9 = labels["labels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["key"] == "tco-certified-9")
        .cloned()
        .unwrap();
    assert_eq!(gen9["current"], false);

    let lund = app.org("lund", "SE").await;
    let token = publisher(lund);
    let mut expired = clause_input("Certified screens");
    expired["labels"] = json!(["TCO Certified Generation 9"]);
    expired["lastReviewed"] = json!("2025-06-01");
    let expired = published_clause(&app, &token, expired).await;
    let mut unreviewed = clause_input("Old take-back plan");
    unreviewed["lastReviewed"] = json!("2020-01-15");
    let unreviewed = published_clause(&app, &token, unreviewed).await;
    let mut fresh = clause_input("Current screens");
    fresh["labels"] = json!(["TCO Certified Generation 10"]);
    fresh["lastReviewed"] = json!("2025-06-01");
    let fresh = published_clause(&app, &token, fresh).await;

    let staleness = "query($id: ID!) { clause(id: $id) { staleness { stale reasons { code labelKey since } } } }";
    let s = app.ok(None, staleness, json!({ "id": expired })).await;
    assert_eq!(
        s["clause"]["staleness"],
        json!({ "stale": true, "reasons": [{ "code": "EXPIRED_LABEL", "labelKey": "tco-certified-9", "since": "2024-11-30" }] })
    );
    let s = app.ok(None, staleness, json!({ "id": unreviewed })).await;
    assert_eq!(
        s["clause"]["staleness"]["reasons"][0]["code"],
        "NOT_REVIEWED"
    );
    assert_eq!(
        s["clause"]["staleness"]["reasons"][0]["since"],
        "2023-01-15"
    );
    let s = app.ok(None, staleness, json!({ "id": fresh })).await;
    assert_eq!(
        s["clause"]["staleness"],
        json!({ "stale": false, "reasons": [] })
    );

    let mut want = vec![expired.clone(), unreviewed.clone()];
    want.sort();
    let found = eventually(INDEX_WAIT, async || {
        let mut ids = search_ids(&app, json!({ "stale": true }), "RELEVANCE").await;
        ids.sort();
        ids == want
    })
    .await;
    assert!(found.is_some(), "stale filter never matched");
    // The fresh clause may be indexed a batch later than the stale ones.
    let found = eventually(INDEX_WAIT, async || {
        search_ids(&app, json!({ "stale": false }), "RELEVANCE").await == [fresh.clone()]
    })
    .await;
    assert!(found.is_some(), "the fresh clause is not found as fresh");
});

const STATS: &str = "query($country: Country) { procurementStats(country: $country) { sizeClass suppressed tendersReported shareSustainabilityWeight25 shareSustainabilityWeight30 meanSustainabilityWeight shareWithEnvironmentalClause shareWithSocialClause medianTendersReceived shareWithoutAward } }";

fn cell<'a>(stats: &'a Value, class: &str) -> &'a Value {
    stats["procurementStats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["sizeClass"] == class)
        .unwrap()
}

backend_test!(statistics_hide_small_cells_from_all_but_agencies, |app| {
    let lund = app.org("lund", "SE").await;
    let token = publisher(lund);
    let clause = published_clause(&app, &token, clause_input("Take-back plan")).await;
    for tenders in [1, 3, 5, 7] {
        report(
            &app,
            &token,
            result_input(&clause, tenders, "MET_BY_WINNER", "COMPLIANT"),
        )
        .await;
    }
    let agency = token_for_agency();
    let anonymous = app.ok(None, STATS, json!({ "country": "SE" })).await;
    let small = cell(&anonymous, "SMALL");
    assert_eq!(small["suppressed"], true);
    assert_eq!(small["tendersReported"], Value::Null);
    assert_eq!(small["meanSustainabilityWeight"], Value::Null);
    let as_publisher = app
        .ok(Some(&token), STATS, json!({ "country": "SE" }))
        .await;
    assert_eq!(cell(&as_publisher, "SMALL")["suppressed"], true);
    let as_agency = app
        .ok(Some(&agency), STATS, json!({ "country": "SE" }))
        .await;
    assert_eq!(cell(&as_agency, "SMALL")["tendersReported"], 4);

    let mut unawarded = result_input(&clause, 0, "MET_BY_WINNER", "NOT_CHECKED");
    unawarded["awarded"] = json!(false);
    unawarded["noAwardReason"] = json!("No tenders were received.");
    unawarded["sustainabilityWeight"] = json!(20);
    report(&app, &token, unawarded).await;
    let anonymous = app.ok(None, STATS, json!({ "country": "SE" })).await;
    let small = cell(&anonymous, "SMALL");
    assert_eq!(small["suppressed"], false);
    assert_eq!(small["tendersReported"], 5);
    assert_eq!(small["shareSustainabilityWeight25"], 0.8);
    assert_eq!(small["shareSustainabilityWeight30"], 0.8);
    assert_eq!(small["meanSustainabilityWeight"], 28.0);
    assert_eq!(small["shareWithEnvironmentalClause"], 1.0);
    assert_eq!(small["shareWithSocialClause"], 0.0);
    assert_eq!(small["medianTendersReceived"], 3.0);
    assert_eq!(small["shareWithoutAward"], 0.2);
    // Another country's figures do not include these tenders.
    let norway = app
        .ok(Some(&agency), STATS, json!({ "country": "NO" }))
        .await;
    assert_eq!(cell(&norway, "SMALL")["tendersReported"], 0);
    let bad = app
        .gql(
            None,
            "{ procurementStats(from: \"2025-13\") { sizeClass } }",
            json!({}),
        )
        .await;
    assert_eq!((code(&bad), field(&bad)), ("BAD_USER_INPUT", "filter.from"));
});

fn token_for_agency() -> String {
    token(None, &[commons_api::auth::Role::Agency])
}

/// RFC 7386 JSON Merge Patch, to apply the extension's patch to the release schema.
fn merge_patch(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                if value.is_null() {
                    target.remove(key);
                } else {
                    merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
                }
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}

/// An OCDS schema file: from `OCDS_SCHEMA_DIR` when set, else from the `shared/ocds` folder
/// beside the repository.
fn schema(path: &str) -> Value {
    let dir = std::env::var("OCDS_SCHEMA_DIR")
        .unwrap_or_else(|_| format!("{}/../../shared/ocds", env!("CARGO_MANIFEST_DIR")));
    let path = format!("{dir}/{path}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("{path}: {e} (set OCDS_SCHEMA_DIR to the folder holding the OCDS schema files)")
    });
    serde_json::from_str(&text).unwrap()
}

fn errors(schema: &Value, instance: &Value) -> Vec<String> {
    let validator = jsonschema::draft4::new(schema).expect("schema compiles");
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

backend_test!(
    ocds_export_validates_against_the_schema_with_the_sustainability_extension,
    Options {
        demo: true,
        ..Options::default()
    },
    |app| {
        let package: Value = app
            .client
            .get(app.url("/export/ocds"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let releases = package["releases"].as_array().unwrap();
        assert_eq!(releases.len(), 18, "one release per demo tender result");

        let mut package_schema = schema("1.1/release-package-schema.json");
        // Releases are checked one by one against the patched release schema below.
        package_schema["properties"]["releases"]["items"] = json!({});
        let problems = errors(&package_schema, &package);
        assert!(problems.is_empty(), "package: {problems:#?}");

        let mut release_schema = schema("1.1/release-schema.json");
        merge_patch(
            &mut release_schema,
            &schema("sustainability_extension/release-schema.json"),
        );
        assert!(
            release_schema["definitions"]["Tender"]["properties"]["sustainability"].is_object()
        );
        for release in releases {
            let problems = errors(&release_schema, release);
            assert!(problems.is_empty(), "{}: {problems:#?}", release["ocid"]);
        }
        // The validator is not vacuous: a broken release fails.
        let mut broken = releases[0].clone();
        broken["tender"]["sustainability"] = json!([{ "strategies": [] }]);
        assert!(!errors(&release_schema, &broken).is_empty());

        let with_goals = releases
            .iter()
            .filter(|r| r["tender"]["sustainability"].is_array())
            .count();
        assert!(with_goals > 0, "no release carries sustainability goals");
        let strategies: Vec<&str> = releases
            .iter()
            .flat_map(|r| {
                r["tender"]["sustainability"]
                    .as_array()
                    .into_iter()
                    .flatten()
            })
            .flat_map(|s| s["strategies"].as_array().into_iter().flatten())
            .filter_map(Value::as_str)
            .collect();
        for expected in ["technicalSpecifications", "contractPerformanceConditions"] {
            assert!(strategies.contains(&expected), "{expected} missing");
        }
    }
);

/// Personal data planted in every text field, and strings that identify each piece.
const EMAIL: &str = "birgitta.holm@lund.se";
const PHONE: &str = "046-35 50 00";
const PERSONNUMMER: &str = "811218-9876";
const CONTACT: &str = "Kerstin Lindqvist";
const DENIED: &str = "Ragnhild";

fn planted(prefix: &str) -> String {
    format!(
        "{prefix} Frågor till kontaktperson {CONTACT}, {EMAIL}, tel. {PHONE}. \
         Underlag från {DENIED} (personnummer {PERSONNUMMER}). Krav enligt ISO 14001 och CPV 30213100-6."
    )
}

fn assert_clean(what: &str, text: &str) {
    for secret in [
        EMAIL,
        PHONE,
        PERSONNUMMER,
        "8112189876",
        CONTACT,
        "Lindqvist",
        DENIED,
    ] {
        assert!(
            !text.contains(secret),
            "{what} leaks {secret:?}: {}",
            &text[..text.len().min(2_000)]
        );
    }
}

backend_test!(planted_identifiers_never_leave_the_organisation, |app| {
    let lund = app.org("lund", "SE").await;
    let token = publisher(lund);
    let set = app
        .ok(
            Some(&token),
            "mutation($terms: [String!]!) { setAnonymisationDenyList(input: { terms: $terms }) { terms } }",
            json!({ "terms": [DENIED, " ragnhild ", "Birgitta Holm"] }),
        )
        .await;
    assert_eq!(
        set["setAnonymisationDenyList"]["terms"],
        json!(["Birgitta Holm", DENIED])
    );
    let other = publisher(app.org("oslo", "NO").await);
    let foreign = app
        .ok(Some(&other), "{ anonymisationDenyList }", json!({}))
        .await;
    assert_eq!(foreign["anonymisationDenyList"], json!([]));

    let mut input = clause_input("Återtagande");
    input["language"] = json!("SV");
    input["title"] = json!(format!("Återtagande, frågor till {DENIED}"));
    for field in ["text", "purpose", "verification", "followUp", "scoringRule"] {
        input[field] = json!(planted(field));
    }
    input["labels"] = json!([format!("TCO Certified Generation 10 ({DENIED})")]);
    let created = app
        .ok(Some(&token), CREATE_CLAUSE, json!({ "input": input }))
        .await;
    let clause = created["createClause"]["clause"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // The preview names each finding with its kind and position, and changes nothing.
    let preview = app
        .ok(
            Some(&token),
            "query($id: ID!) { previewAnonymisation(clauseId: $id) { field anonymised findings { kind start end placeholder } } }",
            json!({ "id": clause }),
        )
        .await;
    let text = preview["previewAnonymisation"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "text")
        .unwrap();
    let kinds: Vec<&str> = text["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "CONTACT_NAME",
        "EMAIL",
        "PHONE",
        "DENY_LISTED",
        "PERSONAL_IDENTITY_NUMBER",
    ] {
        assert!(kinds.contains(&kind), "{kind} not found in {kinds:?}");
    }
    let source: Vec<char> = planted("text").chars().collect();
    let email = &text["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "EMAIL")
        .unwrap();
    let (start, end) = (
        email["start"].as_u64().unwrap() as usize,
        email["end"].as_u64().unwrap() as usize,
    );
    assert_eq!(source[start..end].iter().collect::<String>(), EMAIL);
    assert_clean("preview", &text["anonymised"].to_string());
    assert!(text["anonymised"].as_str().unwrap().contains("ISO 14001"));
    assert!(text["anonymised"].as_str().unwrap().contains("30213100-6"));

    app.ok(Some(&token), PUBLISH_CLAUSE, json!({ "id": clause }))
        .await;
    let template = app
        .ok(
            Some(&token),
            "mutation($input: CreateTemplateInput!) { createTemplate(input: $input) { template { id } } }",
            json!({ "input": { "title": format!("Datorer, ansvarig {DENIED}"), "description": planted("description"), "language": "SV", "cpvCodes": ["30213100-6"], "clauses": [{ "clauseId": clause }] } }),
        )
        .await["createTemplate"]["template"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.ok(
        Some(&token),
        "mutation($id: ID!) { publishTemplate(input: { id: $id }) { template { id } } }",
        json!({ "id": template }),
    )
    .await;
    let mut result = result_input(&clause, 3, "MET_BY_WINNER", "COMPLIANT");
    result["templateId"] = json!(template);
    result["lessonsLearned"] = json!(planted("lessons"));
    let result_id = report(&app, &token, result).await;
    let mut failed = result_input(&clause, 0, "DROPPED", "NOT_CHECKED");
    failed["awarded"] = json!(false);
    failed["noAwardReason"] = json!(planted("reason"));
    report(&app, &token, failed).await;

    // The owner still reads its raw draft.
    let draft = app
        .ok(
            Some(&token),
            "query($id: ID!) { clause(id: $id) { draft { text } } }",
            json!({ "id": clause }),
        )
        .await;
    assert!(
        draft["clause"]["draft"]["text"]
            .as_str()
            .unwrap()
            .contains(EMAIL)
    );

    // Every output others can reach carries only anonymised text.
    let everything = "query($c: ID!, $t: ID!, $r: ID!) {
      clause(id: $c) { draft { text } latest { title purpose text scoringRule verification followUp labels } versions { text } }
      template(id: $t) { draft { title } latest { title description } }
      tenderResult(id: $r) { lessonsLearned }
      tenderResults(first: 10) { edges { node { noAwardReason lessonsLearned } } }
      clauses(first: 10) { edges { node { latest { text } } } }
    }";
    let read = app
        .ok(
            None,
            everything,
            json!({ "c": clause, "t": template, "r": result_id }),
        )
        .await;
    assert_clean("anonymous GraphQL reads", &read.to_string());
    assert!(
        read["clause"]["latest"]["text"]
            .as_str()
            .unwrap()
            .contains("[e-post]")
    );
    let other_org = app
        .ok(
            Some(&other),
            everything,
            json!({ "c": clause, "t": template, "r": result_id }),
        )
        .await;
    assert_clean("another organisation's reads", &other_org.to_string());

    let searchable = eventually(INDEX_WAIT, async || {
        let hits = app
            .ok(None, "{ searchClauses(query: \"återtagande\", first: 10) { totalCount edges { node { highlight { title text } } } } }", json!({}))
            .await;
        hits["searchClauses"]["totalCount"] == 1
    })
    .await;
    assert!(searchable.is_some(), "the clause never became searchable");
    for query in [
        "återtagande",
        "Lindqvist",
        "Ragnhild",
        "birgitta",
        "8112189876",
        "holm",
    ] {
        let hits = app
            .ok(
                None,
                "query($q: String!) { searchClauses(query: $q, first: 10) { totalCount edges { node { highlight { title text } } } } searchTemplates(query: $q, first: 10) { totalCount } }",
                json!({ "q": query }),
            )
            .await;
        assert_clean(&format!("search for {query:?}"), &hits.to_string());
        if query != "återtagande" {
            assert_eq!(
                hits["searchClauses"]["totalCount"], 0,
                "{query} finds the clause"
            );
            assert_eq!(
                hits["searchTemplates"]["totalCount"], 0,
                "{query} finds the template"
            );
        }
    }

    let ocds = app
        .client
        .get(app.url("/export/ocds"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(ocds.contains(&result_id));
    assert_clean("OCDS export", &ocds);

    // Withdrawal reasons are published too.
    app.ok(
        Some(&token),
        "mutation($id: ID!, $reason: String!) { withdrawClause(input: { id: $id, reason: $reason }) { clause { id } } }",
        json!({ "id": clause, "reason": format!("Ersatt, se {EMAIL}") }),
    )
    .await;
    let withdrawn = app
        .ok(
            None,
            "query($id: ID!) { clause(id: $id) { withdrawal { reason } } }",
            json!({ "id": clause }),
        )
        .await;
    assert_clean("withdrawal reason", &withdrawn.to_string());

    // Audit and change events hold no text at all.
    use sea_orm::EntityTrait;
    let audits = entity::audit_event::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert!(audits.len() > 5);
    assert_clean("audit events", &format!("{audits:?}"));
    let changes = entity::change_event::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert_clean("change events", &format!("{changes:?}"));
});
