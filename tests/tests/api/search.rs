//! Search through GraphQL on the embedded index, fed by the change-event indexer.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::*;

const SEARCH: &str = "query($q: String!, $filter: ClauseSearchFilter, $facets: [SearchFacet!]) {
  searchClauses(query: $q, filter: $filter, facets: $facets, first: 10) {
    totalCount processingTimeMs
    edges { cursor node { clause { id status } highlight { title text } } }
    facets { field values { value count } }
  }
}";

async fn search(app: &TestApp, q: &str, filter: Value) -> Value {
    app.ok(
        None,
        SEARCH,
        json!({ "q": q, "filter": filter, "facets": ["COUNTRY"] }),
    )
    .await["searchClauses"]
        .clone()
}

fn ids(result: &Value) -> Vec<String> {
    result["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            e["node"]["clause"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

backend_test!(
    published_clauses_become_searchable_and_withdrawn_ones_disappear,
    |app| {
        let lund = app.org("lund", "SE").await;
        let token = publisher(lund);
        let mut input = clause_input("Återtagande av uttjänta datorer");
        input["language"] = json!("SV");
        input["text"] = json!("Leverantören ska erbjuda återtagande av levererade datorer.");
        let id = published_clause(&app, &token, input).await;
        // A draft with the same words is never found.
        let mut draft = clause_input("Återtagande utkast");
        draft["language"] = json!("SV");
        app.ok(Some(&token), CREATE_CLAUSE, json!({ "input": draft }))
            .await;

        let took = eventually(INDEX_WAIT, async || {
            ids(&search(&app, "återtagnde", Value::Null).await) == vec![id.clone()]
        })
        .await;
        assert!(
            took.is_some(),
            "the published clause did not become searchable"
        );

        let result = search(
            &app,
            "take-back",
            json!({ "country": ["SE"], "cpv": "302" }),
        )
        .await;
        assert_eq!(
            ids(&result),
            vec![id.clone()],
            "synonym + filters: {result}"
        );
        assert!(
            result["edges"][0]["node"]["highlight"]["title"]
                .as_str()
                .unwrap_or_default()
                .contains("<em>")
                || result["edges"][0]["node"]["highlight"]["text"].is_string()
        );
        assert_eq!(result["facets"][0]["field"], "COUNTRY");
        assert_eq!(
            result["facets"][0]["values"],
            json!([{ "value": "SE", "count": 1 }])
        );
        assert_eq!(
            search(&app, "återtagande", json!({ "country": ["NO"] })).await["totalCount"],
            0
        );

        let withdraw = "mutation($id: ID!) { withdrawClause(input: { id: $id, reason: \"Superseded\" }) { clause { status } } }";
        app.ok(Some(&token), withdraw, json!({ "id": id })).await;
        let gone = eventually(INDEX_WAIT, async || {
            search(&app, "återtagande", Value::Null).await["totalCount"] == 0
        })
        .await;
        assert!(gone.is_some(), "a withdrawn clause is still found");
    }
);

backend_test!(
    search_hits_show_each_clause_at_its_latest_published_version,
    |app| {
        let umea = app.org("umea", "SE").await;
        let token = publisher(umea);
        let mut input = clause_input("Energieffektiva servrar");
        input["language"] = json!("SV");
        let id = published_clause(&app, &token, input).await;
        let revision = "query($id: ID!) { clause(id: $id) { revision } }";
        let update = "mutation($id: ID!, $v: Int!, $title: String) { updateClause(input: { id: $id, expectedVersion: $v, title: $title }) { clause { revision } } }";
        let edit = async |title: &str| {
            let current = app.ok(Some(&token), revision, json!({ "id": id })).await;
            app.ok(
                Some(&token),
                update,
                json!({ "id": id, "v": current["clause"]["revision"], "title": title }),
            )
            .await;
        };
        // Version 2 is published; a later draft edit is not.
        edit("Energieffektiva servrar, andra versionen").await;
        app.ok(Some(&token), PUBLISH_CLAUSE, json!({ "id": id }))
            .await;
        edit("Energieffektiva servrar, opublicerat utkast").await;

        // Through a fragment and an alias, as a client's result list may ask.
        let query = "query($q: String!) { searchClauses(query: $q, first: 5) { edges { node { ...Hit } } } }
      fragment Hit on ClauseSearchHit { found: clause { id version latest { version title } draft { title } } }";
        let hit = async |token: Option<&str>| {
            let data = app.ok(token, query, json!({ "q": "servrar" })).await;
            data["searchClauses"]["edges"][0]["node"]["found"].clone()
        };
        let indexed = eventually(INDEX_WAIT, async || hit(None).await["version"] == 2).await;
        assert!(indexed.is_some(), "version 2 was not searchable in time");
        let anonymous = hit(None).await;
        assert_eq!(anonymous["id"], id.as_str());
        assert_eq!(anonymous["latest"]["version"], 2);
        assert_eq!(
            anonymous["latest"]["title"],
            "Energieffektiva servrar, andra versionen"
        );
        assert!(anonymous["draft"].is_null(), "a draft leaked: {anonymous}");
        let owner = hit(Some(&token)).await;
        assert_eq!(
            owner["latest"]["title"],
            "Energieffektiva servrar, andra versionen"
        );
        assert_eq!(
            owner["draft"]["title"],
            "Energieffektiva servrar, opublicerat utkast"
        );
    }
);

backend_test!(search_rejects_bad_input_with_named_fields, |app| {
    let long = "datorer ".repeat(1_300);
    let body = app.gql(None, SEARCH, json!({ "q": long })).await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert_eq!(field(&body), "query");
    let body = app
        .gql(
            None,
            SEARCH,
            json!({ "q": "x", "filter": { "cpv": "30\" OR 1=1" } }),
        )
        .await;
    assert_eq!(field(&body), "filter.cpv");
    for hostile in [
        "\"quoted",
        "kind = X OR 1=1",
        "\u{0}\u{1b}[2J",
        "NOT AND OR",
    ] {
        let body = app.gql(None, SEARCH, json!({ "q": hostile })).await;
        assert!(body.get("errors").is_none(), "{hostile:?}: {body}");
    }
});

/// A search backend that can be switched off, to test outages.
#[derive(Clone)]
struct Flaky {
    inner: search::TantivyBackend,
    down: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Flaky {
    fn new() -> Self {
        Self {
            inner: search::TantivyBackend::in_memory().unwrap(),
            down: Default::default(),
        }
    }
    fn set_down(&self, down: bool) {
        self.down.store(down, std::sync::atomic::Ordering::SeqCst);
    }
    fn check(&self) -> Result<(), search::SearchError> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            Err(search::SearchError::Unavailable(
                "connection refused".into(),
            ))
        } else {
            Ok(())
        }
    }
}

#[async_trait::async_trait]
impl search::SearchBackend for Flaky {
    async fn upsert(
        &self,
        documents: Vec<search::CatalogueDocument>,
    ) -> Result<(), search::SearchError> {
        self.check()?;
        self.inner.upsert(documents).await
    }
    async fn delete(&self, ids: Vec<String>) -> Result<(), search::SearchError> {
        self.check()?;
        self.inner.delete(ids).await
    }
    async fn replace_all(
        &self,
        documents: Vec<search::CatalogueDocument>,
    ) -> Result<(), search::SearchError> {
        self.check()?;
        self.inner.replace_all(documents).await
    }
    async fn search(
        &self,
        request: search::SearchRequest,
    ) -> Result<search::SearchResponse, search::SearchError> {
        self.check()?;
        self.inner.search(request).await
    }
    async fn stage(
        &self,
        upserts: Vec<search::CatalogueDocument>,
        deletes: Vec<String>,
    ) -> Result<(), search::SearchError> {
        self.check()?;
        self.inner.stage(upserts, deletes).await
    }
    async fn commit(&self) -> Result<(), search::SearchError> {
        self.check()?;
        self.inner.commit().await
    }
}

async fn outage_and_restart(backend: Backend) {
    with_database(backend, |url| async move {
        use search::SearchBackend;
        let flaky = Flaky::new();
        let mut app = TestApp::spawn(
            url.as_deref(),
            Options {
                search: Some(commons_api::indexing::Backends {
                    clauses: std::sync::Arc::new(flaky.clone()),
                    templates: std::sync::Arc::new(search::TantivyBackend::in_memory().unwrap()),
                }),
                ..Options::default()
            },
        )
        .await;
        let lund = app.org("lund", "SE").await;
        let token = publisher(lund);

        flaky.set_down(true);
        for i in 0..3 {
            published_clause(&app, &token, clause_input(&format!("Take-back plan {i}"))).await;
        }
        let body = app.gql(None, SEARCH, json!({ "q": "take-back" })).await;
        assert_eq!(code(&body), "SEARCH_UNAVAILABLE");
        assert!(
            !body.to_string().contains("connection refused"),
            "backend detail leaked: {body}"
        );

        flaky.set_down(false);
        let caught_up = eventually(INDEX_WAIT, async || {
            search(&app, "take-back", Value::Null).await["totalCount"] == 3
        })
        .await;
        assert!(
            caught_up.is_some(),
            "the index did not catch up after the backend came back"
        );

        // Restart mid-stream: stop the server, lose the index and rewind the cursor as if the
        // process died before committing; a new indexer rebuilds the same state from the feed.
        let db = app.stop_and_rewind_feed(1).await;
        let fresh = search::TantivyBackend::in_memory().unwrap();
        let indexer = commons_api::indexing::Indexer::new(
            db.clone(),
            commons_api::indexing::Backends {
                clauses: std::sync::Arc::new(fresh.clone()),
                templates: std::sync::Arc::new(search::TantivyBackend::in_memory().unwrap()),
            },
            commons_api::indexing::IndexerHandle::default(),
        );
        while indexer.drain_once().await.unwrap() > 0 {}
        let all = fresh
            .search(search::SearchRequest {
                query: String::new(),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(all.estimated_total, 3);
        assert_eq!(
            indexer.drain_once().await.unwrap(),
            0,
            "events applied twice"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_outage_and_restart_on_sqlite() {
    outage_and_restart(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_outage_and_restart_on_postgres() {
    outage_and_restart(Backend::Postgres).await;
}

/// With every search slot taken, a search is refused after the gate's wait with the coded
/// error, instead of queueing; once a slot is free again the same search answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overloaded_search_is_refused_not_queued() {
    let gate = search::tantivy_backend::SearchGate::new(1, Duration::from_millis(50));
    let clauses = search::TantivyBackend::in_memory()
        .unwrap()
        .with_gate(gate.clone());
    let app = TestApp::spawn(
        None,
        Options {
            search: Some(commons_api::indexing::Backends {
                clauses: std::sync::Arc::new(clauses),
                templates: std::sync::Arc::new(search::TantivyBackend::in_memory().unwrap()),
            }),
            ..Options::default()
        },
    )
    .await;
    let slot = gate.enter().await.unwrap();
    let started = std::time::Instant::now();
    let body = app.gql(None, SEARCH, json!({ "q": "transport" })).await;
    assert_eq!(code(&body), "SEARCH_UNAVAILABLE", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("busy")),
        "{body}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the refusal waited {:?}",
        started.elapsed()
    );
    drop(slot);
    let body = app.gql(None, SEARCH, json!({ "q": "transport" })).await;
    assert!(body.get("errors").is_none(), "{body}");
}

backend_test!(templates_are_searchable_by_their_clauses, |app| {
    let lund = app.org("lund", "SE").await;
    let token = publisher(lund);
    let clause = published_clause(&app, &token, clause_input("Take-back of laptops")).await;
    let create = "mutation($input: CreateTemplateInput!) { createTemplate(input: $input) { template { id } } }";
    let data = app
        .ok(Some(&token), create, json!({ "input": { "title": "Bärbara datorer 2026", "description": "Mall för upphandling av bärbara datorer.", "language": "SV", "cpvCodes": ["30213100-6"], "clauses": [{ "clauseId": clause }] } }))
        .await;
    let id = data["createTemplate"]["template"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let query = "query($q: String!) { searchTemplates(query: $q, filter: { country: [SE], cpv: \"3021\" }) { totalCount edges { node { template { id } highlight { title } } } } }";
    // Unpublished: not found.
    assert_eq!(
        app.ok(None, query, json!({ "q": "datorer" })).await["searchTemplates"]["totalCount"],
        0
    );
    app.ok(
        Some(&token),
        "mutation($id: ID!) { publishTemplate(input: { id: $id }) { template { id } } }",
        json!({ "id": id }),
    )
    .await;
    // Found by its title and by the title of a clause it cites.
    for q in ["datorer", "take-back laptops"] {
        let found =
            eventually(INDEX_WAIT, async || {
                app.ok(None, query, json!({ "q": q })).await["searchTemplates"]["edges"][0]["node"]
                    ["template"]["id"]
                    == id.as_str()
            })
            .await;
        assert!(found.is_some(), "template not found by {q:?}");
    }
});

/// Counts calls that overlap: two replicas must never write the index at the same time.
struct Exclusive {
    inner: search::TantivyBackend,
    busy: std::sync::atomic::AtomicBool,
    overlaps: std::sync::atomic::AtomicUsize,
}

impl Exclusive {
    async fn guarded<T>(&self, work: impl Future<Output = T>) -> T {
        use std::sync::atomic::Ordering::SeqCst;
        if self.busy.swap(true, SeqCst) {
            self.overlaps.fetch_add(1, SeqCst);
        }
        // Widen the window so overlapping replicas would be caught.
        tokio::time::sleep(Duration::from_millis(5)).await;
        let out = work.await;
        self.busy.store(false, SeqCst);
        out
    }
}

#[async_trait::async_trait]
impl search::SearchBackend for Exclusive {
    async fn upsert(
        &self,
        documents: Vec<search::CatalogueDocument>,
    ) -> Result<(), search::SearchError> {
        self.guarded(self.inner.upsert(documents)).await
    }
    async fn delete(&self, ids: Vec<String>) -> Result<(), search::SearchError> {
        self.guarded(self.inner.delete(ids)).await
    }
    async fn replace_all(
        &self,
        documents: Vec<search::CatalogueDocument>,
    ) -> Result<(), search::SearchError> {
        self.guarded(self.inner.replace_all(documents)).await
    }
    async fn search(
        &self,
        request: search::SearchRequest,
    ) -> Result<search::SearchResponse, search::SearchError> {
        self.inner.search(request).await
    }
    async fn stage(
        &self,
        upserts: Vec<search::CatalogueDocument>,
        deletes: Vec<String>,
    ) -> Result<(), search::SearchError> {
        self.guarded(self.inner.stage(upserts, deletes)).await
    }
    async fn commit(&self) -> Result<(), search::SearchError> {
        self.guarded(self.inner.commit()).await
    }
}

async fn replicas_share_the_feed(backend: Backend) {
    with_database(backend, |url| async move {
        let shared = std::sync::Arc::new(Exclusive {
            inner: search::TantivyBackend::in_memory().unwrap(),
            busy: Default::default(),
            overlaps: Default::default(),
        });
        let backends = commons_api::indexing::Backends {
            clauses: shared.clone(),
            templates: std::sync::Arc::new(search::TantivyBackend::in_memory().unwrap()),
        };
        let app = TestApp::spawn(
            url.as_deref(),
            Options {
                search: Some(backends.clone()),
                ..Options::default()
            },
        )
        .await;
        // A second replica draining the same feed into the same index.
        let second = commons_api::indexing::Indexer::new(
            app.db.clone(),
            backends,
            commons_api::indexing::IndexerHandle::default(),
        );
        // It drains in a tight loop, so without mutual exclusion it would collide with the first.
        let replica = tokio::spawn(async move {
            loop {
                let _ = second.drain_once().await;
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        });

        let lund = app.org("lund", "SE").await;
        let token = publisher(lund);
        let writers: Vec<_> = (0..3)
            .map(|w| {
                let (app, token) = (&app, token.clone());
                async move {
                    for i in 0..8 {
                        published_clause(
                            app,
                            &token,
                            clause_input(&format!("Replica clause {w}-{i}")),
                        )
                        .await;
                    }
                }
            })
            .collect();
        futures_util::future::join_all(writers).await;

        let all = || async {
            search::SearchBackend::search(
                shared.as_ref(),
                search::SearchRequest {
                    query: String::new(),
                    limit: 100,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .estimated_total
        };
        let caught_up = eventually(INDEX_WAIT, async || all().await == 24).await;
        replica.abort();
        assert!(
            caught_up.is_some(),
            "index holds {} of 24 clauses",
            all().await
        );
        assert_eq!(
            shared.overlaps.load(std::sync::atomic::Ordering::SeqCst),
            0,
            "two replicas indexed at once"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_share_the_feed_on_sqlite() {
    replicas_share_the_feed(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_share_the_feed_on_postgres() {
    replicas_share_the_feed(Backend::Postgres).await;
}

backend_test!(
    result_pages_show_each_write_at_once_though_the_rows_are_kept_in_memory,
    |app| {
        let umea = app.org("umea", "SE").await;
        let token = publisher(umea);
        let mut input = clause_input("Laddstolpar för elbilar");
        input["language"] = json!("SV");
        let id = published_clause(&app, &token, input).await;
        let query = "query($q: String!) { searchClauses(query: $q, first: 5) { edges { node { clause { id status revision latest { title } } } } } }";
        let shown = async || {
            let data = app
                .ok(Some(&token), query, json!({ "q": "laddstolpar" }))
                .await;
            data["searchClauses"]["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|edge| edge["node"]["clause"].clone())
                .find(|clause| clause["id"] == id.as_str())
        };
        let indexed = eventually(INDEX_WAIT, async || shown().await.is_some()).await;
        assert!(indexed.is_some(), "the clause was not searchable in time");
        // The page before and this one read the row; on SQLite it is now kept in memory.
        let before = shown().await.unwrap();
        let current = async || {
            let data = app
                .ok(
                    Some(&token),
                    "query($id: ID!) { clause(id: $id) { revision } }",
                    json!({ "id": id }),
                )
                .await;
            data["clause"]["revision"].clone()
        };

        // A draft edit writes no change event, yet the page shows the new revision at once.
        let update = "mutation($id: ID!, $v: Int!, $title: String) { updateClause(input: { id: $id, expectedVersion: $v, title: $title }) { clause { revision } } }";
        app.ok(
            Some(&token),
            update,
            json!({ "id": id, "v": before["revision"], "title": "Laddstolpar för elbilar och elcyklar" }),
        )
        .await;
        let edited = shown().await.expect("the clause left the results");
        assert_eq!(edited["revision"], current().await);
        assert_ne!(edited["revision"], before["revision"]);
        assert_eq!(edited["latest"]["title"], "Laddstolpar för elbilar");

        // Publishing it: the next page shows version 2's title, whatever the index holds yet.
        app.ok(Some(&token), PUBLISH_CLAUSE, json!({ "id": id }))
            .await;
        let published = shown().await.expect("the clause left the results");
        assert_eq!(
            published["latest"]["title"],
            "Laddstolpar för elbilar och elcyklar"
        );
        assert_eq!(published["revision"], current().await);

        // Withdrawn: while the index still lists it, the page shows it withdrawn.
        let withdraw = "mutation($id: ID!) { withdrawClause(input: { id: $id, reason: \"replaced\" }) { clause { status } } }";
        app.ok(Some(&token), withdraw, json!({ "id": id })).await;
        if let Some(listed) = shown().await {
            assert_eq!(
                listed["status"], "WITHDRAWN",
                "a stale row was shown: {listed}"
            );
        }
    }
);

/// An index folder written with another analysis (an upgrade that changes the schema, the
/// lexicon or the synonym list) is emptied when the server starts and filled again from the
/// database, instead of answering from documents analysed the old way; an index written with
/// this analysis is kept as it is.
#[tokio::test]
async fn an_index_built_with_another_analysis_is_rebuilt_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/commons.db?mode=rwc", dir.path().display());
    let clauses = dir.path().join("clauses");
    let backends = || commons_api::indexing::Backends {
        clauses: std::sync::Arc::new(search::TantivyBackend::open(&clauses).unwrap()),
        templates: std::sync::Arc::new(
            search::TantivyBackend::open(&dir.path().join("templates")).unwrap(),
        ),
    };
    let start = async || {
        let app = TestApp::spawn(
            Some(&url),
            Options {
                demo: true,
                search: Some(backends()),
                ..Options::default()
            },
        )
        .await;
        assert!(app.index_caught_up().await);
        app
    };
    let mut app = start().await;
    let before = ids(&search(&app, "warranty", Value::Null).await);
    assert!(!before.is_empty());
    app.stop().await;
    drop(app);
    // A document the database does not have tells whether the index was rebuilt.
    let plant = || async {
        let index = search::TantivyBackend::open(&clauses).unwrap();
        assert!(!search::SearchBackend::is_new(&index));
        let stray = search::CatalogueDocument {
            id: uuid::Uuid::new_v4().to_string(),
            title: "Qwxzzy".into(),
            language: "EN".into(),
            ..search::CatalogueDocument::default()
        };
        search::SearchBackend::upsert(&index, vec![stray])
            .await
            .unwrap();
    };
    plant().await;

    let mut app = start().await;
    assert_eq!(search(&app, "qwxzzy", Value::Null).await["totalCount"], 1);
    app.stop().await;
    drop(app);

    std::fs::write(clauses.join("analysis"), "0").unwrap();
    let app = start().await;
    assert_eq!(search(&app, "qwxzzy", Value::Null).await["totalCount"], 0);
    assert_eq!(ids(&search(&app, "warranty", Value::Null).await), before);
}
