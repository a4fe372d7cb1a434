//! `POST /import/clauses.ndjson`: bulk publishing, all or nothing.

use serde_json::{Value, json};

use crate::feed::{all_changes, snapshot};
use crate::helpers::*;

const PATH: &str = "/import/clauses.ndjson";

async fn post(app: &TestApp, token: Option<&str>, query: &str, body: String) -> (u16, Value) {
    let mut request = app
        .client
        .post(app.url(&format!("{PATH}{query}")))
        .header("content-type", "application/x-ndjson")
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn lines(inputs: &[Value]) -> String {
    inputs.iter().map(|i| format!("{i}\n")).collect()
}

fn numbered(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let mut input = clause_input(&format!("Imported take-back clause {i}"));
            input["text"] = json!(format!(
                "The supplier shall take back devices (importmarker{i}); contact kari.nordmann@example.no."
            ));
            input
        })
        .collect()
}

const SEARCH: &str = "query($q: String!) { searchClauses(query: $q, first: 50) { edges { node { clause { id } } } } }";

backend_test!(
    an_import_publishes_every_clause_with_its_change_event,
    |app| {
        let org = app.org("import-lund", "SE").await;
        let token = publisher(org);
        let (status, body) = post(&app, Some(&token), "", lines(&numbered(30))).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["imported"], 30);
        assert_eq!(body["published"], true);
        let ids = imported_ids(&body);
        assert_eq!(ids.len(), 30);

        // Published, version 1, anonymised like any publish; the draft keeps the original text.
        let clause = app
        .ok(
            Some(&token),
            "query($id: ID!) { clause(id: $id) { status version organization { id } latest { title text } draft { text } } }",
            json!({ "id": ids[7] }),
        )
        .await;
        let clause = &clause["clause"];
        assert_eq!(clause["status"], "PUBLISHED");
        assert_eq!(clause["version"], 1);
        assert_eq!(clause["organization"]["id"], org.to_string());
        assert_eq!(clause["latest"]["title"], "Imported take-back clause 7");
        let published = clause["latest"]["text"].as_str().unwrap();
        assert!(!published.contains("kari.nordmann"), "{published}");
        assert!(published.contains("importmarker7"), "{published}");
        assert!(
            clause["draft"]["text"]
                .as_str()
                .unwrap()
                .contains("kari.nordmann@example.no")
        );

        // One UPSERT per clause, with the published record as payload, in the order imported.
        let (events, _) = all_changes(&app, None).await;
        let clause_events: Vec<&Value> = events
            .iter()
            .filter(|e| e["entityType"] == "CLAUSE")
            .collect();
        assert_eq!(clause_events.len(), 30);
        for (event, id) in clause_events.iter().zip(&ids) {
            assert_eq!(event["entityId"], id.as_str());
            assert_eq!(event["operation"], "UPSERT");
            assert_eq!(event["version"], 1);
            let payload = event["payload"].to_string();
            assert!(
                payload.contains("importmarker") && !payload.contains("kari.nordmann"),
                "{payload}"
            );
        }
        // The snapshot holds them, and search finds them once the indexer caught up.
        let clauses_in_snapshot = snapshot(&app)
            .await
            .iter()
            .filter(|line| format!("{line:?}").contains("importmarker"))
            .count();
        assert_eq!(clauses_in_snapshot, 30);
        let found = eventually(INDEX_WAIT, async || {
            let data = app.ok(None, SEARCH, json!({ "q": "importmarker12" })).await;
            data["searchClauses"]["edges"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["node"]["clause"]["id"] == ids[12].as_str())
        })
        .await;
        assert!(
            found.is_some(),
            "an imported clause never became searchable"
        );
        assert_eq!(
            app.count("audit_event WHERE action = 'clause.import'")
                .await,
            30
        );
    }
);

backend_test!(an_import_with_one_bad_line_writes_nothing, |app| {
    let org = app.org("import-bergen", "NO").await;
    let token = publisher(org);
    let before = (app.count("clause").await, app.count("change_event").await);

    let mut inputs = numbered(5);
    inputs[3]["cpvCodes"] = json!(["30213100-7"]);
    let (status, body) = post(&app, Some(&token), "", lines(&inputs)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert_eq!(field(&body), "line 4.cpvCodes[0]", "{body}");

    // Publishing needs what a publish needs; drafts do not.
    let mut inputs = numbered(3);
    inputs[1].as_object_mut().unwrap().remove("verification");
    let (status, body) = post(&app, Some(&token), "", lines(&inputs)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(field(&body), "line 2.verification", "{body}");

    let (status, body) = post(
        &app,
        Some(&token),
        "",
        format!("{}\n{{\"title\": \"x\", \"txt\": 1}}\n", numbered(1)[0]),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(field(&body), "line 2.txt", "{body}");

    let (status, body) = post(&app, Some(&token), "", "{\"title\": \n".to_owned()).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(field(&body), "line 1", "{body}");

    let (status, body) = post(&app, Some(&token), "", "\n\n".to_owned()).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(field(&body), "body", "{body}");

    let too_many = format!("{}\n", numbered(1)[0]).repeat(5_001);
    let (status, body) = post(&app, Some(&token), "", too_many).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("5000"),
        "{body}"
    );

    assert_eq!(
        (app.count("clause").await, app.count("change_event").await),
        before
    );

    // The same lines as drafts: no change events, nothing searchable, owner sees drafts.
    let mut inputs = numbered(3);
    inputs[1].as_object_mut().unwrap().remove("verification");
    let (status, body) = post(&app, Some(&token), "?publish=false", lines(&inputs)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["published"], false);
    assert_eq!(app.count("change_event").await, before.1);
    let drafts = app
        .ok(
            Some(&token),
            "query($org: ID!) { clauses(filter: { organizationId: $org, status: [DRAFT] }) { totalCount } }",
            json!({ "org": org.to_string() }),
        )
        .await;
    assert_eq!(drafts["clauses"]["totalCount"], 3);
});

backend_test!(imports_need_a_local_publisher_and_ndjson, |app| {
    let body = lines(&numbered(1));
    let (status, answer) = post(&app, None, "", body.clone()).await;
    assert_eq!(status, 401, "{answer}");
    assert_eq!(code(&answer), "UNAUTHENTICATED");

    let agency = token(None, &[commons_api::auth::Role::Agency]);
    let (status, answer) = post(&app, Some(&agency), "", body.clone()).await;
    assert_eq!(status, 403, "{answer}");
    assert_eq!(code(&answer), "FORBIDDEN");

    let org = app.org("import-turku", "FI").await;
    let response = app
        .client
        .post(app.url(PATH))
        .bearer_auth(publisher(org))
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(field(&answer), "content-type", "{answer}");

    let response = app
        .client
        .post(app.url(PATH))
        .bearer_auth(publisher(org))
        .header("content-type", "application/x-ndjson")
        .body(vec![b'{', 0xff, b'}'])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(app.count("clause").await, 0);
});

backend_test!(
    imports_have_a_body_limit_of_their_own,
    Options {
        extra: ["--max-body-bytes", "4096", "--max-import-bytes", "20000"]
            .map(String::from)
            .to_vec(),
        ..Options::default()
    },
    |app| {
        let org = app.org("import-aarhus", "DK").await;
        let token = publisher(org);
        // Ten clauses (about 7 kB) are over the GraphQL body limit but inside the import's.
        let (status, body) = post(&app, Some(&token), "", lines(&numbered(10))).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = post(&app, Some(&token), "", lines(&numbered(100))).await;
        assert_eq!(status, 413, "{body}");
        assert_eq!(code(&body), "BAD_USER_INPUT");

        // Chunked, with no Content-Length to refuse up front: cut off while it is read.
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let body = lines(&numbered(100));
        let mut request = format!(
            "POST {PATH} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n",
            app.addr
        )
        .into_bytes();
        for chunk in body.as_bytes().chunks(4096) {
            request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            request.extend_from_slice(chunk);
            request.extend_from_slice(b"\r\n");
        }
        request.extend_from_slice(b"0\r\n\r\n");
        let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        stream.write_all(&request).await.unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer).await;
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(answer.contains("BAD_USER_INPUT"), "{answer}");
        assert_eq!(app.count("clause").await, 10);
    }
);

backend_test!(imports_over_the_concurrency_limit_wait_their_turn, |app| {
    let org = app.org("import-tromso", "NO").await;
    let token = publisher(org);
    // Both slots are taken, as by two large imports still being read.
    let slots = u32::try_from(commons_api::import::CONCURRENT_IMPORTS).unwrap();
    let held = app
        .state
        .imports
        .clone()
        .try_acquire_many_owned(slots)
        .unwrap();
    let response = app
        .client
        .post(app.url(PATH))
        .bearer_auth(&token)
        .header("content-type", "application/x-ndjson")
        .body(lines(&numbered(3)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("5")
    );
    let answer: Value = response.json().await.unwrap();
    assert_eq!(code(&answer), "RATE_LIMITED", "{answer}");
    assert_eq!(app.count("clause").await, 0);

    drop(held);
    let (status, body) = post(&app, Some(&token), "", lines(&numbered(3))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.count("clause").await, 3);
});

/// Keeps every document the indexer writes, in order, counts its stages and commits, and
/// fails the first `failing` commits.
struct Recording {
    inner: search::TantivyBackend,
    upserted: std::sync::Mutex<Vec<search::CatalogueDocument>>,
    stages: std::sync::atomic::AtomicUsize,
    commits: std::sync::atomic::AtomicUsize,
    failing: std::sync::atomic::AtomicUsize,
}

impl Recording {
    fn new(failing: usize) -> Self {
        Self {
            inner: search::TantivyBackend::in_memory().unwrap(),
            upserted: Default::default(),
            stages: Default::default(),
            commits: Default::default(),
            failing: failing.into(),
        }
    }
    fn counts(&self) -> (usize, usize) {
        use std::sync::atomic::Ordering::SeqCst;
        (self.stages.load(SeqCst), self.commits.load(SeqCst))
    }
    async fn total(&self) -> u64 {
        let all = search::SearchRequest {
            limit: 1,
            ..Default::default()
        };
        search::SearchBackend::search(&self.inner, all)
            .await
            .unwrap()
            .estimated_total
    }
}

#[async_trait::async_trait]
impl search::SearchBackend for Recording {
    async fn upsert(
        &self,
        documents: Vec<search::CatalogueDocument>,
    ) -> Result<(), search::SearchError> {
        self.upserted
            .lock()
            .unwrap()
            .extend(documents.iter().cloned());
        self.inner.upsert(documents).await
    }
    async fn delete(&self, ids: Vec<String>) -> Result<(), search::SearchError> {
        self.inner.delete(ids).await
    }
    async fn replace_all(
        &self,
        documents: Vec<search::CatalogueDocument>,
    ) -> Result<(), search::SearchError> {
        self.inner.replace_all(documents).await
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
        self.stages
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.upserted
            .lock()
            .unwrap()
            .extend(upserts.iter().cloned());
        self.inner.stage(upserts, deletes).await
    }
    async fn commit(&self) -> Result<(), search::SearchError> {
        use std::sync::atomic::Ordering::SeqCst;
        self.commits.fetch_add(1, SeqCst);
        let failing = self.failing.load(SeqCst);
        if failing > 0 {
            self.failing.store(failing - 1, SeqCst);
            return Err(search::SearchError::Unavailable("disk full".into()));
        }
        self.inner.commit().await
    }
}

fn uuids(ids: &[String]) -> Vec<uuid::Uuid> {
    ids.iter().map(|id| id.parse().unwrap()).collect()
}

fn imported_ids(body: &Value) -> Vec<String> {
    body["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// An import hands its documents to the indexer instead of having them read back, and each
/// one is exactly the document the database gives for the clause.
async fn handed_over_documents_equal_the_databases(backend: Backend) {
    with_database(backend, |url| async move {
        let recording = std::sync::Arc::new(Recording::new(0));
        let backends = commons_api::indexing::Backends {
            clauses: recording.clone(),
            templates: std::sync::Arc::new(search::TantivyBackend::in_memory().unwrap()),
        };
        let app = TestApp::spawn(
            url.as_deref(),
            Options {
                search: Some(backends),
                ..Options::default()
            },
        )
        .await;
        let org = app.org("handoff-oslo", "NO").await;
        let mut inputs = numbered(20);
        for (i, input) in inputs.iter_mut().enumerate() {
            // A reviewed date long past and a cited label make the staleness part of the
            // document non-trivial; half the clauses name another language.
            input["lastReviewed"] = json!("2019-05-01");
            input["labels"] = json!(["TCO Certified Generation 8"]);
            if i % 2 == 1 {
                input["language"] = json!("NB");
            }
        }
        let (status, body) = post(&app, Some(&publisher(org)), "", lines(&inputs)).await;
        assert_eq!(status, 200, "{body}");
        let ids = imported_ids(&body);
        assert!(app.index_caught_up().await, "the index never caught up");
        assert!(
            app.state.indexer.handoff().is_empty(),
            "every document the import offered was taken by the indexer"
        );

        let expected = commons_api::indexing::documents::current(&app.db, &uuids(&ids))
            .await
            .unwrap();
        let upserted = recording.upserted.lock().unwrap().clone();
        for (id, document) in expected {
            let document = document.expect("an imported clause is published");
            assert_ne!(document.stale_from, search::document::NEVER_STALE);
            let indexed: Vec<_> = upserted.iter().filter(|d| d.id == id.to_string()).collect();
            assert_eq!(indexed, [&document], "clause {id}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handed_over_documents_equal_the_databases_on_sqlite() {
    handed_over_documents_equal_the_databases(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handed_over_documents_equal_the_databases_on_postgres() {
    handed_over_documents_equal_the_databases(Backend::Postgres).await;
}

backend_test!(
    a_handed_over_document_is_used_only_for_the_version_the_feed_upserts,
    |app| {
        let org = app.org("handoff-turku", "FI").await;
        let token = publisher(org);
        let (status, body) = post(&app, Some(&token), "", lines(&numbered(4))).await;
        assert_eq!(status, 200, "{body}");
        let ids = imported_ids(&body);
        // The second clause is withdrawn after its import; the fourth gains evidence.
        app.ok(
            Some(&token),
            "mutation($id: ID!) { withdrawClause(input: { id: $id, reason: \"Replaced\" }) { clause { id } } }",
            json!({ "id": ids[1] }),
        )
        .await;
        app.ok(
            Some(&token),
            "mutation($input: ReportTenderResultInput!) { reportTenderResult(input: $input) { tenderResult { id } } }",
            json!({ "input": result_input(&ids[3], 5, "MET_BY_WINNER", "COMPLIANT") }),
        )
        .await;
        assert!(app.index_caught_up().await, "the index never caught up");

        // Replay the whole feed into a fresh index, with a marked document offered for each
        // clause: only the first clause's single upsert of version 1 may take it.
        let mut app = app;
        let db = app.stop_and_rewind_feed(0).await;
        let handle = commons_api::indexing::IndexerHandle::default();
        let marked = |id: &String, version: i32| {
            let document = search::CatalogueDocument {
                id: id.clone(),
                version,
                title: "handedmarker".to_owned(),
                text: "handedmarker".to_owned(),
                language: "EN".to_owned(),
                ..Default::default()
            };
            (id.parse().unwrap(), document)
        };
        handle.handoff().offer([
            marked(&ids[0], 1),
            marked(&ids[1], 1),
            marked(&ids[2], 2),
            marked(&ids[3], 1),
        ]);
        let index = search::TantivyBackend::in_memory().unwrap();
        let indexer = commons_api::indexing::Indexer::new(
            db.clone(),
            commons_api::indexing::Backends {
                clauses: std::sync::Arc::new(index.clone()),
                templates: std::sync::Arc::new(search::TantivyBackend::in_memory().unwrap()),
            },
            handle.clone(),
        );
        while indexer.drain_once().await.unwrap() > 0 {}
        let found = |query: &str| {
            let request = search::SearchRequest {
                query: query.to_owned(),
                limit: 10,
                ..Default::default()
            };
            let index = index.clone();
            async move {
                let mut ids: Vec<String> = search::SearchBackend::search(&index, request)
                    .await
                    .unwrap()
                    .hits
                    .into_iter()
                    .map(|hit| hit.id)
                    .collect();
                ids.sort();
                ids
            }
        };
        assert_eq!(found("handedmarker").await, [ids[0].clone()]);
        let mut published = vec![ids[0].clone(), ids[2].clone(), ids[3].clone()];
        published.sort();
        assert_eq!(found("").await, published, "the withdrawn clause stays out");
        assert_eq!(
            handle.handoff().len(),
            3,
            "documents not taken stay offered"
        );
    }
);

backend_test!(
    a_burst_is_committed_once_and_replayed_whole_when_its_commit_fails,
    |app| {
        let org = app.org("burst-bergen", "NO").await;
        let (status, body) = post(&app, Some(&publisher(org)), "", lines(&numbered(35))).await;
        assert_eq!(status, 200, "{body}");
        assert!(app.index_caught_up().await, "the index never caught up");
        // Replay the feed from the start into fresh indexes, ten events a batch, every full
        // batch part of a burst.
        let mut app = app;
        let db = app.stop_and_rewind_feed(0).await;
        let burst = commons_api::indexing::Burst {
            batch: 10,
            burst_events: 10,
            linger: std::time::Duration::ZERO,
            burst_max_events: 1_000,
            burst_max_wait: std::time::Duration::from_secs(600),
        };
        let indexer = |clauses: std::sync::Arc<Recording>, burst| {
            commons_api::indexing::Indexer::new(
                db.clone(),
                commons_api::indexing::Backends {
                    clauses,
                    templates: std::sync::Arc::new(search::TantivyBackend::in_memory().unwrap()),
                },
                commons_api::indexing::IndexerHandle::default(),
            )
            .with_burst(burst)
        };

        let failing = std::sync::Arc::new(Recording::new(1));
        let first = indexer(failing.clone(), burst);
        assert!(
            first.drain_once().await.is_err(),
            "the failed commit is reported"
        );
        let (stages, commits) = failing.counts();
        assert!(
            stages >= 4,
            "35 clause events in batches of ten: {stages} stages"
        );
        assert_eq!(commits, 1, "one commit for the whole burst");
        // Nothing was lost: the cursor stayed put, so the next try replays the whole burst.
        let events = first.drain_once().await.unwrap();
        assert!(events >= 35, "{events} events replayed");
        assert_eq!(failing.counts(), (2 * stages, 2));
        assert_eq!(failing.total().await, 35);
        assert_eq!(first.drain_once().await.unwrap(), 0, "events applied twice");

        // A burst is cut at its most events; the rest follows in the next.
        rewind_feed(&db, 0).await;
        let bounded = std::sync::Arc::new(Recording::new(0));
        let second = indexer(
            bounded.clone(),
            commons_api::indexing::Burst {
                burst_max_events: 20,
                ..burst
            },
        );
        assert_eq!(second.drain_once().await.unwrap(), 20);
        assert_eq!(bounded.counts().1, 1);
        assert_eq!(second.drain_once().await.unwrap(), events - 20);
        assert_eq!(bounded.counts().1, 2);
        assert_eq!(second.drain_once().await.unwrap(), 0);
        assert_eq!(bounded.total().await, 35);
    }
);
