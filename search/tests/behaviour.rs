//! The behaviour suite against the embedded tantivy backend (on disk and in memory).

#[tokio::test]
async fn tantivy_in_memory_passes_the_behaviour_suite() {
    let backend = search::TantivyBackend::in_memory().expect("index");
    search::suite::run(&backend).await;
}

#[tokio::test]
async fn tantivy_corrects_typos_splits_compounds_and_reads_kind_words() {
    let backend = search::TantivyBackend::in_memory().expect("index");
    search::suite::typos_reach_other_languages(&backend).await;
    search::suite::compounds(&backend).await;
    search::suite::kind_words_rank_first(&backend).await;
    search::suite::broader_concepts_and_misspelt_compounds(&backend).await;
    search::suite::cpv_codes_name_concepts(&backend).await;
}

#[tokio::test]
async fn tantivy_on_disk_passes_the_behaviour_suite_and_reopens() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let backend = search::TantivyBackend::open(dir.path()).expect("index");
        search::suite::run(&backend).await;
    }
    let reopened = search::TantivyBackend::open(dir.path()).expect("reopen");
    assert!(!search::SearchBackend::is_new(&reopened));
    let warranty = |backend: search::TantivyBackend| async move {
        let response = search::SearchBackend::search(
            &backend,
            search::SearchRequest {
                query: "warranty".into(),
                limit: 5,
                ..Default::default()
            },
        )
        .await
        .expect("search");
        response.hits.first().map(|h| h.id.clone())
    };
    assert_eq!(warranty(reopened).await.as_deref(), Some("en-warranty"));

    // An index written with another analysis is emptied and reported new, so the server
    // fills it again from the database instead of searching stale analysed words.
    std::fs::write(dir.path().join("analysis"), "0000000000000000").expect("marker");
    let emptied = search::TantivyBackend::open(dir.path()).expect("reopen");
    assert!(search::SearchBackend::is_new(&emptied));
    assert_eq!(warranty(emptied).await, None);
}

#[tokio::test]
async fn a_new_index_folder_is_reported_new() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backend = search::TantivyBackend::open(&dir.path().join("clauses")).expect("index");
    assert!(search::SearchBackend::is_new(&backend));
}

/// The same suite against a real Meilisearch when `MEILI_URL` is set.
#[tokio::test]
async fn meilisearch_passes_the_behaviour_suite() {
    let Ok(url) = std::env::var("MEILI_URL") else {
        #[expect(clippy::print_stderr, reason = "say why the test skipped")]
        {
            eprintln!("skipped: MEILI_URL is not set, the Meilisearch behaviour suite did not run");
        }
        return;
    };
    let key = std::env::var("MEILI_MASTER_KEY").ok();
    let uid = format!("behaviour_{}", std::process::id());
    let backend = search::meili::MeiliBackend::connect(&url, key.as_deref(), &uid)
        .await
        .expect("connect to Meilisearch");
    search::suite::run(&backend).await;
    search::suite::typos_reach_other_languages(&backend).await;
    search::suite::kind_words_rank_first(&backend).await;
    search::suite::cpv_codes_name_concepts(&backend).await;
}

/// A search waits for a slot of the gate and is refused as busy when none frees up in time;
/// a slot given back lets the next search run.
#[tokio::test]
async fn tantivy_refuses_searches_beyond_its_slots() {
    use search::{SearchBackend, SearchError, tantivy_backend::SearchGate};
    let gate = SearchGate::new(1, std::time::Duration::from_millis(30));
    let backend = search::TantivyBackend::in_memory()
        .expect("index")
        .with_gate(gate.clone());
    let request = || search::SearchRequest {
        query: "warranty".into(),
        limit: 5,
        ..Default::default()
    };
    backend.search(request()).await.expect("a free slot");

    let held = gate.enter().await.expect("the only slot");
    match backend.search(request()).await {
        Err(SearchError::Busy { waited_ms }) => assert_eq!(waited_ms, 30),
        other => panic!("expected Busy, got {other:?}"),
    }
    drop(held);

    // A slot freed while a search waits lets that search through (a long wait here, so that
    // a slow machine cannot time the search out first).
    let gate = SearchGate::new(1, std::time::Duration::from_secs(30));
    let backend = backend.with_gate(gate.clone());
    let held = gate.enter().await.expect("the only slot");
    let waiting = tokio::spawn({
        let backend = backend.clone();
        async move { backend.search(request()).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    drop(held);
    waiting
        .await
        .expect("task")
        .expect("the freed slot is taken");
}

/// Staged documents stay out of searches until the commit, which publishes them all at once.
#[tokio::test]
async fn tantivy_keeps_staged_documents_out_of_searches_until_the_commit() {
    use search::SearchBackend;
    let backend = search::TantivyBackend::in_memory().expect("index");
    let all = || search::SearchRequest {
        query: String::new(),
        limit: 20,
        ..Default::default()
    };
    let fixture = search::suite::fixture();
    let (first, rest) = fixture.split_at(2);
    backend.stage(first.to_vec(), vec![]).await.expect("stage");
    backend.stage(rest.to_vec(), vec![]).await.expect("stage");
    let before = backend.search(all()).await.expect("search");
    assert_eq!(
        before.estimated_total, 0,
        "staged documents were searchable"
    );
    backend.commit().await.expect("commit");
    let after = backend.search(all()).await.expect("search");
    assert_eq!(after.estimated_total, fixture.len() as u64);
}

/// Two clauses equal but for their language: the one in the query's language comes first,
/// whichever was indexed first.
#[tokio::test]
async fn tantivy_breaks_ties_by_the_query_language() {
    use search::{CatalogueDocument, SearchBackend, SearchRequest};
    let clause = |id: &str, language: &str| CatalogueDocument {
        id: id.to_owned(),
        // Words no stemmer or lexicon changes, so only the language differs.
        title: "Xqzzy".to_owned(),
        text: "Xqzzy vrrok".to_owned(),
        language: language.to_owned(),
        ..CatalogueDocument::default()
    };
    for order in [["sv", "da"], ["da", "sv"]] {
        let backend = search::TantivyBackend::in_memory().expect("index");
        let docs = order
            .iter()
            .map(|id| clause(id, &id.to_uppercase()))
            .collect();
        backend.replace_all(docs).await.expect("index");
        let response = backend
            .search(SearchRequest {
                // `och` tells Swedish.
                query: "xqzzy och".into(),
                limit: 5,
                ..SearchRequest::default()
            })
            .await
            .expect("search");
        let ids: Vec<&str> = response.hits.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(ids, ["sv", "da"], "indexed in the order {order:?}");
    }
}

/// An index written with another analysis but in use by another process is left as it is:
/// opening it again is refused as locked, and the running one keeps its documents.
#[tokio::test]
async fn an_outdated_index_in_use_is_not_emptied() {
    use search::{SearchBackend, SearchError, SearchRequest};
    let dir = tempfile::tempdir().expect("tempdir");
    let running = search::TantivyBackend::open(dir.path()).expect("index");
    running
        .replace_all(search::suite::fixture())
        .await
        .expect("index");
    std::fs::write(dir.path().join("analysis"), "0").expect("marker");
    assert!(matches!(
        search::TantivyBackend::open(dir.path()),
        Err(SearchError::Locked)
    ));
    let response = running
        .search(SearchRequest {
            query: "warranty".into(),
            limit: 5,
            ..SearchRequest::default()
        })
        .await
        .expect("search");
    assert_eq!(
        response.hits.first().map(|h| h.id.as_str()),
        Some("en-warranty")
    );
    assert!(dir.path().join("meta.json").exists());
}
