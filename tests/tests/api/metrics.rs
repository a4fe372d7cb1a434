//! `GET /metrics`: scraped and parsed as Prometheus text after some traffic.

use std::collections::HashMap;

use serde_json::json;

use crate::helpers::*;

/// Every sample of a scrape by its series (`name{labels}`), after checking that each line is
/// a comment or `series value` with a number.
fn parse(text: &str) -> HashMap<String, f64> {
    let mut samples = HashMap::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(comment) = line.strip_prefix('#') {
            assert!(
                comment.starts_with(" HELP ") || comment.starts_with(" TYPE "),
                "{line}"
            );
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("not a number: {line}"));
        assert!(
            series.starts_with("commons_") && (!series.contains('{') || series.ends_with('}')),
            "{line}"
        );
        samples.insert(series.to_owned(), value);
    }
    samples
}

async fn scrape(app: &TestApp, url: &str) -> HashMap<String, f64> {
    let response = app.client.get(url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    parse(&response.text().await.unwrap())
}

backend_test!(metrics_count_requests_operations_errors_and_lag, |app| {
    app.ok(
        None,
        "query Probe { clauses(first: 1) { nodes { id } } }",
        json!({}),
    )
    .await;
    app.ok(
        None,
        "query Probe { clauses(first: 1) { nodes { id } } }",
        json!({}),
    )
    .await;
    app.ok(
        None,
        "query Find { searchClauses(query: \"energy\") { totalCount } }",
        json!({}),
    )
    .await;
    let refused = app
        .gql(None, "{ clause(id: \"nope\") { id } }", json!({}))
        .await;
    assert_eq!(code(&refused), "BAD_USER_INPUT");
    let broken = app.gql(None, "{ clauses( }", json!({})).await;
    assert!(broken["errors"].is_array());
    // A name too long for a label.
    let long = format!("query {} {{ __typename }}", "L".repeat(100));
    app.ok(None, &long, json!({})).await;

    let samples = scrape(&app, &app.url("/metrics")).await;
    let get = |series: &str| {
        samples
            .get(series)
            .copied()
            .unwrap_or_else(|| panic!("no {series} in {samples:#?}"))
    };
    assert_eq!(
        get(r#"commons_graphql_operations_total{operation="Probe",type="query"}"#),
        2.0
    );
    assert_eq!(
        get(r#"commons_graphql_operations_total{operation="Find",type="query"}"#),
        1.0
    );
    assert_eq!(
        get(r#"commons_graphql_operations_total{operation="unparsed",type="unknown"}"#),
        1.0
    );
    assert_eq!(
        get(r#"commons_graphql_operations_total{operation="invalid",type="query"}"#),
        1.0
    );
    assert_eq!(
        get(r#"commons_graphql_operation_duration_seconds_count{operation="Probe",type="query"}"#),
        2.0
    );
    assert!(get(r#"commons_graphql_errors_total{code="BAD_USER_INPUT"}"#) >= 2.0);
    assert!(
        get(r#"commons_http_requests_total{route="/graphql",method="POST",status="200"}"#) >= 5.0
    );
    assert_eq!(
        get(r#"commons_search_duration_seconds_count{backend="tantivy"}"#),
        1.0
    );
    assert!(get("commons_indexer_lag_events") >= 0.0);
    assert!(get("commons_indexer_lag_seconds") >= 0.0);
    assert!(get(r#"commons_db_pool_connections{pool="writer",state="idle"}"#) >= 0.0);
    assert!(get("commons_process_start_time_seconds") > 1.7e9);
    // The scrape itself is counted on the next one.
    let again = scrape(&app, &app.url("/metrics")).await;
    assert_eq!(
        again[r#"commons_http_requests_total{route="/metrics",method="GET",status="200"}"#],
        1.0
    );
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_can_have_an_address_of_their_own() {
    let options = Options {
        extra: vec!["--metrics-listen".into(), "127.0.0.1:0".into()],
        ..Options::default()
    };
    with_app(Backend::Sqlite, options, |app| async move {
        let public = app.client.get(app.url("/metrics")).send().await.unwrap();
        assert_eq!(
            public.status().as_u16(),
            404,
            "the public listener serves metrics"
        );
        let addr = app.metrics_addr.expect("a metrics address");
        let samples = scrape(&app, &format!("http://{addr}/metrics")).await;
        assert!(samples.contains_key("commons_indexer_lag_events"));
    })
    .await;
}
