//! The API as an Apollo Federation v2 subgraph: `_service`, `_entities`, and a real
//! composition and gateway run with Apollo's own libraries (tests/federation).

use std::{path::PathBuf, process::Command};

use serde_json::{Value, json};

use crate::helpers::*;

const ENTITIES: &str =
    "query($representations: [_Any!]!) { _entities(representations: $representations) {
  __typename
  ... on Organization { id name }
  ... on Clause { id latest { title } }
  ... on Template { id latest { title } }
  ... on TenderResult { id tendersReceived }
} }";

backend_test!(
    the_subgraph_declares_federation_2_and_resolves_every_entity,
    Options {
        demo: true,
        ..Options::default()
    },
    |app| {
        let sdl = app.ok(None, "{ _service { sdl } }", Value::Null).await["_service"]["sdl"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            sdl.contains("@link(") && sdl.contains("https://specs.apollo.dev/federation/v2"),
            "no Federation 2 link in {sdl}"
        );
        for entity in ["Organization", "Clause", "Template", "TenderResult"] {
            assert!(
                sdl.contains(&format!("type {entity} @key(fields: \"id\")")),
                "{entity} is not an entity keyed by id"
            );
        }
        assert!(
            !sdl.contains("type Subscription"),
            "subscriptions stay out of the subgraph"
        );

        let data = app
            .ok(
                None,
                "{ clauses(first: 1) { edges { node { id latest { title } organization { id name } } } }
                   templates(first: 1) { edges { node { id latest { title } } } }
                   tenderResults(first: 1) { edges { node { id tendersReceived } } } }",
                Value::Null,
            )
            .await;
        let clause = &data["clauses"]["edges"][0]["node"];
        let template = &data["templates"]["edges"][0]["node"];
        let result = &data["tenderResults"]["edges"][0]["node"];
        let representations = json!([
            { "__typename": "Organization", "id": clause["organization"]["id"] },
            { "__typename": "Clause", "id": clause["id"] },
            { "__typename": "Template", "id": template["id"] },
            { "__typename": "TenderResult", "id": result["id"] },
        ]);
        let data = app
            .ok(
                None,
                ENTITIES,
                json!({ "representations": representations }),
            )
            .await;
        let entities = data["_entities"].as_array().unwrap();
        assert_eq!(entities[0]["name"], clause["organization"]["name"]);
        assert_eq!(entities[1]["latest"]["title"], clause["latest"]["title"]);
        assert_eq!(entities[2]["latest"]["title"], template["latest"]["title"]);
        assert_eq!(entities[3]["tendersReceived"], result["tendersReceived"]);

        // A draft is no entity for anybody outside its organisation.
        let org = app.org("draft-owner", "SE").await;
        let draft = app
            .ok(
                Some(&publisher(org)),
                CREATE_CLAUSE,
                json!({ "input": clause_input("Draft") }),
            )
            .await["createClause"]["clause"]["id"]
            .clone();
        let data = app
            .ok(
                None,
                ENTITIES,
                json!({ "representations": [{ "__typename": "Clause", "id": draft }] }),
            )
            .await;
        assert_eq!(data["_entities"], json!([null]));
    }
);

fn federation_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("federation")
}

/// The folder of the Node packages when Node.js runs and `package` is installed there;
/// otherwise says why the test skips.
fn node_packages(package: &str) -> Option<PathBuf> {
    let dir = federation_dir();
    let node = Command::new("node").arg("--version").output();
    let prepared = dir.join("node_modules").join(package).is_dir();
    if node.is_err() || !prepared {
        #[expect(clippy::print_stderr, reason = "say why the test skipped")]
        {
            eprintln!(
                "skipped: needs Node.js and `npm ci --prefix tests/federation` (node found: {}, {package} installed: {prepared})",
                node.is_ok()
            );
        }
        return None;
    }
    Some(dir)
}

/// Composes the running server's subgraph with a second one and queries through
/// `@apollo/gateway`. Needs Node.js and `npm ci --prefix tests/federation` (`.ci/run` does it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apollo_composes_the_subgraph_and_the_gateway_resolves_clauses_through_it() {
    let Some(dir) = node_packages("@apollo/gateway") else {
        return;
    };
    let app = TestApp::spawn(
        None,
        Options {
            demo: true,
            ..Options::default()
        },
    )
    .await;
    let data = app
        .ok(
            None,
            "{ clauses(first: 1) { edges { node { id latest { title } organization { id name } } } } }",
            Value::Null,
        )
        .await;
    let clause = data["clauses"]["edges"][0]["node"].clone();
    let url = app.url("/graphql");
    let id = clause["id"].as_str().unwrap().to_owned();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(dir.join("compose.mjs"))
            .arg(url)
            .arg(id)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "composition or gateway run failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    let result: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(result["supergraph"], true);
    assert_eq!(result["errors"], Value::Null);
    let featured = &result["data"]["featuredClauses"][0];
    assert_eq!(featured["id"], clause["id"]);
    assert_eq!(featured["latest"]["title"], clause["latest"]["title"]);
    assert_eq!(featured["organization"], clause["organization"]);
}

/// The GraphQL-over-HTTP specification's own server audit (npm `graphql-http`), run against
/// the started server: no failure and no warning. Needs Node.js and `npm ci --prefix
/// tests/federation` (`.ci/run` does it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_graphql_over_http_audit_passes_without_warnings() {
    let Some(dir) = node_packages("graphql-http") else {
        return;
    };
    let app = TestApp::spawn(None, Options::default()).await;
    let url = app.url("/graphql");
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(dir.join("http-audit.mjs"))
            .arg(url)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(" 0 failed, 0 warnings"), "{stdout}");
}
