//! Pins the HTTP requests the Meilisearch adapter sends, against a local stand-in server that
//! records them and answers like Meilisearch v1 does. A change in what the adapter sends
//! fails here.

use std::sync::{Arc, Mutex};

use axum::{
    Json, Router,
    extract::State,
    http::{Method, StatusCode, Uri},
    response::IntoResponse,
    routing::any,
};
use search::{
    CatalogueDocument, Facet, SearchBackend, SearchError, SearchFilter, SearchRequest,
    meili::{MeiliBackend, settings},
};
use serde_json::{Value, json};

#[derive(Clone, Default)]
struct Recorder {
    requests: Arc<Mutex<Vec<(String, String, Value)>>>,
    /// Every request in arrival order as `METHOD path`, task polls included.
    calls: Arc<Mutex<Vec<String>>>,
    current_settings: Arc<Mutex<Value>>,
    fail_tasks: Arc<Mutex<bool>>,
    fail_multi_search: Arc<Mutex<bool>>,
    /// Searches that are not plain relevance over the whole index fail: those with the
    /// `all` strategy or a kind filter (the extra searches of a fill or a kind boost), and
    /// the compound fill's `förpackningar`.
    fail_extra_searches: Arc<Mutex<bool>>,
    /// Searches of `transport dekk` answer with ranking scores: the words in order find `a`
    /// (both words, 0.9) and `c` (the first only, 0.3), reversed `a` and `b` (the last only,
    /// 0.6).
    scored: Arc<Mutex<bool>>,
    next_task: Arc<Mutex<u32>>,
}

impl Recorder {
    fn take(&self) -> Vec<(String, String, Value)> {
        std::mem::take(&mut *self.requests.lock().expect("lock"))
    }
}

const T: &str = "2026-11-22T12:00:00Z";

fn task_type(method: &Method, path: &str) -> &'static str {
    match (method.as_str(), path) {
        ("PATCH", p) if p.ends_with("/settings") => "settingsUpdate",
        ("POST", p) if p.ends_with("/documents/delete-batch") => "documentDeletion",
        ("POST", p) if p.ends_with("/documents") => "documentAdditionOrUpdate",
        ("POST", "/indexes") => "indexCreation",
        ("DELETE", _) => "indexDeletion",
        ("POST", "/swap-indexes") => "indexSwap",
        _ => "customs",
    }
}

async fn handle(
    State(rec): State<Recorder>,
    method: Method,
    uri: Uri,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> impl IntoResponse {
    let path = uri.path().to_owned();
    let body_json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    // Bodies go as one buffer with their length, not as a chunked stream.
    let sized = if body.is_empty() || headers.contains_key("content-length") {
        ""
    } else {
        " (chunked)"
    };
    rec.calls
        .lock()
        .expect("lock")
        .push(format!("{method} {path}{sized}"));
    if !path.starts_with("/tasks/") {
        rec.requests.lock().expect("lock").push((
            method.to_string(),
            uri.to_string(),
            body_json.clone(),
        ));
    }
    if method == Method::GET && path.starts_with("/tasks/") {
        let uid: u32 = path.trim_start_matches("/tasks/").parse().unwrap_or(0);
        let failed = *rec.fail_tasks.lock().expect("lock");
        let mut task = json!({
            "uid": uid, "indexUid": "clauses", "status": if failed { "failed" } else { "succeeded" },
            "type": "documentAdditionOrUpdate", "details": null, "duration": "PT0.001S",
            "enqueuedAt": T, "startedAt": T, "finishedAt": T, "canceledBy": null, "error": null
        });
        if failed {
            task["error"] = json!({ "message": "bad document", "code": "invalid_document_fields", "type": "invalid_request", "link": "https://docs.meilisearch.com/errors#invalid_document_fields" });
        }
        return (StatusCode::OK, Json(task));
    }
    if method == Method::GET && path == "/indexes/clauses" {
        return (
            StatusCode::OK,
            Json(json!({ "uid": "clauses", "primaryKey": "id", "createdAt": T, "updatedAt": T })),
        );
    }
    if method == Method::GET && path.ends_with("/settings") {
        return (
            StatusCode::OK,
            Json(rec.current_settings.lock().expect("lock").clone()),
        );
    }
    let extra = body_json["matchingStrategy"] == "all"
        || body_json["filter"]
            .as_str()
            .is_some_and(|f| f.contains("kind ="))
        || body_json["q"] == "förpackningar";
    if (method == Method::POST
        && path == "/multi-search"
        && *rec.fail_multi_search.lock().expect("lock"))
        || (path.ends_with("/search") && extra && *rec.fail_extra_searches.lock().expect("lock"))
    {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "message": "down", "code": "internal", "type": "internal", "link": "" })),
        );
    }
    if method == Method::POST && path == "/multi-search" {
        // Each word alone: `transport` is in no clause, every other word in five.
        let results: Vec<Value> = body_json["queries"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|q| {
                let hits = if q["q"] == "transport " { 0 } else { 5 };
                json!({ "indexUid": "clauses", "hits": [], "query": q["q"], "processingTimeMs": 1,
                        "limit": 0, "offset": 0, "estimatedTotalHits": hits })
            })
            .collect();
        return (StatusCode::OK, Json(json!({ "results": results })));
    }
    let scored = *rec.scored.lock().expect("lock");
    if scored && method == Method::POST && path.ends_with("/search") {
        let hits = match body_json["q"].as_str().unwrap_or_default() {
            "transport dekk" => {
                json!([{ "id": "a", "_rankingScore": 0.9 }, { "id": "c", "_rankingScore": 0.3 }])
            }
            "dekk transport" => {
                json!([{ "id": "a", "_rankingScore": 0.9 }, { "id": "b", "_rankingScore": 0.6 }])
            }
            _ => json!([{ "id": "a", "_rankingScore": 0.9 }]),
        };
        let total = hits.as_array().map_or(0, Vec::len);
        return (
            StatusCode::OK,
            Json(json!({
                "hits": hits, "query": body_json["q"], "processingTimeMs": 1, "limit": 20,
                "offset": 0, "estimatedTotalHits": total
            })),
        );
    }
    // The words reversed (`dekk …`): the clause `a`, which has both ends, and `b` from Norway.
    if method == Method::POST
        && path.ends_with("/search")
        && body_json["q"]
            .as_str()
            .is_some_and(|q| q.starts_with("dekk "))
    {
        return (
            StatusCode::OK,
            Json(json!({
                "hits": [{ "id": "a" }, { "id": "b" }],
                "query": body_json["q"], "processingTimeMs": 1, "limit": 20, "offset": 0,
                "estimatedTotalHits": 2,
                "facetDistribution": { "country": { "SE": 1, "NO": 1 } }
            })),
        );
    }
    // The last part of `engångsförpackning` alone: `a`, which has the compound, and two more.
    if method == Method::POST && path.ends_with("/search") && body_json["q"] == "förpackningar" {
        return (
            StatusCode::OK,
            Json(json!({
                "hits": [{ "id": "d" }, { "id": "a" }, { "id": "e" }],
                "query": body_json["q"], "processingTimeMs": 1, "limit": 20, "offset": 0,
                "estimatedTotalHits": 3,
                "facetDistribution": { "country": { "SE": 2, "NO": 1 } }
            })),
        );
    }
    if method == Method::POST && path.ends_with("/search") {
        return (
            StatusCode::OK,
            Json(json!({
                "hits": [{ "id": "a", "_formatted": { "id": "a", "title": "<em>Take-back</em> plan", "text": "no match here" } }],
                "query": "take-back", "processingTimeMs": 3, "limit": 20, "offset": 0, "estimatedTotalHits": 1,
                "facetDistribution": { "country": { "SE": 1 } }
            })),
        );
    }
    let mut next = rec.next_task.lock().expect("lock");
    *next += 1;
    (
        StatusCode::ACCEPTED,
        Json(json!({
            "taskUid": *next, "indexUid": "clauses", "status": "enqueued",
            "type": task_type(&method, &path), "enqueuedAt": T
        })),
    )
}

async fn server() -> (String, Recorder) {
    let rec = Recorder::default();
    *rec.current_settings.lock().expect("lock") = json!({});
    let app = Router::new()
        .route("/{*path}", any(handle))
        .with_state(rec.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    (format!("http://{addr}"), rec)
}

/// A backend connected to a fresh stand-in server whose index already has the settings, with
/// the requests of connecting cleared.
async fn connected() -> (MeiliBackend, Recorder) {
    let (url, rec) = server().await;
    *rec.current_settings.lock().expect("lock") =
        serde_json::to_value(settings().expect("settings")).expect("json");
    let backend = MeiliBackend::connect(&url, None, "clauses")
        .await
        .expect("connect");
    rec.take();
    (backend, rec)
}

/// A search for `query` alone, `limit` hits.
async fn plain_search(
    backend: &MeiliBackend,
    query: &str,
    limit: usize,
) -> Result<search::SearchResponse, SearchError> {
    backend
        .search(SearchRequest {
            query: query.into(),
            limit,
            ..SearchRequest::default()
        })
        .await
}

fn doc(i: usize) -> CatalogueDocument {
    CatalogueDocument {
        id: format!("c{i}"),
        title: format!("Clause {i}"),
        language: "EN".into(),
        ..CatalogueDocument::default()
    }
}

#[tokio::test]
async fn settings_are_sent_only_when_they_differ() {
    let (url, rec) = server().await;
    let backend = MeiliBackend::connect(&url, Some("master-key"), "clauses")
        .await
        .expect("connect");
    // Changed settings mean the documents are to be sent again; the live index keeps its
    // settings until the rebuild's staging index, which gets the new ones, is swapped in.
    assert!(backend.is_new());
    let methods: Vec<String> = rec
        .take()
        .into_iter()
        .map(|(m, p, _)| format!("{m} {p}"))
        .collect();
    assert_eq!(
        methods,
        vec!["GET /indexes/clauses", "GET /indexes/clauses/settings"]
    );
    backend.replace_all(Vec::new()).await.expect("rebuild");
    let requests = rec.take();
    let patch = requests
        .iter()
        .find(|(m, p, _)| m == "PATCH" && p == "/indexes/clauses_rebuild/settings")
        .expect("the staging index gets the settings");
    let body = &patch.2;
    assert_eq!(
        body["searchableAttributes"],
        json!([
            "title",
            "title_analysed",
            "text",
            "purpose",
            "verification",
            "follow_up",
            "scoring_rule",
            "labels",
            "organization_name",
            "analysed",
            "categories"
        ])
    );
    assert_eq!(
        body["sortableAttributes"],
        json!(["published_at", "evidence_score"])
    );
    // Results page as deep as on the embedded index, not Meilisearch's default 1,000.
    assert_eq!(body["pagination"], json!({ "maxTotalHits": 100_000 }));
    let filterable = body["filterableAttributes"].as_array().expect("filterable");
    for attribute in [
        "country",
        "language",
        "kind",
        "ambition_level",
        "focus",
        "environmental_impacts",
        "social_objectives",
        "product_group",
        "size_class",
        "organization_id",
        "cpv_prefixes",
        "proven_level",
        "stale_from",
    ] {
        assert!(
            filterable.contains(&json!(attribute)),
            "{attribute} not filterable"
        );
    }
    assert!(
        body["synonyms"]["take-back"]
            .as_array()
            .is_some_and(|s| !s.is_empty()),
        "synonyms missing"
    );
    // Narrower and broader concepts: `transport` also finds buses and a bus search also
    // finds clauses for all transport, but a bus is no taxi; no word has more synonyms than
    // Meilisearch keeps.
    let names = |term: &str| {
        body["synonyms"][term]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    assert!(names("transport").contains(&json!("bus")));
    assert!(names("bus").contains(&json!("transport")));
    assert!(!names("bus").contains(&json!("taxi")));
    let lists = body["synonyms"].as_object().expect("synonyms");
    assert!(
        lists
            .values()
            .all(|l| l.as_array().is_some_and(|l| l.len() <= 50))
    );

    // Every known word is sent without typo tolerance (`mobiler` is no misspelt `möbler`).
    let no_typos = body["typoTolerance"]["disableOnWords"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(no_typos.contains(&json!("mobiler")) && no_typos.contains(&json!("möbler")));

    // Once the index holds the same settings, nothing is sent, also when Meilisearch reads
    // the words without typo tolerance back normalised (`mobler`).
    let mut current = serde_json::to_value(settings().expect("settings")).expect("json");
    current["typoTolerance"]["disableOnWords"] = json!(["mobiler", "mobler"]);
    *rec.current_settings.lock().expect("lock") = current;
    let backend = MeiliBackend::connect(&url, Some("master-key"), "clauses")
        .await
        .expect("connect");
    assert!(!backend.is_new());
    let methods: Vec<String> = rec
        .take()
        .into_iter()
        .map(|(m, p, _)| format!("{m} {p}"))
        .collect();
    assert_eq!(
        methods,
        vec!["GET /indexes/clauses", "GET /indexes/clauses/settings"]
    );
}

#[tokio::test]
async fn documents_go_in_batches_and_failed_tasks_are_errors() {
    let (backend, rec) = connected().await;
    backend
        .upsert((0..2_500).map(doc).collect())
        .await
        .expect("upsert");
    let requests = rec.take();
    let batches: Vec<(String, usize)> = requests
        .iter()
        .map(|(m, p, b)| (format!("{m} {p}"), b.as_array().map_or(0, Vec::len)))
        .collect();
    assert_eq!(
        batches,
        vec![
            (
                "POST /indexes/clauses/documents?primaryKey=id".to_owned(),
                1_000
            ),
            (
                "POST /indexes/clauses/documents?primaryKey=id".to_owned(),
                1_000
            ),
            (
                "POST /indexes/clauses/documents?primaryKey=id".to_owned(),
                500
            ),
        ]
    );
    assert_eq!(requests[0].2[0]["id"], "c0");
    // All three batches are queued before the first task is polled.
    let calls = std::mem::take(&mut *rec.calls.lock().expect("lock"));
    let first_poll = calls.iter().position(|c| c.starts_with("GET /tasks/"));
    let last_post = calls.iter().rposition(|c| c.ends_with("/documents"));
    assert!(calls.iter().all(|c| !c.ends_with("(chunked)")), "{calls:?}");
    assert!(
        matches!((first_poll, last_post), (Some(poll), Some(post)) if post < poll),
        "{calls:?}"
    );
    assert_eq!(requests[0].2[0]["cpv_prefixes"], json!([]));
    assert_eq!(requests[0].2[0]["analysed"], json!(""));
    assert_eq!(requests[0].2[0]["categories"], json!(""));

    backend
        .delete(vec!["c1".into(), "c2".into()])
        .await
        .expect("delete");
    let requests = rec.take();
    assert_eq!(
        (requests[0].0.as_str(), requests[0].1.as_str()),
        ("POST", "/indexes/clauses/documents/delete-batch")
    );
    assert_eq!(requests[0].2, json!(["c1", "c2"]));

    *rec.fail_tasks.lock().expect("lock") = true;
    assert!(matches!(
        backend.upsert(vec![doc(1)]).await,
        Err(SearchError::Unavailable(_))
    ));
}

#[tokio::test]
async fn search_body_and_filters_are_pinned() {
    let (backend, rec) = connected().await;
    let response = backend
        .search(SearchRequest {
            query: "take-back \"AND country = DK".into(),
            filter: SearchFilter {
                values: vec![
                    (Facet::Country, vec!["SE".into()]),
                    (Facet::Kind, vec!["AWARD_CRITERION".into(), "x\"y".into()]),
                ],
                cpv_prefix: Some("302".into()),
                stale: Some(search::StaleAt {
                    stale: false,
                    now: 1_800_000_000,
                }),
            },
            facets: vec![Facet::Country],
            offset: 20,
            limit: 10,
            ..SearchRequest::default()
        })
        .await
        .expect("search");
    let requests = rec.take();
    assert_eq!(
        (requests[0].0.as_str(), requests[0].1.as_str()),
        ("POST", "/indexes/clauses/search")
    );
    let body = &requests[0].2;
    assert_eq!(body["q"], "take-back \"AND country = DK");
    assert_eq!(
        body["filter"],
        r#"country IN ["SE"] AND kind IN ["AWARD_CRITERION", "x\"y"] AND cpv_prefixes = "302" AND stale_from > 1800000000"#
    );
    assert_eq!(body["facets"], json!(["country"]));
    assert_eq!(
        (body["offset"].clone(), body["limit"].clone()),
        (json!(20), json!(10))
    );
    assert_eq!(body["attributesToHighlight"], json!(["title", "text"]));
    assert_eq!(body["highlightPreTag"], "<em>");
    assert_eq!(body["highlightPostTag"], "</em>");
    assert_eq!(
        response.hits[0].title_highlight.as_deref(),
        Some("<em>Take-back</em> plan")
    );
    assert_eq!(response.hits[0].text_highlight, None);
    assert_eq!(response.facets[0].values[0].count, 1);
    assert_eq!(response.estimated_total, 1);
}

/// A thin first page asks which words no clause has (Meilisearch's `last` strategy cannot drop
/// a word that is not last) and searches again without them; a listed phrase counts as one.
#[tokio::test]
async fn a_thin_page_is_searched_again_without_absent_words() {
    let (backend, rec) = connected().await;
    let response = plain_search(&backend, "transport dekk", 20)
        .await
        .expect("search");
    let requests = rec.take();
    let summary: Vec<(&str, Value)> = requests
        .iter()
        .map(|(_, uri, body)| {
            let q = if uri == "/multi-search" {
                json!(
                    body["queries"]
                        .as_array()
                        .map(|qs| qs.iter().map(|q| q["q"].clone()).collect::<Vec<_>>())
                )
            } else {
                body["q"].clone()
            };
            (uri.as_str(), q)
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("/indexes/clauses/search", json!("transport dekk")),
            ("/multi-search", json!(["transport "])),
            ("/indexes/clauses/search", json!("dekk")),
        ]
    );
    assert_eq!(response.hits.len(), 1);
    // A page with enough hits, or a later page, is not searched again; the words of a listed
    // phrase are asked about together.
    let _ = plain_search(&backend, "child labour dekk", 1)
        .await
        .expect("search");
    assert!(
        rec.take().iter().all(|(_, uri, _)| uri != "/multi-search"),
        "a full page: no question about absent words"
    );
    let _ = plain_search(&backend, "child labour dekk", 20)
        .await
        .expect("search");
    let requests = rec.take();
    assert_eq!(requests[1].2["queries"][0]["q"], "child labour ");
    assert_eq!(requests[1].2["queries"][0]["matchingStrategy"], "all");
    // Nothing absent: no second search of the query, only the clauses having its last word
    // (a listed phrase moves as one).
    let mut rest: Vec<&str> = requests[2..]
        .iter()
        .filter_map(|(_, _, body)| body["q"].as_str())
        .collect();
    rest.sort_unstable();
    assert_eq!(rest, ["child labour dekk ", "dekk child labour"]);
}

/// When asking which words are absent fails, the first page stands.
#[tokio::test]
async fn a_failed_absent_word_check_keeps_the_first_page() {
    let (backend, rec) = connected().await;
    *rec.fail_multi_search.lock().expect("lock") = true;
    let response = plain_search(&backend, "transport dekk", 20)
        .await
        .expect("the first page, not an error");
    let requests = rec.take();
    let uris: Vec<&str> = requests.iter().map(|(_, uri, _)| uri.as_str()).collect();
    assert_eq!(uris[..2], ["/indexes/clauses/search", "/multi-search"]);
    // The result ends before the page does, so it goes on with the clauses having the last
    // word (the words reversed) and counts those having both ends once.
    let mut searched: Vec<String> = requests[2..]
        .iter()
        .map(|(_, _, body)| format!("{} {}", body["q"], body["matchingStrategy"]))
        .collect();
    searched.sort();
    assert_eq!(
        searched,
        ["\"dekk transport\" null", "\"transport dekk \" \"all\""]
    );
    let ids: Vec<&str> = response.hits.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids, ["a", "b"], "a clause listed twice is shown once");
    // 1 + 2 less the one clause having both ends.
    assert_eq!(response.estimated_total, 2);
}

/// When a search the fill or the kind boost needs fails, the page stands as the plain result.
#[tokio::test]
async fn failed_extra_searches_keep_the_plain_page() {
    let (backend, rec) = connected().await;
    *rec.fail_extra_searches.lock().expect("lock") = true;
    for query in ["child labour dekk", "tildelingskriterium dekk"] {
        let response = plain_search(&backend, query, 20)
            .await
            .expect("the plain page, not an error");
        let ids: Vec<&str> = response.hits.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(ids, ["a"], "{query}");
        assert_eq!(response.estimated_total, 1, "{query}");
        let requests = rec.take();
        assert!(
            requests
                .iter()
                .any(|(_, _, body)| body["matchingStrategy"] == "all"
                    || body["filter"]
                        .as_str()
                        .is_some_and(|f| f.contains("kind ="))),
            "{query}: the extra search was tried"
        );
    }
}

/// A deeper page reads the result again whole, and the clauses having the last word as far as
/// they could reach the end of the page (the page's end plus the result's size).
#[tokio::test]
async fn a_page_past_the_result_goes_on_with_the_last_word() {
    let (backend, rec) = connected().await;
    let request = SearchRequest {
        query: "transport dekk".into(),
        offset: 10,
        limit: 10,
        ..Default::default()
    };
    let response = SearchBackend::search(&backend, request)
        .await
        .expect("search");
    let requests = rec.take();
    let mut pages: Vec<(String, Value, Value)> = requests
        .iter()
        .filter(|(_, uri, _)| uri.ends_with("/search"))
        .map(|(_, _, body)| {
            (
                body["q"].as_str().unwrap_or_default().to_owned(),
                body["offset"].clone(),
                body["limit"].clone(),
            )
        })
        .collect();
    pages.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        pages,
        [
            ("dekk transport".to_owned(), json!(0), json!(21)),
            ("transport dekk".to_owned(), json!(10), json!(10)),
            ("transport dekk".to_owned(), json!(0), json!(1)),
            ("transport dekk ".to_owned(), json!(0), json!(1)),
        ]
    );
    assert!(
        response.hits.is_empty(),
        "two clauses in all, on the first page"
    );
    assert_eq!(
        response.estimated_total, 2,
        "the same total as the first page's"
    );
}

/// The count and facet counts of a small result include the clauses having only the last
/// word on every page, also on a page its own clauses fill.
#[tokio::test]
async fn a_small_result_counts_the_last_words_clauses_on_every_page() {
    let (backend, rec) = connected().await;
    let request = SearchRequest {
        query: "transport dekk".into(),
        limit: 1,
        facets: vec![Facet::Country],
        ..Default::default()
    };
    let response = SearchBackend::search(&backend, request)
        .await
        .expect("search");
    let requests = rec.take();
    let reversed: Vec<&Value> = requests
        .iter()
        .filter(|(_, _, body)| body["q"] == "dekk transport")
        .map(|(_, _, body)| &body["limit"])
        .collect();
    // The later clauses are read as far as they could reach the page (here `a`, whose ranking
    // score no later clause beats).
    assert_eq!(reversed, [&json!(2)]);
    let ids: Vec<&str> = response.hits.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids, ["a"]);
    assert_eq!(response.estimated_total, 2);
    let countries: Vec<(&str, u64)> = response.facets[0]
        .values
        .iter()
        .map(|v| (v.value.as_str(), v.count))
        .collect();
    assert_eq!(countries, [("NO", 1), ("SE", 1)]);
}

/// The clauses of the result and those having only the last word are ranked together by
/// their ranking scores: a clause lacking the first word comes before one lacking the last
/// when it scores better.
#[tokio::test]
async fn the_last_words_clauses_rank_by_their_score() {
    let (backend, rec) = connected().await;
    *rec.scored.lock().expect("lock") = true;
    // A full page (a thin one would first ask which words no clause has).
    let response = plain_search(&backend, "transport dekk", 2)
        .await
        .expect("search");
    let ids: Vec<&str> = response.hits.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids, ["a", "b"]);
    // Two clauses each, `a` in both.
    assert_eq!(response.estimated_total, 3);
    // A deeper page of the same merged list.
    let second = SearchBackend::search(
        &backend,
        SearchRequest {
            query: "transport dekk".into(),
            offset: 2,
            limit: 1,
            ..Default::default()
        },
    )
    .await
    .expect("search");
    let ids: Vec<&str> = second.hits.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids, ["c"]);
}

/// A compound few clauses have finds less than a page: the result goes on with the other
/// clauses having its last part, after its own, with that result's count and facet counts; a
/// later page is read from the same list.
#[tokio::test]
async fn a_thin_compound_result_goes_on_with_its_last_part() {
    let (backend, rec) = connected().await;
    let page = |offset: usize, limit: usize| {
        SearchBackend::search(
            &backend,
            SearchRequest {
                query: "engångsförpackning".into(),
                offset,
                limit,
                facets: vec![Facet::Country],
                ..Default::default()
            },
        )
    };
    let response = page(0, 10).await.expect("search");
    let ids: Vec<&str> = response.hits.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids, ["a", "d", "e"]);
    assert_eq!(response.estimated_total, 3);
    let countries = &response.facets[0].values;
    assert_eq!(countries[0].value, "SE");
    assert_eq!(countries[0].count, 2);
    let sent: Vec<String> = rec
        .take()
        .into_iter()
        .filter_map(|(_, _, body)| body["q"].as_str().map(str::to_owned))
        .collect();
    // The listed form of the word, then its last part.
    assert_eq!(sent, ["engångsförpackningar", "förpackningar"]);
    // The second page of the same list (`a`, in both results, is not there twice).
    let second = page(1, 2).await.expect("search");
    let ids: Vec<&str> = second.hits.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids, ["d", "e"]);
    assert_eq!(second.estimated_total, 3);
    assert_eq!(second.facets[0].values[0].count, 2);
    // The page asked for, then from the start: the last part's result to the page's end and
    // past `main`'s clauses, and the whole of `main` (hits only).
    let mut sent: Vec<(String, Value, Value, bool)> = rec
        .take()
        .into_iter()
        .map(|(_, _, body)| {
            let q = body["q"].as_str().unwrap_or_default().to_owned();
            (
                q,
                body["offset"].clone(),
                body["limit"].clone(),
                body.get("facets").is_some(),
            )
        })
        .collect();
    sent.sort_by(|a, b| (&a.0, a.1.as_u64()).cmp(&(&b.0, b.1.as_u64())));
    assert_eq!(
        sent,
        [
            ("engångsförpackningar".to_owned(), json!(0), json!(1), false),
            ("engångsförpackningar".to_owned(), json!(1), json!(2), true),
            ("förpackningar".to_owned(), json!(0), json!(4), true),
        ]
    );
    let queries = |rec: &Recorder| -> Vec<String> {
        let mut queries: Vec<String> = rec
            .take()
            .into_iter()
            .filter_map(|(_, _, body)| body["q"].as_str().map(str::to_owned))
            .collect();
        queries.sort();
        queries
    };
    // A query without a compound is not searched again.
    plain_search(&backend, "take-back", 10)
        .await
        .expect("search");
    assert_eq!(queries(&rec), ["take back"]);
    // When the last part's search fails, the compound's own result stands.
    *rec.fail_extra_searches.lock().expect("lock") = true;
    let alone = plain_search(&backend, "engångsförpackning", 10)
        .await
        .expect("search");
    let ids: Vec<&str> = alone.hits.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids, ["a"]);
    assert_eq!(alone.estimated_total, 1);
}

#[tokio::test]
async fn rebuilds_swap_a_fresh_index_in() {
    let (backend, rec) = connected().await;
    backend.replace_all(vec![doc(1)]).await.expect("replace");
    let calls: Vec<String> = rec
        .take()
        .into_iter()
        .map(|(m, p, _)| format!("{m} {p}"))
        .collect();
    assert_eq!(
        calls,
        vec![
            "DELETE /indexes/clauses_rebuild",
            "POST /indexes",
            "GET /indexes/clauses_rebuild/settings",
            "POST /indexes/clauses_rebuild/documents?primaryKey=id",
            "POST /swap-indexes",
            "DELETE /indexes/clauses_rebuild",
        ]
    );
}

/// Staged batches are enqueued at once and waited for only at the commit, in enqueue order;
/// a failed task fails the commit, which forgets the staged tasks either way.
#[tokio::test]
async fn staged_batches_are_enqueued_at_once_and_awaited_at_the_commit() {
    let (backend, rec) = connected().await;
    rec.calls.lock().expect("lock").clear();
    let first_task = *rec.next_task.lock().expect("lock") + 1;
    backend
        .stage(
            (0..1_500).map(doc).collect(),
            vec!["c7".into(), "c8".into()],
        )
        .await
        .expect("stage");
    backend
        .stage((1_500..1_510).map(doc).collect(), vec![])
        .await
        .expect("stage");
    let sent: Vec<(String, usize)> = rec
        .take()
        .iter()
        .map(|(m, p, b)| (format!("{m} {p}"), b.as_array().map_or(0, Vec::len)))
        .collect();
    let add = "POST /indexes/clauses/documents?primaryKey=id".to_owned();
    let delete = "POST /indexes/clauses/documents/delete-batch".to_owned();
    assert_eq!(
        sent,
        vec![
            (add.clone(), 1_000),
            (add.clone(), 500),
            (delete, 2),
            (add, 10)
        ]
    );
    // The tasks polled, in order (the SDK may poll one task more than once).
    let polled = |calls: &[String]| -> Vec<String> {
        let mut tasks: Vec<String> = calls
            .iter()
            .filter(|c| c.starts_with("GET /tasks/"))
            .cloned()
            .collect();
        tasks.dedup();
        tasks
    };
    assert!(
        polled(&rec.calls.lock().expect("lock")).is_empty(),
        "a task was awaited before the commit"
    );
    backend.commit().await.expect("commit");
    let expected: Vec<String> = (first_task..first_task + 4)
        .map(|uid| format!("GET /tasks/{uid}"))
        .collect();
    assert_eq!(
        polled(&std::mem::take(&mut *rec.calls.lock().expect("lock"))),
        expected
    );

    *rec.fail_tasks.lock().expect("lock") = true;
    backend.stage(vec![doc(1)], vec![]).await.expect("stage");
    assert!(matches!(
        backend.commit().await,
        Err(SearchError::Unavailable(_))
    ));
    *rec.fail_tasks.lock().expect("lock") = false;
    rec.calls.lock().expect("lock").clear();
    backend.commit().await.expect("nothing left to wait for");
    assert!(polled(&rec.calls.lock().expect("lock")).is_empty());
}

#[tokio::test]
async fn documents_carry_the_shared_analysis() {
    let (backend, rec) = connected().await;
    let compound = CatalogueDocument {
        id: "sv".into(),
        title: "Återtagande av tonerkassetter".into(),
        text: "Leverantören ska redovisa engångsförpackningar.".into(),
        language: "SV".into(),
        cpv_codes: vec!["30125100-2".into()],
        ..CatalogueDocument::default()
    };
    backend.upsert(vec![compound]).await.expect("upsert");
    let requests = rec.take();
    let analysed = requests[0].2[0]["analysed"].as_str().unwrap_or_default();
    let words: Vec<&str> = analysed.split(' ').collect();
    // Meilisearch's tokenizer leaves the compound whole; the parts travel with the document.
    assert!(
        words.contains(&"toner") && words.contains(&"kassetter"),
        "{analysed}"
    );
    assert!(words.contains(&"engångs"), "{analysed}");
    // The title's own analysis also goes apart, searched right after the title, without the
    // text's.
    let title = requests[0].2[0]["title_analysed"]
        .as_str()
        .unwrap_or_default();
    let words: Vec<&str> = title.split(' ').collect();
    assert!(
        words.contains(&"toner") && words.contains(&"kassetter"),
        "{title}"
    );
    assert!(!words.contains(&"engångs"), "{title}");
    // So do the words, in every language, of what its CPV code names (toner cartridges).
    let categories = requests[0].2[0]["categories"].as_str().unwrap_or_default();
    let words: Vec<&str> = categories.split(' ').collect();
    assert!(
        words.contains(&"toner") && words.contains(&"värikasetti"),
        "{categories}"
    );
}
