//! `POST /import/clauses.ndjson`: a publisher's whole clause library in one request.
//!
//! Each line of the body is one clause as `createClause` takes it (camelCase fields). The
//! import is all or nothing: every line is parsed and checked before anything is written, and
//! the first bad line fails it with `BAD_USER_INPUT` naming the line and field
//! (`line 7.cpvCodes[0]`). By default the clauses are published at once (version 1, through
//! the anonymiser, each with its change event); `?publish=false` keeps them as drafts.

pub mod client;

use std::fmt;

use axum::{
    Json,
    body::{Body, Bytes},
    extract::{Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::{
    Deserialize, Deserializer,
    de::{self, IgnoredAny, MapAccess, Visitor},
};

use crate::{
    auth::Identity,
    error::ServiceError,
    service::clause::{self, ClauseContent},
    startup::AppState,
};

/// The fields a line may hold: those of `CreateClauseInput`. Anything else is refused rather
/// than silently dropped, so a misspelt field is not lost unnoticed.
const FIELDS: &[&str] = &[
    "title",
    "purpose",
    "text",
    "scoringRule",
    "verification",
    "followUp",
    "kind",
    "ambitionLevel",
    "environmentalImpacts",
    "socialObjectives",
    "origin",
    "applicability",
    "cpvCodes",
    "productGroup",
    "labels",
    "language",
    "licence",
    "lastReviewed",
];

#[derive(Debug, Deserialize)]
pub struct ImportParams {
    /// Publish each clause as version 1 (default) or keep them all as drafts.
    #[serde(default = "yes")]
    publish: bool,
}

fn yes() -> bool {
    true
}

/// Imports processed at once; more are answered 503 with `Retry-After` before their body is
/// read, so a burst of large imports cannot take the server's memory.
pub const CONCURRENT_IMPORTS: usize = 2;

pub async fn clauses_handler(
    State(state): State<AppState>,
    identity: Identity,
    query: Query<ImportParams>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let response = import(State(state.clone()), identity, query, headers, body).await;
    let status = response.status();
    let outcome = if status.is_success() {
        "ok"
    } else if status.is_client_error() || status == StatusCode::SERVICE_UNAVAILABLE {
        "refused"
    } else {
        "failed"
    };
    state
        .metrics
        .count("commons_imports_total", &[("outcome", outcome)], 1);
    response
}

async fn import(
    State(state): State<AppState>,
    identity: Identity,
    Query(params): Query<ImportParams>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Err(error) = identity.publisher() {
        return error.into_response();
    }
    let Ok(_slot) = state.imports.clone().try_acquire_owned() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "5")],
            Json(serde_json::json!({ "errors": [{
                "message": "too many imports at once; try again shortly",
                "extensions": { "code": crate::error::ErrorCode::RateLimited.as_str() }
            }]})),
        )
            .into_response();
    };
    if !is_ndjson(&headers) {
        let error = ServiceError::bad_input(
            "content-type",
            "send the clauses as application/x-ndjson, one JSON object a line",
        );
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, error).into_response();
    }
    // The body-limit layer bounds this read. Going over it is a bare 413 here, which the
    // router's response mapper turns into the coded error every refusal gets.
    let body: Bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(error) => {
            let too_large = std::error::Error::source(&error)
                .is_some_and(|e| e.to_string().contains("length limit"));
            if too_large {
                return StatusCode::PAYLOAD_TOO_LARGE.into_response();
            }
            return ServiceError::bad_input("body", "could not be read").into_response();
        }
    };
    let contents = match parse(&body) {
        Ok(contents) => contents,
        Err(error) => return error.into_response(),
    };
    let handoff = state.indexer.handoff();
    // The importer sees its clauses on the next page, without waiting for the notice.
    let writing = state.rows.write_guard();
    let imported = clause::import(&state.db, &identity, contents, params.publish, handoff).await;
    drop(writing);
    match imported {
        Ok(clauses) => {
            if params.publish {
                state.indexer.wake();
            }
            let ids: Vec<String> = clauses.iter().map(|c| c.id.to_string()).collect();
            Json(serde_json::json!({
                "imported": ids.len(),
                "published": params.publish,
                "ids": ids,
            }))
            .into_response()
        }
        Err(error) => error.into_response(),
    }
}

fn is_ndjson(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            let v = v.trim();
            v.eq_ignore_ascii_case("application/x-ndjson")
                || v.eq_ignore_ascii_case("application/jsonl")
        })
}

/// Checks a whole import file as the server would (without the database): returns how many
/// clauses it holds. The CLI's batches may therefore hold any number of lines: the whole
/// file obeys the per-import limit only when it is sent at once.
///
/// A large file is checked in pieces on every core: the server waits for nothing else before
/// the first batch arrives. Errors are those a single pass would give: the first line that is
/// not a clause, else the first clause that fails its checks.
pub fn check(body: &[u8], publish: bool) -> Result<usize, ServiceError> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    check_in_pieces(
        utf8(body)?,
        publish,
        pieces_of(cores.min(8), CHECK_PIECE_BYTES),
    )
}

/// How a text is cut for checking: at most `count` pieces of at least `min_bytes` each.
#[derive(Clone, Copy)]
struct Pieces {
    count: usize,
    min_bytes: usize,
}

fn pieces_of(count: usize, min_bytes: usize) -> Pieces {
    Pieces { count, min_bytes }
}

fn check_in_pieces(text: &str, publish: bool, cut: Pieces) -> Result<usize, ServiceError> {
    let pieces = pieces(text, cut);
    let parsed = on_threads(&pieces, |(first, piece)| parse_text(piece, *first, None))?;
    let contents: Vec<(usize, ClauseContent)> = parsed.into_iter().flatten().collect();
    if contents.is_empty() {
        return Err(ServiceError::bad_input("body", "holds no clauses"));
    }
    let chunk = contents.len().div_ceil(pieces.len()).max(1);
    let chunks: Vec<&[(usize, ClauseContent)]> = contents.chunks(chunk).collect();
    let checked = on_threads(&chunks, |chunk| {
        let mut total = 0;
        for part in chunk.chunks(clause::MAX_IMPORT) {
            total += clause::check_import(part.to_vec(), publish)?.len();
        }
        Ok(total)
    })?;
    Ok(checked.into_iter().sum())
}

/// Below this size a file is checked on one thread.
const CHECK_PIECE_BYTES: usize = 1 << 20;

/// `text` cut at line ends as `cut` says, each piece with the number of lines before it.
fn pieces(text: &str, cut: Pieces) -> Vec<(usize, &str)> {
    let size = text.len().div_ceil(cut.count.max(1)).max(cut.min_bytes);
    let mut pieces = Vec::new();
    let (mut rest, mut first) = (text, 0);
    while !rest.is_empty() {
        let end = match rest.get(size..).and_then(|after| after.find('\n')) {
            Some(newline) => size + newline + 1,
            None => rest.len(),
        };
        let (piece, after) = rest.split_at(end);
        pieces.push((first, piece));
        first += piece.matches('\n').count();
        rest = after;
    }
    pieces
}

/// Runs `work` on each item, on threads of its own when there are several, and returns the
/// results in order, or the error of the first item that failed.
fn on_threads<T: Sync, R: Send>(
    items: &[T],
    work: impl Fn(&T) -> Result<R, ServiceError> + Sync,
) -> Result<Vec<R>, ServiceError> {
    if items.len() < 2 {
        return items.iter().map(&work).collect();
    }
    std::thread::scope(|scope| {
        let running: Vec<_> = items
            .iter()
            .map(|item| scope.spawn(|| work(item)))
            .collect();
        running
            .into_iter()
            .map(|thread| {
                thread
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// Parses the body into numbered clauses (1-based line numbers; blank lines are skipped).
fn parse(body: &[u8]) -> Result<Vec<(usize, ClauseContent)>, ServiceError> {
    parse_text(utf8(body)?, 0, Some(clause::MAX_IMPORT))
}

fn utf8(body: &[u8]) -> Result<&str, ServiceError> {
    std::str::from_utf8(body).map_err(|e| {
        ServiceError::bad_input("body", format!("not UTF-8 (at byte {})", e.valid_up_to()))
    })
}

/// The clauses of `text`, whose first line is line `skipped + 1` of the file.
fn parse_text(
    text: &str,
    skipped: usize,
    max: Option<usize>,
) -> Result<Vec<(usize, ClauseContent)>, ServiceError> {
    let mut contents = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let number = skipped + i + 1;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if Some(contents.len()) == max {
            return Err(ServiceError::bad_input(
                "body",
                format!("at most {} clauses per import", clause::MAX_IMPORT),
            ));
        }
        // The line's keys first (its values are skipped, not built), so a misspelt field is
        // named rather than reported as a missing one; then the clause itself.
        let UnknownField(unknown) = serde_json::from_str(line).map_err(|e| {
            ServiceError::bad_input(
                format!("line {number}"),
                format!("not a JSON object ({})", json_problem(&e)),
            )
        })?;
        if let Some(unknown) = unknown {
            return Err(ServiceError::bad_input(
                format!("line {number}.{}", truncate(&unknown)),
                "is not a clause field",
            ));
        }
        let content = serde_json::from_str(line)
            .map_err(|e| ServiceError::bad_input(format!("line {number}"), format!("{e}")))?;
        contents.push((number, content));
    }
    Ok(contents)
}

/// The first key of a JSON object that is not one of [`FIELDS`], read without building the
/// object's values.
struct UnknownField(Option<String>);

impl<'de> Deserialize<'de> for UnknownField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Keys;
        impl<'de> Visitor<'de> for Keys {
            type Value = UnknownField;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<UnknownField, A::Error> {
                let mut unknown = None;
                while let Some(Key(key)) = map.next_key()? {
                    if unknown.is_none() {
                        unknown = key;
                    }
                    map.next_value::<IgnoredAny>()?;
                }
                Ok(UnknownField(unknown))
            }
        }
        deserializer.deserialize_map(Keys)
    }
}

/// An object key: `None` for a clause field, the name itself for anything else.
struct Key(Option<String>);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Name;
        impl Visitor<'_> for Name {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<Key, E> {
                Ok(Key((!FIELDS.contains(&name)).then(|| name.to_owned())))
            }
        }
        deserializer.deserialize_str(Name)
    }
}

/// Field names are echoed back; a hostile one is cut short.
fn truncate(name: &str) -> &str {
    match name.char_indices().nth(64) {
        Some((end, _)) => &name[..end],
        None => name,
    }
}

/// What was wrong with a line, without echoing it.
fn json_problem(error: &serde_json::Error) -> &'static str {
    match error.classify() {
        serde_json::error::Category::Io => "unreadable",
        serde_json::error::Category::Syntax => "malformed JSON",
        serde_json::error::Category::Data => "expected an object",
        serde_json::error::Category::Eof => "the line ends early",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(extra: &str) -> String {
        format!(
            r#"{{"title":"Take-back","text":"The supplier shall take back laptops.","language":"EN"{extra}}}"#
        )
    }

    #[test]
    fn lines_are_numbered_from_one_and_blank_lines_skipped() {
        let body = format!(
            "{}\n\n{}\n",
            line(""),
            line(r#","kind":"TECHNICAL_SPECIFICATION""#)
        );
        let parsed = parse(body.as_bytes()).expect("two valid lines");
        assert_eq!(parsed.iter().map(|(n, _)| *n).collect::<Vec<_>>(), [1, 3]);
    }

    #[test]
    fn unknown_fields_and_bad_lines_name_the_line() {
        let body = format!("{}\n{}\n", line(""), line(r#","cpvCode":["x"]"#));
        let Err(ServiceError::BadInput { field, .. }) = parse(body.as_bytes()) else {
            panic!("an unknown field must be refused");
        };
        assert_eq!(field, "line 2.cpvCode");
        let Err(ServiceError::BadInput { field, .. }) = parse(b"[1, 2]\n") else {
            panic!("a non-object must be refused");
        };
        assert_eq!(field, "line 1");
        // A field given twice is ambiguous: refused, not silently the last one.
        let Err(ServiceError::BadInput { field, message }) =
            parse(line(r#","title":"Again""#).as_bytes())
        else {
            panic!("a repeated field must be refused");
        };
        assert_eq!(field, "line 1");
        assert!(message.contains("duplicate field `title`"), "{message}");
        let Err(ServiceError::BadInput { field, message }) =
            parse(line(r#","language":"XX""#).as_bytes())
        else {
            panic!("a bad value must be refused");
        };
        assert_eq!(field, "line 1", "{message}");
    }

    #[test]
    fn pieces_cut_at_line_ends_and_count_the_lines_before_them() {
        let text = "a\nbb\n\nccc\nd";
        let cut = pieces(text, pieces_of(3, 1));
        assert_eq!(
            cut.iter().map(|(_, piece)| *piece).collect::<String>(),
            text
        );
        assert_eq!(cut, [(0, "a\nbb\n"), (2, "\nccc\n"), (4, "d")]);
        assert_eq!(pieces(text, pieces_of(3, 100)), [(0, text)]);
        assert!(pieces("", pieces_of(3, 1)).is_empty());
    }

    #[test]
    fn a_file_checked_in_pieces_gives_the_errors_of_one_pass() {
        let good: Vec<String> = (0..9).map(|_| line("")).collect();
        let in_pieces = |lines: &[String]| {
            let body = lines.join("\n");
            let one = check_in_pieces(&body, false, pieces_of(1, usize::MAX));
            let many = check_in_pieces(&body, false, pieces_of(4, 1));
            assert_eq!(format!("{one:?}"), format!("{many:?}"));
            many
        };
        assert_eq!(in_pieces(&good).ok(), Some(9));
        // A clause failing its checks early, and a line that is no clause late: the line that
        // is no clause is reported, as a single pass reports it, with its number in the file.
        let mut bad = good.clone();
        bad[1] = line(r#","cpvCodes":["x"]"#);
        bad[8] = "{".to_owned();
        let Err(ServiceError::BadInput { field, .. }) = in_pieces(&bad) else {
            panic!("a broken line must be refused");
        };
        assert_eq!(field, "line 9");
        bad[8] = line("");
        bad[6] = line(r#","cpvCodes":["y"]"#);
        let Err(ServiceError::BadInput { field, .. }) = in_pieces(&bad) else {
            panic!("a bad CPV code must be refused");
        };
        assert!(field.starts_with("line 2"), "{field}");
        assert!(matches!(
            in_pieces(&["".to_owned(), " ".to_owned()]),
            Err(ServiceError::BadInput { .. })
        ));
    }

    #[test]
    fn invalid_utf8_is_refused() {
        assert!(matches!(
            parse(b"{\"title\":\"\xff\"}"),
            Err(ServiceError::BadInput { .. })
        ));
    }
}
