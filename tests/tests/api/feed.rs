//! The change feed, the NDJSON snapshot, deletions and the commit-order guarantee.

use std::time::Duration;

use commons_api::{feed::snapshot::Line, service::record_change};
use entity::{ChangeOperation, EntityType};
use sea_orm::TransactionTrait;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

pub const CHANGES: &str =
    "query($after: String, $first: Int) { changes(after: $after, first: $first) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { cursor node { cursor entityType entityId version operation occurredAt payload } } } }";

/// Every event after `after`, read page by page.
pub async fn all_changes(app: &TestApp, after: Option<&str>) -> (Vec<Value>, Option<String>) {
    let mut events = Vec::new();
    let mut cursor = after.map(str::to_owned);
    loop {
        let data = app
            .ok(None, CHANGES, json!({ "after": cursor, "first": 7 }))
            .await;
        let page = &data["changes"];
        for edge in page["edges"].as_array().unwrap() {
            events.push(edge["node"].clone());
        }
        if let Some(end) = page["pageInfo"]["endCursor"].as_str() {
            cursor = Some(end.to_owned());
        }
        if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            return (events, cursor);
        }
    }
}

/// Lines of the snapshot served at `/export/catalogue.ndjson`.
pub async fn snapshot(app: &TestApp) -> Vec<Line> {
    let response = app
        .client
        .get(app.url("/export/catalogue.ndjson"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/x-ndjson",
        "snapshot content type"
    );
    let body = response.text().await.unwrap();
    body.lines().map(|l| Line::parse(l).unwrap()).collect()
}

fn ops(events: &[Value]) -> Vec<(String, String)> {
    events
        .iter()
        .map(|e| {
            (
                e["entityType"].as_str().unwrap().to_owned(),
                e["operation"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

backend_test!(feed_pages_every_published_change_with_its_payload, |app| {
    let (empty, cursor) = all_changes(&app, None).await;
    assert!(empty.is_empty(), "a new instance has no changes: {empty:?}");
    assert!(cursor.is_none());

    let org = app.org("lund", "SE").await;
    let token = publisher(org);
    let id = published_clause(&app, &token, clause_input("Take-back of laptops")).await;
    // A draft edit after publishing is not a published change.
    app.ok(
        Some(&token),
        "mutation($id: ID!) { updateClause(input: { id: $id, expectedVersion: 2, title: \"Secret draft title\" }) { clause { id } } }",
        json!({ "id": id }),
    )
    .await;
    app.ok(
        Some(&token),
        "mutation($id: ID!) { withdrawClause(input: { id: $id, reason: \"Replaced\" }) { clause { id } } }",
        json!({ "id": id }),
    )
    .await;

    let (events, end) = all_changes(&app, None).await;
    assert_eq!(
        ops(&events),
        vec![
            ("ORGANIZATION".into(), "UPSERT".into()),
            ("CLAUSE".into(), "UPSERT".into()),
            ("CLAUSE".into(), "WITHDRAW".into()),
        ]
    );
    let published = &events[1];
    assert_eq!(published["entityId"], json!(id));
    assert_eq!(published["version"], json!(1));
    let payload = &published["payload"];
    assert_eq!(payload["type"], "clause");
    assert_eq!(payload["clause"]["id"], json!(id));
    assert_eq!(payload["versions"][0]["title"], "Take-back of laptops");
    assert_eq!(payload["versions"][0]["version"], 1);
    let withdrawn = &events[2]["payload"];
    assert_eq!(withdrawn["clause"]["status"], "WITHDRAWN");
    assert_eq!(withdrawn["clause"]["withdrawnReason"], "Replaced");
    assert_eq!(withdrawn["versions"], json!([]));
    let everything = serde_json::to_string(&events).unwrap();
    assert!(
        !everything.contains("Secret draft title"),
        "a draft leaked into the feed"
    );

    // Reading on from the end gives nothing new; the cursor of an event continues after it.
    let (none, _) = all_changes(&app, end.as_deref()).await;
    assert!(none.is_empty());
    let first = events[0]["cursor"].as_str().unwrap();
    let (rest, _) = all_changes(&app, Some(first)).await;
    assert_eq!(rest, events[1..].to_vec());
    let data = app
        .ok(None, CHANGES, json!({ "after": first, "first": 1 }))
        .await;
    assert_eq!(data["changes"]["totalCount"], 2, "events after the cursor");
    assert_eq!(data["changes"]["pageInfo"]["hasNextPage"], true);

    // Bad input is named.
    let body = app
        .gql(None, CHANGES, json!({ "after": "bogus", "first": 5 }))
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert_eq!(field(&body), "after");
    let body = app.gql(None, CHANGES, json!({ "first": 101 })).await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert_eq!(field(&body), "first");
});

backend_test!(
    snapshot_is_the_published_catalogue_and_the_feed_continues_at_its_watermark,
    Options {
        demo: true,
        ..Options::default()
    },
    |app| {
        let org = app.org("snapshot-test", "NO").await;
        let token = publisher(org);
        let mut draft = clause_input("Unpublished draft about batteries");
        draft["text"] = json!("Draft text that must never leave the organisation.");
        app.ok(Some(&token), CREATE_CLAUSE, json!({ "input": draft }))
            .await;

        let lines = snapshot(&app).await;
        let Some(Line::Header(header)) = lines.first() else {
            panic!("the snapshot starts with its header: {:?}", lines.first());
        };
        let Some(Line::Watermark(watermark)) = lines.last() else {
            panic!("the snapshot ends with its watermark");
        };
        let records: Vec<_> = lines[1..lines.len() - 1]
            .iter()
            .map(|l| match l {
                Line::Record(r) => r.as_ref().clone(),
                other => panic!("unexpected line {other:?}"),
            })
            .collect();
        assert_eq!(header.records, records.len() as u64);
        assert_eq!(watermark.records, records.len() as u64);
        let count = |t: EntityType| records.iter().filter(|r| r.entity_type() == t).count();
        // The demo catalogue (10 organisations, 168 clauses, 8 templates, 18 results) and the
        // organisation made here; the draft is not there.
        assert_eq!(count(EntityType::Organization), 11);
        assert_eq!(count(EntityType::Clause), 168);
        assert_eq!(count(EntityType::Template), 8);
        assert_eq!(count(EntityType::TenderResult), 18);
        let text = lines
            .iter()
            .map(|l| l.to_json().unwrap())
            .collect::<Vec<_>>()
            .join("\n");
        assert!(!text.contains("Unpublished draft"), "a draft leaked");
        // Organisations come before what they own.
        let first_clause = records
            .iter()
            .position(|r| r.entity_type() == EntityType::Clause)
            .unwrap();
        assert!(
            records[..first_clause]
                .iter()
                .all(|r| r.entity_type() == EntityType::Organization)
        );

        // The watermark is the feed's head: reading on from it gives only later changes.
        let (after, _) = all_changes(&app, Some(&watermark.cursor)).await;
        assert!(
            after.is_empty(),
            "nothing happened after the snapshot: {after:?}"
        );
        let id = published_clause(&app, &token, clause_input("Published after the snapshot")).await;
        let (after, _) = all_changes(&app, Some(&watermark.cursor)).await;
        assert_eq!(after.len(), 1);
        assert_eq!(after[0]["entityId"], json!(id));
    }
);

const DELETE_CLAUSE: &str = "mutation($id: ID!) { deleteClause(input: { id: $id }) { id } }";

backend_test!(
    deleting_a_clause_leaves_a_tombstone_and_refuses_cited_ones,
    |app| {
        let org = app.org("malmo", "SE").await;
        let token = publisher(org);
        let id = published_clause(
            &app,
            &token,
            clause_input("Clause with a leaked phone list"),
        )
        .await;
        let other = app.org("bergen", "NO").await;
        let body = app
            .gql(Some(&publisher(other)), DELETE_CLAUSE, json!({ "id": id }))
            .await;
        assert_eq!(code(&body), "FORBIDDEN");
        let body = app.gql(None, DELETE_CLAUSE, json!({ "id": id })).await;
        assert_eq!(code(&body), "UNAUTHENTICATED");

        let data = app
            .ok(Some(&token), DELETE_CLAUSE, json!({ "id": id }))
            .await;
        assert_eq!(data["deleteClause"]["id"], json!(id));
        let data = app
            .ok(
                None,
                "query($id: ID!) { clause(id: $id) { id } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(data["clause"], Value::Null);
        assert_eq!(app.count("clause_version").await, 0);
        let (events, _) = all_changes(&app, None).await;
        let last = events.last().unwrap();
        assert_eq!(last["operation"], "DELETE");
        assert_eq!(last["entityId"], json!(id));
        assert_eq!(last["payload"], Value::Null);
        // Gone from search too.
        let gone = eventually(INDEX_WAIT, async || {
            app.ok(
                None,
                "{ searchClauses(query: \"leaked phone list\") { totalCount } }",
                Value::Null,
            )
            .await["searchClauses"]["totalCount"]
                == 0
        })
        .await;
        assert!(gone.is_some(), "the deleted clause is still searchable");

        // A clause a tender result cites cannot be deleted; nothing is written.
        let cited = published_clause(&app, &token, clause_input("Cited clause")).await;
        app.ok(
        Some(&token),
        "mutation($input: ReportTenderResultInput!) { reportTenderResult(input: $input) { tenderResult { id } } }",
        json!({ "input": result_input(&cited, 3, "MET_BY_WINNER", "COMPLIANT") }),
    )
    .await;
        let before = app.count("change_event").await;
        let body = app
            .gql(Some(&token), DELETE_CLAUSE, json!({ "id": cited }))
            .await;
        assert_eq!(code(&body), "CONFLICT");
        assert_eq!(app.count("change_event").await, before);
        let data = app
            .ok(
                None,
                "query($id: ID!) { clause(id: $id) { id } }",
                json!({ "id": cited }),
            )
            .await;
        assert_eq!(data["clause"]["id"], json!(cited));
    }
);

/// PostgreSQL only: on SQLite the single writer connection orders commits by itself (and a
/// second open transaction would wait for that connection).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_never_skip_an_event_committed_out_of_order() {
    with_app(Backend::Postgres, Options::default(), |app| async move {
        // Transaction A draws its event first but commits last; B must wait for it, so a
        // reader that sees B's event has already seen A's.
        let org = app.org("order", "FI").await;
        let a = app.db.begin().await.unwrap();
        record_change(
            &a,
            EntityType::Organization,
            org,
            None,
            ChangeOperation::Upsert,
        )
        .await
        .unwrap();
        let db = app.db.clone();
        let b = tokio::spawn(async move {
            let txn = db.begin().await.unwrap();
            record_change(
                &txn,
                EntityType::Organization,
                org,
                None,
                ChangeOperation::Upsert,
            )
            .await
            .unwrap();
            txn.commit().await.unwrap();
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (seen, cursor) = all_changes(&app, None).await;
        assert_eq!(
            seen.len(),
            1,
            "only the organisation's own event is committed: {seen:?}"
        );
        assert!(
            !b.is_finished(),
            "B committed while A, which drew first, was still open"
        );
        a.commit().await.unwrap();
        b.await.unwrap();
        let (later, _) = all_changes(&app, cursor.as_deref()).await;
        assert_eq!(
            later.len(),
            2,
            "both events arrive after the cursor, none skipped"
        );
    })
    .await;
}

backend_test!(
    concurrent_publishers_and_a_polling_reader_agree_on_the_feed,
    |app| {
        let mut tokens = Vec::new();
        for w in 0..4 {
            tokens.push(publisher(app.org(&format!("writer-{w}"), "DK").await));
        }
        let app = std::sync::Arc::new(app);
        let mut tasks = Vec::new();
        for token in tokens {
            let app = app.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..8 {
                    published_clause(
                        &app,
                        &token,
                        clause_input(&format!("Concurrent clause {i}")),
                    )
                    .await;
                }
            }));
        }
        // A mirror-like reader pages through the feed while the writers run.
        let mut seen: Vec<Value> = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let done = tasks.iter().all(|t| t.is_finished());
            let (page, end) = all_changes(&app, cursor.as_deref()).await;
            seen.extend(page);
            cursor = end.or(cursor);
            if done {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        for task in tasks {
            task.await.unwrap();
        }
        let (rest, _) = all_changes(&app, cursor.as_deref()).await;
        seen.extend(rest);
        let (everything, _) = all_changes(&app, None).await;
        assert_eq!(everything.len(), 4 + 4 * 8);
        let cursors = |events: &[Value]| -> Vec<String> {
            events
                .iter()
                .map(|e| e["cursor"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(
            cursors(&seen),
            cursors(&everything),
            "the polling reader skipped or repeated events"
        );
        let published: Vec<Uuid> = everything
            .iter()
            .filter(|e| e["entityType"] == "CLAUSE")
            .map(|e| e["entityId"].as_str().unwrap().parse().unwrap())
            .collect();
        assert_eq!(published.len(), 32);
    }
);

backend_test!(
    snapshot_downloads_are_limited_so_they_cannot_take_every_connection,
    |app| {
        // Enough for a snapshot (about 7 MB) that socket buffers cannot swallow whole.
        commons_api::synthetic::seed(&app.db, 5_000, 1, false)
            .await
            .unwrap();
        let url = app.url("/export/catalogue.ndjson");
        // Two downloads that are not being read hold their slots.
        let first = app.client.get(&url).send().await.unwrap();
        let second = app.client.get(&url).send().await.unwrap();
        assert_eq!(
            (first.status().as_u16(), second.status().as_u16()),
            (200, 200)
        );
        let third = app.client.get(&url).send().await.unwrap();
        assert_eq!(third.status(), 503);
        assert_eq!(third.headers()["retry-after"], "30");
        // The API stays usable meanwhile.
        app.ok(None, "{ clauses(first: 1) { totalCount } }", Value::Null)
            .await;
        drop((first, second));
        let freed = eventually(Duration::from_secs(5), async || {
            app.client
                .get(&url)
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
        })
        .await;
        assert!(freed.is_some(), "slots were not released");
    }
);
