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

// Anonymous `GET` reads carry an `ETag` and a short public lifetime and answer `304` to
// `If-None-Match`; answers for signed-in callers are never stored; automatic persisted
// queries let a `GET` name its document by hash.
backend_test!(
    public_reads_are_cacheable_and_queries_can_be_persisted,
    |app| {
        use sha2::Digest;
        let query = "{ clauses(first: 1) { nodes { id } } }";
        let url = format!("{}?query={}", app.url("/graphql"), urlencode(query));
        let first = app.client.get(&url).send().await.unwrap();
        assert_eq!(first.status().as_u16(), 200);
        let header = |r: &reqwest::Response, name: &str| {
            r.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default()
        };
        let tag = header(&first, "etag");
        assert!(tag.starts_with('"') && tag.len() == 34, "{tag}");
        assert_eq!(header(&first, "cache-control"), "public, max-age=30");
        assert!(header(&first, "vary").contains("Authorization"));
        let again = app
            .client
            .get(&url)
            .header("If-None-Match", &tag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status().as_u16(), 304);
        assert_eq!(header(&again, "etag"), tag);
        assert!(again.bytes().await.unwrap().is_empty());
        let changed = app
            .client
            .get(&url)
            .header("If-None-Match", "\"something-else\"")
            .send()
            .await
            .unwrap();
        assert_eq!(changed.status().as_u16(), 200);

        // Signed in: private, whatever the method.
        let org = app.org("lund", "SE").await;
        let token = publisher(org);
        let private = app
            .client
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(header(&private, "cache-control"), "private, no-store");
        assert!(header(&private, "etag").is_empty());
        let posted = app
            .client
            .post(app.url("/graphql"))
            .bearer_auth(&token)
            .json(&json!({ "query": query }))
            .send()
            .await
            .unwrap();
        assert_eq!(header(&posted, "cache-control"), "private, no-store");
        // An answer with errors is not kept.
        let failed = app
            .client
            .get(format!(
                "{}?query={}",
                app.url("/graphql"),
                urlencode("{ clause(id: \"x\") { id } }")
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(header(&failed, "cache-control"), "no-store");
        assert!(header(&failed, "etag").is_empty());

        // Persisted queries: the hash alone is unknown at first, then known once sent.
        let hash = format!("{:x}", sha2::Sha256::digest(query.as_bytes()));
        let extensions =
            json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } }).to_string();
        let short = format!(
            "{}?extensions={}",
            app.url("/graphql"),
            urlencode(&extensions)
        );
        let unknown: serde_json::Value = app
            .client
            .get(&short)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(unknown["errors"][0]["message"], "PersistedQueryNotFound");
        assert_eq!(code(&unknown), "PERSISTED_QUERY_NOT_FOUND");
        let registered: serde_json::Value = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": query, "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        assert!(
            registered["data"]["clauses"]["nodes"].is_array(),
            "{registered}"
        );
        let known = app.client.get(&short).send().await.unwrap();
        assert_eq!(header(&known, "cache-control"), "public, max-age=30");
        let known: serde_json::Value = known.json().await.unwrap();
        assert_eq!(known["data"], registered["data"]);
        let forged: serde_json::Value = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": "{ __typename }", "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        assert_eq!(code(&forged), "BAD_USER_INPUT");
    }
);

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
