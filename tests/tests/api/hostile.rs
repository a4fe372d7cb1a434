//! A hostile input corpus: malformed, oversized and pathological requests over real HTTP.
//!
//! Every request must be answered with a clear 4xx, or with GraphQL errors that all carry an
//! `extensions.code` other than `INTERNAL`: never a 5xx, never a panic, never a request that
//! holds the server for long. The server must still answer afterwards, and the process (the
//! server runs inside the test) must not grow without bound. `limits.rs` covers the
//! configured limits one by one; this file throws what an attacker or a broken client would.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use reqwest::{
    RequestBuilder,
    header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue},
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::*;

/// The default `--max-body-bytes`.
const BODY_LIMIT: usize = 256 * 1024;
/// No single hostile request may hold the server longer than this (generous: the slowest
/// case takes well under a second in a debug build).
const CASE_TIME: Duration = Duration::from_secs(5);
/// How much the process may grow over a corpus (the server keeps no per-request state, so
/// anything near this is a leak or an unbounded buffer).
const RSS_GROWTH_KIB: u64 = 300 * 1024;

/// What a case must be answered with. Whatever it is, the general checks apply too: no 5xx,
/// and every GraphQL error has a code that is not `INTERNAL`.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// This HTTP status.
    Status(u16),
    /// This HTTP status, and this code on the first GraphQL error.
    Error(u16, &'static str),
    /// 200 with `BAD_USER_INPUT` on the first error, naming this input field.
    Field(&'static str),
    /// 200 with data and no errors: hostile-looking but legal, and bounded by the limits.
    Data,
    /// Only the general checks: the GraphQL library's leniency, not ours to pin.
    Handled,
}

enum Outgoing {
    Http(Box<RequestBuilder>),
    /// Bytes sent as they are, for what reqwest will not send (chunked bodies, NUL bytes in
    /// headers, contradicting lengths).
    Raw(Vec<u8>),
}

struct Case {
    name: &'static str,
    outgoing: Outgoing,
    expect: Expect,
}

fn case(name: &'static str, request: RequestBuilder, expect: Expect) -> Case {
    Case {
        name,
        outgoing: Outgoing::Http(Box::new(request)),
        expect,
    }
}

fn raw(name: &'static str, bytes: Vec<u8>, expect: Expect) -> Case {
    Case {
        name,
        outgoing: Outgoing::Raw(bytes),
        expect,
    }
}

/// The test process's resident set in KiB (`None` where there is no `/proc`).
fn rss_kib() -> Option<u64> {
    proc_status_kib("VmRSS:")
}

/// The test process's peak resident set in KiB.
fn peak_rss_kib() -> Option<u64> {
    proc_status_kib("VmHWM:")
}

fn proc_status_kib(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(key))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()
}

/// `count` aliases of `field` in one query.
fn aliases(count: usize, field: &str) -> String {
    let fields: Vec<String> = (0..count).map(|i| format!("a{i}: {field}")).collect();
    format!("{{ {} }}", fields.join(" "))
}

/// A fragment bomb: `F0` spreads `F1` twice, `F1` spreads `F2` twice, and so on, so `root`
/// (which spreads `F0`) expands to 2^levels copies of `leaf` from some 40 bytes a level.
fn fragment_bomb(levels: usize, on: &str, root: &str, leaf: &str) -> String {
    let mut query = format!("query {root}");
    for i in 0..levels {
        let next = i + 1;
        query.push_str(&format!(
            " fragment F{i} on {on} {{ ...F{next} ...F{next} }}"
        ));
    }
    query.push_str(&format!(" fragment F{levels} on {on} {{ {leaf} }}"));
    query
}

/// `levels` nested `derivedFrom { clause { … } }` selections.
fn nested(levels: usize) -> String {
    format!(
        "{{ clauses(first: 1) {{ edges {{ node {{ {}id{} }} }} }} }}",
        "derivedFrom { clause { ".repeat(levels),
        " } }".repeat(levels)
    )
}

/// A raw HTTP/1.1 POST to /graphql with the given extra header lines and body.
fn raw_post(addr: SocketAddr, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\n{headers}\r\n"
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

/// A raw HTTP/1.1 POST of a JSON body, with a bearer token if given.
fn raw_json(addr: SocketAddr, token: Option<&str>, body: &Value) -> Vec<u8> {
    let body = body.to_string();
    let auth = token.map_or_else(String::new, |token| {
        format!("Authorization: Bearer {token}\r\n")
    });
    raw_post(
        addr,
        &format!("{auth}Content-Length: {}\r\n", body.len()),
        body.as_bytes(),
    )
}

/// A raw HTTP/1.1 GET of `target`.
fn raw_get(addr: SocketAddr, target: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").into_bytes()
}

/// A body in HTTP/1.1 chunked encoding, without a `Content-Length` to check up front.
fn chunked(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in body.chunks(16 * 1024) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// Sends raw bytes and returns the response's status.
async fn raw_status(addr: SocketAddr, request: Vec<u8>) -> Result<u16, String> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let (mut reader, mut writer) = stream.into_split();
    // Write while reading: the server may answer (and close) before the body is through,
    // and then the rest of the write fails, which is fine.
    let writing = tokio::spawn(async move {
        let _ = writer.write_all(&request).await;
        writer
    });
    let mut head = Vec::new();
    let mut buffer = [0_u8; 1024];
    while !head.windows(2).any(|w| w == b"\r\n") {
        let n = reader
            .read(&mut buffer)
            .await
            .map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err(format!(
                "connection closed without a response: {:?}",
                String::from_utf8_lossy(&head)
            ));
        }
        head.extend_from_slice(&buffer[..n]);
    }
    writing.abort();
    let line = String::from_utf8_lossy(&head);
    line.split(' ')
        .nth(1)
        .and_then(|status| status.parse().ok())
        .ok_or_else(|| format!("not an HTTP response: {line:?}"))
}

/// Sends a case and returns its status and (JSON) body.
async fn send(addr: SocketAddr, outgoing: Outgoing) -> Result<(u16, Option<Value>), String> {
    match outgoing {
        Outgoing::Http(request) => {
            let response = request.send().await.map_err(|e| format!("send: {e:?}"))?;
            let status = response.status().as_u16();
            let bytes = response.bytes().await.map_err(|e| format!("body: {e}"))?;
            Ok((status, serde_json::from_slice(&bytes).ok()))
        }
        Outgoing::Raw(bytes) => {
            let status = tokio::time::timeout(CASE_TIME * 2, raw_status(addr, bytes))
                .await
                .map_err(|_| "no response".to_owned())??;
            Ok((status, None))
        }
    }
}

fn first_code(body: Option<&Value>) -> Option<&str> {
    body?["errors"][0]["extensions"]["code"].as_str()
}

/// Checks one answer against its expectation and the rules every answer follows.
fn check(expect: Expect, status: u16, body: Option<&Value>) -> Result<(), String> {
    let shown = || body.map_or_else(|| "<not JSON>".to_owned(), truncated);
    if status >= 500 {
        return Err(format!("server error {status}: {}", shown()));
    }
    let errors = body
        .and_then(|b| b.get("errors"))
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    for error in errors {
        match error["extensions"]["code"].as_str() {
            None => return Err(format!("an error without a code: {error}")),
            Some("INTERNAL") => return Err(format!("an internal error: {error}")),
            Some(_) => {}
        }
    }
    let ok = match expect {
        Expect::Status(expected) => status == expected,
        Expect::Error(expected, code) => status == expected && first_code(body) == Some(code),
        Expect::Field(field) => {
            status == 200
                && first_code(body) == Some("BAD_USER_INPUT")
                && body.and_then(|b| b["errors"][0]["extensions"]["field"].as_str()) == Some(field)
        }
        Expect::Data => {
            status == 200 && errors.is_empty() && body.is_some_and(|b| b["data"].is_object())
        }
        Expect::Handled => true,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("expected {expect:?}, got {status}: {}", shown()))
    }
}

fn truncated(body: &Value) -> String {
    let text = body.to_string();
    match text.char_indices().nth(400) {
        Some((end, _)) => format!("{}… ({} bytes)", &text[..end], text.len()),
        None => text,
    }
}

/// Runs the cases one after another; returns a failure line for each case that failed.
#[expect(
    clippy::print_stderr,
    reason = "the observed answers are the test's report"
)]
async fn run(addr: SocketAddr, cases: Vec<Case>) -> Vec<String> {
    let mut failures = Vec::new();
    for Case {
        name,
        outgoing,
        expect,
    } in cases
    {
        let started = Instant::now();
        let outcome = send(addr, outgoing).await;
        let elapsed = started.elapsed();
        let verdict = match &outcome {
            Ok((status, body)) => check(expect, *status, body.as_ref()).and_then(|()| {
                if elapsed > CASE_TIME {
                    Err(format!("took {elapsed:?}"))
                } else {
                    Ok(())
                }
            }),
            Err(error) => Err(error.clone()),
        };
        let (status, code) = match &outcome {
            Ok((status, body)) => (
                status.to_string(),
                first_code(body.as_ref()).unwrap_or("-").to_owned(),
            ),
            Err(_) => ("---".to_owned(), "-".to_owned()),
        };
        let rss = rss_kib().map_or_else(|| "?".to_owned(), |kib| (kib / 1024).to_string());
        eprintln!(
            "{name:<58} {status} {code:<16} {:>6} ms {rss:>5} MiB{}",
            elapsed.as_millis(),
            if verdict.is_err() { "  FAILED" } else { "" }
        );
        if let Err(why) = verdict {
            let why: String = why.chars().take(600).collect();
            failures.push(format!("{name}: {why}"));
        }
    }
    failures
}

/// The corpus against a server with the default limits.
fn corpus(app: &TestApp, publisher_token: &str) -> Vec<Case> {
    let graphql = app.url("/graphql");
    let gql = |query: &str, variables: Value| {
        app.client
            .post(&graphql)
            .json(&json!({ "query": query, "variables": variables }))
    };
    let json_body = |body: &Value| app.client.post(&graphql).json(body);
    let bytes = |content_type: Option<&str>, body: Vec<u8>| {
        let request = app.client.post(&graphql).body(body);
        match content_type {
            Some(content_type) => request.header(CONTENT_TYPE, content_type),
            None => request,
        }
    };
    let json_text = |body: &str| bytes(Some("application/json"), body.as_bytes().to_vec());
    let get = |pairs: &[(&str, &str)]| app.client.get(&graphql).query(pairs);
    let get_raw = |query_string: &str| app.client.get(format!("{graphql}?{query_string}"));
    let viewer = "{ viewer { authenticated } }";
    let with_auth = |value: HeaderValue| gql(viewer, json!({})).header(AUTHORIZATION, value);
    let authed = |query: &str, variables: Value| gql(query, variables).bearer_auth(publisher_token);

    let big = "x".repeat(200_000);
    let search = "query($q: String!) { searchClauses(query: $q) { totalCount } }";
    let mut long_title = clause_input("Long title");
    long_title["title"] = json!(big);
    let mut long_text = clause_input("Long text");
    long_text["text"] = json!(big);
    let mut many_codes = clause_input("Many CPV codes");
    many_codes["cpvCodes"] = json!(vec!["30213100-6"; 100_000]);
    let mut numeric_codes = clause_input("Numeric CPV codes");
    numeric_codes["cpvCodes"] = json!(vec![0; 100_000]);
    let mut numeric_title = clause_input("Numeric title");
    numeric_title["title"] = json!(42);
    let mutation_two_ops = "query A { __typename } mutation B { setAnonymisationDenyList(input: { terms: [] }) { terms } }";
    let b64 = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
    let claims = b64(
        &json!({ "sub": "x", "iss": "green-procurement-commons", "aud": "commons-api", "exp": 4_000_000_000_u64 }),
    );
    let huge_jwt_header = format!(
        "{}.{claims}.c2ln",
        b64(&json!({ "alg": "HS256", "pad": "a".repeat(60_000) }))
    );
    let deep_jwt_header = format!(
        "{}.{claims}.c2ln",
        URL_SAFE_NO_PAD.encode(format!(
            "{{\"alg\":\"HS256\",\"x\":{}{}}}",
            "[".repeat(5_000),
            "]".repeat(5_000)
        ))
    );
    let bearer = |token: &str| HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
    let just_fits = {
        let head = r#"{"query":"{ __typename }"}"#;
        let mut body = head[..head.len() - 1].to_owned();
        body.push_str(&" ".repeat(BODY_LIMIT - head.len()));
        body.push('}');
        body
    };
    let one_too_many = format!("{just_fits} ");
    let addr = app.addr;

    vec![
        // Deep nesting, alias, fragment and directive bombs.
        case(
            "200-level nested selection",
            gql(&nested(200), json!({})),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        case(
            "20,000 nested braces",
            gql(&format!("{}{}", "{".repeat(20_000), "}".repeat(20_000)), json!({})),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        case(
            "20,000-level nested list literal argument",
            gql(
                &format!(
                    "{{ clause(id: {}\"x\"{}) {{ id }} }}",
                    "[".repeat(20_000),
                    "]".repeat(20_000)
                ),
                json!({}),
            ),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        case(
            "100,000-level nested JSON variable",
            json_text(&format!(
                r#"{{"query":"{{ __typename }}","variables":{{"x":{}{}}}}}"#,
                "[".repeat(100_000),
                "]".repeat(100_000)
            )),
            Expect::Status(400),
        ),
        case(
            "4,000 aliases of searchClauses",
            gql(
                &aliases(4_000, "searchClauses(query: \"take-back\") { totalCount }"),
                json!({}),
            ),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        case(
            "5,000 aliases of clauses(first: 0)",
            gql(&aliases(5_000, "clauses(first: 0) { totalCount }"), json!({})),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        case(
            "2,000 aliases of __schema",
            gql(&aliases(2_000, "__schema { types { name fields { name } } }"), json!({})),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        // The complexity budget (2000) is what bounds an alias bomb: 199 searches at 10 each
        // just fit, and are cheap enough.
        case(
            "199 aliases of searchClauses(first: 0), within budget",
            gql(
                &aliases(199, "searchClauses(query: \"take-back\", first: 0) { totalCount }"),
                json!({}),
            ),
            Expect::Data,
        ),
        // `__typename` costs nothing in async-graphql's complexity; the selection cap of the
        // document guard counts it.
        case(
            "13,000 aliases of __typename",
            gql(&aliases(13_000, "__typename"), json!({})),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        // Each representation is its own lookup, which complexity does not count; the
        // document guard caps them at 1,000.
        case(
            "_entities with 2,000 representations",
            gql(
                "query($r: [_Any!]!) { _entities(representations: $r) { ... on Organization { id } } }",
                json!({ "r": (0..2_000).map(|i| json!({ "__typename": "Organization", "id": format!("01a23307-da94-7008-b0dd-{i:012}") })).collect::<Vec<_>>() }),
            ),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        // 100,000 representations cost 250 MB: `entity_representations_…` below.
        case(
            "_entities with 5,000 non-object representations",
            gql(
                "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }",
                json!({ "r": vec![0; 5_000] }),
            ),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        // Small enough to be cheap even unfixed; the big ones are `fragment_bombs_…` below.
        case(
            "fragment bomb of 2^10 viewer selections",
            gql(
                &fragment_bomb(10, "Query", "{ ...F0 }", "viewer { authenticated }"),
                json!({}),
            ),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        case(
            "cyclic fragments A -> B -> A",
            gql(
                "query { ...A } fragment A on Query { viewer { authenticated } ...B } fragment B on Query { ...A }",
                json!({}),
            ),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        case(
            "fragment spreading itself",
            gql(
                "query { ...A } fragment A on Query { __typename ...A }",
                json!({}),
            ),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        case(
            "unknown fragment",
            gql("{ ...Nope }", json!({})),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        case(
            "5,000 unused fragments",
            gql(
                &format!(
                    "{{ __typename }} {}",
                    (0..5_000)
                        .map(|i| format!("fragment F{i} on Query {{ __typename }}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                json!({}),
            ),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        case(
            "15,000 @skip directives on one field",
            gql(
                &format!(
                    "{{ viewer {{ authenticated {}}} }}",
                    "@skip(if: false) ".repeat(15_000)
                ),
                json!({}),
            ),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        case(
            "30,000 unknown directives on one field",
            gql(
                &format!("{{ viewer {{ authenticated {}}} }}", "@nope ".repeat(30_000)),
                json!({}),
            ),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        case(
            "5,000 aliased fields with a directive each",
            gql(
                &format!(
                    "{{ viewer {{ {} }} }}",
                    (0..5_000)
                        .map(|i| format!("a{i}: authenticated @include(if: true)"))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                json!({}),
            ),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        // async-graphql does not validate directives (or arguments) on `__typename`.
        case(
            "15,000 directives on __typename",
            gql(
                &format!("{{ __typename {}}}", "@skip(if: false) ".repeat(15_000)),
                json!({}),
            ),
            Expect::Handled,
        ),
        case(
            "10,000 unused variables",
            gql(
                &format!(
                    "query({}) {{ __typename }}",
                    (0..10_000)
                        .map(|i| format!("$v{i}: Int"))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                json!({}),
            ),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        case(
            "10,000 repeated arguments",
            gql(
                &format!(
                    "{{ clauses({}) {{ totalCount }} }}",
                    (0..10_000)
                        .map(|i| format!("first: {i}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                json!({}),
            ),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        // Huge strings and lists.
        // Bodies over the limit go raw: the server answers 413 and closes while the client
        // is still writing, which reqwest reports as a broken pipe instead of the answer.
        raw(
            "10 MB query string",
            raw_json(
                addr,
                None,
                &json!({ "query": format!("{{ __typename }} #{}", "x".repeat(10_000_000)) }),
            ),
            Expect::Status(413),
        ),
        case(
            "200 kB searchClauses(query:) variable",
            gql(search, json!({ "q": big })),
            Expect::Field("query"),
        ),
        case(
            "200 kB searchTemplates(query:) variable",
            gql(
                "query($q: String!) { searchTemplates(query: $q) { totalCount } }",
                json!({ "q": big }),
            ),
            Expect::Field("query"),
        ),
        case(
            "200 kB search string inline in the query",
            gql(
                &format!("{{ searchClauses(query: \"{big}\") {{ totalCount }} }}"),
                json!({}),
            ),
            Expect::Field("query"),
        ),
        case(
            "200 kB clause title (publisher)",
            authed(CREATE_CLAUSE, json!({ "input": long_title })),
            Expect::Field("input.title"),
        ),
        case(
            "200 kB clause text (publisher)",
            authed(CREATE_CLAUSE, json!({ "input": long_text })),
            Expect::Field("input.text"),
        ),
        case(
            "200 kB previewAnonymisation text (publisher)",
            authed(
                "query($t: String!) { previewAnonymisation(text: $t, language: SV) { field } }",
                json!({ "t": big }),
            ),
            Expect::Field("text"),
        ),
        case(
            "200 kB clause id",
            gql(
                "query($id: ID!) { clause(id: $id) { id } }",
                json!({ "id": big }),
            ),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        case(
            "200 kB after cursor",
            gql(
                "query($after: String) { clauses(first: 1, after: $after) { totalCount } }",
                json!({ "after": big }),
            ),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        case(
            "200 kB operationName",
            json_body(&json!({ "query": "query A { __typename }", "operationName": big })),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        raw(
            "100,000 CPV codes (1.3 MB)",
            raw_json(
                addr,
                Some(publisher_token),
                &json!({ "query": CREATE_CLAUSE, "variables": { "input": many_codes } }),
            ),
            Expect::Status(413),
        ),
        case(
            "100,000 numbers as CPV codes",
            authed(CREATE_CLAUSE, json!({ "input": numeric_codes })),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        // 50,000 countries cost 80 MB: `search_filter_lists_…` below.
        case(
            "search filter of 1,000 countries",
            gql(
                "query($f: ClauseSearchFilter) { searchClauses(filter: $f) { totalCount } }",
                json!({ "f": { "country": vec!["SE"; 1_000] } }),
            ),
            Expect::Data,
        ),
        // Numbers where strings belong, and numbers out of range.
        case(
            "number as a clause title",
            authed(CREATE_CLAUSE, json!({ "input": numeric_title })),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        case(
            "number as the search string",
            gql(search, json!({ "q": 42 })),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        case(
            "string as first",
            gql(
                "query($n: Int) { clauses(first: $n) { totalCount } }",
                json!({ "n": "10" }),
            ),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        case(
            "first beyond i32",
            gql("{ clauses(first: 99999999999) { totalCount } }", json!({})),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        case(
            "first as 1e300",
            json_text(
                r#"{"query":"query($n: Int) { clauses(first: $n) { totalCount } }","variables":{"n":1e300}}"#,
            ),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        case("number as query", json_text(r#"{"query":42}"#), Expect::Status(400)),
        case(
            "number as variables",
            json_text(r#"{"query":"{ __typename }","variables":42}"#),
            Expect::Status(400),
        ),
        case(
            "string as variables",
            json_text(r#"{"query":"{ __typename }","variables":"{\"a\":1}"}"#),
            Expect::Status(400),
        ),
        case(
            "number as operationName",
            json_text(r#"{"query":"{ __typename }","operationName":42}"#),
            Expect::Status(400),
        ),
        // Bodies that are not a GraphQL request.
        case(
            "invalid UTF-8 body",
            bytes(
                Some("application/json"),
                b"{\"query\":\"{ __typename \xff\xfe }\"}".to_vec(),
            ),
            Expect::Status(400),
        ),
        case(
            "UTF-16 body",
            bytes(
                Some("application/json"),
                "{\"query\":\"{ __typename }\"}"
                    .encode_utf16()
                    .flat_map(u16::to_le_bytes)
                    .collect(),
            ),
            Expect::Status(400),
        ),
        case(
            "every byte value as a body",
            bytes(Some("application/json"), (0..=255_u8).cycle().take(2_560).collect()),
            Expect::Status(400),
        ),
        case(
            "lone surrogate escape",
            json_text(r#"{"query":"query($q: String!) { searchClauses(query: $q) { totalCount } }","variables":{"q":"\ud800"}}"#),
            Expect::Status(400),
        ),
        case(
            "NUL in the query",
            gql("{ __typename \u{0} }", json!({})),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        // GraphQL over HTTP: a POST carries application/json; a body of another or of no
        // declared type is refused (this also keeps cross-site "simple" requests out).
        case(
            "text/plain with a JSON body",
            bytes(Some("text/plain"), br#"{"query":"{ __typename }"}"#.to_vec()),
            Expect::Error(415, "BAD_USER_INPUT"),
        ),
        case(
            "no content type",
            bytes(None, br#"{"query":"{ __typename }"}"#.to_vec()),
            Expect::Error(415, "BAD_USER_INPUT"),
        ),
        case(
            "application/graphql body",
            bytes(Some("application/graphql"), b"{ __typename }".to_vec()),
            Expect::Status(400),
        ),
        case(
            "form-urlencoded",
            bytes(
                Some("application/x-www-form-urlencoded"),
                b"query=%7B__typename%7D".to_vec(),
            ),
            Expect::Status(400),
        ),
        case(
            "multipart without a boundary",
            bytes(Some("multipart/form-data"), b"garbage".to_vec()),
            Expect::Status(400),
        ),
        case(
            "multipart cut short",
            bytes(
                Some("multipart/form-data; boundary=X"),
                b"--X\r\ngarbage\r\n--X".to_vec(),
            ),
            Expect::Status(400),
        ),
        case(
            "multipart operations not JSON",
            bytes(
                Some("multipart/form-data; boundary=X"),
                b"--X\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\nnot json\r\n--X--\r\n".to_vec(),
            ),
            Expect::Status(400),
        ),
        case(
            "multipart map naming a missing file",
            bytes(
                Some("multipart/form-data; boundary=X"),
                b"--X\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{\"query\":\"{ __typename }\"}\r\n--X\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{\"0\":[\"variables.file\"]}\r\n--X--\r\n".to_vec(),
            ),
            Expect::Status(400),
        ),
        case(
            "empty body",
            bytes(Some("application/json"), Vec::new()),
            Expect::Status(400),
        ),
        case(
            "truncated JSON",
            json_text(r#"{"query":"{ __typen"#),
            Expect::Status(400),
        ),
        case(
            "trailing garbage",
            json_text(r#"{"query":"{ __typename }"} garbage"#),
            Expect::Status(400),
        ),
        case(
            "duplicate query key",
            json_text(r#"{"query":"{ __typename }","query":"{ viewer { authenticated } }"}"#),
            Expect::Status(400),
        ),
        case("array of numbers", json_text("[1, 2, 3]"), Expect::Status(400)),
        case("null", json_text("null"), Expect::Status(400)),
        case("a bare string", json_text(r#""{ __typename }""#), Expect::Status(400)),
        // serde reads a JSON array into the request struct field by field, so `[]` is an
        // empty request and `["{ __typename }"]` a query: odd, but still a single operation.
        case("empty array", json_text("[]"), Expect::Handled),
        case(
            "array of one string",
            json_text(r#"["{ __typename }"]"#),
            Expect::Handled,
        ),
        case(
            "body of exactly the limit",
            json_text(&just_fits),
            Expect::Data,
        ),
        raw(
            "body one byte over the limit",
            raw_post(
                addr,
                &format!("Content-Length: {}\r\n", one_too_many.len()),
                one_too_many.as_bytes(),
            ),
            Expect::Status(413),
        ),
        // A chunked body has no Content-Length to check up front: it is cut off while it is
        // read, and that read error is answered 413 like any body past the limit.
        raw(
            "chunked body over the limit",
            {
                let mut request = format!(
                    "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
                     Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                )
                .into_bytes();
                let body = format!(
                    r#"{{"query":"{{ __typename }}"{}}}"#,
                    " ".repeat(BODY_LIMIT + 40_000)
                );
                request.extend_from_slice(&chunked(body.as_bytes()));
                request
            },
            Expect::Status(413),
        ),
        raw(
            "Content-Length of a terabyte",
            raw_post(addr, "Content-Length: 1000000000000\r\n", b"{}"),
            Expect::Status(413),
        ),
        // hyper follows RFC 9112 here: Transfer-Encoding wins and the length is ignored.
        raw(
            "Content-Length and Transfer-Encoding together",
            raw_post(
                addr,
                "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
                &chunked(br#"{"query":"{ __typename }"}"#),
            ),
            Expect::Handled,
        ),
        // Batches: async-graphql batching is off, so any array of requests is refused and a
        // batch cannot multiply the per-request limits.
        case(
            "batch of one",
            json_body(&json!([{ "query": "{ __typename }" }])),
            Expect::Status(400),
        ),
        case(
            "batch of 1,000",
            json_body(&json!(vec![json!({ "query": "{ __typename }" }); 1_000])),
            Expect::Status(400),
        ),
        case(
            "batch of 1,000 expensive searches",
            json_body(&json!(vec![
                json!({ "query": "{ searchClauses(query: \"take-back\", first: 100) { totalCount edges { node { clause { id } } } } }" });
                1_000
            ])),
            Expect::Status(400),
        ),
        case(
            "batch mixing a request and a number",
            json_body(&json!([{ "query": "{ __typename }" }, 1])),
            Expect::Status(400),
        ),
        // Operations that do not exist or cannot be chosen.
        case(
            "unknown operationName",
            json_body(&json!({ "query": "query A { __typename }", "operationName": "B" })),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        case(
            "two anonymous operations",
            gql("{ __typename } { viewer { authenticated } }", json!({})),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        case(
            "two named operations, no operationName",
            gql("query A { __typename } query B { __typename }", json!({})),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        case(
            "subscription over POST",
            gql("subscription { catalogueChanges { entityId } }", json!({})),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        case(
            "subscription over GET",
            get(&[("query", "subscription { catalogueChanges { entityId } }")]),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        // async-graphql reads the operation name of a GET from `operation_name`.
        case(
            "GET selecting a mutation by operation_name",
            get(&[("query", mutation_two_ops), ("operation_name", "B")]),
            Expect::Error(405, "BAD_USER_INPUT"),
        ),
        // No operation is selected, so nothing can run: execution refuses the name.
        case(
            "GET mutation with an unknown operation_name",
            get(&[
                ("query", "mutation M { setAnonymisationDenyList(input: { terms: [] }) { terms } }"),
                ("operation_name", "X"),
            ]),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        case(
            "GET with a mutation in a JSON body",
            app.client
                .get(&graphql)
                .json(&json!({ "query": "mutation { setAnonymisationDenyList(input: { terms: [] }) { terms } }" })),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        case(
            "PUT",
            app.client.put(&graphql).json(&json!({ "query": "{ __typename }" })),
            Expect::Status(405),
        ),
        // Absurd query strings (raw: reqwest refuses URIs beyond 64 KiB itself).
        raw(
            "GET with a 100 kB query string",
            raw_get(addr, &format!("/graphql?query={}", "a".repeat(100_000))),
            Expect::Status(414),
        ),
        raw(
            "GET with a 1 MB query string",
            raw_get(addr, &format!("/graphql?query={}", "a".repeat(1_000_000))),
            Expect::Status(431),
        ),
        case(
            "GET with broken percent-encoding",
            get_raw("%ff%fe=%zz&&&query"),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        case(
            "GET with variables that are not JSON",
            get(&[("query", "{ __typename }"), ("variables", "not json")]),
            Expect::Status(400),
        ),
        case(
            "GET with 5,000-level nested variables",
            get(&[
                ("query", "{ __typename }"),
                (
                    "variables",
                    &format!("{{\"a\":{}{}}}", "[".repeat(5_000), "]".repeat(5_000)),
                ),
            ]),
            Expect::Status(400),
        ),
        case(
            "GET with the query twice",
            get(&[("query", "{ __typename }"), ("query", viewer)]),
            Expect::Status(400),
        ),
        case(
            "GET with a 200-level nested selection",
            get(&[("query", &nested(200))]),
            Expect::Error(200, "BAD_USER_INPUT"),
        ),
        // Bad tokens of every shape: 401, never anonymous, never a 5xx.
        case(
            "empty Authorization",
            with_auth(HeaderValue::from_static("")),
            Expect::Error(401, "UNAUTHENTICATED"),
        ),
        case(
            "Authorization: Bearer",
            with_auth(HeaderValue::from_static("Bearer")),
            Expect::Error(401, "UNAUTHENTICATED"),
        ),
        case(
            "Authorization: Bearer and spaces",
            with_auth(HeaderValue::from_static("Bearer    ")),
            Expect::Error(401, "UNAUTHENTICATED"),
        ),
        case(
            "100 kB token",
            with_auth(bearer(&"a".repeat(100_000))),
            Expect::Error(401, "UNAUTHENTICATED"),
        ),
        case(
            "non-ASCII bytes in the token",
            with_auth(HeaderValue::from_bytes(b"Bearer \xc3\xa5\xff\xfe\x80").unwrap()),
            Expect::Error(401, "UNAUTHENTICATED"),
        ),
        case(
            "token of three dots",
            with_auth(bearer("...")),
            Expect::Error(401, "UNAUTHENTICATED"),
        ),
        case(
            "token with a 60 kB JWT header",
            with_auth(bearer(&huge_jwt_header)),
            Expect::Error(401, "UNAUTHENTICATED"),
        ),
        case(
            "token with a 5,000-level nested JWT header",
            with_auth(bearer(&deep_jwt_header)),
            Expect::Error(401, "UNAUTHENTICATED"),
        ),
        case(
            "valid token with a byte appended",
            with_auth(bearer(&format!("{publisher_token}x"))),
            Expect::Error(401, "UNAUTHENTICATED"),
        ),
        case(
            "valid token split by a space",
            with_auth(bearer(&format!(
                "{} {}",
                &publisher_token[..10],
                &publisher_token[10..]
            ))),
            Expect::Error(401, "UNAUTHENTICATED"),
        ),
        case(
            "bad token first, valid token second",
            gql(viewer, json!({}))
                .header(AUTHORIZATION, bearer("not-a-jwt"))
                .header(AUTHORIZATION, bearer(publisher_token)),
            Expect::Error(401, "UNAUTHENTICATED"),
        ),
        case(
            "bad token on a GET",
            get(&[("query", viewer)]).header(AUTHORIZATION, bearer("not-a-jwt")),
            Expect::Error(401, "UNAUTHENTICATED"),
        ),
        // Too large to read as a header: hyper refuses it before we see it (raw, because
        // hyper answers and closes while the client is still writing).
        raw(
            "1 MB token",
            raw_post(
                addr,
                &format!(
                    "Authorization: Bearer {}\r\nContent-Length: 2\r\n",
                    "a".repeat(1_000_000)
                ),
                b"{}",
            ),
            Expect::Status(431),
        ),
        raw(
            "NUL byte in the token",
            raw_post(
                addr,
                "Authorization: Bearer ab\0cd\r\nContent-Length: 2\r\n",
                b"{}",
            ),
            Expect::Status(400),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(clippy::print_stderr, reason = "report the memory the corpus cost")]
async fn hostile_corpus_gets_clear_client_errors() {
    let app = TestApp::spawn(None, Options::default()).await;
    let org = app.org("hostile", "SE").await;
    let publisher_token = publisher(org);
    // Warm up (connection pool, search index, schema) so the baseline is the steady state.
    app.ok(None, "{ __typename clauses(first: 1) { totalCount } searchClauses(query: \"x\") { totalCount } }", json!({}))
        .await;
    // Built up front, so the baseline holds the corpus's own request bodies (some 40 MB).
    let cases = corpus(&app, &publisher_token);
    let count = cases.len();
    let before = rss_kib();
    let started = Instant::now();

    let mut failures = run(app.addr, cases).await;

    let elapsed = started.elapsed();
    let (after, peak) = (rss_kib(), peak_rss_kib());
    eprintln!(
        "{count} cases took {elapsed:?}; VmRSS before {before:?} KiB, after {after:?} KiB, \
         peak {peak:?} KiB"
    );
    match (before, after) {
        (Some(before), Some(after)) if after.saturating_sub(before) >= RSS_GROWTH_KIB => failures
            .push(format!(
                "memory: the process grew from {before} KiB to {after} KiB over the corpus"
            )),
        (Some(_), Some(_)) => {}
        _ => eprintln!("skipped the memory check: no /proc/self/status"),
    }
    assert!(
        failures.is_empty(),
        "{} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // Still serving, and nothing hostile was written.
    let data = app.ok(None, "{ __typename }", json!({})).await;
    assert_eq!(data["__typename"], "Query");
    assert_eq!(app.count("clause").await, 0);
    assert!(
        app.ok(
            Some(&publisher_token),
            "{ anonymisationDenyList }",
            json!({})
        )
        .await["anonymisationDenyList"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

/// With a raised body limit, 100,000-element lists reach the resolvers: validation, not the
/// HTTP layer, must refuse them, quickly and naming the field. A filter list is legal and
/// answered (what it costs is `search_filter_lists_…` below).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_lists_past_a_raised_body_limit_are_refused_by_validation() {
    let app = TestApp::spawn(
        None,
        Options {
            extra: vec!["--max-body-bytes".into(), (8 * 1024 * 1024).to_string()],
            ..Options::default()
        },
    )
    .await;
    let token = publisher(app.org("lists", "SE").await);
    let authed = |query: &str, variables: Value| {
        app.client
            .post(app.url("/graphql"))
            .bearer_auth(&token)
            .json(&json!({ "query": query, "variables": variables }))
    };
    let mut codes = clause_input("Many CPV codes");
    codes["cpvCodes"] = json!(vec!["30213100-6"; 100_000]);
    let cases = vec![
        case(
            "100,000 CPV codes",
            authed(CREATE_CLAUSE, json!({ "input": codes })),
            Expect::Field("input.cpvCodes"),
        ),
        case(
            "100,000 deny-list terms",
            authed(
                "mutation($input: SetDenyListInput!) { setAnonymisationDenyList(input: $input) { terms } }",
                json!({ "input": { "terms": (0..100_000).map(|i| format!("term {i}")).collect::<Vec<_>>() } }),
            ),
            Expect::Field("input.terms"),
        ),
        case(
            "search filter of 100,000 countries",
            authed(
                "query($f: ClauseSearchFilter) { searchClauses(filter: $f) { totalCount } }",
                json!({ "f": { "country": vec!["SE"; 100_000] } }),
            ),
            Expect::Data,
        ),
    ];
    let failures = run(app.addr, cases).await;
    assert!(
        failures.is_empty(),
        "{} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(app.count("clause").await, 0);
    app.ok(None, "{ __typename }", json!({})).await;
}

/// Fragment bombs: each level of `fragment Fi { ...Fi+1 ...Fi+1 }` doubles the expanded
/// query, and neither the complexity nor the depth limit stops it (validation walks every
/// expanded path; `__typename` costs nothing). Before the document guard, 22 levels took
/// 11 s and 860 MB of a debug build from a 1 kB request; now any size is refused at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(clippy::print_stderr, reason = "report what the bombs cost")]
async fn fragment_bombs_are_refused_before_they_expand() {
    let app = TestApp::spawn(None, Options::default()).await;
    let bombs = [
        (
            "fragment bomb of 2^19 __typename",
            fragment_bomb(19, "Query", "{ ...F0 }", "__typename"),
        ),
        (
            "fragment bomb of 2^22 viewer fields",
            fragment_bomb(22, "Viewer", "{ viewer { ...F0 } }", "authenticated"),
        ),
    ];
    let mut failures = Vec::new();
    for (name, query) in bombs {
        let before = rss_kib();
        let started = Instant::now();
        let body = app.gql(None, &query, json!({})).await;
        let elapsed = started.elapsed();
        let (peak, after) = (peak_rss_kib(), rss_kib());
        eprintln!(
            "{name} ({} bytes): {elapsed:?}; VmRSS before {before:?} KiB, peak {peak:?} KiB, \
             after {after:?} KiB: {}",
            query.len(),
            truncated(&body)
        );
        if body["errors"][0]["extensions"]["code"] != "BAD_USER_INPUT" {
            failures.push(format!("{name}: not refused: {}", truncated(&body)));
        } else if elapsed > Duration::from_millis(500) {
            failures.push(format!("{name}: refused only after {elapsed:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    app.ok(None, "{ __typename }", json!({})).await;
}

/// Documents are parsed once per text and kept; the guard still checks each request, with
/// its own variables, whether its document was parsed now or before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_documents_are_checked_on_every_request() {
    let app = TestApp::spawn(None, Options::default()).await;
    let bomb = fragment_bomb(19, "Query", "{ ...F0 }", "__typename");
    for round in 0..3 {
        let body = app.gql(None, &bomb, json!({})).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"],
            "BAD_USER_INPUT",
            "round {round}: {}",
            truncated(&body)
        );
    }
    let entities = "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }";
    let few = json!({ "r": vec![json!({ "__typename": "Organization", "id": "0190a3c4-0000-7000-8000-000000000000" }); 3] });
    let many = json!({ "r": vec![json!(0); 1_001] });
    for round in 0..2 {
        let body = app.gql(None, entities, few.clone()).await;
        assert!(
            body["errors"].is_null(),
            "round {round}: {}",
            truncated(&body)
        );
        let body = app.gql(None, entities, many.clone()).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"],
            "BAD_USER_INPUT",
            "round {round}: {}",
            truncated(&body)
        );
    }
    // A syntax error is not kept as anything: it is refused every time.
    for _ in 0..2 {
        let body = app.gql(None, "{ __typename", json!({})).await;
        assert!(!body["errors"].is_null(), "{}", truncated(&body));
    }
}

/// `createClause` and `updateClause` drop duplicate labels before `validate` checks the cap of
/// 20; that scan was quadratic (30,000 labels held a worker for 1.6 s, 100,000 behind a
/// raised limit 28 s) and is linear now.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(clippy::print_stderr, reason = "report what the labels cost")]
async fn clause_labels_are_capped_before_they_are_deduplicated() {
    let app = TestApp::spawn(None, Options::default()).await;
    let token = publisher(app.org("labels", "SE").await);
    let mut input = clause_input("Many labels");
    input["labels"] = json!((0..30_000).map(|i| i.to_string()).collect::<Vec<_>>());
    let started = Instant::now();
    let body = app
        .gql(Some(&token), CREATE_CLAUSE, json!({ "input": input }))
        .await;
    let elapsed = started.elapsed();
    eprintln!("30,000 distinct labels: {elapsed:?}: {}", truncated(&body));
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(field(&body), "input.labels", "{body}");
    assert!(
        elapsed < Duration::from_millis(500),
        "refused only after {elapsed:?}"
    );
    assert_eq!(app.count("clause").await, 0);
}

/// How much the process's peak resident set grows while the server answers one request
/// (run each such measurement in a process of its own: nextest does).
#[expect(clippy::print_stderr, reason = "report what the request cost")]
async fn peak_growth_kib(app: &TestApp, name: &str, query: &str, variables: Value) -> (Value, u64) {
    app.ok(None, "{ __typename }", json!({})).await;
    let before = rss_kib();
    let started = Instant::now();
    let body = app.gql(None, query, variables).await;
    let elapsed = started.elapsed();
    let (peak, after) = (peak_rss_kib(), rss_kib());
    eprintln!(
        "{name}: {elapsed:?}; VmRSS before {before:?} KiB, peak {peak:?} KiB, after {after:?} KiB: {}",
        truncated(&body)
    );
    let growth = match (before, peak) {
        (Some(before), Some(peak)) => peak.saturating_sub(before),
        _ => 0,
    };
    (body, growth)
}

/// What a request of at most the body limit may cost the server in memory, generously: a
/// fixed server needs a few MB for any of them.
const REQUEST_GROWTH_KIB: u64 = 48 * 1024;

/// `_entities` turns each representation into its own resolver future (and valid ones into a
/// database query each), and complexity does not count them: 100,000 representations of `0`
/// fit in 200 kB and cost about 250 MB before the document guard capped them at 1,000.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entity_representations_do_not_amplify_memory() {
    let app = TestApp::spawn(None, Options::default()).await;
    let (body, growth) = peak_growth_kib(
        &app,
        "_entities with 100,000 representations",
        "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }",
        json!({ "r": vec![0; 100_000] }),
    )
    .await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert!(
        growth < REQUEST_GROWTH_KIB,
        "a 200 kB request cost {growth} KiB"
    );
}

/// Parsed documents are kept by their text (`api/src/graphql/parsed.rs`), and a document
/// takes up to about 170 times its text: 48 different texts of 8 KiB, one-letter fields only,
/// grew a debug-build server by 46 MB when the cache was bounded by its count alone (256
/// texts), and by 25 MB with the byte budget that keeps 16 of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(clippy::print_stderr, reason = "report what the kept documents cost")]
async fn kept_documents_do_not_amplify_memory() {
    let app = TestApp::spawn(None, Options::default()).await;
    app.ok(None, "{ __typename }", json!({})).await;
    let before = rss_kib();
    for i in 0..48 {
        let mut query = format!("{{ q{i}: __typename");
        while query.len() < 8 * 1024 - 4 {
            query.push_str(" a");
        }
        query.push_str(" }");
        let body = app.gql(None, &query, json!({})).await;
        assert!(!body["errors"].is_null(), "{}", truncated(&body));
    }
    app.ok(None, "{ __typename }", json!({})).await;
    let after = rss_kib();
    eprintln!("48 texts of 8 KiB kept: VmRSS before {before:?} KiB, after {after:?} KiB");
    if let (Some(before), Some(after)) = (before, after) {
        let growth = after.saturating_sub(before);
        assert!(
            growth < 40 * 1024,
            "kept documents grew the server by {growth} KiB"
        );
    }
}

/// Search filter lists became one backend clause per value (`into_filter` in
/// `api/src/graphql/search.rs`): 50,000 countries fit in the body limit and cost about 80 MB.
/// Values are deduplicated now, and organisation lists capped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_filter_lists_do_not_amplify_memory() {
    let app = TestApp::spawn(None, Options::default()).await;
    let (body, growth) = peak_growth_kib(
        &app,
        "search filter of 50,000 countries",
        "query($f: ClauseSearchFilter) { searchClauses(filter: $f) { totalCount } }",
        json!({ "f": { "country": vec!["SE"; 50_000] } }),
    )
    .await;
    assert!(body.get("data").is_some(), "{body}");
    assert!(
        growth < REQUEST_GROWTH_KIB,
        "a 250 kB request cost {growth} KiB"
    );
}
