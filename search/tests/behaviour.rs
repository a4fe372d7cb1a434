//! The behaviour suite against the embedded tantivy backend (on disk and in memory).

#[tokio::test]
async fn tantivy_in_memory_passes_the_behaviour_suite() {
    let backend = search::TantivyBackend::in_memory().expect("index");
    search::suite::run(&backend).await;
}

#[tokio::test]
async fn tantivy_on_disk_passes_the_behaviour_suite_and_reopens() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let backend = search::TantivyBackend::open(dir.path()).expect("index");
        search::suite::run(&backend).await;
    }
    let reopened = search::TantivyBackend::open(dir.path()).expect("reopen");
    let response = search::SearchBackend::search(
        &reopened,
        search::SearchRequest {
            query: "warranty".into(),
            limit: 5,
            ..Default::default()
        },
    )
    .await
    .expect("search");
    assert_eq!(
        response.hits.first().map(|h| h.id.as_str()),
        Some("en-warranty")
    );
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
}
