//! The Meilisearch backend (meilisearch-sdk), for the scale-out setup.
//!
//! Settings are applied at start-up only when they differ from the index's; documents go in
//! batches; every task is awaited and a failed task is an error; filters are built from typed
//! values with quoting, so user text never becomes filter syntax.

use std::{
    collections::{HashMap, HashSet},
    time::Duration,
};

use meilisearch_sdk::{
    client::{Client, SwapIndexes},
    indexes::Index,
    search::{MatchingStrategies, SearchResult, SearchResults, Selectors},
    settings::{PaginationSetting, Settings, TypoToleranceSettings},
    task_info::TaskInfo,
    tasks::Task,
};
use serde::{Deserialize, Serialize};

use crate::{
    CatalogueDocument, Facet, FacetCount, FacetValue, Hit, MAX_QUERY_CHARS, SearchBackend,
    SearchError, SearchFilter, SearchRequest, SearchResponse, SortOrder, StaleAt,
    analysis::{Analysis, analysed_words, title_words},
    meili_http::Transport,
    synonyms::{CpvConcepts, Synonyms},
};

/// Documents sent per request.
pub const BATCH_SIZE: usize = 1_000;
/// How deep a search can be paged. Meilisearch's default (1,000) would end every result
/// list there, whatever its count says, where the embedded index pages to the end; deeper
/// pages only cost anything when they are asked for.
pub const MAX_TOTAL_HITS: usize = 100_000;
/// Largest result that is completed with the clauses having only the query's last word (see
/// `with_last_word`); a larger one has enough of its own.
const MAX_FILLED: usize = 100;
/// A one-word result under this many clauses (a page of the web app) goes on with the clauses
/// having its compound's last part (see `with_compound_heads`).
const THIN_RESULT: usize = 10;
const TASK_TIMEOUT: Duration = Duration::from_secs(120);
const TASK_POLL: Duration = Duration::from_millis(50);

/// Most synonyms of one word Meilisearch uses, and most words in them together (its
/// `MAX_SYNONYM_PHRASE_COUNT` and word limit; it drops the rest after sorting them).
const MAX_SYNONYMS: usize = 50;
const MAX_SYNONYM_WORDS: usize = 100;

/// Attributes searched, most important first.
pub const SEARCHABLE: [&str; 11] = [
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
    "categories",
];

/// A catalogue document as Meilisearch stores it: with the shared analysis's words
/// ([`analysed_words`]: compound parts and listed synonym forms), which Meilisearch's own
/// tokenizer does not find for the Nordic languages, and the words of what its CPV codes name
/// ([`category_words`]).
#[derive(Serialize)]
struct MeiliDocument {
    #[serde(flatten)]
    document: CatalogueDocument,
    /// The analysis of the title alone, searched right after the title: a title word in
    /// another inflection than the query's (`palvelimet` for a title saying `Palvelinten`)
    /// ranks as a title match, above the same word in a clause's text.
    title_analysed: String,
    analysed: String,
    categories: String,
}

/// Every term, in every language, of the concepts the document's CPV codes name
/// ([`CpvConcepts`]), space separated: a display-coded clause is found by `skärm`, `näyttö` or
/// `display` whatever its text calls the product. Searched last of the attributes: such a
/// match counts as the word itself, and the attribute rule puts it below the same word in the
/// clause's own text when the words, typo and proximity rules tie.
/// `terms` holds each concept's terms, by concept name.
fn category_words(terms: &HashMap<&str, &[String]>, document: &CatalogueDocument) -> String {
    let mut words: Vec<&str> = Vec::new();
    for concept in CpvConcepts::bundled().concepts(&document.cpv_codes) {
        for term in terms.get(concept).copied().unwrap_or_default() {
            if !words.contains(&term.as_str()) {
                words.push(term);
            }
        }
    }
    words.join(" ")
}

/// The documents with their analysis, worked out on the blocking pool (a rebuild analyses the
/// whole catalogue).
async fn meili_documents(
    documents: Vec<CatalogueDocument>,
) -> Result<Vec<MeiliDocument>, SearchError> {
    tokio::task::spawn_blocking(move || {
        let synonyms = Synonyms::bundled().map_err(unavailable)?;
        let terms: HashMap<&str, &[String]> = synonyms
            .groups
            .iter()
            .map(|g| (g.concept.as_str(), g.terms.as_slice()))
            .collect();
        Ok(documents
            .into_iter()
            .map(|document| MeiliDocument {
                title_analysed: title_words(&document),
                analysed: analysed_words(&document),
                categories: category_words(&terms, &document),
                document,
            })
            .collect())
    })
    .await
    .map_err(unavailable)?
}

/// The index settings this code expects.
pub fn settings() -> Result<Settings, SearchError> {
    let mut filterable: Vec<&str> = Facet::ALL.iter().map(|f| f.attribute()).collect();
    filterable.push("cpv_prefixes");
    filterable.push("stale_from");
    let synonyms = Synonyms::bundled().map_err(|e| SearchError::Unavailable(e.to_string()))?;
    // Meilisearch synonyms are one-way lists; every term of a group names all the others.
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    // A term also names the terms of its group's narrower groups (one way: `transport` finds
    // buses, `bus` does not find every transport clause) and of its broader groups (one way
    // too: a clause for all IT equipment is one for laptops; on Meilisearch a synonym counts
    // as the word itself, so such clauses rank with those naming laptops). Meilisearch keeps
    // only the first [`MAX_SYNONYMS`] of a word's synonyms in alphabetical order, so the list
    // stops there: the group's own terms first, then narrower, then broader ones.
    let narrower = synonyms.narrower();
    let broader = synonyms.broader();
    for ((group, below), above) in synonyms.groups.iter().zip(&narrower).zip(&broader) {
        for term in &group.terms {
            let mut words = 0;
            let others = group
                .terms
                .iter()
                .filter(|t| *t != term)
                .chain(below.iter().flat_map(|&n| &synonyms.groups[n].terms))
                .chain(above.iter().flat_map(|&n| &synonyms.groups[n].terms))
                .take(MAX_SYNONYMS)
                .take_while(|t| {
                    words += t.split_whitespace().count();
                    words <= MAX_SYNONYM_WORDS
                })
                .cloned()
                .collect();
            map.insert(term.clone(), others);
        }
    }
    // Meilisearch keeps no notes of ours, so the analysis the documents were sent with is
    // recorded as a synonym of a word nobody types: another analysis changes the settings,
    // and a changed index is filled again ([`SearchBackend::is_new`]).
    map.insert(
        format!("commonsanalysis{:016x}", Analysis::bundled().fingerprint()),
        vec!["commonsanalysis".to_owned()],
    );
    Ok(Settings::new()
        .with_searchable_attributes(SEARCHABLE)
        .with_filterable_attributes(filterable)
        .with_sortable_attributes(["published_at", "evidence_score"])
        .with_pagination(PaginationSetting {
            max_total_hits: MAX_TOTAL_HITS,
        })
        // A real word is what was meant, as on the embedded index: Meilisearch allows no typo
        // in the words of the lexicon and the synonym list (Swedish `mobiler` would otherwise
        // find `möbler`, Norwegian `møbel` `mobil`). Misspelt words are still corrected, by the
        // query's analysis or Meilisearch's typo tolerance.
        .with_typo_tolerance(TypoToleranceSettings {
            enabled: None,
            disable_on_attributes: None,
            disable_on_words: Some(Analysis::bundled().known_words()),
            min_word_size_for_typos: None,
            disable_on_numbers: None,
        })
        .with_synonyms(map))
}

/// The hits of two results of the same words in another order, each clause once (at the
/// better of its two ranking scores), best first; a tie keeps `first`'s clause first, then
/// each result's own order.
fn by_ranking_score(
    first: Vec<SearchResult<IdOnly>>,
    second: Vec<SearchResult<IdOnly>>,
) -> Vec<SearchResult<IdOnly>> {
    let mut best: HashMap<String, f64> = HashMap::new();
    for hit in first.iter().chain(&second) {
        let score = best.entry(hit.result.id.clone()).or_insert(f64::MIN);
        *score = score.max(hit.ranking_score.unwrap_or_default());
    }
    let mut hits: Vec<(f64, SearchResult<IdOnly>)> = first
        .into_iter()
        .chain(second)
        .filter_map(|hit| best.remove(&hit.result.id).map(|score| (score, hit)))
        .collect();
    // A stable sort: equal scores keep the order above.
    hits.sort_by(|a, b| b.0.total_cmp(&a.0));
    hits.into_iter().map(|(_, hit)| hit).collect()
}

fn unavailable(error: impl std::fmt::Display) -> SearchError {
    SearchError::Unavailable(error.to_string())
}

/// A filter string value in double quotes, with `\` and `"` escaped.
pub fn quote(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The Meilisearch filter expression for `filter` (empty when nothing is filtered).
pub fn filter_expression(filter: &SearchFilter) -> Result<String, SearchError> {
    let mut parts = Vec::new();
    for (facet, values) in &filter.values {
        if values.is_empty() {
            continue;
        }
        let list: Vec<String> = values.iter().map(|v| quote(v)).collect();
        parts.push(format!("{} IN [{}]", facet.attribute(), list.join(", ")));
    }
    if let Some(prefix) = &filter.cpv_prefix {
        if !(2..=8).contains(&prefix.len()) || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SearchError::BadRequest {
                field: "filter.cpv",
                message: "must be 2–8 digits".to_owned(),
            });
        }
        parts.push(format!("cpv_prefixes = {}", quote(prefix)));
    }
    if let Some(StaleAt { stale, now }) = filter.stale {
        let op = if stale { "<=" } else { ">" };
        parts.push(format!("stale_from {op} {now}"));
    }
    Ok(parts.join(" AND "))
}

/// Meilisearch behind the [`SearchBackend`] trait.
pub struct MeiliBackend {
    client: Client<Transport>,
    uid: String,
    /// Tasks enqueued by [`SearchBackend::stage`] and not yet waited for, in enqueue order.
    staged: std::sync::Mutex<Vec<TaskInfo>>,
    /// The index was created, or its settings changed, when connecting.
    new: bool,
}

#[derive(Deserialize)]
struct IdOnly {
    id: String,
}

impl MeiliBackend {
    /// Connects, creates the index if needed and brings its settings up to date.
    pub async fn connect(url: &str, key: Option<&str>, uid: &str) -> Result<Self, SearchError> {
        let client = Client::new_with_client(url, key, Transport::new(key).map_err(unavailable)?);
        let mut backend = Self {
            client,
            uid: uid.to_owned(),
            staged: std::sync::Mutex::default(),
            new: false,
        };
        if backend.client.get_index(uid).await.is_err() {
            backend
                .wait(backend.client.create_index(uid, Some("id")).await)
                .await?;
            backend.apply_settings(&backend.index()).await?;
            backend.new = true;
        } else {
            // New settings (a new searchable field, another synonym list or analysis) need
            // the documents sent again with the analysis that goes with them: the rebuild
            // (`replace_all`) fills a staging index with the new settings and swaps it in, so
            // the live index keeps its settings until then and a rebuild cut short is
            // started again at the next connection.
            let current = backend.index().get_settings().await.map_err(unavailable)?;
            backend.new = !settings_match(&current, &settings()?);
        }
        Ok(backend)
    }

    fn index(&self) -> Index<Transport> {
        self.client.index(&self.uid)
    }

    /// Waits for a task and turns a failed one into an error.
    async fn wait(
        &self,
        task: Result<TaskInfo, meilisearch_sdk::errors::Error>,
    ) -> Result<(), SearchError> {
        let task = task
            .map_err(unavailable)?
            .wait_for_completion(&self.client, Some(TASK_POLL), Some(TASK_TIMEOUT))
            .await
            .map_err(unavailable)?;
        match task {
            Task::Succeeded { .. } => Ok(()),
            Task::Failed { content } => Err(SearchError::Unavailable(format!(
                "task {} failed: {}",
                content.task.uid, content.error
            ))),
            other => Err(SearchError::Unavailable(format!(
                "task {} did not finish",
                other.get_uid()
            ))),
        }
    }

    /// Sends the settings only when the index's differ (a settings change reindexes everything).
    async fn apply_settings(&self, index: &Index<Transport>) -> Result<bool, SearchError> {
        let desired = settings()?;
        let current = index.get_settings().await.map_err(unavailable)?;
        if settings_match(&current, &desired) {
            return Ok(false);
        }
        self.wait(index.set_settings(&desired).await).await?;
        Ok(true)
    }

    /// Sends every batch first and then waits for their tasks in order, so Meilisearch can
    /// process the queued batches together instead of one round trip at a time.
    async fn add(
        &self,
        index: &Index<Transport>,
        documents: Vec<CatalogueDocument>,
    ) -> Result<(), SearchError> {
        let documents = meili_documents(documents).await?;
        let mut tasks = Vec::with_capacity(documents.len().div_ceil(BATCH_SIZE));
        for batch in documents.chunks(BATCH_SIZE) {
            tasks.push(index.add_or_replace(batch, Some("id")).await);
        }
        for task in tasks {
            self.wait(task).await?;
        }
        Ok(())
    }

    fn remember(&self, task: TaskInfo) -> Result<(), SearchError> {
        self.staged
            .lock()
            .map_err(|_| unavailable("staged tasks poisoned"))?
            .push(task);
        Ok(())
    }

    /// Deletes this backend's index with everything in it (benchmarks use throw-away
    /// indexes).
    pub async fn drop_index(self) -> Result<(), SearchError> {
        self.wait(self.client.delete_index(&self.uid).await).await
    }
}

/// Whether the parts of the settings this code manages are already in place.
pub fn settings_match(current: &Settings, desired: &Settings) -> bool {
    fn sorted<T: Clone + Serialize>(v: &Option<Vec<T>>) -> Vec<String> {
        let mut out: Vec<String> = v
            .iter()
            .flatten()
            .map(|x| serde_json::to_string(x).unwrap_or_default())
            .collect();
        out.sort();
        out
    }
    let synonyms = |s: &Settings| {
        let mut pairs: Vec<(String, Vec<String>)> = s
            .synonyms
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|(k, mut v)| {
                v.sort();
                (k, v)
            })
            .collect();
        pairs.sort();
        pairs
    };
    current.searchable_attributes == desired.searchable_attributes
        && sorted(&current.filterable_attributes) == sorted(&desired.filterable_attributes)
        && sorted(&current.sortable_attributes) == sorted(&desired.sortable_attributes)
        && synonyms(current) == synonyms(desired)
        && current.pagination == desired.pagination
    // Not the words without typo tolerance: Meilisearch stores them normalised (`möbler` as
    // `mobler`), so they never read back as sent. They follow the lexicon and the synonym
    // list, whose fingerprint the synonyms carry (`commonsanalysis…`), so a change of them
    // still changes the settings.
}

#[async_trait::async_trait]
impl SearchBackend for MeiliBackend {
    fn is_new(&self) -> bool {
        self.new
    }

    fn name(&self) -> &'static str {
        "meilisearch"
    }

    async fn upsert(&self, documents: Vec<CatalogueDocument>) -> Result<(), SearchError> {
        self.add(&self.index(), documents).await
    }

    async fn delete(&self, ids: Vec<String>) -> Result<(), SearchError> {
        for batch in ids.chunks(BATCH_SIZE) {
            self.wait(self.index().delete_documents(batch).await)
                .await?;
        }
        Ok(())
    }

    /// Builds a fresh index beside the live one and swaps it in, so searches never see an
    /// empty or half-built index.
    async fn replace_all(&self, documents: Vec<CatalogueDocument>) -> Result<(), SearchError> {
        let staging_uid = format!("{}_rebuild", self.uid);
        let _ = self
            .wait(self.client.delete_index(&staging_uid).await)
            .await;
        self.wait(self.client.create_index(&staging_uid, Some("id")).await)
            .await?;
        let staging = self.client.index(&staging_uid);
        self.apply_settings(&staging).await?;
        self.add(&staging, documents).await?;
        let swap = SwapIndexes {
            indexes: (self.uid.clone(), staging_uid.clone()),
            rename: None,
        };
        self.wait(self.client.swap_indexes([&swap]).await).await?;
        self.wait(self.client.delete_index(&staging_uid).await)
            .await
    }

    /// Enqueues the batch's tasks without waiting for them, so Meilisearch can take the
    /// tasks of a whole burst together (it applies an index's tasks in enqueue order).
    async fn stage(
        &self,
        upserts: Vec<CatalogueDocument>,
        deletes: Vec<String>,
    ) -> Result<(), SearchError> {
        let index = self.index();
        for batch in meili_documents(upserts).await?.chunks(BATCH_SIZE) {
            let task = index
                .add_or_replace(batch, Some("id"))
                .await
                .map_err(unavailable)?;
            self.remember(task)?;
        }
        for batch in deletes.chunks(BATCH_SIZE) {
            let task = index.delete_documents(batch).await.map_err(unavailable)?;
            self.remember(task)?;
        }
        Ok(())
    }

    /// Waits for every staged task; the first that failed is the error. The staged tasks are
    /// forgotten either way: after an error the caller stages its batches again.
    async fn commit(&self) -> Result<(), SearchError> {
        let staged = std::mem::take(
            &mut *self
                .staged
                .lock()
                .map_err(|_| unavailable("staged tasks poisoned"))?,
        );
        for task in staged {
            self.wait(Ok(task)).await?;
        }
        Ok(())
    }

    async fn search(&self, request: SearchRequest) -> Result<SearchResponse, SearchError> {
        if request.query.chars().count() > MAX_QUERY_CHARS {
            return Err(SearchError::BadRequest {
                field: "query",
                message: format!("must be at most {MAX_QUERY_CHARS} characters"),
            });
        }
        let filter = filter_expression(&request.filter)?;
        let mut query_text = Analysis::bundled().meili_query(&request.query);
        let mut results = self.run_search(&request, &query_text, &filter).await?;
        // Meilisearch's `last` matching strategy drops words from the end when too few
        // clauses match them all, so a word no clause has (an inflection the documents do not
        // carry, `dekk` where they say `dekkene`) left anywhere but last empties the result.
        // A thin first page asks which words are absent and searches again without them (if
        // that question fails, the page stands as it is).
        if results.hits.len() < request.limit
            && request.offset == 0
            && let Ok(Some(fewer)) = self.without_absent_words(&query_text, &filter).await
            && let Ok(again) = self.run_search(&request, &fewer, &filter).await
        {
            results = again;
            query_text = fewer;
        }
        let named = Analysis::bundled().named_facets(&request.query);
        // The `last` strategy never drops the first word either, so a clause having only the
        // query's last word is never found (`selektiv nedrivning` lists the one clause saying
        // `selektiv`, none of those saying only `nedrivning`). A small result goes on with the
        // clauses having the last word, on every page alike.
        if named.is_empty()
            && request.effective_sort() == SortOrder::Relevance
            && results.estimated_total_hits.unwrap_or_default() < MAX_FILLED
        {
            results = self
                .with_last_word(&request, &query_text, &filter, results)
                .await;
        }
        // A one-word query for a compound few clauses use (`engångsförpackning`) finds fewer
        // than [`THIN_RESULT`] clauses: the result goes on with the clauses having its last
        // part (`förpackning`), as the embedded index ranks them after those having the
        // compound, on every page alike. (A result of more words was filled with the clauses
        // having the last word above.)
        if named.is_empty()
            && request.effective_sort() == SortOrder::Relevance
            && results.estimated_total_hits.unwrap_or_default() < THIN_RESULT
            && Analysis::bundled().query_units(&query_text).len() == 1
            && let Some(heads) = Analysis::bundled().compound_heads(&query_text)
        {
            results = self
                .with_compound_heads(&request, &query_text, &heads, &filter, results)
                .await;
        }
        // Words naming a clause kind or level rank the clauses of that kind or level first
        // (a boost, not a filter), as on the embedded index: the page is read from the
        // clauses that have them, then from the others. Count and facets stay the whole
        // result's. If a part fails, the page stands in plain relevance order.
        if !named.is_empty()
            && request.effective_sort() == SortOrder::Relevance
            && let Ok(hits) = self
                .named_first(&request, &query_text, &filter, &named)
                .await
        {
            results.hits = hits;
        }
        Ok(Self::response(&request, results))
    }
}

impl MeiliBackend {
    /// One search request for `query_text` (the analysed query) with the request's page,
    /// filter, facets and order.
    async fn run_search(
        &self,
        request: &SearchRequest,
        query_text: &str,
        filter: &str,
    ) -> Result<SearchResults<IdOnly>, SearchError> {
        self.run_search_with(request, query_text, filter, None)
            .await
    }

    /// [`run_search`](Self::run_search) with another matching strategy than `last`.
    async fn run_search_with(
        &self,
        request: &SearchRequest,
        query_text: &str,
        filter: &str,
        strategy: Option<MatchingStrategies>,
    ) -> Result<SearchResults<IdOnly>, SearchError> {
        let facets: Vec<&str> = request.facets.iter().map(|f| f.attribute()).collect();
        let index = self.index();
        let mut query = index.search();
        query
            .with_query(query_text)
            .with_offset(request.offset)
            .with_limit(request.limit.max(1))
            .with_attributes_to_retrieve(Selectors::Some(&["id"]))
            .with_attributes_to_highlight(Selectors::Some(&["title", "text"]))
            .with_attributes_to_crop(Selectors::Some(&[("text", Some(40))]))
            .with_highlight_pre_tag("<em>")
            .with_highlight_post_tag("</em>")
            // What the either-word fill merges two results by (`by_ranking_score`).
            .with_show_ranking_score(true);
        if !filter.is_empty() {
            query.with_filter(filter);
        }
        if !facets.is_empty() {
            query.with_facets(Selectors::Some(&facets));
        }
        if let Some(strategy) = strategy {
            query.with_matching_strategy(strategy);
        }
        match request.effective_sort() {
            SortOrder::Relevance => {}
            SortOrder::Newest => {
                query.with_sort(&["published_at:desc"]);
            }
            SortOrder::Evidence => {
                query.with_sort(&["evidence_score:desc", "published_at:desc"]);
            }
        }
        query.execute::<IdOnly>().await.map_err(unavailable)
    }

    /// The page of `main` (the result of `query_text`, under [`MAX_FILLED`] clauses) merged
    /// with the clauses having the query's last word and not its first (the words in reverse
    /// order, which Meilisearch cuts down to the last word): the clauses of both results by
    /// their ranking score, so a clause having more of the words ranks first whichever word it
    /// lacks, with the count and facet counts of both (those of each less those of the clauses
    /// having the first and the last word). `main` as it is for a one-word or quoted query, or
    /// when a request fails.
    async fn with_last_word(
        &self,
        request: &SearchRequest,
        query_text: &str,
        filter: &str,
        main: SearchResults<IdOnly>,
    ) -> SearchResults<IdOnly> {
        let units = Analysis::bundled().query_units(query_text);
        let wanted = request.offset.saturating_add(request.limit.max(1));
        let (Some(first), Some(last)) = (units.first(), units.last()) else {
            return main;
        };
        if units.len() < 2 || query_text.contains('"') {
            return main;
        }
        let reversed = units.iter().rev().cloned().collect::<Vec<_>>().join(" ");
        let from_start = |limit: usize| SearchRequest {
            offset: 0,
            limit,
            ..request.clone()
        };
        let main_total = main.estimated_total_hits.unwrap_or_default();
        // The page is merged from the whole of `main` and as many of the reversed result's
        // best as could reach it (the clauses both share rank in both).
        let (to_page, one) = (
            from_start(wanted.saturating_add(main_total).min(MAX_TOTAL_HITS)),
            from_start(1),
        );
        // A trailing space: the last word matched whole, as in the reversed query (not as a
        // prefix, which would count clauses the two results do not share).
        let ends = format!("{first} {last} ");
        let (later, both, earlier) = tokio::join!(
            self.run_search(&to_page, &reversed, filter),
            self.run_search_with(&one, &ends, filter, Some(MatchingStrategies::ALL)),
            self.whole_of(request, query_text, filter, &main),
        );
        let (Ok(later), Ok(both), Ok(earlier)) = (later, both, earlier) else {
            return main;
        };
        let mut merged = main;
        if let Some(earlier) = earlier {
            merged.hits = earlier.hits;
        }
        merged.hits = by_ranking_score(std::mem::take(&mut merged.hits), later.hits)
            .into_iter()
            .skip(request.offset)
            .take(request.limit.max(1))
            .collect();
        let overlap = both.estimated_total_hits.unwrap_or_default();
        merged.estimated_total_hits = Some(
            (main_total + later.estimated_total_hits.unwrap_or_default()).saturating_sub(overlap),
        );
        if let Some(counts) = &mut merged.facet_distribution {
            let of = |distribution: &Option<HashMap<String, HashMap<String, usize>>>,
                      attribute: &str| {
                distribution
                    .as_ref()
                    .and_then(|d| d.get(attribute))
                    .cloned()
                    .unwrap_or_default()
            };
            for (attribute, values) in counts.iter_mut() {
                let added = of(&later.facet_distribution, attribute);
                let shared = of(&both.facet_distribution, attribute);
                for (value, count) in &added {
                    *values.entry(value.clone()).or_default() += count;
                }
                for (value, count) in &shared {
                    if let Some(total) = values.get_mut(value) {
                        *total = total.saturating_sub(*count);
                    }
                }
                values.retain(|_, count| *count > 0);
            }
        }
        merged
    }

    /// The page of `request` with the clauses having any of the `named` facet values first,
    /// each part in relevance order.
    async fn named_first(
        &self,
        request: &SearchRequest,
        query_text: &str,
        filter: &str,
        named: &[(Facet, String)],
    ) -> Result<Vec<SearchResult<IdOnly>>, SearchError> {
        let having = named
            .iter()
            .map(|(facet, value)| format!("{} = {}", facet.attribute(), quote(value)))
            .collect::<Vec<_>>()
            .join(" OR ");
        let and = |extra: String| {
            if filter.is_empty() {
                extra
            } else {
                format!("({filter}) AND {extra}")
            }
        };
        let page = |offset: usize, limit: usize| SearchRequest {
            offset,
            limit,
            facets: Vec::new(),
            ..request.clone()
        };
        let limit = request.limit.max(1);
        let first = self
            .run_search(
                &page(request.offset, limit),
                query_text,
                &and(format!("({having})")),
            )
            .await?;
        let named_total = first.estimated_total_hits.unwrap_or_default();
        let mut hits = first.hits;
        if hits.len() < limit {
            let rest = self
                .run_search(
                    &page(
                        request.offset.saturating_sub(named_total),
                        limit - hits.len(),
                    ),
                    query_text,
                    &and(format!("NOT ({having})")),
                )
                .await?;
            hits.extend(rest.hits);
        }
        Ok(hits)
    }

    /// The whole of `main` (the result of `query_text` for `request`'s page), its hits only, for
    /// a fill that merges it with another result; `None` when the page read holds all of it.
    async fn whole_of(
        &self,
        request: &SearchRequest,
        query_text: &str,
        filter: &str,
        main: &SearchResults<IdOnly>,
    ) -> Result<Option<SearchResults<IdOnly>>, SearchError> {
        let total = main.estimated_total_hits.unwrap_or_default();
        if request.offset == 0 && main.hits.len() >= total {
            return Ok(None);
        }
        let whole = SearchRequest {
            offset: 0,
            limit: total.max(1),
            facets: Vec::new(),
            ..request.clone()
        };
        self.run_search(&whole, query_text, filter).await.map(Some)
    }

    /// `main` (the result of a one-word `query_text`, under [`THIN_RESULT`] clauses) followed
    /// by the other clauses of `heads` (the word's last part, see
    /// [`Analysis::compound_heads`]), with the count and facet counts of the latter, which
    /// holds the former (documents carry their compounds' parts). `main` as it is when a
    /// request fails.
    async fn with_compound_heads(
        &self,
        request: &SearchRequest,
        query_text: &str,
        heads: &str,
        filter: &str,
        main: SearchResults<IdOnly>,
    ) -> SearchResults<IdOnly> {
        let main_total = main.estimated_total_hits.unwrap_or_default();
        let wanted = request.offset.saturating_add(request.limit.max(1));
        let to_page = SearchRequest {
            offset: 0,
            limit: wanted.saturating_add(main_total).min(MAX_TOTAL_HITS),
            ..request.clone()
        };
        let (broader, earlier) = tokio::join!(
            self.run_search(&to_page, heads, filter),
            self.whole_of(request, query_text, filter, &main),
        );
        let (Ok(mut merged), Ok(earlier)) = (broader, earlier) else {
            return main;
        };
        let mut hits = earlier.map_or(main.hits, |earlier| earlier.hits);
        let seen: HashSet<String> = hits.iter().map(|hit| hit.result.id.clone()).collect();
        hits.extend(
            std::mem::take(&mut merged.hits)
                .into_iter()
                .filter(|hit| !seen.contains(&hit.result.id)),
        );
        merged.hits = hits
            .into_iter()
            .skip(request.offset)
            .take(request.limit.max(1))
            .collect();
        let total = merged.estimated_total_hits.unwrap_or_default();
        merged.estimated_total_hits = Some(total.max(main_total));
        merged
    }

    /// `query_text` without the words that no clause passing `filter` contains, a listed phrase
    /// counting as one word ([`Analysis::query_units`]), asked in one multi-search of each
    /// alone. The last word is kept: Meilisearch matches it as a prefix, and it may be being
    /// typed. `None` when no word is absent, or the query has a quoted phrase or one word.
    async fn without_absent_words(
        &self,
        query_text: &str,
        filter: &str,
    ) -> Result<Option<String>, SearchError> {
        let words = Analysis::bundled().query_units(query_text);
        if words.len() < 2 || query_text.contains('"') {
            return Ok(None);
        }
        let index = self.index();
        // A trailing space makes Meilisearch match the word whole, not as a prefix.
        let texts: Vec<String> = words[..words.len() - 1]
            .iter()
            .map(|w| format!("{w} "))
            .collect();
        let mut queries: Vec<_> = texts
            .iter()
            .map(|text| {
                let mut query = index.search();
                // Every word of a phrase, or `child labour` would count as present when
                // `child` is.
                query
                    .with_query(text)
                    .with_limit(0)
                    .with_matching_strategy(MatchingStrategies::ALL);
                if !filter.is_empty() {
                    query.with_filter(filter);
                }
                query
            })
            .collect();
        let mut multi = self.client.multi_search();
        for query in &mut queries {
            multi.with_search_query(query.build());
        }
        let counts = multi.execute::<IdOnly>().await.map_err(unavailable)?;
        let absent: Vec<bool> = counts
            .results
            .iter()
            .map(|r| r.estimated_total_hits.unwrap_or(0) == 0)
            .collect();
        if !absent.iter().any(|a| *a) {
            return Ok(None);
        }
        let kept: Vec<&str> = words
            .iter()
            .enumerate()
            .filter(|(i, _)| !absent.get(*i).copied().unwrap_or(false))
            .map(|(_, w)| w.as_str())
            .collect();
        Ok(Some(kept.join(" ")))
    }

    /// What Meilisearch answered, as the backend's response.
    fn response(request: &SearchRequest, results: SearchResults<IdOnly>) -> SearchResponse {
        let highlighted = |formatted: &Option<serde_json::Map<String, serde_json::Value>>,
                           key: &str| {
            formatted
                .as_ref()
                .and_then(|f| f.get(key))
                .and_then(|v| v.as_str())
                .filter(|s| s.contains("<em>"))
                .map(str::to_owned)
        };
        let hits = results
            .hits
            .iter()
            .map(|hit| Hit {
                id: hit.result.id.clone(),
                title_highlight: highlighted(&hit.formatted_result, "title"),
                text_highlight: highlighted(&hit.formatted_result, "text"),
            })
            .collect();
        let distribution = results.facet_distribution.unwrap_or_default();
        let facets = request
            .facets
            .iter()
            .map(|facet| {
                let mut values: Vec<FacetValue> = distribution
                    .get(facet.attribute())
                    .into_iter()
                    .flatten()
                    .map(|(value, count)| FacetValue {
                        value: value.clone(),
                        count: *count as u64,
                    })
                    .collect();
                values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
                FacetCount {
                    facet: *facet,
                    values,
                }
            })
            .collect();
        SearchResponse {
            hits,
            estimated_total: results.estimated_total_hits.unwrap_or_default() as u64,
            facets,
            processing_time_ms: results.processing_time_ms as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_quote_user_values() {
        let filter = SearchFilter {
            values: vec![
                (Facet::Country, vec!["SE".into(), "NO".into()]),
                (Facet::Organization, vec!["x\" OR country = \"DK".into()]),
                (Facet::Kind, vec![]),
            ],
            cpv_prefix: Some("302".into()),
            stale: Some(StaleAt {
                stale: true,
                now: 1_800_000_000,
            }),
        };
        assert_eq!(
            filter_expression(&filter).unwrap_or_default(),
            r#"country IN ["SE", "NO"] AND organization_id IN ["x\" OR country = \"DK"] AND cpv_prefixes = "302" AND stale_from <= 1800000000"#
        );
        let bad = SearchFilter {
            values: vec![],
            cpv_prefix: Some("30\" OR 1".into()),
            stale: None,
        };
        assert!(matches!(
            filter_expression(&bad),
            Err(SearchError::BadRequest {
                field: "filter.cpv",
                ..
            })
        ));
        assert_eq!(quote(r"a\b"), r#""a\\b""#);
    }
}
