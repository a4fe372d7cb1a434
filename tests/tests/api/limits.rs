//! Request limits and error hygiene.

use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::helpers::*;

backend_test!(
    limits_are_enforced_with_clear_errors,
    Options {
        demo: false,
        search: None,
        extra: vec![
            "--max-page-size".into(),
            "10".into(),
            "--max-depth".into(),
            "6".into(),
            "--max-complexity".into(),
            "100".into(),
            "--max-body-bytes".into(),
            "4096".into(),
        ],
    },
    |app| {
        let too_big = app
            .gql(None, "{ clauses(first: 11) { totalCount } }", json!({}))
            .await;
        assert_eq!(code(&too_big), "BAD_USER_INPUT");
        assert_eq!(field(&too_big), "first");
        let negative = app
            .gql(
                None,
                "{ organizations(first: -1) { totalCount } }",
                json!({}),
            )
            .await;
        assert_eq!(code(&negative), "BAD_USER_INPUT");
        app.ok(None, "{ clauses(first: 10) { totalCount } }", json!({}))
            .await;

        let deep = "{ clauses(first: 1) { edges { node { derivedFrom { clause { derivedFrom { clause { derivedFrom { clause { id } } } } } } } } } }";
        let body = app.gql(None, deep, json!({})).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("nested too deep"),
            "{body}"
        );

        let complex = "{ clauses(first: 10) { edges { node { id status version revision createdAt updatedAt latest { title text purpose verification followUp cpvCodes labels } } } } }";
        let body = app.gql(None, complex, json!({})).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("too complex"),
            "{body}"
        );

        let huge =
            json!({ "query": format!("{{ viewer {{ authenticated }} }} #{}", "x".repeat(8_000)) });
        let response = app
            .client
            .post(app.url("/graphql"))
            .json(&huge)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 413);

        let response = app
            .client
            .post(app.url("/graphql"))
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap();
        assert!(response.status().is_client_error(), "{}", response.status());
    }
);

backend_test!(get_serves_queries_but_not_mutations, |app| {
    let response = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", "{ viewer { authenticated } }")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["data"]["viewer"]["authenticated"], false);

    let mutation = "mutation { createOrganization(input: { slug: \"get-kommun\", name: \"Get\", kind: MUNICIPALITY, country: SE }) { organization { id } } }";
    let response = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", mutation)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 405);
    assert_eq!(app.count("organization").await, 0);
});

backend_test!(internal_errors_are_logged_not_described, |app| {
    let lund = app.org("lund", "SE").await;
    // Break the database under the service: the audit table disappears.
    app.db
        .execute_unprepared("DROP TABLE audit_event")
        .await
        .unwrap();
    let body = app
        .gql(
            Some(&publisher(lund)),
            CREATE_CLAUSE,
            json!({ "input": clause_input("Will fail") }),
        )
        .await;
    assert_eq!(code(&body), "INTERNAL");
    assert_eq!(body["errors"][0]["message"], "internal error");
    let text = body.to_string().to_lowercase();
    assert!(
        !text.contains("audit_event") && !text.contains("sql"),
        "{body}"
    );
    // The transaction rolled back: no half-written clause.
    assert_eq!(app.count("clause").await, 0);
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_is_not_a_graphql_request_gets_a_coded_json_error() {
    let app = TestApp::spawn(None, Options::default()).await;
    for (body, status) in [
        (r#"{"query": "{ __typename }""#.to_owned(), 400),
        (
            r#"[{"query": "{ __typename }"}, {"query": "{ __typename }"}]"#.to_owned(),
            400,
        ),
        (
            format!(
                r#"{{"query": "{{ __typename }}", "pad": "{}"}}"#,
                "x".repeat(300_000)
            ),
            413,
        ),
    ] {
        let response = app
            .client
            .post(app.url("/graphql"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status);
        let text = response.text().await.unwrap();
        let json: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
        assert_eq!(code(&json), "BAD_USER_INPUT", "{json}");
        // The parser's debug representation never reaches the client.
        assert!(
            !text.contains("InvalidRequest") && !text.contains("Error("),
            "{text}"
        );
    }
}

/// The introspection query standard clients send (graphql-js 16 `getIntrospectionQuery` with
/// every option: descriptions, `specifiedByURL`, `isRepeatable`, the schema's description and
/// deprecated input values), as GraphiQL, Python `gql` and code generators send it.
const INTROSPECTION: &str = "query IntrospectionQuery {
  __schema {
    description
    queryType { name kind }
    mutationType { name kind }
    subscriptionType { name kind }
    types { ...FullType }
    directives {
      name description isRepeatable locations
      args(includeDeprecated: true) { ...InputValue }
    }
  }
}
fragment FullType on __Type {
  kind name description specifiedByURL
  fields(includeDeprecated: true) {
    name description
    args(includeDeprecated: true) { ...InputValue }
    type { ...TypeRef }
    isDeprecated deprecationReason
  }
  inputFields(includeDeprecated: true) { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue {
  name description type { ...TypeRef } defaultValue isDeprecated deprecationReason
}
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name } } } } } } } } }
}";

backend_test!(
    standard_introspection_works_with_the_default_limits,
    |app| {
        let body = app.gql(None, INTROSPECTION, json!({})).await;
        assert!(body["errors"].is_null(), "{body}");
        let types = body["data"]["__schema"]["types"].as_array().unwrap();
        assert!(
            types.iter().any(|t| t["name"] == "Clause"),
            "no Clause type"
        );
        assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");
        // Data selections keep the default depth limit of 12.
        let mut deep = String::from("id");
        for _ in 0..6 {
            deep = format!("derivedFrom {{ clause {{ {deep} }} }}");
        }
        let refused = app
            .gql(
                None,
                &format!("{{ clause(id: \"x\") {{ {deep} }} }}"),
                json!({}),
            )
            .await;
        assert_eq!(code(&refused), "BAD_USER_INPUT", "{refused}");
    }
);

backend_test!(
    introspection_can_be_turned_off,
    Options {
        extra: vec!["--introspection".into(), "off".into()],
        ..Options::default()
    },
    |app| {
        let body = app.gql(None, INTROSPECTION, json!({})).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("introspection is turned off"),
            "{body}"
        );
        // Ordinary queries and the SDL are unaffected.
        app.ok(None, "{ viewer { authenticated } }", json!({}))
            .await;
        let sdl = app
            .client
            .get(app.url("/schema.graphql"))
            .send()
            .await
            .unwrap();
        assert_eq!(sdl.status(), 200);
    }
);

// GraphQL over HTTP: the media type follows `Accept`; with application/graphql-response+json
// a request that never ran is a 400 without `data`, with application/json a 200.
backend_test!(responses_follow_graphql_over_http, |app| {
    let send = |accept: Option<&'static str>, query: &'static str| {
        let mut request = app
            .client
            .post(app.url("/graphql"))
            .json(&json!({ "query": query }));
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let media = response.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_owned();
            let body: serde_json::Value = response.json().await.unwrap();
            (status, media, body)
        }
    };
    let gr = "application/graphql-response+json";
    let (status, media, body) = send(Some(gr), "{ viewer { authenticated } }").await;
    assert_eq!((status, media.as_str()), (200, gr));
    assert_eq!(body["data"]["viewer"]["authenticated"], false);
    // A wildcard (reqwest sends */* when no Accept is set) is answered in application/json.
    let (_, media, _) = send(None, "{ viewer { authenticated } }").await;
    assert_eq!(media, "application/json");
    let (_, media, _) = send(
        Some("application/json, application/graphql-response+json"),
        "{ __typename }",
    )
    .await;
    assert_eq!(media, gr, "an explicit graphql-response+json wins");
    let (status, media, body) =
        send(Some("application/json"), "{ viewer { authenticated } }").await;
    assert_eq!((status, media.as_str()), (200, "application/json"));
    assert_eq!(body["data"]["viewer"]["authenticated"], false);

    for broken in ["{ viewer { ", "{ nosuchfield }"] {
        let (status, media, body) = send(Some(gr), broken).await;
        assert_eq!((status, media.as_str()), (400, gr), "{body}");
        assert!(body.get("data").is_none(), "{body}");
        assert_eq!(code(&body), "BAD_USER_INPUT");
        let (status, media, body) = send(Some("application/json"), broken).await;
        assert_eq!(
            (status, media.as_str()),
            (200, "application/json"),
            "{body}"
        );
        assert_eq!(code(&body), "BAD_USER_INPUT");
    }
    // A body without a Content-Type is refused.
    let untyped = app
        .client
        .post(app.url("/graphql"))
        .body(r#"{"query":"{ __typename }"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(untyped.status(), 415);
    let text = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "text/plain")
        .body(r#"{"query":"{ __typename }"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(text.status(), 415);
    // A field's error is no request error: 200 with `data`.
    let (status, _, body) = send(
        Some(gr),
        "mutation { withdrawClause(input: { id: \"x\", reason: \"gone\" }) { clause { id } } }",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("data").is_some(), "{body}");
});

/// `--rate-limits`: a bucket per client (token subject, else address), refusals coded and
/// timed; `X-Forwarded-For` counts only from a trusted proxy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_are_rate_limited_per_subject_and_address() {
    let options = Options {
        extra: vec![
            "--rate-limits".into(),
            "anonymous=0.5/3,publisher=0.5/2".into(),
            "--trusted-proxies".into(),
            "127.0.0.1".into(),
        ],
        ..Options::default()
    };
    with_app(Backend::Sqlite, options, |app| async move {
        let post = |token: Option<String>, forwarded: &'static str| {
            let mut request = app
                .client
                .post(app.url("/graphql"))
                .header("X-Forwarded-For", forwarded)
                .json(&json!({ "query": "{ __typename }" }));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            request.send()
        };
        for _ in 0..3 {
            let ok = post(None, "203.0.113.1").await.unwrap();
            assert_eq!(ok.status().as_u16(), 200);
        }
        let refused = post(None, "203.0.113.1").await.unwrap();
        assert_eq!(refused.status().as_u16(), 429);
        let retry: u64 = refused.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=2).contains(&retry), "Retry-After {retry}");
        let body: serde_json::Value = refused.json().await.unwrap();
        assert_eq!(code(&body), "RATE_LIMITED");
        // The web app's pages count too; health probes never do.
        let page = app
            .client
            .get(app.url("/en/"))
            .header("X-Forwarded-For", "203.0.113.1")
            .send()
            .await
            .unwrap();
        assert_eq!(page.status().as_u16(), 429);
        let health = app.client.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(health.status().as_u16(), 200);
        // Another address behind the trusted proxy has a bucket of its own.
        let other = post(None, "203.0.113.2").await.unwrap();
        assert_eq!(other.status().as_u16(), 200);
        // A publisher is counted by subject, whatever its address.
        let org = app.org("lund", "SE").await;
        let token = publisher(org);
        for _ in 0..2 {
            let ok = post(Some(token.clone()), "203.0.113.1").await.unwrap();
            assert_eq!(ok.status().as_u16(), 200);
        }
        let refused = post(Some(token.clone()), "203.0.113.3").await.unwrap();
        assert_eq!(refused.status().as_u16(), 429);
        let metrics = app
            .client
            .get(app.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            metrics.contains(
                r#"commons_http_requests_total{route="/graphql",method="POST",status="429"} 2"#
            ),
            "{metrics}"
        );
    })
    .await;
}

/// Without a trusted proxy, `X-Forwarded-For` cannot buy a fresh bucket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_addresses_from_untrusted_peers_are_ignored() {
    let options = Options {
        extra: vec!["--rate-limits".into(), "anonymous=0.5/2".into()],
        ..Options::default()
    };
    with_app(Backend::Sqlite, options, |app| async move {
        let mut statuses = Vec::new();
        for i in 0..4 {
            let response = app
                .client
                .post(app.url("/graphql"))
                .header("X-Forwarded-For", format!("198.51.100.{i}"))
                .json(&json!({ "query": "{ __typename }" }))
                .send()
                .await
                .unwrap();
            statuses.push(response.status().as_u16());
        }
        assert_eq!(statuses, [200, 200, 429, 429]);
    })
    .await;
}
