//! Mirroring between two real instances on loopback: snapshot, then the change feed, while
//! the upstream keeps publishing; interrupted runs; read-only copies; several upstreams.

use std::{collections::BTreeSet, sync::Arc, time::Duration};

use commons_api::feed::{
    mirror::{MirrorSource, SyncReport, sync_once},
    records::Record,
    snapshot::Line,
};
use serde_json::{Value, json};

use crate::{feed::snapshot, helpers::*};

fn source(upstream: &TestApp) -> MirrorSource {
    MirrorSource {
        url: upstream.url("/"),
        token: None,
        progress: false,
    }
}

async fn sync(mirror: &TestApp, upstream: &TestApp) -> SyncReport {
    sync_once(&mirror.db, &mirror.client, &source(upstream))
        .await
        .unwrap()
}

/// The snapshot's records without their origin, sorted: what both instances must agree on.
async fn records(app: &TestApp, origin: Option<&str>) -> Vec<Value> {
    let mut out: Vec<Value> = snapshot(app)
        .await
        .into_iter()
        .filter_map(|line| match line {
            Line::Record(record) => Some(*record),
            _ => None,
        })
        .filter(|record| origin.is_none() || record.origin() == origin)
        .map(|mut record: Record| {
            strip_origin(&mut record);
            serde_json::to_value(record).unwrap()
        })
        .collect();
    out.sort_by_key(|v| v.to_string());
    out
}

fn strip_origin(record: &mut Record) {
    match record {
        Record::Organization { organization } => organization.origin = None,
        Record::Clause { clause, .. } => clause.origin = None,
        Record::Template { template, .. } => template.origin = None,
        Record::TenderResult { tender_result, .. } => tender_result.origin = None,
    }
}

const CLAUSES: &str = "query($after: String) { clauses(first: 25, after: $after, filter: { status: [PUBLISHED, WITHDRAWN] }) {
  pageInfo { hasNextPage endCursor }
  edges { node { id status version latest { title text cpvCodes } organization { id name }
                 evidence { results organizations provenLevel } withdrawal { reason } } } } }";

/// Every published or withdrawn clause as readers see it.
async fn clauses(app: &TestApp) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let data = app.ok(None, CLAUSES, json!({ "after": after })).await;
        let page = &data["clauses"];
        out.extend(
            page["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"].clone()),
        );
        if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            out.sort_by_key(|v| v["id"].to_string());
            return out;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
}

/// Every hit of a search, read page by page: a query matching more than a page may order
/// its ties differently on two instances, but the whole result must be the same.
async fn search_ids(app: &TestApp, query: &str) -> (u64, BTreeSet<String>) {
    let mut ids = BTreeSet::new();
    let mut after: Option<String> = None;
    loop {
        let data = app
            .ok(
                None,
                "query($q: String!, $after: String) { searchClauses(query: $q, first: 100, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { clause { id } } } } }",
                json!({ "q": query, "after": after }),
            )
            .await;
        let result = &data["searchClauses"];
        let total = result["totalCount"]
            .as_u64()
            .unwrap_or_else(|| panic!("no search result for {query:?}: {data}"));
        // A hit whose clause is gone (deleted, index not caught up yet) reads as such.
        ids.extend(result["edges"].as_array().unwrap().iter().map(|e| {
            e["node"]["clause"]["id"]
                .as_str()
                .unwrap_or(GONE)
                .to_owned()
        }));
        if result["pageInfo"]["hasNextPage"] != true {
            return (total, ids);
        }
        after = result["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
}

const GONE: &str = "<deleted, still indexed>";

/// Once both search indexes have applied every change their databases hold, the mirror's
/// search answers exactly like the upstream's.
async fn assert_same_search(mirror: &TestApp, upstream: &TestApp) {
    for (name, app) in [("upstream", upstream), ("mirror", mirror)] {
        assert!(
            app.index_caught_up().await,
            "the {name}'s index never caught up with its change feed"
        );
    }
    for query in ["", "take-back", "återtagande", "barnarbete", "energi"] {
        let expected = search_ids(upstream, query).await;
        assert!(
            !expected.1.contains(GONE),
            "the upstream's index still holds a deleted clause for {query:?}: {expected:?}"
        );
        assert_eq!(
            search_ids(mirror, query).await,
            expected,
            "search for {query:?} differs between mirror (left) and upstream (right)"
        );
    }
}

/// Publishes, withdraws, deletes and reports on `upstream` while mirroring runs.
async fn busy_writer(upstream: Arc<TestApp>) {
    let org = upstream.org("busy-writer", "SE").await;
    let token = publisher(org);
    let mut ids = Vec::new();
    for i in 0..24 {
        let mut input = clause_input(&format!("Take-back clause number {i}"));
        input["text"] = json!(format!(
            "The supplier shall take back [{i} %] of delivered devices."
        ));
        ids.push(published_clause(&upstream, &token, input).await);
        if i % 6 == 5 {
            upstream
                .ok(
                    Some(&token),
                    "mutation($id: ID!) { withdrawClause(input: { id: $id, reason: \"Replaced by a stricter clause\" }) { clause { id } } }",
                    json!({ "id": ids[i - 1] }),
                )
                .await;
        }
        if i == 10 {
            upstream
                .ok(
                    Some(&token),
                    "mutation($id: ID!) { deleteClause(input: { id: $id }) { id } }",
                    json!({ "id": ids[i - 2] }),
                )
                .await;
        }
        if i == 15 {
            upstream
                .ok(
                    Some(&token),
                    "mutation($input: ReportTenderResultInput!) { reportTenderResult(input: $input) { tenderResult { id } } }",
                    json!({ "input": result_input(&ids[12], 4, "MET_BY_WINNER", "COMPLIANT") }),
                )
                .await;
        }
    }
}

backend_test!(
    a_mirror_catches_up_with_a_busy_upstream_and_equals_it,
    Options {
        demo: true,
        ..Options::default()
    },
    |upstream| {
        let mirror = TestApp::spawn(None, Options::default()).await;
        let upstream = Arc::new(upstream);
        let writer = tokio::spawn(busy_writer(upstream.clone()));

        // Mirror while the upstream writes; every third round is killed part-way through.
        let mut total = SyncReport::default();
        let mut round = 0u64;
        loop {
            let writing = !writer.is_finished();
            if round % 3 == 1 {
                let db = mirror.db.clone();
                let client = mirror.client.clone();
                let src = source(&upstream);
                let run = tokio::spawn(async move { sync_once(&db, &client, &src).await });
                tokio::time::sleep(Duration::from_millis(3 + (round * 7) % 40)).await;
                run.abort();
                let _ = run.await;
            } else {
                let report = sync(&mirror, &upstream).await;
                total.snapshot_records += report.snapshot_records;
                total.changes += report.changes;
                if !writing && report.changes == 0 {
                    break;
                }
            }
            round += 1;
            assert!(round < 500, "the mirror never caught up");
        }
        writer.await.unwrap();
        assert!(
            total.snapshot_records > 0,
            "the first complete run read the snapshot"
        );

        // Same published catalogue, record for record and as readers see it.
        assert_eq!(records(&mirror, None).await, records(&upstream, None).await);
        let upstream_clauses = clauses(&upstream).await;
        assert_eq!(
            upstream_clauses.len(),
            168 + 23,
            "demo + busy writer, one deleted"
        );
        assert_eq!(clauses(&mirror).await, upstream_clauses);
        assert_same_search(&mirror, &upstream).await;

        // Nothing more to do, and running again changes nothing.
        let again = sync(&mirror, &upstream).await;
        assert_eq!(again, SyncReport::default());
        assert_eq!(records(&mirror, None).await, records(&upstream, None).await);
    }
);

backend_test!(
    mirrored_records_keep_their_origin_and_are_read_only,
    |upstream| {
        let mirror = TestApp::spawn(None, Options::default()).await;
        let org = upstream.org("origin-org", "NO").await;
        let token = publisher(org);
        let id = published_clause(&upstream, &token, clause_input("Mirrored clause")).await;
        sync(&mirror, &upstream).await;

        let instance = source(&upstream).base();
        let data = mirror
        .ok(
            None,
            "query($id: ID!) { clause(id: $id) { origin { instance id } latest { title } organization { origin { instance } } } }",
            json!({ "id": id }),
        )
        .await;
        assert_eq!(data["clause"]["origin"]["instance"], json!(instance));
        assert_eq!(data["clause"]["origin"]["id"], json!(id));
        assert_eq!(data["clause"]["latest"]["title"], "Mirrored clause");
        assert_eq!(
            data["clause"]["organization"]["origin"]["instance"],
            json!(instance)
        );
        let local = upstream
            .ok(
                None,
                "query($id: ID!) { clause(id: $id) { origin { instance } } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(
            local["clause"]["origin"],
            Value::Null,
            "authored here: no origin"
        );

        // A token of the mirrored organisation cannot write on the mirror.
        let before = mirror.count("clause").await;
        let body = mirror
            .gql(
                Some(&token),
                CREATE_CLAUSE,
                json!({ "input": clause_input("Local write") }),
            )
            .await;
        assert_eq!(code(&body), "FORBIDDEN");
        let body = mirror
        .gql(
            Some(&token),
            "mutation($id: ID!) { withdrawClause(input: { id: $id, reason: \"Replaced by newer criteria\" }) { clause { id } } }",
            json!({ "id": id }),
        )
        .await;
        assert_eq!(code(&body), "FORBIDDEN");
        assert_eq!(mirror.count("clause").await, before);

        // A local organisation may reuse the mirrored clause into its own drafts.
        let local_org = mirror.org("local-org", "SE").await;
        let data = mirror
        .ok(
            Some(&publisher(local_org)),
            "mutation($id: ID!) { reuseClause(input: { id: $id }) { clause { id origin { instance } derivedFrom { clause { id } } } } }",
            json!({ "id": id }),
        )
        .await;
        assert_eq!(data["reuseClause"]["clause"]["origin"], Value::Null);
        assert_eq!(
            data["reuseClause"]["clause"]["derivedFrom"]["clause"]["id"],
            json!(id)
        );
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_upstreams_mirror_into_one_instance() {
    let first = TestApp::spawn(None, Options::default()).await;
    let second = TestApp::spawn(None, Options::default()).await;
    let mirror = TestApp::spawn(None, Options::default()).await;
    let a = published_clause(
        &first,
        &publisher(first.org("first-org", "SE").await),
        clause_input("From the first"),
    )
    .await;
    let b = published_clause(
        &second,
        &publisher(second.org("second-org", "FI").await),
        clause_input("From the second"),
    )
    .await;
    sync(&mirror, &first).await;
    sync(&mirror, &second).await;
    // Both slugs differ; a clash would be resolved by suffixing, not by failing.
    let shown = clauses(&mirror).await;
    let ids: Vec<&str> = shown.iter().map(|c| c["id"].as_str().unwrap()).collect();
    let mut expected = vec![a.as_str(), b.as_str()];
    expected.sort_by_key(|id| json!(id).to_string());
    assert_eq!(ids, expected);
    assert_eq!(
        records(&mirror, Some(&source(&first).base())).await,
        records(&first, None).await
    );
    assert_eq!(
        records(&mirror, Some(&source(&second).base())).await,
        records(&second, None).await
    );

    // Changes keep flowing from each upstream independently.
    let token = publisher(first.org("first-late", "DK").await);
    published_clause(&first, &token, clause_input("Later from the first")).await;
    assert_eq!(sync(&mirror, &second).await, SyncReport::default());
    let report = sync(&mirror, &first).await;
    assert_eq!(report.changes, 2, "the new organisation and its clause");
    assert_eq!(clauses(&mirror).await.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_authored_here_is_never_overwritten_by_a_copy_from_elsewhere() {
    // A mirrors B while B mirrors A: A's own clause comes back from B unchanged.
    let a = TestApp::spawn(None, Options::default()).await;
    let b = TestApp::spawn(None, Options::default()).await;
    let org = a.org("home", "SE").await;
    let id = published_clause(&a, &publisher(org), clause_input("Authored on A")).await;
    sync(&b, &a).await;
    let report = sync(&a, &b).await;
    assert!(
        report.kept_local >= 2,
        "organisation and clause kept: {report:?}"
    );
    let data = a
        .ok(
            None,
            "query($id: ID!) { clause(id: $id) { origin { instance } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(data["clause"]["origin"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_or_foreign_upstream_fails_clearly_and_writes_nothing() {
    let mirror = TestApp::spawn(None, Options::default()).await;
    let nowhere = MirrorSource {
        url: "http://127.0.0.1:9".to_owned(),
        token: None,
        progress: false,
    };
    let error = sync_once(&mirror.db, &mirror.client, &nowhere)
        .await
        .unwrap_err();
    assert!(format!("{error:#}").contains("cannot reach"), "{error:#}");
    // An HTTP server that is not a commons instance.
    let foreign = TestApp::spawn(None, Options::default()).await;
    let wrong = MirrorSource {
        url: foreign.url("/healthz"),
        token: None,
        progress: false,
    };
    let error = sync_once(&mirror.db, &mirror.client, &wrong)
        .await
        .unwrap_err();
    assert!(format!("{error:#}").contains("answered 404"), "{error:#}");
    assert_eq!(mirror.count("clause").await, 0);
    assert_eq!(mirror.count("organization").await, 0);
}

backend_test!(
    a_deletion_upstream_withdraws_a_copy_that_local_records_cite,
    |upstream| {
        let mirror = TestApp::spawn(None, Options::default()).await;
        let token = publisher(upstream.org("deleting-org", "DK").await);
        let cited = published_clause(&upstream, &token, clause_input("Cited on the mirror")).await;
        let free = published_clause(&upstream, &token, clause_input("Cited nowhere")).await;
        sync(&mirror, &upstream).await;
        let local = publisher(mirror.org("local-buyer", "SE").await);
        mirror
        .ok(
            Some(&local),
            "mutation($input: ReportTenderResultInput!) { reportTenderResult(input: $input) { tenderResult { id } } }",
            json!({ "input": result_input(&cited, 2, "MET_BY_ALL", "COMPLIANT") }),
        )
        .await;
        for id in [&cited, &free] {
            upstream
                .ok(
                    Some(&token),
                    "mutation($id: ID!) { deleteClause(input: { id: $id }) { id } }",
                    json!({ "id": id }),
                )
                .await;
        }
        let report = sync(&mirror, &upstream).await;
        assert_eq!(report.changes, 2);
        let read =
            "query($id: ID!) { clause(id: $id) { status withdrawal { reason } latest { title } } }";
        let data = mirror.ok(None, read, json!({ "id": cited })).await;
        assert_eq!(data["clause"]["status"], "WITHDRAWN");
        assert_eq!(
            data["clause"]["withdrawal"]["reason"],
            commons_api::feed::apply::DELETED_UPSTREAM
        );
        assert_eq!(data["clause"]["latest"]["title"], "Cited on the mirror");
        let data = mirror.ok(None, read, json!({ "id": free })).await;
        assert_eq!(data["clause"], Value::Null, "an uncited copy is deleted");
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_line_without_end_is_refused_not_buffered_forever() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A misbehaving upstream: a header line, then 20 MB without a newline.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = [0u8; 4096];
        let _ = socket.read(&mut request).await;
        let header = r#"{"type":"header","format":"green-procurement-commons/catalogue","formatVersion":1,"instance":"x","records":1}"#;
        let _ = socket
            .write_all(format!("HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nConnection: close\r\n\r\n{header}\n").as_bytes())
            .await;
        let chunk = vec![b'x'; 1024 * 1024];
        for _ in 0..20 {
            if socket.write_all(&chunk).await.is_err() {
                return;
            }
        }
    });
    let mirror = TestApp::spawn(None, Options::default()).await;
    let upstream = MirrorSource {
        url: format!("http://{addr}"),
        token: None,
        progress: false,
    };
    let error = sync_once(&mirror.db, &mirror.client, &upstream)
        .await
        .unwrap_err();
    assert!(format!("{error:#}").contains("longer than"), "{error:#}");
    assert_eq!(mirror.count("organization").await, 0);
}

/// Stands in front of `upstream` on its own port and forwards every request to it, except
/// that the first snapshot download is answered with only the header and the first `keep`
/// records, then the connection closed: a download cut short after some batches applied.
async fn cutting_proxy(upstream: std::net::SocketAddr, keep: usize) -> std::net::SocketAddr {
    use std::sync::atomic::{AtomicBool, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let cut_body = {
        let body = reqwest::get(format!("http://{upstream}/export/catalogue.ndjson"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let lines: Vec<&str> = body.lines().take(1 + keep).collect();
        assert!(
            lines.len() == 1 + keep,
            "the snapshot has fewer than {keep} records"
        );
        lines.iter().map(|l| format!("{l}\n")).collect::<String>()
    };
    let armed = Arc::new(AtomicBool::new(true));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else {
                return;
            };
            let armed = armed.clone();
            let cut_body = cut_body.clone();
            tokio::spawn(async move {
                // The request head, enough to see what is asked for.
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match client.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                if head.starts_with(b"GET /export/catalogue.ndjson")
                    && armed.swap(false, Ordering::SeqCst)
                {
                    let _ = client
                        .write_all(
                            format!(
                                "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nConnection: close\r\n\r\n{cut_body}"
                            )
                            .as_bytes(),
                        )
                        .await;
                    return;
                }
                let mut server = tokio::net::TcpStream::connect(upstream).await.unwrap();
                if server.write_all(&head).await.is_ok() {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
    });
    addr
}

backend_test!(
    a_snapshot_read_again_after_a_cut_misses_nothing_that_changed_in_between,
    |upstream| {
        let org = upstream.org("cut-short", "DK").await;
        let token = publisher(org);
        for part in 0..3 {
            let body: String = (0..250)
                .map(|i| {
                    let mut input = clause_input(&format!("Cut-short clause {part}-{i}"));
                    input["text"] = json!(format!("Devices are taken back ({part}-{i})."));
                    format!("{input}\n")
                })
                .collect();
            let response = upstream
                .client
                .post(upstream.url("/import/clauses.ndjson"))
                .header("content-type", "application/x-ndjson")
                .bearer_auth(&token)
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
        }

        // The first download stops after 600 records: the first 500 are applied, no cursor.
        let proxy = cutting_proxy(upstream.addr, 600).await;
        let mirror = TestApp::spawn(None, Options::default()).await;
        let via_proxy = MirrorSource {
            url: format!("http://{proxy}"),
            token: None,
            progress: false,
        };
        let error = sync_once(&mirror.db, &mirror.client, &via_proxy)
            .await
            .unwrap_err();
        assert!(
            format!("{error:#}").contains("without its watermark"),
            "{error:#}"
        );
        assert_eq!(mirror.count("clause").await, 499, "one batch applied");

        // Meanwhile upstream: a clause the mirror already holds is deleted, another withdrawn.
        let held: Vec<String> = snapshot(&mirror)
            .await
            .into_iter()
            .filter_map(|line| match line {
                Line::Record(record) => match *record {
                    Record::Clause { clause, .. } => Some(clause.id.to_string()),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        upstream
            .ok(
                Some(&token),
                "mutation($id: ID!) { deleteClause(input: { id: $id }) { id } }",
                json!({ "id": held[10] }),
            )
            .await;
        upstream
            .ok(
                Some(&token),
                "mutation($id: ID!) { withdrawClause(input: { id: $id, reason: \"Superseded\" }) { clause { id } } }",
                json!({ "id": held[20] }),
            )
            .await;

        // Read again whole: the mirror ends up with exactly the upstream's catalogue.
        let report = sync_once(&mirror.db, &mirror.client, &via_proxy)
            .await
            .unwrap();
        assert!(report.snapshot_records > 0);
        assert_eq!(mirror.count("clause").await, 749);
        assert_eq!(records(&mirror, None).await, records(&upstream, None).await);
        assert_eq!(
            sync_once(&mirror.db, &mirror.client, &via_proxy)
                .await
                .unwrap(),
            SyncReport::default()
        );
    }
);
