//! The publishing workflow: create, update, publish, withdraw, reuse; templates and results.

use serde_json::{Value, json};

use crate::helpers::*;

const CLAUSE: &str = "query($id: ID!) {
  clause(id: $id) {
    id status version revision
    withdrawal { reason }
    derivedFrom { version clause { id } }
    latest { version title text cpvCodes focus publishedAt }
    draft { title }
    versions { version title }
  }
}";

backend_test!(clause_lifecycle_over_http, |app| {
    let lund = app.org("lund", "SE").await;
    let oslo = app.org("oslo", "NO").await;
    let lund_token = publisher(lund);
    let audits_before = app.count("audit_event").await;

    let created = app
        .ok(
            Some(&lund_token),
            CREATE_CLAUSE,
            json!({ "input": clause_input("Take-back plan") }),
        )
        .await;
    let clause = &created["createClause"]["clause"];
    assert_eq!(clause["status"], "DRAFT");
    assert_eq!(clause["revision"], 1);
    let id = clause["id"].as_str().unwrap().to_owned();

    let update = "mutation($id: ID!, $v: Int!, $title: String) { updateClause(input: { id: $id, expectedVersion: $v, title: $title, purpose: null }) { clause { revision draft { title purpose } } } }";
    let updated = app
        .ok(
            Some(&lund_token),
            update,
            json!({ "id": id, "v": 1, "title": "Take-back and reuse plan" }),
        )
        .await;
    assert_eq!(updated["updateClause"]["clause"]["revision"], 2);
    assert_eq!(
        updated["updateClause"]["clause"]["draft"]["title"],
        "Take-back and reuse plan"
    );
    assert_eq!(
        updated["updateClause"]["clause"]["draft"]["purpose"],
        Value::Null
    );

    // A stale expectedVersion conflicts and changes nothing.
    let stale = app
        .gql(
            Some(&lund_token),
            update,
            json!({ "id": id, "v": 1, "title": "Lost update" }),
        )
        .await;
    assert_eq!(code(&stale), "CONFLICT");
    let read = app.ok(Some(&lund_token), CLAUSE, json!({ "id": id })).await;
    assert_eq!(read["clause"]["draft"]["title"], "Take-back and reuse plan");
    assert_eq!(read["clause"]["revision"], 2);

    let changes_before = app.count("change_event").await;
    let published = app
        .ok(Some(&lund_token), PUBLISH_CLAUSE, json!({ "id": id }))
        .await;
    assert_eq!(published["publishClause"]["clause"]["status"], "PUBLISHED");
    assert_eq!(published["publishClause"]["clause"]["version"], 1);
    assert_eq!(app.count("change_event").await, changes_before + 1);

    // Editing the draft after publishing does not change what readers see.
    app.ok(
        Some(&lund_token),
        update,
        json!({ "id": id, "v": 3, "title": "Draft of version 2" }),
    )
    .await;
    let public = app.ok(None, CLAUSE, json!({ "id": id })).await;
    assert_eq!(
        public["clause"]["latest"]["title"],
        "Take-back and reuse plan"
    );
    assert_eq!(
        public["clause"]["latest"]["focus"],
        json!(["ENVIRONMENTAL"])
    );
    assert_eq!(public["clause"]["draft"], Value::Null);
    app.ok(Some(&lund_token), PUBLISH_CLAUSE, json!({ "id": id }))
        .await;
    let public = app.ok(None, CLAUSE, json!({ "id": id })).await;
    assert_eq!(public["clause"]["version"], 2);
    assert_eq!(public["clause"]["latest"]["title"], "Draft of version 2");
    assert_eq!(
        public["clause"]["versions"],
        json!([
            { "version": 2, "title": "Draft of version 2" },
            { "version": 1, "title": "Take-back and reuse plan" },
        ])
    );

    // Another organisation reuses version 1 into its own draft.
    let reuse = "mutation($id: ID!) { reuseClause(input: { id: $id, version: 1 }) { clause { id status } } }";
    let reused = app
        .ok(Some(&publisher(oslo)), reuse, json!({ "id": id }))
        .await;
    let copy = reused["reuseClause"]["clause"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(reused["reuseClause"]["clause"]["status"], "DRAFT");
    let copy_read = app
        .ok(Some(&publisher(oslo)), CLAUSE, json!({ "id": copy }))
        .await;
    assert_eq!(copy_read["clause"]["derivedFrom"]["version"], 1);
    assert_eq!(
        copy_read["clause"]["derivedFrom"]["clause"]["id"],
        id.as_str()
    );
    assert_eq!(
        copy_read["clause"]["draft"]["title"],
        "Take-back and reuse plan"
    );

    // Withdrawing needs a reason, keeps the history and says why.
    let withdraw = "mutation($id: ID!, $reason: String!) { withdrawClause(input: { id: $id, reason: $reason }) { clause { status } } }";
    let no_reason = app
        .gql(
            Some(&lund_token),
            withdraw,
            json!({ "id": id, "reason": " " }),
        )
        .await;
    assert_eq!(code(&no_reason), "BAD_USER_INPUT");
    assert_eq!(field(&no_reason), "input.reason");
    app.ok(
        Some(&lund_token),
        withdraw,
        json!({ "id": id, "reason": "Replaced by the 2026 criteria" }),
    )
    .await;
    let public = app.ok(None, CLAUSE, json!({ "id": id })).await;
    assert_eq!(public["clause"]["status"], "WITHDRAWN");
    assert_eq!(
        public["clause"]["withdrawal"]["reason"],
        "Replaced by the 2026 criteria"
    );
    assert_eq!(public["clause"]["versions"].as_array().unwrap().len(), 2);
    // A withdrawn clause can no longer be reused.
    let again = app
        .gql(Some(&publisher(oslo)), reuse, json!({ "id": id }))
        .await;
    assert_eq!(code(&again), "BAD_USER_INPUT");

    // Every successful mutation wrote one audit event (create, 2 updates, 2 publishes, reuse,
    // withdraw; the two organisations were created before counting started).
    assert_eq!(app.count("audit_event").await, audits_before + 7);
});

backend_test!(rejected_input_names_the_field_and_writes_nothing, |app| {
    let lund = app.org("lund", "SE").await;
    let token = publisher(lund);
    let before = (app.count("clause").await, app.count("audit_event").await);
    let cases: Vec<(Value, &str)> = vec![
        (json!({ "cpvCodes": ["30213100-5"] }), "input.cpvCodes[0]"),
        (
            json!({ "cpvCodes": ["30213100-6", "3021310"] }),
            "input.cpvCodes[1]",
        ),
        (json!({ "title": "ab" }), "input.title"),
        (json!({ "text": "" }), "input.text"),
        (json!({ "text": "x".repeat(20_001) }), "input.text"),
        (json!({ "purpose": "nul\u{0}byte" }), "input.purpose"),
        (json!({ "labels": ["x".repeat(121)] }), "input.labels[0]"),
        (
            json!({ "lastReviewed": "2999-01-01" }),
            "input.lastReviewed",
        ),
    ];
    for (patch, expected_field) in cases {
        let mut input = clause_input("Valid title");
        for (k, v) in patch.as_object().unwrap() {
            input[k] = v.clone();
        }
        let body = app
            .gql(Some(&token), CREATE_CLAUSE, json!({ "input": input }))
            .await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{patch}: {body}");
        assert_eq!(field(&body), expected_field, "{patch}");
    }
    // Unknown enum codes are refused by the schema itself.
    let mut input = clause_input("Valid title");
    input["kind"] = json!("NOT_A_KIND");
    let body = app
        .gql(Some(&token), CREATE_CLAUSE, json!({ "input": input }))
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert_eq!(
        (app.count("clause").await, app.count("audit_event").await),
        before
    );

    // Publishing needs the required fields; the draft is left as it was.
    let draft = app
        .ok(
            Some(&token),
            CREATE_CLAUSE,
            json!({ "input": { "title": "Bare draft", "text": "Text only.", "language": "SV" } }),
        )
        .await;
    let id = draft["createClause"]["clause"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let changes = app.count("change_event").await;
    let body = app
        .gql(Some(&token), PUBLISH_CLAUSE, json!({ "id": id }))
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert_eq!(field(&body), "draft.kind");
    assert_eq!(app.count("change_event").await, changes);
    assert_eq!(app.count("clause_version").await, 1);
});

const CREATE_TEMPLATE: &str = "mutation($input: CreateTemplateInput!) { createTemplate(input: $input) { template { id status revision } } }";

backend_test!(templates_cite_exact_versions_and_cap_weights, |app| {
    let lund = app.org("lund", "SE").await;
    let token = publisher(lund);
    let spec = published_clause(&app, &token, clause_input("Take-back plan")).await;
    let mut award = clause_input("Longer warranty scores points");
    award["kind"] = json!("AWARD_CRITERION");
    award["scoringRule"] = json!("Up to 10 points per extra year of warranty.");
    let award = published_clause(&app, &token, award).await;

    let input = |weight: i32, spec_weight: Option<i32>| {
        json!({ "input": {
            "title": "Laptops 2026", "language": "SV", "cpvCodes": ["30213100-6"],
            "clauses": [
                { "clauseId": spec, "mandatory": true, "weight": spec_weight },
                { "clauseId": award, "weight": weight, "mandatory": false },
            ]
        }})
    };
    let over = app
        .gql(Some(&token), CREATE_TEMPLATE, input(101, None))
        .await;
    assert_eq!(code(&over), "BAD_USER_INPUT");
    assert_eq!(field(&over), "input.clauses[1].weight");
    let not_award = app
        .gql(Some(&token), CREATE_TEMPLATE, input(20, Some(10)))
        .await;
    assert_eq!(field(&not_award), "input.clauses[0].weight");
    assert_eq!(app.count("template").await, 0);

    let created = app.ok(Some(&token), CREATE_TEMPLATE, input(30, None)).await;
    let id = created["createTemplate"]["template"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let publish = "mutation($id: ID!) { publishTemplate(input: { id: $id }) { template { status version } } }";
    let published = app.ok(Some(&token), publish, json!({ "id": id })).await;
    assert_eq!(published["publishTemplate"]["template"]["version"], 1);

    // Publishing version 2 of a clause does not move the template's citation.
    let update = "mutation($id: ID!) { updateClause(input: { id: $id, expectedVersion: 2, title: \"Take-back plan v2\" }) { clause { revision } } }";
    app.ok(Some(&token), update, json!({ "id": spec })).await;
    app.ok(Some(&token), PUBLISH_CLAUSE, json!({ "id": spec }))
        .await;
    let read = app
        .ok(None, "query($id: ID!) { template(id: $id) { latest { clauses { position clauseVersion weight cited { title } clause { version } } } } }", json!({ "id": id }))
        .await;
    let clauses = &read["template"]["latest"]["clauses"];
    assert_eq!(clauses[0]["clauseVersion"], 1);
    assert_eq!(clauses[0]["cited"]["title"], "Take-back plan");
    assert_eq!(clauses[0]["clause"]["version"], 2);
    assert_eq!(clauses[1]["weight"], 30);

    // Update with a stale revision conflicts; withdrawing needs a reason.
    let stale = app
        .gql(Some(&token), "mutation($id: ID!) { updateTemplate(input: { id: $id, expectedVersion: 1, title: \"x y z\" }) { template { id } } }", json!({ "id": id }))
        .await;
    assert_eq!(code(&stale), "CONFLICT");
    let withdrawn = app
        .ok(Some(&token), "mutation($id: ID!) { withdrawTemplate(input: { id: $id, reason: \"Framework replaced\" }) { template { status withdrawal { reason } } } }", json!({ "id": id }))
        .await;
    assert_eq!(
        withdrawn["withdrawTemplate"]["template"]["status"],
        "WITHDRAWN"
    );
});

const REPORT: &str = "mutation($input: ReportTenderResultInput!) { reportTenderResult(input: $input) { tenderResult { id awardMonth clauses { clauseVersion outcome followUp cited { title } } } } }";

backend_test!(tender_results_are_validated_and_reported, |app| {
    let lund = app.org("lund", "SE").await;
    let token = publisher(lund);
    let clause = published_clause(&app, &token, clause_input("Take-back plan")).await;
    let valid = json!({
        "cpvCode": "30213100-6", "procedure": "OPEN", "awardMonth": "2025-04",
        "tendersReceived": 4, "smeTenders": 1, "priceWeight": 60, "costWeight": 0,
        "qualityWeight": 40, "sustainabilityWeight": 25, "awarded": true,
        "valueBand": "EUR100K_TO1M", "lessonsLearned": "Ask for the take-back plan at award.",
        "clauses": [{ "clauseId": clause, "outcome": "MET_BY_WINNER", "followUp": "COMPLIANT" }]
    });
    let cases: Vec<(Value, &str)> = vec![
        (json!({ "cpvCode": "30213100-0" }), "input.cpvCode"),
        (json!({ "awardMonth": "2025-13" }), "input.awardMonth"),
        (json!({ "smeTenders": 5 }), "input.smeTenders"),
        (json!({ "priceWeight": 70 }), "input.qualityWeight"),
        (
            json!({ "sustainabilityWeight": 50 }),
            "input.sustainabilityWeight",
        ),
        (json!({ "awarded": false }), "input.noAwardReason"),
        (
            json!({ "clauses": [{ "clauseId": clause, "clauseVersion": 9, "outcome": "DROPPED" }] }),
            "input.clauses[0].clauseVersion",
        ),
    ];
    for (patch, expected) in cases {
        let mut input = valid.clone();
        for (k, v) in patch.as_object().unwrap() {
            input[k] = v.clone();
        }
        let body = app
            .gql(Some(&token), REPORT, json!({ "input": input }))
            .await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{patch}: {body}");
        assert_eq!(field(&body), expected, "{patch}");
    }
    assert_eq!(app.count("tender_result").await, 0);

    let data = app
        .ok(Some(&token), REPORT, json!({ "input": valid }))
        .await;
    let result = &data["reportTenderResult"]["tenderResult"];
    assert_eq!(result["awardMonth"], "2025-04");
    assert_eq!(result["clauses"][0]["clauseVersion"], 1);
    assert_eq!(result["clauses"][0]["cited"]["title"], "Take-back plan");
    let list = app
        .ok(
            None,
            "{ tenderResults(filter: { cpv: \"302\" }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(list["tenderResults"]["totalCount"], 1);
});

backend_test!(lists_paginate_with_cursors_and_filter, |app| {
    let lund = app.org("lund", "SE").await;
    let token = publisher(lund);
    for i in 0..5 {
        let mut input = clause_input(&format!("Clause number {i}"));
        if i % 2 == 0 {
            input["cpvCodes"] = json!(["32250000-0"]);
            input["language"] = json!("SV");
        }
        published_clause(&app, &token, input).await;
    }
    let query = "query($after: String, $filter: ClauseFilter) { clauses(first: 2, after: $after, filter: $filter) { totalCount pageInfo { hasNextPage endCursor } edges { node { latest { title } } } } }";
    let mut titles = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = app.ok(None, query, json!({ "after": after })).await;
        let page = &data["clauses"];
        assert_eq!(page["totalCount"], 5);
        for edge in page["edges"].as_array().unwrap() {
            titles.push(edge["node"]["latest"]["title"].as_str().unwrap().to_owned());
        }
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    let expected: Vec<String> = (0..5).map(|i| format!("Clause number {i}")).collect();
    assert_eq!(titles, expected);

    // totalCount is only counted when selected: through a fragment and an inline fragment
    // it still is; every list answers the same pages without it.
    for document in [
        "{ clauses(first: 1) { ...Count } } fragment Count on ClauseConnection { totalCount }",
        "{ clauses(first: 1) { ... on ClauseConnection { totalCount } } }",
    ] {
        let data = app.ok(None, document, json!({})).await;
        assert_eq!(data["clauses"]["totalCount"], 5, "{document}");
    }
    let lean = app
        .ok(
            None,
            "{ clauses(first: 5) { nodes { id } } templates { nodes { id } } organizations { nodes { id } } tenderResults { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(lean["clauses"]["nodes"].as_array().unwrap().len(), 5);
    assert_eq!(lean["organizations"]["nodes"].as_array().unwrap().len(), 1);

    let phones = app
        .ok(None, query, json!({ "filter": { "cpv": "3225" } }))
        .await;
    assert_eq!(phones["clauses"]["totalCount"], 3);
    let swedish_computers = app
        .ok(
            None,
            query,
            json!({ "filter": { "cpv": "302", "language": "SV" } }),
        )
        .await;
    assert_eq!(swedish_computers["clauses"]["totalCount"], 0);
    let bad = app
        .gql(None, query, json!({ "after": "bm90LWEtY3Vyc29y" }))
        .await;
    assert_eq!(code(&bad), "BAD_USER_INPUT");
    assert_eq!(field(&bad), "after");
    let bad = app
        .gql(None, query, json!({ "filter": { "cpv": "30'; --" } }))
        .await;
    assert_eq!(field(&bad), "filter.cpv");
});

backend_test!(cpv_codes_are_checked_against_the_official_list, |app| {
    let lund = app.org("lund", "SE").await;
    let token = publisher(lund);
    // Official codes whose check digit is not the weighted formula's are accepted.
    let mut input = clause_input("Renewable electricity");
    input["cpvCodes"] = json!(["09310000-5", "30213100-6"]);
    let id = published_clause(&app, &token, input).await;
    // A code that passes the formula but is on no list is refused, naming the item.
    let mut input = clause_input("Unknown code");
    input["cpvCodes"] = json!(["30213100-6", "30213199-6"]);
    let refused = app
        .gql(Some(&token), CREATE_CLAUSE, json!({ "input": input }))
        .await;
    assert_eq!(code(&refused), "BAD_USER_INPUT");
    assert_eq!(field(&refused), "input.cpvCodes[1]");
    let message = refused["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("not a code of the CPV 2008 list"),
        "{message}"
    );
    let mut input = clause_input("Wrong check digit");
    input["cpvCodes"] = json!(["09310000-3"]);
    let refused = app
        .gql(Some(&token), CREATE_CLAUSE, json!({ "input": input }))
        .await;
    let message = refused["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("09310000-5"), "{message}");

    // Names for forms: by code, by digits, by words in a language.
    let data = app
        .ok(
            None,
            r#"{
              exact: cpv(code: "30213100-6") { code en sv da fi norwegian: name(language: NB) }
              digits: cpv(code: "09310000") { code name }
              wrong: cpv(code: "30213100-5") { code }
              unknown: cpv(code: "30213199-6") { code }
              computers: cpvCodes(prefix: "302131") { code }
              swedish: cpvCodes(prefix: "bärbar dator", language: SV) { code name(language: SV) }
              few: cpvCodes(prefix: "03", first: 3) { code }
            }"#,
            json!({}),
        )
        .await;
    assert_eq!(data["exact"]["sv"], "Bärbara datorer");
    assert_eq!(data["exact"]["en"], "Portable computers");
    assert_eq!(data["exact"]["norwegian"], data["exact"]["da"]);
    assert_eq!(data["digits"]["code"], "09310000-5");
    assert!(data["wrong"].is_null() && data["unknown"].is_null());
    let computers = data["computers"].as_array().unwrap();
    assert!(computers.iter().any(|c| c["code"] == "30213100-6"));
    assert!(
        computers
            .iter()
            .all(|c| c["code"].as_str().unwrap().starts_with("302131"))
    );
    assert!(
        data["swedish"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["code"] == "30213100-6")
    );
    assert_eq!(data["few"].as_array().unwrap().len(), 3);
    for (document, expected) in [
        (r#"{ cpvCodes(prefix: "3") { code } }"#, "prefix"),
        (r#"{ cpvCodes(prefix: "  ") { code } }"#, "prefix"),
        (r#"{ cpvCodes(prefix: "30", first: 0) { code } }"#, "first"),
    ] {
        let refused = app.gql(None, document, json!({})).await;
        assert_eq!(code(&refused), "BAD_USER_INPUT", "{document}");
        assert_eq!(field(&refused), expected, "{document}");
    }

    // Codes stored before the list was checked are found (and logged at start).
    assert!(
        commons_api::service::cpv::stored_off_list(&app.db)
            .await
            .unwrap()
            .is_empty()
    );
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    entity::clause_version::Entity::update_many()
        .col_expr(
            entity::clause_version::Column::CpvCodes,
            Expr::value(r#"["30213199-6"]"#),
        )
        .filter(entity::clause_version::Column::ClauseId.eq(uuid::Uuid::parse_str(&id).unwrap()))
        .exec(&app.db)
        .await
        .unwrap();
    assert_eq!(
        commons_api::service::cpv::stored_off_list(&app.db)
            .await
            .unwrap(),
        vec!["30213199-6".to_owned()]
    );
});
