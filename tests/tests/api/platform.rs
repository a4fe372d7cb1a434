//! Health, GraphiQL, the checked-in SDL and the demo catalogue.

use serde_json::json;

use crate::helpers::*;

#[test]
fn checked_in_schema_matches_the_code() {
    let path = format!("{}/../schema.graphql", env!("CARGO_MANIFEST_DIR"));
    let checked_in = std::fs::read_to_string(&path).unwrap();
    let current = commons_api::graphql::sdl();
    assert!(
        checked_in.trim_end() == current.trim_end(),
        "schema.graphql is out of date: run `cargo run -p commons-api -- schema > schema.graphql`"
    );
}

backend_test!(health_and_graphiql, |app| {
    let health: serde_json::Value = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status().as_u16(), 200);
    let page = app
        .client
        .get(app.url("/graphiql"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("graphiql") && page.contains("/graphql"),
        "GraphiQL page missing"
    );
    let sdl = app
        .client
        .get(app.url("/schema.graphql"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(sdl.contains("type Clause"));
    let response = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/graphql"))
        .header("Origin", "https://app.example")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    assert!(
        response
            .headers()
            .contains_key("access-control-allow-origin"),
        "CORS preflight not answered"
    );
});

backend_test!(
    demo_catalogue_loads_on_first_start,
    Options {
        demo: true,
        ..Options::default()
    },
    |app| {
        let data = app
            .ok(None, "{ organizations { totalCount } clauses(first: 100) { totalCount edges { node { latest { language kind ambitionLevel } } } } templates { totalCount } tenderResults { totalCount } }", json!({}))
            .await;
        assert!(
            data["organizations"]["totalCount"].as_u64().unwrap() >= 6,
            "{data}"
        );
        assert!(
            data["clauses"]["totalCount"].as_u64().unwrap() >= 40,
            "{data}"
        );
        assert!(data["templates"]["totalCount"].as_u64().unwrap() >= 5);
        assert!(data["tenderResults"]["totalCount"].as_u64().unwrap() >= 10);
        let edges = data["clauses"]["edges"].as_array().unwrap();
        for language in ["SV", "NB", "DA", "FI", "EN"] {
            assert!(
                edges
                    .iter()
                    .any(|e| e["node"]["latest"]["language"] == language),
                "no {language} clause"
            );
        }
        for kind in [
            "SELECTION_CRITERION",
            "TECHNICAL_SPECIFICATION",
            "AWARD_CRITERION",
            "CONTRACT_PERFORMANCE_CLAUSE",
        ] {
            assert!(
                edges.iter().any(|e| e["node"]["latest"]["kind"] == kind),
                "no {kind} clause"
            );
        }
        for level in ["CORE", "ADVANCED", "SPEARHEAD"] {
            assert!(
                edges
                    .iter()
                    .any(|e| e["node"]["latest"]["ambitionLevel"] == level),
                "no {level} clause"
            );
        }
        // The search index was built from the demo catalogue at start-up.
        let search = app
            .ok(None, "{ clauses { totalCount } searchClauses(query: \"\") { totalCount } searchTemplates(query: \"\") { totalCount } }", json!({}))
            .await;
        assert_eq!(
            search["searchClauses"]["totalCount"], search["clauses"]["totalCount"],
            "{search}"
        );
        assert!(
            search["searchTemplates"]["totalCount"].as_u64().unwrap() >= 5,
            "{search}"
        );
        // Loading again is refused: the catalogue is not duplicated.
        assert!(
            commons_api::seed::load_demo_if_empty(&app.db)
                .await
                .unwrap()
                .is_none()
        );
    }
);
