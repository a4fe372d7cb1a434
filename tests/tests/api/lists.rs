//! Lists: every order pages through the same records without gaps or repeats, cursors keep
//! to their order, `totalCount` from the database's counters agrees with counting, and each
//! page query is planned on an index on both databases.

use commons_api::{
    auth::{Caller, Identity, Role},
    service::{
        clause::{self, ClauseFilter},
        listing::Total,
        page::{CatalogueOrder, Cursor, PageRequest, TenderResultOrder},
        template::{self, TemplateFilter},
        tender_result::{self, TenderResultFilter},
    },
};
use entity::Language;
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, DbBackend, QueryTrait, Statement,
    TransactionTrait,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    Backend, CREATE_CLAUSE, PUBLISH_CLAUSE, backend_test, clause_input, code, field,
    published_clause, publisher, with_database,
};

const LIST: &str = "query($after: String, $order: CatalogueOrder, $filter: ClauseFilter) {
    clauses(first: 2, after: $after, orderBy: $order, filter: $filter) {
        pageInfo { hasNextPage endCursor }
        nodes { id updatedAt latest { title } draft { title } }
    }
}";

/// Every node of the list, read two at a time.
async fn read_all(
    app: &crate::helpers::TestApp,
    token: Option<&str>,
    order: &str,
    filter: Value,
) -> Vec<Value> {
    let mut nodes = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = app
            .ok(
                token,
                LIST,
                json!({ "after": after, "order": order, "filter": filter }),
            )
            .await;
        let page = &data["clauses"];
        nodes.extend(page["nodes"].as_array().unwrap().iter().cloned());
        if page["pageInfo"]["hasNextPage"] != true {
            return nodes;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

fn title(node: &Value) -> &str {
    node["latest"]["title"]
        .as_str()
        .or_else(|| node["draft"]["title"].as_str())
        .unwrap()
}

async fn total(app: &crate::helpers::TestApp, token: Option<&str>, filter: Value) -> i64 {
    let data = app
        .ok(
            token,
            "query($filter: ClauseFilter) { clauses(first: 0, filter: $filter) { totalCount } }",
            json!({ "filter": filter }),
        )
        .await;
    data["clauses"]["totalCount"].as_i64().unwrap()
}

backend_test!(lists_read_in_every_order_and_count_from_counters, |app| {
    let lund = app.org("lund", "SE").await;
    let oslo = app.org("oslo", "NO").await;
    let token = publisher(lund);
    let other = publisher(oslo);
    // Titles in an order no collation disagrees on, created out of alphabetical order.
    let mut ids = Vec::new();
    for (name, language) in [
        ("Delta", "EN"),
        ("Alpha", "SV"),
        ("Echo", "EN"),
        ("Charlie", "SV"),
        ("Bravo", "EN"),
    ] {
        let mut input = clause_input(name);
        input["language"] = json!(language);
        ids.push(published_clause(&app, &token, input).await);
    }
    published_clause(&app, &other, clause_input("Foxtrot")).await;
    let draft = app
        .ok(
            Some(&token),
            CREATE_CLAUSE,
            json!({ "input": clause_input("Golf draft") }),
        )
        .await;
    let draft_id = draft["createClause"]["clause"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Id order is creation order; newest is its reverse; title is alphabetical.
    let by_id = read_all(&app, None, "ID", json!({})).await;
    assert_eq!(by_id.len(), 6);
    let newest = read_all(&app, None, "NEWEST", json!({})).await;
    let mut reversed = by_id.clone();
    reversed.reverse();
    assert_eq!(newest, reversed);
    let titles: Vec<_> = read_all(&app, None, "TITLE", json!({}))
        .await
        .iter()
        .map(|n| title(n).to_owned())
        .collect();
    assert_eq!(
        titles,
        ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot"]
    );
    // Filters on the current view's columns, in an order with a key.
    let swedish: Vec<_> = read_all(&app, None, "TITLE", json!({ "language": "SV" }))
        .await
        .iter()
        .map(|n| title(n).to_owned())
        .collect();
    assert_eq!(swedish, ["Alpha", "Charlie"]);

    // The owner's list with drafts orders the draft by its draft title.
    let mine: Vec<_> = read_all(
        &app,
        Some(&token),
        "TITLE",
        json!({ "organizationId": lund, "status": ["DRAFT", "PUBLISHED"] }),
    )
    .await
    .iter()
    .map(|n| title(n).to_owned())
    .collect();
    assert_eq!(
        mine,
        ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Golf draft"]
    );

    // A saved draft title (never published) and a newly published title both move the
    // record in title order.
    let rename = "mutation($id: ID!, $v: Int!, $title: String) { updateClause(input: { id: $id, expectedVersion: $v, title: $title }) { clause { revision } } }";
    app.ok(
        Some(&token),
        rename,
        json!({ "id": draft_id, "v": 1, "title": "Aardvark draft" }),
    )
    .await;
    let revision = app
        .ok(
            Some(&token),
            "query($id: ID!) { clause(id: $id) { revision } }",
            json!({ "id": ids[4] }),
        )
        .await["clause"]["revision"]
        .as_i64()
        .unwrap();
    app.ok(
        Some(&token),
        rename,
        json!({ "id": ids[4], "v": revision, "title": "Zulu" }),
    )
    .await;
    let before_publish: Vec<_> = read_all(&app, None, "TITLE", json!({}))
        .await
        .iter()
        .map(|n| title(n).to_owned())
        .collect();
    assert_eq!(before_publish[1], "Bravo", "a draft edit is not public");
    app.ok(Some(&token), PUBLISH_CLAUSE, json!({ "id": ids[4] }))
        .await;
    let after_publish: Vec<_> = read_all(&app, None, "TITLE", json!({}))
        .await
        .iter()
        .map(|n| title(n).to_owned())
        .collect();
    assert_eq!(
        after_publish,
        ["Alpha", "Charlie", "Delta", "Echo", "Foxtrot", "Zulu"]
    );
    let mine = read_all(&app, Some(&token), "TITLE", json!({ "status": ["DRAFT"] })).await;
    assert_eq!(title(&mine[0]), "Aardvark draft");
    // The republished clause is the most recently changed.
    let newest = read_all(&app, None, "NEWEST", json!({})).await;
    assert_eq!(newest[0]["id"], json!(ids[4]));

    // A cursor belongs to its order.
    let first =
        app.ok(None, LIST, json!({ "order": "TITLE" })).await["clauses"]["pageInfo"]["endCursor"]
            .clone();
    let refused = app
        .gql(None, LIST, json!({ "order": "ID", "after": first }))
        .await;
    assert_eq!(code(&refused), "BAD_USER_INPUT");
    assert_eq!(field(&refused), "after");

    // Counters agree with counting (an `updatedSince` filter makes the list count rows).
    let withdraw = "mutation($id: ID!) { withdrawClause(input: { id: $id, reason: \"Replaced by a newer clause\" }) { clause { status } } }";
    app.ok(Some(&token), withdraw, json!({ "id": ids[0] }))
        .await;
    let since = json!("2000-01-01T00:00:00Z");
    for (token, filter, expected) in [
        (None, json!({}), 5),
        (None, json!({ "organizationId": lund }), 4),
        (None, json!({ "status": ["WITHDRAWN"] }), 1),
        // Drafts are nobody's but their organisation's: asked for alone, nothing is visible.
        (None, json!({ "status": ["DRAFT"] }), 0),
        (None, json!({ "status": ["DRAFT", "PUBLISHED"] }), 5),
        (Some(&token), json!({ "status": ["DRAFT", "PUBLISHED"] }), 6),
        (Some(&other), json!({ "status": ["DRAFT", "PUBLISHED"] }), 5),
        (
            Some(&token),
            json!({ "status": ["DRAFT"], "organizationId": oslo }),
            0,
        ),
        (
            Some(&token),
            json!({ "status": ["DRAFT", "PUBLISHED", "WITHDRAWN"], "organizationId": lund }),
            6,
        ),
    ] {
        let counted = total(&app, token.map(String::as_str), filter.clone()).await;
        assert_eq!(counted, expected, "{filter}");
        let mut filtered = filter.clone();
        filtered["updatedSince"] = since.clone();
        let recounted = total(&app, token.map(String::as_str), filtered).await;
        assert_eq!(recounted, expected, "{filter} counted row by row");
    }
    // Deleting the draft takes it off the counters.
    app.ok(
        Some(&token),
        "mutation($id: ID!) { deleteClause(input: { id: $id }) { id } }",
        json!({ "id": draft_id }),
    )
    .await;
    assert_eq!(
        total(
            &app,
            Some(&token),
            json!({ "status": ["DRAFT", "PUBLISHED"] })
        )
        .await,
        5
    );

    // Templates and tender results take the orders too.
    let data = app
        .ok(
            None,
            "{ templates(orderBy: TITLE) { nodes { id } } tenderResults(orderBy: NEWEST) { totalCount nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["tenderResults"]["totalCount"], 0);
});

/// The page queries the lists can send: each order, with and without a cursor, alone and
/// with the filters that have an index.
fn page_statements(backend: DbBackend) -> Vec<(String, Statement)> {
    let org = Uuid::now_v7();
    let owner = Identity::User(Caller {
        sub: "owner".to_owned(),
        org: Some(org),
        roles: vec![Role::Publisher],
    });
    let id = Uuid::now_v7();
    let mut statements = Vec::new();
    for order in [
        CatalogueOrder::Id,
        CatalogueOrder::Newest,
        CatalogueOrder::Title,
    ] {
        let cursors = [
            None,
            Some(Cursor::of(order, id, chrono::Utc::now(), "Mitten")),
        ];
        for after in cursors {
            let page = PageRequest {
                first: 20,
                after,
                count: true,
            };
            let deep = if page.after.is_some() { " after" } else { "" };
            let mut filters = vec![
                ("all", ClauseFilter::default(), Identity::Anonymous),
                (
                    "language",
                    ClauseFilter {
                        language: Some(Language::Fi),
                        ..Default::default()
                    },
                    Identity::Anonymous,
                ),
            ];
            if order != CatalogueOrder::Title {
                filters.push((
                    "organisation with drafts",
                    ClauseFilter {
                        organization_id: Some(org.to_string().into()),
                        status: Some(vec![
                            entity::PublicationStatus::Draft,
                            entity::PublicationStatus::Published,
                        ]),
                        ..Default::default()
                    },
                    owner.clone(),
                ));
            }
            for (name, filter, identity) in filters {
                let (rows, total) = clause::page_query(&identity, filter, order, &page).unwrap();
                assert!(matches!(total, Total::Counters(..)) || name == "language");
                statements.push((
                    format!("clauses {order:?} {name}{deep}"),
                    rows.build(backend),
                ));
            }
            let (rows, _) = template::page_query(
                &Identity::Anonymous,
                TemplateFilter::default(),
                order,
                &page,
            )
            .unwrap();
            statements.push((format!("templates {order:?}{deep}"), rows.build(backend)));
            let result_order = match order {
                CatalogueOrder::Id => TenderResultOrder::Id,
                CatalogueOrder::Newest => TenderResultOrder::Newest,
                CatalogueOrder::Title => continue,
            };
            let (rows, _) =
                tender_result::page_query(TenderResultFilter::default(), result_order, &page)
                    .unwrap();
            statements.push((
                format!("tender results {order:?}{deep}"),
                rows.build(backend),
            ));
        }
    }
    statements
}

const CATALOGUE_TABLES: [&str; 5] = [
    "clause",
    "clause_version",
    "template",
    "template_version",
    "tender_result",
];

/// PostgreSQL: with sequential scans and sorts priced out, a plan that still has one has no
/// index to read the page in order.
async fn check_postgres_plans(db: &DatabaseConnection) {
    for (name, statement) in page_statements(DbBackend::Postgres) {
        let txn = db.begin().await.unwrap();
        for setting in ["enable_seqscan", "enable_sort", "enable_bitmapscan"] {
            txn.execute_unprepared(&format!("SET LOCAL {setting} = off"))
                .await
                .unwrap();
        }
        let explain = Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!("EXPLAIN (FORMAT JSON) {}", statement.sql),
            statement.values.map(|v| v.0).unwrap_or_default(),
        );
        let plan = txn
            .query_one_raw(explain)
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index::<Value>(0)
            .unwrap();
        txn.rollback().await.unwrap();
        let mut nodes = Vec::new();
        collect_nodes(&plan[0]["Plan"], &mut nodes);
        assert!(
            nodes.iter().any(|(kind, ..)| kind.starts_with("Index")),
            "{name}: no index read\n{plan:#}"
        );
        if name.ends_with(" after") {
            assert!(
                nodes.iter().any(|(_, _, bound)| starts_at_cursor(bound)),
                "{name}: the cursor is not an index bound\n{plan:#}"
            );
        }
        for (kind, relation, _) in &nodes {
            assert!(
                !(kind == "Seq Scan" && CATALOGUE_TABLES.contains(&relation.as_str())),
                "{name}: sequential scan of {relation}\n{plan:#}"
            );
            assert!(
                !kind.contains("Sort"),
                "{name}: sorts instead of reading an index in order\n{plan:#}"
            );
        }
    }
}

/// Whether an index condition bounds the page by the cursor: `id > …` in id order, a row
/// comparison `(key, id) > (…)` or `< (…)` in the others (PostgreSQL and SQLite spellings).
fn starts_at_cursor(condition: &str) -> bool {
    ["id>?", "id)>(", "id)<(", "id > ", "id) > ", "id) < "]
        .iter()
        .any(|bound| condition.contains(bound))
}

/// Each plan node's type, relation and index condition.
fn collect_nodes(plan: &Value, out: &mut Vec<(String, String, String)>) {
    out.push((
        plan["Node Type"].as_str().unwrap_or_default().to_owned(),
        plan["Relation Name"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        plan["Index Cond"].as_str().unwrap_or_default().to_owned(),
    ));
    for child in plan["Plans"].as_array().into_iter().flatten() {
        collect_nodes(child, out);
    }
}

/// SQLite: no full scan of a catalogue table and no temporary B-tree for the order.
async fn check_sqlite_plans(db: &DatabaseConnection) {
    for (name, statement) in page_statements(DbBackend::Sqlite) {
        let explain = Statement::from_sql_and_values(
            DbBackend::Sqlite,
            format!("EXPLAIN QUERY PLAN {}", statement.sql),
            statement.values.map(|v| v.0).unwrap_or_default(),
        );
        let rows = db.query_all_raw(explain).await.unwrap();
        let details: Vec<String> = rows
            .iter()
            .map(|row| row.try_get::<String>("", "detail").unwrap())
            .collect();
        for detail in &details {
            let full_scan = CATALOGUE_TABLES
                .iter()
                .any(|table| detail == &format!("SCAN {table}"));
            assert!(!full_scan, "{name}: {detail}\n{details:#?}");
            assert!(
                !detail.contains("TEMP B-TREE"),
                "{name}: sorts instead of reading an index in order\n{details:#?}"
            );
        }
        // A deep page seeks to the cursor in the index instead of walking to it.
        if name.ends_with(" after") {
            assert!(
                details.iter().any(|d| starts_at_cursor(d)),
                "{name}: the cursor is not an index bound\n{details:#?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_queries_read_an_index_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/plans.db?mode=rwc", dir.path().display());
    let db = Database::connect(&url).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    check_sqlite_plans(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_queries_read_an_index_on_postgres() {
    with_database(Backend::Postgres, |url| async move {
        let db = Database::connect(url.unwrap()).await.unwrap();
        Migrator::up(&db, None).await.unwrap();
        check_postgres_plans(&db).await;
    })
    .await;
}

/// A catalogue written before the list columns and counters existed gets them on upgrade.
async fn check_backfill(url: &str) {
    let db = Database::connect(url).await.unwrap();
    Migrator::up(&db, Some(5)).await.unwrap();
    commons_api::seed::load_demo(&db).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    let backend = db.get_database_backend();
    let scalar = |sql: &str| {
        let db = db.clone();
        let sql = sql.to_owned();
        async move {
            db.query_one_raw(Statement::from_string(backend, sql))
                .await
                .unwrap()
                .unwrap()
                .try_get_by_index::<i64>(0)
                .unwrap()
        }
    };
    let clauses = scalar("SELECT COUNT(*) FROM clause").await;
    assert!(clauses > 100, "the demo catalogue was loaded");
    let mismatched = scalar(
        "SELECT COUNT(*) FROM clause c JOIN clause_version v
           ON v.clause_id = c.id AND v.version = c.published_version
         WHERE c.list_title IS NULL OR c.list_title <> v.title
            OR c.list_language <> v.language OR c.list_kind <> v.kind",
    )
    .await;
    assert_eq!(
        mismatched, 0,
        "list columns copied from the current versions"
    );
    for table in ["clause", "template", "tender_result"] {
        let counted = scalar(&format!(
            "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM list_count WHERE entity_type = '{table}'"
        ))
        .await;
        let rows = scalar(&format!("SELECT COUNT(*) FROM {table}")).await;
        // Each record is counted under its organisation and in the total.
        assert_eq!(counted, 2 * rows, "{table}");
    }
    let page = clause::page_query(
        &Identity::Anonymous,
        ClauseFilter::default(),
        CatalogueOrder::Title,
        &PageRequest {
            first: 5,
            after: None,
            count: true,
        },
    )
    .unwrap();
    let total = page.1.get(&db, "clause", true).await.unwrap();
    let published = scalar("SELECT COUNT(*) FROM clause WHERE status = 'published'").await;
    assert_eq!(total as i64, published);
    let rows = page.0.all(&db).await.unwrap();
    assert_eq!(rows.len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_catalogue_is_backfilled_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    check_backfill(&format!(
        "sqlite://{}/old.db?mode=rwc",
        dir.path().display()
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_catalogue_is_backfilled_on_postgres() {
    with_database(Backend::Postgres, |url| async move {
        check_backfill(&url.unwrap()).await;
    })
    .await;
}

const SHOWN: &str =
    "{ clauses(first: 10) { nodes { id organization { name } latest { title } } } }";

/// The ids and organisation names of the first page, as an anonymous visitor sees it.
async fn shown(app: &crate::helpers::TestApp) -> Vec<(String, String)> {
    let data = app.ok(None, SHOWN, json!({})).await;
    data["clauses"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["id"].as_str().unwrap().to_owned(),
                n["organization"]["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Pages a server keeps in memory follow every write: its own at once, another server's and a
/// raw SQL write's once PostgreSQL's notice arrives, and after its listening connection was
/// cut.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_pages_follow_writes_from_anywhere_on_postgres() {
    use crate::helpers::{INDEX_WAIT, Options, TestApp, eventually};
    with_database(Backend::Postgres, |url| async move {
        let url = url.unwrap();
        let a = TestApp::spawn(Some(&url), Options::default()).await;
        let b = TestApp::spawn(Some(&url), Options::default()).await;
        assert!(
            eventually(INDEX_WAIT, async || a.state.rows.watching()).await.is_some(),
            "the server listens for written rows"
        );
        let lund = a.org("lund", "SE").await;
        let token = publisher(lund);
        let first = published_clause(&a, &token, clause_input("Alpha")).await;
        // The page is read twice: the second answer comes from memory.
        assert_eq!(shown(&a).await.len(), 1);
        assert_eq!(shown(&a).await.len(), 1);

        // This server's own write shows on its very next page.
        let second = published_clause(&a, &token, clause_input("Bravo")).await;
        let ids: Vec<String> = shown(&a).await.into_iter().map(|(id, _)| id).collect();
        assert_eq!(ids, [first.clone(), second.clone()]);

        // Another server's write, through its API.
        b.ok(
            Some(&token),
            "mutation($id: ID!) { withdrawClause(input: { id: $id, reason: \"Replaced\" }) { clause { id } } }",
            json!({ "id": first }),
        )
        .await;
        let withdrawn = eventually(INDEX_WAIT, async || {
            shown(&a).await.iter().all(|(id, _)| *id != first)
        })
        .await;
        assert!(withdrawn.is_some(), "a withdrawal on another server leaves the kept page");

        // A write no server made: the organisation renamed in SQL.
        assert_eq!(shown(&a).await[0].1, "Kommun lund");
        b.db.execute_unprepared(&format!(
            "UPDATE organization SET name = 'Lunds kommun' WHERE id = '{lund}'"
        ))
        .await
        .unwrap();
        let renamed = eventually(INDEX_WAIT, async || {
            shown(&a).await[0].1 == "Lunds kommun"
        })
        .await;
        assert!(renamed.is_some(), "a rename in SQL reaches the kept organisation");

        // Pages are answered from memory: with the organisation's trigger off, a rename no
        // server hears of is not shown, until a notice comes. (Once the indexers have read
        // every event, nothing else drops what is kept; the page is read once to keep it.)
        assert!(a.index_caught_up().await && b.index_caught_up().await);
        shown(&a).await;
        b.db.execute_unprepared("ALTER TABLE organization DISABLE TRIGGER organization_notice")
            .await
            .unwrap();
        b.db.execute_unprepared(&format!(
            "UPDATE organization SET name = 'Unheard' WHERE id = '{lund}'"
        ))
        .await
        .unwrap();
        assert_eq!(shown(&a).await[0].1, "Lunds kommun", "the kept organisation is shown");
        b.db.execute_unprepared("ALTER TABLE organization ENABLE TRIGGER organization_notice")
            .await
            .unwrap();
        b.db.execute_unprepared("NOTIFY commons_rows, 'organization'")
            .await
            .unwrap();
        let heard = eventually(INDEX_WAIT, async || shown(&a).await[0].1 == "Unheard").await;
        assert!(heard.is_some(), "a notice drops what is kept");

        // A draft listed for its owner is kept under the owner's scope, never shown to others.
        let draft = a
            .ok(
                Some(&token),
                CREATE_CLAUSE,
                json!({ "input": clause_input("Charlie draft") }),
            )
            .await["createClause"]["clause"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let drafts = "{ clauses(first: 10, filter: { status: [DRAFT] }) { nodes { id } } }";
        for _ in 0..2 {
            let mine = a.ok(Some(&token), drafts, json!({})).await;
            assert_eq!(mine["clauses"]["nodes"][0]["id"], json!(draft));
            let anyone = a.ok(None, drafts, json!({})).await;
            assert_eq!(anyone["clauses"]["nodes"], json!([]), "no drafts for anonymous callers");
        }

        // The listening connection cut: nothing kept meanwhile may outlive a write.
        let cut = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                   WHERE query LIKE 'LISTEN %' AND datname = current_database() \
                   AND pid <> pg_backend_pid()";
        b.db.execute_unprepared(cut).await.unwrap();
        b.db.execute_unprepared(&format!(
            "UPDATE organization SET name = 'Lund' WHERE id = '{lund}'"
        ))
        .await
        .unwrap();
        let after_cut = eventually(INDEX_WAIT, async || shown(&a).await[0].1 == "Lund").await;
        assert!(after_cut.is_some(), "a write while the listener was cut is shown");
        assert!(
            eventually(INDEX_WAIT, async || a.state.rows.watching()).await.is_some(),
            "the server listens again"
        );

        // A listener that finds a trigger disabled keeps nothing until it is back. (Cut until
        // the server has noticed: a listener being set up at the first cut is not yet
        // listening, and checks the triggers after this one was turned off.)
        b.db.execute_unprepared("ALTER TABLE clause DISABLE TRIGGER clause_notice")
            .await
            .unwrap();
        let unwatched = eventually(INDEX_WAIT, async || {
            b.db.execute_unprepared(cut).await.unwrap();
            !a.state.rows.watching()
        })
        .await;
        assert!(unwatched.is_some(), "a cut listener keeps nothing");
        let kept = eventually(std::time::Duration::from_secs(2), async || {
            a.state.rows.watching()
        })
        .await;
        assert_eq!(kept, None, "nothing kept while a trigger is off");
        b.db.execute_unprepared("ALTER TABLE clause ENABLE TRIGGER clause_notice")
            .await
            .unwrap();
        assert!(
            eventually(INDEX_WAIT, async || a.state.rows.watching()).await.is_some(),
            "kept again once the trigger is back"
        );
    })
    .await;
}

backend_test!(
    /// `--keep-pages false` (behind a pooler that cannot keep a `LISTEN`) keeps nothing.
    pages_are_read_from_the_database_when_keeping_is_off,
    crate::helpers::Options {
        extra: vec!["--keep-pages".into(), "false".into()],
        ..Default::default()
    },
    |app| {
        let lund = app.org("lund", "SE").await;
        published_clause(&app, &publisher(lund), clause_input("Alpha")).await;
        assert_eq!(shown(&app).await.len(), 1);
        assert_eq!(shown(&app).await.len(), 1);
        assert!(!app.state.rows.watching());
        let read = app.state.rows.page("anything");
        assert!(matches!(
            read,
            commons_api::row_cache::PageLookup::Missing(None)
        ));
    }
);
