//! The `commons` command line, run as a process.

use std::process::{Command, Output};

fn commons(args: &[&str], data_dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_commons"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("MEILI_URL")
        .env("COMMONS_DATA_DIR", data_dir)
        .env("COMMONS_JWT_SECRET", "cli-test-secret")
        .output()
        .expect("run commons")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn help_lists_every_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let help = commons(&["--help"], dir.path());
    assert!(help.status.success());
    for command in [
        "serve", "migrate", "seed", "reindex", "token", "schema", "export", "mirror", "import",
    ] {
        assert!(
            stdout(&help).contains(command),
            "{command} missing from --help"
        );
    }
}

#[test]
fn schema_prints_the_checked_in_sdl() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = commons(&["schema"], dir.path());
    assert!(output.status.success());
    let checked_in =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql"))
            .expect("schema.graphql");
    assert_eq!(stdout(&output).trim_end(), checked_in.trim_end());
}

#[test]
fn token_needs_an_organisation_for_publishers_and_verifies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let refused = commons(&["token", "--role", "publisher"], dir.path());
    assert!(
        !refused.status.success(),
        "a publisher token without --org was issued"
    );
    let org = "01a203d2-a8ea-7648-ad23-80c2a6b8297a";
    let output = commons(
        &["token", "--org", org, "--role", "publisher", "--ttl", "5m"],
        dir.path(),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token = stdout(&output).trim().to_owned();
    let verifier = commons_api::auth::JwtVerifier::hs256(
        b"cli-test-secret",
        "green-procurement-commons",
        "commons-api",
    );
    let caller = verifier.verify(&token).expect("the printed token verifies");
    assert_eq!(caller.org.map(|o| o.to_string()).as_deref(), Some(org));
    assert_eq!(caller.roles, vec![commons_api::auth::Role::Publisher]);
    assert!(
        commons_api::auth::JwtVerifier::hs256(b"other", "green-procurement-commons", "commons-api")
            .verify(&token)
            .is_err()
    );
}

#[test]
fn migrate_seed_and_reindex_work_on_a_fresh_data_dir() {
    let dir = tempfile::tempdir().expect("tempdir");
    let migrate = commons(&["migrate"], dir.path());
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    assert!(dir.path().join("commons.db").exists());
    let seed = commons(&["seed", "--demo"], dir.path());
    assert!(
        seed.status.success(),
        "{}",
        String::from_utf8_lossy(&seed.stderr)
    );
    let again = commons(&["seed", "--demo"], dir.path());
    assert!(
        !again.status.success(),
        "the demo catalogue was loaded twice"
    );
    let reindex = commons(&["reindex", "--quiet"], dir.path());
    assert!(
        reindex.status.success(),
        "{}",
        String::from_utf8_lossy(&reindex.stderr)
    );
    assert!(dir.path().join("index").join("clauses").exists());

    let file = dir.path().join("releases.json");
    let file_arg = file.display().to_string();
    let export = commons(&["export", "ocds", "--output", &file_arg], dir.path());
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    let package: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).expect("export written")).expect("json");
    assert_eq!(package["version"], "1.1");
    assert_eq!(package["releases"].as_array().map(Vec::len), Some(18));
    assert!(!dir.path().join("releases.partial").exists());
    let to_stdout = commons(&["export", "ocds"], dir.path());
    let streamed: serde_json::Value = serde_json::from_slice(&to_stdout.stdout).expect("json");
    assert_eq!(streamed["releases"], package["releases"]);
    let bad = commons(&["export", "ocds", "--ocid-prefix", "gpc"], dir.path());
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("ocid-prefix"));
}

/// A `commons serve` process on a free port, killed when dropped.
struct Server {
    child: std::process::Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(data_dir: &std::path::Path, demo: bool) -> Server {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_commons"))
        .args(["serve", "--listen", "127.0.0.1:0", "--demo"])
        .arg(demo.to_string())
        .env_remove("DATABASE_URL")
        .env_remove("MEILI_URL")
        .env("COMMONS_DATA_DIR", data_dir)
        .env("COMMONS_JWT_SECRET", "cli-test-secret")
        .env("NO_COLOR", "1")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start commons serve");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("commons serve exited before serving")
            .expect("read log");
        if let Some(rest) = line.split(" GraphQL at ").nth(1) {
            let url = rest.split("/graphql").next().expect("url").to_owned();
            break url;
        }
    };
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server { child, url }
}

#[test]
fn mirror_copies_an_upstream_resumes_after_sigkill_and_refuses_bad_urls() {
    let upstream_dir = tempfile::tempdir().expect("tempdir");
    let upstream = serve(upstream_dir.path(), true);
    let dir = tempfile::tempdir().expect("tempdir");

    let bad = commons(&["mirror", "--from", "not a url"], dir.path());
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--from"));

    // Killed while following: the next run picks up where the last committed batch ended.
    let mut follower = Command::new(env!("CARGO_BIN_EXE_commons"))
        .args([
            "mirror",
            "--from",
            &upstream.url,
            "--interval",
            "50ms",
            "--quiet",
        ])
        .env_remove("DATABASE_URL")
        .env("COMMONS_DATA_DIR", dir.path())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start commons mirror");
    std::thread::sleep(std::time::Duration::from_millis(700));
    follower.kill().expect("SIGKILL the mirror");
    follower.wait().expect("reap");

    let once = commons(&["mirror", "--from", &upstream.url, "--quiet"], dir.path());
    let log = String::from_utf8_lossy(&once.stderr);
    assert!(once.status.success(), "{log}");
    assert!(log.contains("mirror up to date"), "{log}");
    let again = commons(
        &["mirror", "--from", &upstream.url, "--once", "--quiet"],
        dir.path(),
    );
    let log = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{log}");
    assert!(log.contains("changes=0"), "nothing new upstream: {log}");

    // The mirror holds the upstream's tender results: its OCDS export has all 18.
    let export = commons(&["export", "ocds"], dir.path());
    assert!(export.status.success());
    let package: serde_json::Value = serde_json::from_slice(&export.stdout).expect("json");
    assert_eq!(package["releases"].as_array().map(Vec::len), Some(18));
}

#[test]
fn synthetic_seed_is_deterministic_and_indexed() {
    let releases = |dir: &std::path::Path, seed: &str| {
        let seeded = commons(
            &["seed", "--synthetic", "300", "--seed", seed, "--quiet"],
            dir,
        );
        assert!(
            seeded.status.success(),
            "{}",
            String::from_utf8_lossy(&seeded.stderr)
        );
        assert!(String::from_utf8_lossy(&seeded.stderr).contains("indexed=300"));
        let export = commons(&["export", "ocds"], dir);
        let package: serde_json::Value = serde_json::from_slice(&export.stdout).expect("json");
        package["releases"].clone()
    };
    let (a, b, c) = (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    );
    let first = releases(a.path(), "7");
    assert_eq!(
        first.as_array().map(Vec::len),
        Some(6),
        "one result per 50 clauses"
    );
    assert_eq!(releases(b.path(), "7"), first, "same seed, same catalogue");
    assert_ne!(
        releases(c.path(), "8"),
        first,
        "another seed, another catalogue"
    );
    let again = commons(&["seed", "--synthetic", "10", "--quiet"], a.path());
    assert!(!again.status.success(), "seeded twice into one database");
    let neither = commons(&["seed"], a.path());
    assert!(!neither.status.success());
}

/// A GraphQL POST over a plain socket (the CLI tests need no HTTP client crate).
fn graphql(url: &str, query: &str) -> serde_json::Value {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://");
    let body = serde_json::json!({ "query": query }).to_string();
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    let json = answer.split("\r\n\r\n").nth(1).expect("body");
    serde_json::from_str(json).expect("json answer")
}

#[test]
fn import_checks_the_whole_file_first_then_publishes_it_in_batches() {
    let dir = tempfile::tempdir().expect("tempdir");
    let seeded = commons(&["seed", "--synthetic", "10", "--quiet"], dir.path());
    assert!(seeded.status.success());
    let server = serve(dir.path(), false);
    let files = tempfile::tempdir().expect("tempdir");
    let file = files.path().join("library.ndjson");
    let written = commons(
        &[
            "seed",
            "--synthetic",
            "25",
            "--import-file",
            file.to_str().expect("utf-8 path"),
        ],
        files.path(),
    );
    assert!(written.status.success());
    let lines = std::fs::read_to_string(&file).expect("import file");
    assert_eq!(lines.lines().count(), 25);

    let orgs = graphql(
        &server.url,
        "{ organizations(first: 1) { edges { node { id } } } }",
    );
    let org = orgs["data"]["organizations"]["edges"][0]["node"]["id"]
        .as_str()
        .expect("an organisation")
        .to_owned();
    let token = stdout(&commons(
        &["token", "--org", &org, "--role", "publisher"],
        dir.path(),
    ));
    let count = || {
        graphql(&server.url, "{ clauses(first: 1) { totalCount } }")["data"]["clauses"]["totalCount"]
            .as_i64()
            .expect("count")
    };

    let import = |file: &std::path::Path, token: &str| {
        let path = file.to_str().expect("utf-8 path");
        let args = [
            "import",
            path,
            "--to",
            &server.url,
            "--token",
            token,
            "--batch",
            "10",
        ];
        let output = commons(&args, dir.path());
        let log = String::from_utf8_lossy(&output.stderr).into_owned();
        (output.status.success(), log)
    };

    // One bad line anywhere: refused before the first batch is sent.
    let mut bad: Vec<String> = lines.lines().map(str::to_owned).collect();
    bad[21] = bad[21].replacen("\"cpvCodes\":[\"", "\"cpvCodes\":[\"0", 1);
    let bad_file = files.path().join("bad.ndjson");
    std::fs::write(&bad_file, bad.join("\n")).expect("write");
    let (ok, log) = import(&bad_file, token.trim());
    assert!(!ok);
    assert!(log.contains("line 22.cpvCodes[0]"), "{log}");
    assert_eq!(count(), 10, "nothing was imported");

    let (ok, log) = import(&file, token.trim());
    assert!(ok, "{log}");
    assert!(log.contains("imported=25"), "{log}");
    assert_eq!(count(), 35);

    // A refused token is reported with the server's reason; with two batches in flight
    // (the default), nothing is sent after the second.
    let (ok, log) = import(&file, "nope");
    assert!(!ok);
    assert!(
        log.contains("0 of 25 clauses were imported")
            && log.contains("clauses 1–10 (401")
            && log.contains("nothing after clause 20 was sent"),
        "{log}"
    );
    assert_eq!(count(), 35);
}

/// `commons anonymise`: what the current anonymiser finds in material published before it
/// (here: planted straight into the database, as an older recogniser would have let it
/// through) is listed by `--check` (exit code 1) and mended by `--apply`.
#[test]
fn anonymise_checks_and_mends_what_is_already_published() {
    let dir = tempfile::tempdir().expect("tempdir");
    let seed = commons(&["seed", "--demo"], dir.path());
    assert!(
        seed.status.success(),
        "{}",
        String::from_utf8_lossy(&seed.stderr)
    );
    let clean = commons(&["anonymise", "--check", "--quiet"], dir.path());
    assert!(clean.status.success(), "{}", stdout(&clean));
    assert!(
        stdout(&clean).trim_end().ends_with("0 affected"),
        "{}",
        stdout(&clean)
    );
    let refused = commons(&["anonymise"], dir.path());
    assert!(
        !refused.status.success(),
        "neither --check nor --apply was refused"
    );

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let clause: String = runtime.block_on(async {
        use sea_orm::{ConnectionTrait, Database, Statement};
        let url = format!("sqlite://{}/commons.db", dir.path().display());
        let db = Database::connect(&url).await.expect("database");
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT clause_id FROM clause_version WHERE version = 1 ORDER BY clause_id LIMIT 1",
            ))
            .await
            .expect("query")
            .expect("a published clause");
        let id: uuid::Uuid = row.try_get("", "clause_id").expect("id");
        let planted = db
            .execute_raw(Statement::from_sql_and_values(
                db.get_database_backend(),
                "UPDATE clause_version SET text = text || $1 WHERE clause_id = $2 AND version = 1",
                [
                    " Frågor besvaras av miljösamordnare Gunilla Åkesson, tel. 070-123 45 67."
                        .into(),
                    id.into(),
                ],
            ))
            .await
            .expect("plant");
        assert_eq!(planted.rows_affected(), 1);
        id.to_string()
    });

    let check = commons(&["anonymise", "--check", "--json", "--quiet"], dir.path());
    assert_eq!(check.status.code(), Some(1), "{}", stdout(&check));
    let report: serde_json::Value = serde_json::from_str(&stdout(&check)).expect("JSON report");
    assert_eq!(report["applied"], false);
    let affected = report["affected"].as_array().expect("affected");
    assert_eq!(affected.len(), 1, "{report}");
    assert_eq!(affected[0]["id"], clause.as_str());
    assert_eq!(affected[0]["fields"][0]["field"], "text");
    assert_eq!(
        affected[0]["fields"][0]["kinds"],
        serde_json::json!(["CONTACT_NAME", "PHONE"])
    );
    assert!(
        !stdout(&check).contains("Åkesson"),
        "the report holds the text"
    );

    let apply = commons(&["anonymise", "--apply", "--quiet"], dir.path());
    assert!(
        apply.status.success(),
        "{}",
        String::from_utf8_lossy(&apply.stderr)
    );
    assert!(
        stdout(&apply).contains(&format!("{clause} published anonymised version 2")),
        "{}",
        stdout(&apply)
    );
    let again = commons(&["anonymise", "--check", "--quiet"], dir.path());
    assert!(again.status.success(), "{}", stdout(&again));
}

/// Start-up failures say what is wrong in words: a data folder another server uses, a port
/// that is taken, a database that cannot be reached (within seconds, with its host).
#[test]
fn start_up_errors_name_the_folder_the_port_and_the_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = serve(dir.path(), false);
    let second = commons(
        &["serve", "--listen", "127.0.0.1:0", "--no-demo"],
        dir.path(),
    );
    assert!(!second.status.success());
    let stderr = String::from_utf8_lossy(&second.stderr).into_owned();
    assert!(
        stderr.contains("is in use by another running commons server")
            && stderr.contains(&dir.path().display().to_string()),
        "{stderr}"
    );
    assert!(!stderr.contains("LockBusy"), "{stderr}");

    let port = running.url.rsplit(':').next().expect("port").to_owned();
    let other = tempfile::tempdir().expect("tempdir");
    let taken = commons(
        &[
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--no-demo",
        ],
        other.path(),
    );
    assert!(!taken.status.success());
    let stderr = String::from_utf8_lossy(&taken.stderr).into_owned();
    assert!(
        stderr.contains(&format!("port {port} is taken")),
        "{stderr}"
    );

    // Nothing listens on port 1 of the loopback: refused at once, named, well within 5 s.
    let started = std::time::Instant::now();
    let unreachable = commons(
        &[
            "serve",
            "--no-demo",
            "--database-url",
            "postgres://postgres@127.0.0.1:1/commons",
        ],
        other.path(),
    );
    assert!(!unreachable.status.success());
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    let stderr = String::from_utf8_lossy(&unreachable.stderr).into_owned();
    assert!(
        stderr.contains("cannot reach the database at 127.0.0.1:1"),
        "{stderr}"
    );
}
