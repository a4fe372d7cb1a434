//! Test harness: a server per test, GraphQL helpers and token minting.

use std::{
    future::Future,
    net::SocketAddr,
    time::{Duration, Instant},
};

use clap::Parser;
use commons_api::{
    auth::{Role, issue_dev_token},
    config::ServeArgs,
    startup::Application,
};
use futures_util::FutureExt;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};
use uuid::Uuid;

pub const SECRET: &str = "test-secret-for-integration-tests";
pub const ISSUER: &str = "green-procurement-commons";
pub const AUDIENCE: &str = "commons-api";

/// How long a test waits for the index to show a change. Generous on purpose: the suite runs
/// many servers at once on a CI machine's few cores, and [`eventually`] returns as soon as the
/// check holds, so a passing test never waits this long. How quickly a change becomes
/// searchable is measured in BENCHMARKS.md, not asserted here.
pub const INDEX_WAIT: Duration = Duration::from_secs(30);

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub addr: SocketAddr,
    /// Where `GET /metrics` is served when the server was given `--metrics-listen`.
    pub metrics_addr: Option<SocketAddr>,
    pub db: DatabaseConnection,
    pub client: reqwest::Client,
    /// The running server's shared state (for tests that hold its limits).
    pub state: commons_api::startup::AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    /// The server task: it ends once the server and its indexer have stopped.
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _data_dir: tempfile::TempDir,
}

/// Options for a test server.
#[derive(Default)]
pub struct Options {
    pub demo: bool,
    pub extra: Vec<String>,
    /// A search backend to use instead of the embedded index in the data dir.
    pub search: Option<commons_api::indexing::Backends>,
}

fn init_logging() {
    if std::env::var_os("TEST_LOG").is_some() {
        commons_api::telemetry::init("text");
    }
}

impl TestApp {
    pub async fn spawn(database_url: Option<&str>, options: Options) -> Self {
        init_logging();
        let data_dir = tempfile::tempdir().unwrap();
        let mut argv: Vec<String> = [
            "commons",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data_dir.path().to_str().unwrap(),
            "--jwt-secret",
            SECRET,
            "--demo",
            if options.demo { "true" } else { "false" },
        ]
        .into_iter()
        .map(String::from)
        .collect();
        if let Some(url) = database_url {
            argv.push("--database-url".into());
            argv.push(url.into());
        }
        argv.extend(options.extra);
        let mut args = Args::try_parse_from(argv).unwrap().serve;
        // `MEILI_URL` exported for the Meilisearch behaviour suite must not send every test
        // server to one shared Meilisearch index: these servers use their own embedded index
        // (or the backend `options.search` hands them).
        args.search.meili_url = None;
        let app = Application::build_with_search(args, options.search)
            .await
            .unwrap();
        let addr = app.local_addr().unwrap();
        let metrics_addr = app.metrics_addr();
        let db = app.state().db.clone();
        let state = app.state().clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let server = tokio::spawn(app.run_until(async {
            let _ = rx.await;
        }));
        Self {
            addr,
            metrics_addr,
            db,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            state,
            shutdown: Some(tx),
            server: Some(server),
            _data_dir: data_dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// POSTs a GraphQL request and returns the JSON body (any status).
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap().json().await.unwrap()
    }

    /// A GraphQL request that must succeed; returns `data`.
    pub async fn ok(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let body = self.gql(token, query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    pub async fn count(&self, table: &str) -> i64 {
        let row = self
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                self.db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    }

    /// Waits up to [`INDEX_WAIT`] until the search indexer has applied every change event this
    /// instance has written so far (its saved cursor reaches the feed's head): from then on
    /// a search sees everything committed before the call.
    pub async fn index_caught_up(&self) -> bool {
        let backend = self.db.get_database_backend();
        let statement = sea_orm::Statement::from_string(
            backend,
            "SELECT (SELECT COALESCE(MAX(seq), 0) FROM change_event) AS head, \
             (SELECT COALESCE(MAX(last_seq), 0) FROM feed_cursor WHERE consumer = 'search') AS applied",
        );
        eventually(INDEX_WAIT, async || {
            let row = self
                .db
                .query_one_raw(statement.clone())
                .await
                .unwrap()
                .unwrap();
            let head: i64 = row.try_get("", "head").unwrap();
            let applied: i64 = row.try_get("", "applied").unwrap();
            applied >= head
        })
        .await
        .is_some()
    }

    /// Creates an organisation through the API and returns its id.
    pub async fn org(&self, slug: &str, country: &str) -> Uuid {
        let data = self
            .ok(
                Some(&token(None, &[Role::Admin])),
                "mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { organization { id } } }",
                json!({ "input": { "slug": slug, "name": format!("Kommun {slug}"), "kind": "MUNICIPALITY", "country": country, "population": 12000 } }),
            )
            .await;
        data["createOrganization"]["organization"]["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    }
}

impl TestApp {
    /// Stops the server (and its indexer); the database and data dir stay usable.
    pub fn shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Stops the server, waits until it and its indexer have stopped, and moves the search cursor back to
    /// `seq`, so an indexer the test builds replays the feed from there; returns the database.
    pub async fn stop_and_rewind_feed(&mut self, seq: i64) -> DatabaseConnection {
        self.stop().await;
        rewind_feed(&self.db, seq).await;
        self.db.clone()
    }

    /// Stops the server and waits until it and its indexer have stopped.
    pub async fn stop(&mut self) {
        self.shutdown();
        if let Some(server) = self.server.take() {
            // Idle client connections are closed by the graceful shutdown; a busy machine may
            // take a while, but the indexer must have stopped before the cursor moves.
            tokio::time::timeout(Duration::from_secs(30), server)
                .await
                .expect("the server stops")
                .unwrap()
                .unwrap();
        }
    }
}

/// Moves the search indexer's cursor back to `seq`.
pub async fn rewind_feed(db: &DatabaseConnection, seq: i64) {
    db.execute_unprepared(&format!("UPDATE feed_cursor SET last_seq = {seq}"))
        .await
        .unwrap();
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A valid HS256 token for the test secret.
pub fn token(org: Option<Uuid>, roles: &[Role]) -> String {
    issue_dev_token(
        SECRET.as_bytes(),
        ISSUER,
        AUDIENCE,
        "test-user",
        org,
        roles,
        Duration::from_secs(600),
    )
    .unwrap()
}

pub fn publisher(org: Uuid) -> String {
    token(Some(org), &[Role::Publisher])
}

/// The first error's `extensions.code`.
pub fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {body}"))
}

/// The first error's `extensions.field`.
pub fn field(body: &Value) -> &str {
    body["errors"][0]["extensions"]["field"]
        .as_str()
        .unwrap_or_else(|| panic!("no error field in {body}"))
}

/// A fresh PostgreSQL database on `TEST_DATABASE_URL`'s server, or `None` (with a note) when
/// the variable is not set.
async fn postgres_database() -> Option<(String, String)> {
    let Ok(base) = std::env::var("TEST_DATABASE_URL") else {
        #[expect(clippy::print_stderr, reason = "say why the test skipped")]
        {
            eprintln!("skipped: TEST_DATABASE_URL is not set, PostgreSQL variant not run");
        }
        return None;
    };
    let name = format!("gpc_test_{}", Uuid::now_v7().simple());
    let admin = Database::connect(&base).await.unwrap();
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let url = match base.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{name}"),
        None => panic!("TEST_DATABASE_URL must end in /<database>"),
    };
    Some((url, name))
}

async fn drop_postgres_database(name: &str) {
    if let Ok(base) = std::env::var("TEST_DATABASE_URL")
        && let Ok(admin) = Database::connect(&base).await
    {
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
    }
}

/// Runs `test` against a database of the given backend (skipping PostgreSQL when absent).
pub async fn with_database<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(Option<String>) -> Fut,
    Fut: Future<Output = ()>,
{
    match backend {
        Backend::Sqlite => test(None).await,
        Backend::Postgres => {
            let Some((url, name)) = postgres_database().await else {
                return;
            };
            let outcome = std::panic::AssertUnwindSafe(test(Some(url)))
                .catch_unwind()
                .await;
            drop_postgres_database(&name).await;
            if let Err(panic) = outcome {
                std::panic::resume_unwind(panic);
            }
        }
    }
}

/// Runs `test` with a server on the given backend.
pub async fn with_app<F, Fut>(backend: Backend, options: Options, test: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    with_database(backend, |url| async move {
        let app = TestApp::spawn(url.as_deref(), options).await;
        test(app).await;
    })
    .await;
}

/// Declares a test that runs once on SQLite and once on PostgreSQL.
macro_rules! backend_test {
    ($(#[$meta:meta])* $name:ident, $options:expr, |$app:ident| $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($app: $crate::helpers::TestApp) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::helpers::with_app($crate::helpers::Backend::Sqlite, $options, run).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::helpers::with_app($crate::helpers::Backend::Postgres, $options, run).await;
            }
        }
    };
    ($(#[$meta:meta])* $name:ident, |$app:ident| $body:block) => {
        backend_test!($(#[$meta])* $name, $crate::helpers::Options::default(), |$app| $body);
    };
}
pub(crate) use backend_test;

/// Input for a tender result that used `clause` once.
pub fn result_input(clause: &str, tenders: i32, outcome: &str, follow_up: &str) -> Value {
    json!({
        "cpvCode": "30213100-6",
        "procedure": "OPEN",
        "awardMonth": "2025-04",
        "tendersReceived": tenders,
        "priceWeight": 60, "costWeight": 0, "qualityWeight": 40,
        "sustainabilityWeight": 30,
        "awarded": true,
        "valueBand": "EUR1M_TO10M",
        "clauses": [{ "clauseId": clause, "outcome": outcome, "followUp": follow_up }]
    })
}

/// Input for a clause that can be published as is.
pub fn clause_input(title: &str) -> Value {
    json!({
        "title": title,
        "text": "The supplier shall offer a take-back service for [100 %] of delivered devices and report reuse rates [yearly].",
        "purpose": "Longer use of devices and less e-waste.",
        "verification": "A signed take-back plan, or equivalent documentation.",
        "followUp": "Yearly report of returned and reused units.",
        "kind": "CONTRACT_PERFORMANCE_CLAUSE",
        "ambitionLevel": "CORE",
        "environmentalImpacts": ["CIRC_ECON"],
        "cpvCodes": ["30213100-6"],
        "productGroup": "COMPUTERS",
        "language": "EN"
    })
}

pub const CREATE_CLAUSE: &str = "mutation($input: CreateClauseInput!) { createClause(input: $input) { clause { id revision status } } }";
pub const PUBLISH_CLAUSE: &str = "mutation($id: ID!) { publishClause(input: { id: $id }) { clause { id status version revision } } }";

/// Creates and publishes a clause as `token`; returns its id.
pub async fn published_clause(app: &TestApp, token: &str, input: Value) -> String {
    let data = app
        .ok(Some(token), CREATE_CLAUSE, json!({ "input": input }))
        .await;
    let id = data["createClause"]["clause"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.ok(Some(token), PUBLISH_CLAUSE, json!({ "id": id }))
        .await;
    id
}

/// Polls until `check` holds, for at most `limit`; returns how long it took.
pub async fn eventually(limit: Duration, mut check: impl AsyncFnMut() -> bool) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if check().await {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}
