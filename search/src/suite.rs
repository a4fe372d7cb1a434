//! The behaviour suite every backend must pass (run from `tests/` against each backend).

use crate::{
    CatalogueDocument, Facet, SearchBackend, SearchError, SearchFilter, SearchRequest,
    document::cpv_prefixes,
};

fn doc(
    id: &str,
    language: &str,
    country: &str,
    title: &str,
    text: &str,
    kind: &str,
    cpv: &[&str],
) -> CatalogueDocument {
    let cpv_codes: Vec<String> = cpv.iter().map(|c| (*c).to_owned()).collect();
    CatalogueDocument {
        id: id.to_owned(),
        version: 1,
        organization_id: format!("org-{country}"),
        organization_name: format!("Kommun {country}"),
        country: country.to_owned(),
        size_class: if country == "SE" { "SMALL" } else { "LARGE" }.to_owned(),
        title: title.to_owned(),
        text: text.to_owned(),
        kind: Some(kind.to_owned()),
        ambition_level: Some("CORE".to_owned()),
        environmental_impacts: vec!["CIRC_ECON".to_owned()],
        focus: vec!["ENVIRONMENTAL".to_owned()],
        cpv_prefixes: cpv_prefixes(&cpv_codes),
        cpv_codes,
        product_group: Some("COMPUTERS".to_owned()),
        language: language.to_owned(),
        published_at: 1_700_000_000 + id.len() as i64,
        proven_level: "UNTESTED".to_owned(),
        ..CatalogueDocument::default()
    }
}

/// The moment the suite asks about staleness.
const NOW: i64 = 1_800_000_000;

fn with_evidence(
    mut doc: CatalogueDocument,
    level: &str,
    score: i64,
    stale_from: i64,
) -> CatalogueDocument {
    doc.proven_level = level.to_owned();
    doc.evidence_score = score;
    doc.stale_from = stale_from;
    doc
}

/// The fixture catalogue the suite searches.
pub fn fixture() -> Vec<CatalogueDocument> {
    vec![
        with_evidence(
            doc(
                "sv-takeback",
                "SV",
                "SE",
                "Återtagande av uttjänta datorer",
                "Leverantören ska erbjuda återtagande av levererade datorer och redovisa hur stor andel som återanvänds.",
                "CONTRACT_PERFORMANCE_CLAUSE",
                &["30213100-6"],
            ),
            "USED",
            100_001_001,
            NOW - 86_400,
        ),
        doc(
            "nb-takeback",
            "NB",
            "NO",
            "Tilbaketaking av mobiltelefoner",
            "Leverandøren skal tilby tilbaketaking av alle leverte mobiltelefoner og dokumentere ombruk.",
            "CONTRACT_PERFORMANCE_CLAUSE",
            &["32250000-0"],
        ),
        doc(
            "da-childlabour",
            "DA",
            "DK",
            "Ingen børnearbejde i leverandørkæden",
            "Leverandøren skal sikre, at der ikke forekommer børnearbejde i produktionen af skærme.",
            "TECHNICAL_SPECIFICATION",
            &["30231000-7"],
        ),
        doc(
            "fi-energy",
            "FI",
            "FI",
            "Näyttöjen energiankulutus",
            "Näyttöjen energiankulutus valmiustilassa saa olla enintään [0,5] wattia.",
            "TECHNICAL_SPECIFICATION",
            &["30231000-7"],
        ),
        with_evidence(
            doc(
                "en-warranty",
                "EN",
                "SE",
                "Extended warranty for laptops",
                "The supplier shall offer a warranty of at least [5 years] on portable computers, including spare parts.",
                "AWARD_CRITERION",
                &["30213100-6"],
            ),
            "PROVEN",
            200_004_002,
            NOW + 86_400,
        ),
        doc(
            "en-servers",
            "EN",
            "NO",
            "Server energy efficiency",
            "Servers shall meet the energy efficiency requirements of the applicable ecodesign regulation.",
            "TECHNICAL_SPECIFICATION",
            &["48820000-2"],
        ),
    ]
}

fn ids(response: &crate::SearchResponse) -> Vec<&str> {
    response.hits.iter().map(|h| h.id.as_str()).collect()
}

fn request(query: &str) -> SearchRequest {
    SearchRequest {
        query: query.to_owned(),
        limit: 20,
        ..SearchRequest::default()
    }
}

async fn index_fixture(backend: &dyn SearchBackend) {
    backend
        .replace_all(fixture())
        .await
        .unwrap_or_else(|e| panic!("indexing failed: {e}"));
}

async fn find(backend: &dyn SearchBackend, query: &str) -> crate::SearchResponse {
    backend
        .search(request(query))
        .await
        .unwrap_or_else(|e| panic!("search failed: {e}"))
}

/// Beyond the shared suite: a misspelt word is corrected before the synonym list expands it,
/// so it reaches clauses in the other languages (the embedded index corrects it in its query,
/// the Meilisearch adapter in the query it sends).
pub async fn typos_reach_other_languages(backend: &dyn SearchBackend) {
    index_fixture(backend).await;
    let search = |query: &'static str| find(backend, query);
    let typo = search("återtagnde").await;
    assert_eq!(ids(&typo).first(), Some(&"sv-takeback"), "{:?}", ids(&typo));
    assert!(ids(&typo).contains(&"nb-takeback"), "{:?}", ids(&typo));
    let child = search("barnarbte").await;
    assert!(ids(&child).contains(&"da-childlabour"), "{:?}", ids(&child));
}

/// A compound of words the clauses use apart finds them (`laptop` + `garanti`).
pub async fn compounds(backend: &dyn SearchBackend) {
    index_fixture(backend).await;
    // Swedish `laptop` + `garanti`, neither alone in the query: the English warranty clause.
    let compound = find(backend, "laptopgaranti").await;
    assert_eq!(
        ids(&compound).first(),
        Some(&"en-warranty"),
        "{:?}",
        ids(&compound)
    );
}

/// Words naming a clause kind rank the clauses of that kind first instead of being matched as
/// text: alone, every clause with those of the kind first; with a topic, the topic's clauses,
/// those of the kind first.
pub async fn kind_words_rank_first(backend: &dyn SearchBackend) {
    index_fixture(backend).await;
    let search = |query: &'static str| find(backend, query);
    let kind = search("tilldelningskriterium").await;
    assert_eq!(ids(&kind).first(), Some(&"en-warranty"), "{:?}", ids(&kind));
    assert_eq!(kind.hits.len(), fixture().len());
    let topic = search("tekniska krav energy").await;
    assert!(!ids(&topic).contains(&"sv-takeback"), "{:?}", ids(&topic));
    let first = ids(&topic).first().copied();
    assert!(
        matches!(first, Some("en-servers" | "fi-energy")),
        "{:?}",
        ids(&topic)
    );
}

/// The embedded index's concept hierarchy and typo handling: a clause about a broader concept
/// (IT equipment) is found by a narrower one (tablets), below the clauses naming it; a
/// misspelt word is not taken apart into a stop word (`hjemmesidder` is no `hjemmesid` and
/// `der`); a known word is not taken for a misspelling; a compound's last part alone is a
/// broader match.
pub async fn broader_concepts_and_misspelt_compounds(backend: &dyn SearchBackend) {
    let kind = "TECHNICAL_SPECIFICATION";
    backend
        .replace_all(vec![
            doc(
                "da-it",
                "DA",
                "DK",
                "Tilbagetagning af brugt it-udstyr",
                "Leverandøren tager it-udstyret retur.",
                kind,
                &[],
            ),
            doc(
                "sv-tablet",
                "SV",
                "SE",
                "Batteri i surfplattor",
                "Batteriet i surfplattor ska kunna bytas.",
                kind,
                &[],
            ),
            doc(
                "sv-food",
                "SV",
                "SE",
                "Ekologiska livsmedel",
                "Andelen ekologiska livsmedel ska vara minst 50 %.",
                kind,
                &[],
            ),
            doc(
                "sv-waste",
                "SV",
                "SE",
                "Avfall",
                "Avfall ska sorteras. Avfall som inte kan sorteras vägs. Avfall redovisas.",
                kind,
                &[],
            ),
            doc(
                "en-weee",
                "EN",
                "SE",
                "Take-back of delivered equipment",
                "The supplier shall take back delivered equipment at the end of the contract, erase all data and send what cannot be reused to a certified treatment plant for e-waste.",
                kind,
                &[],
            ),
            doc(
                "sv-furniture",
                "SV",
                "SE",
                "Begagnade möbler",
                "Möbler ska i första hand vara begagnade.",
                kind,
                &[],
            ),
            doc(
                "da-web",
                "DA",
                "DK",
                "Tilgængelige hjemmesider",
                "Kommunens hjemmesider skal opfylde WCAG 2.1 AA.",
                kind,
                &[],
            ),
            doc(
                "da-driver",
                "DA",
                "DK",
                "Chaufførens arbejdstid",
                "Chaufføren, der kører bussen, holder pause hver anden time.",
                kind,
                &[],
            ),
        ])
        .await
        .unwrap_or_else(|e| panic!("indexing failed: {e}"));
    let tablets = find(backend, "tablets").await;
    assert_eq!(ids(&tablets), vec!["sv-tablet", "da-it"]);
    let web = find(backend, "hjemmesidder").await;
    assert_eq!(ids(&web), vec!["da-web"]);
    // The last part of a compound alone matches in a broader sense only: a clause about waste
    // in general, however much it says so, ranks below one about electronic waste.
    let waste = find(backend, "elektronikavfall").await;
    assert_eq!(ids(&waste).first(), Some(&"en-weee"), "{:?}", ids(&waste));
    assert!(ids(&waste).contains(&"sv-waste"), "{:?}", ids(&waste));
    // A real word (Swedish `mobiler`, phones) is no misspelling of another (`möbler`).
    let phones = find(backend, "mobiler").await;
    assert!(
        !ids(&phones).contains(&"sv-furniture"),
        "{:?}",
        ids(&phones)
    );
}

/// A clause is also about what its CPV codes name: a display-coded clause whose text speaks
/// only of "the equipment" is found by a search for displays, below the clauses naming them,
/// and not by one for servers; with a second word it names, it ranks above the clauses having
/// that word alone.
pub async fn cpv_codes_name_concepts(backend: &dyn SearchBackend) {
    let kind = "TECHNICAL_SPECIFICATION";
    backend
        .replace_all(vec![
            doc(
                "en-kit",
                "EN",
                "SE",
                "Spare parts for the delivered equipment",
                "The supplier shall keep spare parts for the delivered equipment for [7 years].",
                kind,
                &["30231000-7"],
            ),
            doc(
                "da-display",
                "DA",
                "DK",
                "Skærme med lavt energiforbrug",
                "Skærme skal have et lavt energiforbrug i drift.",
                kind,
                &["30231000-7"],
            ),
            doc(
                "sv-chairs",
                "SV",
                "SE",
                "Reservdelar till kontorsstolar",
                "Reservdelar till stolarna ska finnas i [10 år].",
                kind,
                &["39112000-0"],
            ),
            doc(
                "en-rack",
                "EN",
                "NO",
                "Lifetime of the delivered equipment",
                "The delivered equipment shall be supported for [8 years].",
                kind,
                &["48820000-2"],
            ),
        ])
        .await
        .unwrap_or_else(|e| panic!("indexing failed: {e}"));
    let displays = find(backend, "bildskärmar").await;
    assert_eq!(
        ids(&displays),
        vec!["da-display", "en-kit"],
        "display clauses, those naming displays first"
    );
    let servers = find(backend, "servers").await;
    assert_eq!(ids(&servers), vec!["en-rack"]);
    let parts = find(backend, "bildskärmar reservdelar").await;
    assert_eq!(
        ids(&parts).first(),
        Some(&"en-kit"),
        "both words (one by the CPV code) before one: {:?}",
        ids(&parts)
    );
    assert!(ids(&parts).contains(&"sv-chairs"), "{:?}", ids(&parts));
}

/// Runs every behaviour check; panics with a description on the first failure.
pub async fn run(backend: &dyn SearchBackend) {
    backend
        .replace_all(fixture())
        .await
        .unwrap_or_else(|e| panic!("indexing failed: {e}"));
    let search = |r: SearchRequest| async move {
        backend
            .search(r)
            .await
            .unwrap_or_else(|e| panic!("search failed: {e}"))
    };

    // Typo tolerance: a misspelt Swedish word finds the Swedish clause.
    let typo = search(request("återtagnde")).await;
    assert_eq!(
        ids(&typo).first(),
        Some(&"sv-takeback"),
        "typo: {:?}",
        ids(&typo)
    );

    // Any of the words: a clause having only the last word is found as well as one having
    // only the first, and the count and facet counts are those of both.
    let mut either = request("warranty ecodesign");
    either.facets = vec![Facet::Kind];
    let either = search(either).await;
    let mut found = ids(&either);
    found.sort_unstable();
    assert_eq!(found, ["en-servers", "en-warranty"], "either word");
    assert_eq!(either.estimated_total, 2);
    let kinds: Vec<(&str, u64)> = either
        .facets
        .iter()
        .flat_map(|f| f.values.iter().map(|v| (v.value.as_str(), v.count)))
        .collect();
    assert_eq!(
        kinds,
        [("AWARD_CRITERION", 1), ("TECHNICAL_SPECIFICATION", 1)],
        "either word's kinds"
    );

    // Cross-language synonyms: English finds the Norwegian and Swedish take-back clauses.
    let synonyms = search(request("take-back")).await;
    for id in ["nb-takeback", "sv-takeback"] {
        assert!(
            ids(&synonyms).contains(&id),
            "synonyms: {id} missing from {:?}",
            ids(&synonyms)
        );
    }
    let child = search(request("child labour")).await;
    assert_eq!(
        ids(&child).first(),
        Some(&"da-childlabour"),
        "child labour: {:?}",
        ids(&child)
    );

    // Language-aware stemming: an inflected Swedish form.
    let inflected = search(request("datorerna")).await;
    assert!(
        ids(&inflected).contains(&"sv-takeback"),
        "stemming: {:?}",
        ids(&inflected)
    );

    // Browsing without words lists the newest first, whatever the index's storage order.
    let published: std::collections::HashMap<String, i64> = fixture()
        .into_iter()
        .map(|d| (d.id.clone(), d.published_at))
        .collect();
    for blank in ["", "  ", "?!"] {
        let browsed = search(request(blank)).await;
        let times: Vec<i64> = ids(&browsed).iter().map(|id| published[*id]).collect();
        assert!(
            times.len() > 1 && times.windows(2).all(|w| w[0] >= w[1]),
            "browsing {blank:?} is not newest first: {:?}",
            ids(&browsed)
        );
    }

    // Filters combine; CPV prefixes match every code below them.
    let mut filtered = request("");
    filtered.filter = SearchFilter {
        values: vec![
            (Facet::Country, vec!["SE".into(), "NO".into()]),
            (Facet::Kind, vec!["TECHNICAL_SPECIFICATION".into()]),
        ],
        cpv_prefix: None,
        stale: None,
    };
    assert_eq!(ids(&search(filtered).await), vec!["en-servers"]);
    let mut computers = request("");
    computers.filter.cpv_prefix = Some("302".into());
    let mut found = ids(&search(computers).await)
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
    found.sort();
    assert_eq!(
        found,
        vec!["da-childlabour", "en-warranty", "fi-energy", "sv-takeback"]
    );

    // Facet counts of a single-valued field add up to the filtered total.
    let mut faceted = request("");
    faceted.filter.cpv_prefix = Some("30".into());
    faceted.facets = vec![Facet::Country, Facet::Kind];
    let response = search(faceted).await;
    for facet in &response.facets {
        let sum: u64 = facet.values.iter().map(|v| v.count).sum();
        assert_eq!(
            sum, response.estimated_total,
            "{:?} counts {:?}",
            facet.facet, facet.values
        );
    }
    assert_eq!(response.estimated_total, 4);

    // Evidence: filter by proven level and staleness, sort best proven first.
    let mut proven = request("");
    proven.filter.values = vec![(Facet::ProvenLevel, vec!["PROVEN".into()])];
    assert_eq!(ids(&search(proven).await), vec!["en-warranty"]);
    // Staleness is judged at the moment asked about: en-warranty turns stale tomorrow.
    let stale_at = |stale: bool, now: i64| {
        let mut r = request("");
        r.filter.stale = Some(crate::StaleAt { stale, now });
        r
    };
    assert_eq!(ids(&search(stale_at(true, NOW)).await), vec!["sv-takeback"]);
    assert_eq!(search(stale_at(false, NOW)).await.estimated_total, 5);
    let later_response = search(stale_at(true, NOW + 2 * 86_400)).await;
    let mut later = ids(&later_response);
    later.sort_unstable();
    assert_eq!(later, vec!["en-warranty", "sv-takeback"]);
    let mut by_evidence = request("");
    by_evidence.sort = crate::SortOrder::Evidence;
    let order = search(by_evidence).await;
    assert_eq!(
        ids(&order)[..2],
        ["en-warranty", "sv-takeback"],
        "evidence sort: {:?}",
        ids(&order)
    );

    // Highlights mark the matched words.
    let highlighted = search(request("warranty")).await;
    let hit = highlighted
        .hits
        .first()
        .unwrap_or_else(|| panic!("no hit for warranty"));
    assert_eq!(hit.id, "en-warranty");
    assert!(
        hit.title_highlight
            .as_deref()
            .unwrap_or_default()
            .contains("<em>"),
        "{hit:?}"
    );

    // Stable pagination: pages of two cover everything once.
    let mut seen = Vec::new();
    for page in 0..4 {
        let mut r = request("");
        r.offset = page * 2;
        r.limit = 2;
        seen.extend(search(r).await.hits.into_iter().map(|h| h.id));
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        (seen.len(), unique.len()),
        (6, 6),
        "pages overlap or miss: {seen:?}"
    );

    // Withdrawn (deleted) clauses are not found.
    backend
        .delete(vec!["nb-takeback".into()])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!ids(&search(request("tilbaketaking")).await).contains(&"nb-takeback"));
    backend
        .upsert(vec![fixture().remove(1)])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(ids(&search(request("tilbaketaking")).await).contains(&"nb-takeback"));

    // A run of staged batches, committed once, ends as if applied one by one: later batches
    // win, and a deletion removes what earlier batches staged, but not what follows it.
    let mut renamed = fixture().remove(1);
    renamed.title = "Stagedrename tilbaketaking".into();
    let stages = [
        (vec![fixture().remove(1)], vec![]),
        (vec![renamed], vec!["da-childlabour".into()]),
        (vec![], vec!["nb-takeback".into()]),
        (vec![fixture().remove(1)], vec![]),
    ];
    for (upserts, deletes) in stages {
        backend
            .stage(upserts, deletes)
            .await
            .unwrap_or_else(|e| panic!("stage: {e}"));
    }
    backend
        .commit()
        .await
        .unwrap_or_else(|e| panic!("commit: {e}"));
    assert!(ids(&search(request("tilbaketaking")).await).contains(&"nb-takeback"));
    assert!(ids(&search(request("stagedrename")).await).is_empty());
    assert!(!ids(&search(request("child labour")).await).contains(&"da-childlabour"));

    // Hostile input gives results or a named bad request, never a failure.
    for hostile in [
        "\"unbalanced",
        "title:x AND OR NOT (",
        "country = SE OR 1=1",
        "\u{0}\u{7}\u{1b}[31m",
        "*?~^",
        "🚀 ✓",
    ] {
        backend
            .search(request(hostile))
            .await
            .unwrap_or_else(|e| panic!("{hostile:?}: {e}"));
    }
    match backend.search(request(&"datorer ".repeat(1_300))).await {
        Err(SearchError::BadRequest { field, .. }) => assert_eq!(field, "query"),
        other => panic!("a 10 kB query must be refused, got {other:?}"),
    }
    let mut bad_prefix = request("");
    bad_prefix.filter.cpv_prefix = Some("30\" OR 1".into());
    assert!(matches!(
        backend.search(bad_prefix).await,
        Err(SearchError::BadRequest {
            field: "filter.cpv",
            ..
        })
    ));
}
