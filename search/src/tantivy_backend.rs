//! The embedded backend: a tantivy index in the data dir (or in memory for tests).
//!
//! Matching follows Meilisearch's behaviour so both backends pass one behaviour suite: words
//! match exactly, with typos when no title or text has them (one for 5+ letters, two for 9+),
//! as a prefix for the last word, through the synonym list, through per-language stemming (sv,
//! nb/nn, da, fi, en) and through the shared analysis's compound parts and listed forms
//! ([`crate::analysis`]). Beyond Meilisearch: a clause matching more of the words ranks first
//! ([`crate::cover`]), words naming a clause kind or level rank those clauses first, and a
//! clause in the query's language wins a tie.

use std::{
    collections::{HashMap, HashSet},
    ops::Bound,
    path::Path,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use tantivy::{
    DocAddress, DocId, Executor, Index, IndexReader, IndexWriter, Order, ReloadPolicy, Score,
    Searcher, SegmentOrdinal, SegmentReader, TantivyDocument, Term,
    collector::{Collector, Count, SegmentCollector, TopDocs},
    directory::MmapDirectory,
    indexer::{LogMergePolicy, NoMergePolicy},
    query::{
        AllQuery, BooleanQuery, ConstScoreQuery, DisjunctionMaxQuery, EnableScoring,
        FuzzyTermQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery,
    },
    schema::{
        FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
        TextOptions, Value,
    },
    snippet::SnippetGenerator,
    tokenizer::{
        AsciiFoldingFilter, Language as StemLanguage, LowerCaser, RemoveLongFilter,
        SimpleTokenizer, Stemmer, TextAnalyzer,
    },
};

use crate::{
    CatalogueDocument, Facet, FacetCount, FacetValue, Hit, MAX_QUERY_CHARS, SearchBackend,
    SearchError, SearchRequest, SearchResponse, SortOrder, StaleAt,
    alternatives::Alternatives,
    analysis::{self, Analysis, analysed_words, fnv1a, nearest_words, typo_budget},
    cover::CoverQuery,
    synonyms::{CpvConcepts, Synonyms},
};

/// Clauses whose facet value is read at once, for a facet of at most one value per clause.
const FACET_BLOCK: usize = 256;
/// Most query words taken into account; the rest of a very long query is ignored.
const MAX_QUERY_WORDS: usize = 16;
const FOLDED: &str = "folded";
const LOWER: &str = "lower";
/// Added to a clause in the query's language: a nudge among clauses matching the same words,
/// small against one word's relevance (it reorders only near-equal scores).
const LANGUAGE_BONUS: f32 = 0.5;
/// The file in an index folder naming the analysis its documents were indexed with.
const ANALYSIS_MARKER: &str = "analysis";
const WRITER_HEAP_BYTES: usize = 64 * 1024 * 1024;
/// Added to a clause's score for each query word it matches (in any of the word's forms), so
/// clauses matching more of the words rank first; far above what one word's relevance adds
/// up to (a title match of a rare word with its forms and synonyms scores in the hundreds).
const WORD_BONUS: f32 = 10_000.0;
/// What a match through a narrower concept's terms is worth against the concept's own.
const NARROWER_WEIGHT: f32 = 0.5;
/// What a match through a broader concept's terms is worth against the concept's own, in
/// relevance ...
const BROADER_WEIGHT: f32 = 0.25;
/// ... and in place of [`WORD_BONUS`]: a clause matching a word only in a broader sense (a
/// broader concept, a compound's last part alone) ranks below one matching it, above one not
/// matching it.
const BROADER_BONUS: f32 = WORD_BONUS / 2.0;

/// Stemming analyzers per clause language code.
const STEM_LANGUAGES: [(&str, StemLanguage); 6] = [
    ("SV", StemLanguage::Swedish),
    ("NB", StemLanguage::Norwegian),
    ("NN", StemLanguage::Norwegian),
    ("DA", StemLanguage::Danish),
    ("FI", StemLanguage::Finnish),
    ("EN", StemLanguage::English),
];

struct Fields {
    id: Field,
    title: Field,
    text: Field,
    extra: Field,
    /// What the shared analysis adds: compound parts and listed synonym forms.
    analysed: Field,
    /// The concepts the clause's CPV codes name ([`CpvConcepts`]), one raw token each.
    category: Field,
    /// `(language code, field)` holding stemmed title, text and extra.
    stems: Vec<(&'static str, Field)>,
    facets: HashMap<Facet, Field>,
    cpv_prefix: Field,
    published_at: Field,
    evidence_score: Field,
    stale_from: Field,
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let folded = |stored: bool| {
        let options = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(FOLDED)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        if stored {
            options.set_stored()
        } else {
            options
        }
    };
    let id = builder.add_text_field("id", STRING | STORED);
    let title = builder.add_text_field("title", folded(true));
    let text = builder.add_text_field("text", folded(true));
    let extra = builder.add_text_field("extra", folded(false));
    let analysed = builder.add_text_field("analysed", folded(false));
    let category = builder.add_text_field("category", STRING);
    let stems = STEM_LANGUAGES
        .iter()
        .map(|(code, _)| {
            let options = TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(&stem_tokenizer(code))
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            );
            (
                *code,
                builder.add_text_field(&format!("stem_{}", code.to_lowercase()), options),
            )
        })
        .collect();
    let facets = Facet::ALL
        .iter()
        .map(|facet| {
            (
                *facet,
                builder.add_text_field(facet.attribute(), STRING | FAST),
            )
        })
        .collect();
    let cpv_prefix = builder.add_text_field("cpv_prefixes", STRING);
    let published_at = builder.add_i64_field("published_at", INDEXED | FAST);
    let evidence_score = builder.add_i64_field("evidence_score", FAST);
    let stale_from = builder.add_i64_field("stale_from", INDEXED | FAST);
    let fields = Fields {
        id,
        title,
        text,
        extra,
        analysed,
        category,
        stems,
        facets,
        cpv_prefix,
        published_at,
        evidence_score,
        stale_from,
    };
    (builder.build(), fields)
}

/// What the documents of an index on disk were analysed with: the shared analysis and this
/// schema (fields and their tokenizers).
fn fingerprint(schema: &Schema) -> u64 {
    let schema = serde_json::to_string(schema).unwrap_or_default();
    Analysis::bundled().fingerprint() ^ fnv1a(schema.as_bytes())
}

/// Threads a search walks the index's segments with: one per core (at most 8), so a search
/// at a quiet moment uses every core (see [`Running`]).
fn search_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(8)
}

fn stem_tokenizer(code: &str) -> String {
    format!("stem_{}", code.to_lowercase())
}

fn register_tokenizers(index: &Index) {
    let tokenizers = index.tokenizers();
    tokenizers.register(
        FOLDED,
        TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(40))
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter)
            .build(),
    );
    tokenizers.register(
        LOWER,
        TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(40))
            .filter(LowerCaser)
            .build(),
    );
    for (code, language) in STEM_LANGUAGES {
        tokenizers.register(
            &stem_tokenizer(code),
            TextAnalyzer::builder(SimpleTokenizer::default())
                .filter(RemoveLongFilter::limit(40))
                .filter(LowerCaser)
                .filter(Stemmer::new(language))
                .build(),
        );
    }
}

fn unavailable(error: impl std::fmt::Display) -> SearchError {
    SearchError::Unavailable(error.to_string())
}

fn lock_error(error: tantivy::TantivyError) -> SearchError {
    match error {
        tantivy::TantivyError::LockFailure(tantivy::directory::error::LockError::LockBusy, _) => {
            SearchError::Locked
        }
        error => unavailable(error),
    }
}

/// Synonym groups as folded token sequences, looked up by their folded text.
struct SynonymIndex {
    groups: Vec<Vec<Vec<String>>>,
    /// Each group's concept name (what [`CpvConcepts`] names).
    concepts: Vec<String>,
    by_phrase: HashMap<String, usize>,
    /// The first two words of each longer phrase (`environmental management` of
    /// `environmental management system`).
    by_prefix: HashMap<String, usize>,
    /// The words of the phrases, which a misspelt query word is corrected to.
    phrase_words: HashSet<String>,
    /// Each group's narrower groups.
    narrower: Vec<Vec<usize>>,
    /// Each group's broader groups (the groups that name it narrower).
    broader: Vec<Vec<usize>>,
}

struct Inner {
    index: Index,
    /// Searches running now (see [`Running`]).
    running: AtomicUsize,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    synonyms: SynonymIndex,
    /// Created empty by [`TantivyBackend::open`] (new, or emptied after an analysis change).
    new: bool,
    /// On disk: the file naming the analysis and the fingerprint it gets once the index has
    /// been filled by [`SearchBackend::replace_all`] (written only then, so an index whose
    /// rebuild was cut short is rebuilt again at the next start).
    marker: Option<(std::path::PathBuf, String)>,
}

/// Counts a search as running while it lives.
struct Running<'a>(&'a AtomicUsize, usize);

impl<'a> Running<'a> {
    fn enter(count: &'a AtomicUsize) -> Self {
        Self(count, count.fetch_add(1, Ordering::AcqRel))
    }

    /// Whether no other search was running when this one started.
    fn alone(&self) -> bool {
        self.1 == 0
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What one query word matches, gathered by [`TantivyBackend::text_query`]'s steps.
struct WordMatch {
    /// The word itself: its forms, typos, synonyms, phrase synonyms, all of its parts.
    exact: Alternatives,
    /// What matches it in a broader sense only (a compound's last part alone).
    broad: Alternatives,
    /// The synonym groups it matched through, whose broader groups it also matches.
    groups: Vec<usize>,
}

/// How long a search waits for a free slot before it is refused as busy, unless the
/// backend is given another [`SearchGate`]. Long enough for a queue of several slow
/// searches on a large catalogue (a search with facets over a million clauses can take
/// over half a second), short enough that overload is answered rather than queued for the
/// whole request timeout.
pub const SEARCH_QUEUE_WAIT: Duration = Duration::from_secs(5);

/// Bounds how many searches run at once on the blocking pool, and how long the others wait.
///
/// A search is CPU-bound: more of them at once than there are cores only makes each slower.
/// Without the bound, an overloaded server hands every waiting search its own blocking thread
/// (tokio allows 512) and answers seconds late; with it, the surplus waits as cheap futures
/// and is refused with [`SearchError::Busy`] after [`SEARCH_QUEUE_WAIT`].
#[derive(Clone)]
pub struct SearchGate {
    slots: Arc<tokio::sync::Semaphore>,
    wait: Duration,
}

impl SearchGate {
    /// `slots` searches at once (0: one per CPU core); the others wait up to `wait`.
    pub fn new(slots: usize, wait: Duration) -> Self {
        let slots = match slots {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        };
        Self {
            slots: Arc::new(tokio::sync::Semaphore::new(slots)),
            wait,
        }
    }

    /// Waits for a slot; the slot is free again when the returned permit is dropped.
    pub async fn enter(&self) -> Result<tokio::sync::OwnedSemaphorePermit, SearchError> {
        match tokio::time::timeout(self.wait, self.slots.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(closed)) => Err(unavailable(closed)),
            Err(_) => Err(SearchError::Busy {
                waited_ms: u64::try_from(self.wait.as_millis()).unwrap_or(u64::MAX),
            }),
        }
    }
}

/// Embedded search; cheap to clone.
#[derive(Clone)]
pub struct TantivyBackend {
    inner: Arc<Inner>,
    gate: SearchGate,
}

fn tokens(index: &Index, analyzer: &str, text: &str) -> Vec<String> {
    index
        .tokenizers()
        .get(analyzer)
        .map(|mut analyzer| analysis::tokens(&mut analyzer, text))
        .unwrap_or_default()
}

impl TantivyBackend {
    /// Opens (or creates) the index in `dir`.
    ///
    /// An index written by a build with another analysis (schema, lexicon or synonym list,
    /// see [`Analysis::fingerprint`]) is emptied, and so is a new one: [`SearchBackend::is_new`]
    /// then tells the caller to fill it from the database.
    pub fn open(dir: &Path) -> Result<Self, SearchError> {
        std::fs::create_dir_all(dir).map_err(unavailable)?;
        let (schema, fields) = schema();
        let marker = dir.join(ANALYSIS_MARKER);
        let expected = format!("{:016x}", fingerprint(&schema));
        let existing = dir.join("meta.json").exists();
        let current = std::fs::read_to_string(&marker).unwrap_or_default();
        let outdated = existing && current.trim() != expected;
        if outdated {
            // Under the writer's lock (an index another server uses stays as it is), every
            // file of the old index goes, the lock files last of all with the writer.
            let old = Index::open_in_dir(dir).map_err(unavailable)?;
            let writer = old
                .writer::<TantivyDocument>(WRITER_HEAP_BYTES)
                .map_err(lock_error)?;
            for entry in std::fs::read_dir(dir).map_err(unavailable)? {
                let path = entry.map_err(unavailable)?.path();
                let name = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default();
                if name.starts_with(".tantivy-") && name.ends_with(".lock") {
                    continue;
                }
                if path.is_dir() {
                    std::fs::remove_dir_all(&path).map_err(unavailable)?;
                } else {
                    std::fs::remove_file(&path).map_err(unavailable)?;
                }
            }
            drop(writer);
        }
        let directory = MmapDirectory::open(dir).map_err(unavailable)?;
        let index = Index::open_or_create(directory, schema).map_err(unavailable)?;
        let mut backend = Self::with_index(index, fields, outdated || !existing)?;
        if let Some(inner) = Arc::get_mut(&mut backend.inner) {
            inner.marker = Some((marker, expected));
        }
        Ok(backend)
    }

    /// An index in memory (tests, benchmarks).
    pub fn in_memory() -> Result<Self, SearchError> {
        let (schema, fields) = schema();
        Self::with_index(Index::create_in_ram(schema), fields, true)
    }

    fn with_index(mut index: Index, fields: Fields, new: bool) -> Result<Self, SearchError> {
        register_tokenizers(&index);
        let threads = search_threads();
        if threads > 1 {
            index
                .set_multithread_executor(threads)
                .map_err(unavailable)?;
        }
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(unavailable)?;
        let writer = index.writer(WRITER_HEAP_BYTES).map_err(lock_error)?;
        let synonyms = Synonyms::bundled().map_err(unavailable)?;
        let mut groups = Vec::new();
        let mut by_phrase = HashMap::new();
        let mut by_prefix = HashMap::new();
        let mut phrase_words = HashSet::new();
        for group in &synonyms.groups {
            let terms: Vec<Vec<String>> = group
                .terms
                .iter()
                .map(|term| tokens(&index, FOLDED, term))
                .filter(|t| !t.is_empty())
                .collect();
            for term in &terms {
                by_phrase.entry(term.join(" ")).or_insert(groups.len());
                if term.len() > 2 {
                    by_prefix.entry(term[..2].join(" ")).or_insert(groups.len());
                }
                if term.len() > 1 {
                    phrase_words.extend(term.iter().cloned());
                }
            }
            groups.push(terms);
        }
        // A full phrase of one group wins over the prefix of another's.
        by_prefix.retain(|prefix, _| !by_phrase.contains_key(prefix));
        Ok(Self {
            inner: Arc::new(Inner {
                index,
                running: AtomicUsize::new(0),
                reader,
                writer: Mutex::new(writer),
                fields,
                marker: None,
                synonyms: SynonymIndex {
                    groups,
                    concepts: synonyms.groups.iter().map(|g| g.concept.clone()).collect(),
                    by_phrase,
                    by_prefix,
                    phrase_words,
                    narrower: synonyms.narrower(),
                    broader: synonyms.broader(),
                },
                new,
            }),
            gate: SearchGate::new(0, SEARCH_QUEUE_WAIT),
        })
    }

    /// The same index with another bound on concurrent searches (see [`SearchGate`]).
    pub fn with_gate(mut self, gate: SearchGate) -> Self {
        self.gate = gate;
        self
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Inner) -> Result<T, SearchError> + Send + 'static,
    ) -> Result<T, SearchError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || work(&inner))
            .await
            .map_err(unavailable)?
    }
}

impl Inner {
    fn to_document(&self, doc: &CatalogueDocument) -> TantivyDocument {
        let f = &self.fields;
        let mut out = TantivyDocument::default();
        out.add_text(f.id, &doc.id);
        out.add_text(f.title, &doc.title);
        out.add_text(f.text, &doc.text);
        let extra: Vec<&str> = [
            &doc.purpose,
            &doc.scoring_rule,
            &doc.verification,
            &doc.follow_up,
        ]
        .into_iter()
        .filter_map(|v| v.as_deref())
        .chain(doc.labels.iter().map(String::as_str))
        .chain(std::iter::once(doc.organization_name.as_str()))
        .collect();
        let extra = extra.join("\n");
        out.add_text(f.extra, &extra);
        let analysed = analysed_words(doc);
        out.add_text(f.analysed, &analysed);
        for concept in CpvConcepts::bundled().concepts(&doc.cpv_codes) {
            out.add_text(f.category, concept);
        }
        if let Some((_, stem)) = f.stems.iter().find(|(code, _)| *code == doc.language) {
            out.add_text(*stem, &doc.title);
            out.add_text(*stem, &doc.text);
            out.add_text(*stem, &extra);
            out.add_text(*stem, &analysed);
        }
        let single = |v: &Option<String>| v.iter().cloned().collect::<Vec<_>>();
        let facet_values: [(Facet, Vec<String>); 11] = [
            (Facet::Country, vec![doc.country.clone()]),
            (Facet::Language, vec![doc.language.clone()]),
            (Facet::Kind, single(&doc.kind)),
            (Facet::AmbitionLevel, single(&doc.ambition_level)),
            (Facet::Focus, doc.focus.clone()),
            (
                Facet::EnvironmentalImpact,
                doc.environmental_impacts.clone(),
            ),
            (Facet::SocialObjective, doc.social_objectives.clone()),
            (Facet::ProductGroup, single(&doc.product_group)),
            (Facet::SizeClass, vec![doc.size_class.clone()]),
            (Facet::Organization, vec![doc.organization_id.clone()]),
            (Facet::ProvenLevel, vec![doc.proven_level.clone()]),
        ];
        for (facet, values) in facet_values {
            for value in values {
                out.add_text(f.facets[&facet], &value);
            }
        }
        for prefix in &doc.cpv_prefixes {
            out.add_text(f.cpv_prefix, prefix);
        }
        out.add_i64(f.published_at, doc.published_at);
        out.add_i64(f.evidence_score, doc.evidence_score);
        out.add_i64(f.stale_from, doc.stale_from);
        out
    }

    /// Stops the writer's own background merges until [`merge_all`](Self::merge_all), so they
    /// cannot take the segments it merges.
    fn pause_merges(&self) -> Result<(), SearchError> {
        let writer = self
            .writer
            .lock()
            .map_err(|_| unavailable("index writer poisoned"))?;
        writer.set_merge_policy(Box::new(NoMergePolicy));
        Ok(())
    }

    /// Merges the segments a rebuild leaves (one per indexing thread and flush) into one per
    /// search thread ([`search_threads`]), of about equal size: a search looks each of its
    /// terms up once per segment and walks the segments in parallel, one per core. Then the
    /// writer's merge policy (tantivy's default) is on again for later writes. A merge that
    /// fails leaves its segments as they were: the index is complete either way.
    fn merge_all(&self) -> Result<(), SearchError> {
        let mut writer = self
            .writer
            .lock()
            .map_err(|_| unavailable("index writer poisoned"))?;
        writer.set_merge_policy(Box::new(NoMergePolicy));
        let merged = self.merge_segments(&mut writer);
        resume_merges(&writer);
        merged
    }

    fn merge_segments(&self, writer: &mut IndexWriter) -> Result<(), SearchError> {
        let metas = self.index.searchable_segment_metas().map_err(unavailable)?;
        let wanted = search_threads();
        if metas.len() <= wanted {
            return Ok(());
        }
        // Largest first, each into the group holding the fewest documents so far.
        let mut metas = metas;
        metas.sort_by_key(|meta| std::cmp::Reverse(meta.num_docs()));
        let mut groups: Vec<(u32, Vec<tantivy::index::SegmentId>)> = vec![(0, Vec::new()); wanted];
        for meta in metas {
            if let Some(group) = groups.iter_mut().min_by_key(|(docs, _)| *docs) {
                group.0 += meta.num_docs();
                group.1.push(meta.id());
            }
        }
        for (_, ids) in groups.into_iter().filter(|(_, ids)| ids.len() > 1) {
            // Not fatal (see `merge_all`).
            let _ = writer.merge(&ids).wait();
        }
        self.reader.reload().map_err(unavailable)
    }

    fn commit(&self, writer: &mut IndexWriter) -> Result<(), SearchError> {
        writer.commit().map_err(unavailable)?;
        self.reader.reload().map_err(unavailable)
    }

    fn write(
        &self,
        work: impl FnOnce(&mut IndexWriter, &Self) -> Result<(), SearchError>,
    ) -> Result<(), SearchError> {
        let mut writer = self
            .writer
            .lock()
            .map_err(|_| unavailable("index writer poisoned"))?;
        match work(&mut writer, self).and_then(|()| self.commit(&mut writer)) {
            Ok(()) => Ok(()),
            Err(error) => {
                // Drop what the failed batch staged so the next commit does not publish it.
                let _ = writer.rollback();
                Err(error)
            }
        }
    }

    /// The query for the words of `text`: any word may match; a clause matching more of the
    /// words ranks first (each matched word adds [`WORD_BONUS`]), relevance orders the rest.
    fn text_query(&self, text: &str) -> Box<dyn Query> {
        let originals: Vec<String> = tokens(&self.index, LOWER, text)
            .into_iter()
            .take(MAX_QUERY_WORDS)
            .collect();
        let folded: Vec<String> = originals
            .iter()
            .map(|w| tokens(&self.index, FOLDED, w).concat())
            .collect();
        if folded.is_empty() {
            return Box::new(AllQuery);
        }
        let analysis = Analysis::bundled();
        // Whether each word is one of the index's: such a word is neither corrected nor given
        // typo automata.
        let in_index: Vec<bool> = folded.iter().map(|w| self.in_index(w)).collect();
        let mut words: Vec<WordMatch> = originals
            .iter()
            .zip(&folded)
            .enumerate()
            .map(|(i, (original, word))| {
                self.word_alternatives(original, word, in_index[i], i + 1 == folded.len())
            })
            .collect();
        self.add_phrase_synonyms(&mut words, &folded, &in_index);
        self.add_compound_parts(&mut words, &originals);
        // Words naming a clause kind or level rank clauses of that kind or level first
        // instead of being matched as text.
        let mentions = analysis.facet_mentions(&originals);
        let named = |i: usize| {
            mentions
                .iter()
                .any(|m| (m.start..m.start + m.len).contains(&i))
        };
        let words: Vec<(Occur, Box<dyn Query>)> = words
            .into_iter()
            .zip(&originals)
            .enumerate()
            .filter(|(i, _)| !named(*i))
            .map(|(_, (word, original))| {
                let WordMatch {
                    exact,
                    mut broad,
                    groups,
                } = word;
                if analysis.is_stop_word(original) {
                    broad.extend(&exact, 1.0);
                    return should(broad.into_query());
                }
                let word = Box::new(CoverQuery::new(Box::new(exact.into_query()), WORD_BONUS));
                self.add_broader(&groups, &mut broad);
                self.add_categories(&groups, &mut broad);
                if broad.is_empty() {
                    return (Occur::Should, word as Box<dyn Query>);
                }
                // The better of the two: a clause matching the word itself gets nothing more
                // for also matching it in a broader sense.
                should(DisjunctionMaxQuery::new(vec![
                    word,
                    Box::new(CoverQuery::new(Box::new(broad.into_query()), BROADER_BONUS)),
                ]))
            })
            .collect();
        let text: Box<dyn Query> = if words.is_empty() {
            Box::new(AllQuery)
        } else {
            Box::new(BooleanQuery::new(words))
        };
        let mut query = vec![(Occur::Must, text)];
        // A clause in the query's language wins a tie.
        if let Some(code) = analysis.query_language(&originals) {
            let codes: &[&str] = if code == "NB" { &["NB", "NN"] } else { &[code] };
            for code in codes {
                let term = Term::from_field_text(self.fields.facets[&Facet::Language], code);
                query.push(should(ConstScoreQuery::new(
                    Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
                    LANGUAGE_BONUS,
                )));
            }
        }
        for mention in mentions {
            let term = Term::from_field_text(self.fields.facets[&mention.facet], &mention.value);
            query.push(should(ConstScoreQuery::new(
                Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
                WORD_BONUS,
            )));
        }
        Box::new(BooleanQuery::new(query))
    }

    /// Adds the synonyms of two- or three-word phrases of the query to each of their words'
    /// alternatives, also when a word is misspelt (`chlid labour`) or the phrase is the start
    /// of a listed one (`environmental management`).
    fn add_phrase_synonyms(&self, words: &mut [WordMatch], folded: &[String], in_index: &[bool]) {
        let corrected: Vec<String> = folded
            .iter()
            .zip(in_index)
            .map(|(w, known)| self.phrase_word(w, *known))
            .collect();
        for n in [3, 2] {
            for start in 0..folded.len().saturating_sub(n - 1) {
                let typed = folded[start..start + n].join(" ");
                let fixed = corrected[start..start + n].join(" ");
                let lookup = |map: &HashMap<String, usize>| {
                    map.get(&typed).or_else(|| map.get(&fixed)).copied()
                };
                let group = lookup(&self.synonyms.by_phrase)
                    .or_else(|| (n == 2).then(|| lookup(&self.synonyms.by_prefix)).flatten());
                if let Some(group) = group {
                    let synonyms = self.synonym_alternatives(group, &typed);
                    for word in &mut words[start..start + n] {
                        word.exact.extend(&synonyms, 1.0);
                        word.groups.push(group);
                    }
                }
            }
        }
    }

    /// Adds the parts of each compound query word: all of the parts to what matches the word
    /// itself, and the last known part alone (worth less) to what matches it in a broader
    /// sense ([`WordMatch::broad`], [`BROADER_BONUS`]). Parts are known to the shared analysis or are forms of words of
    /// this index.
    fn add_compound_parts(&self, words: &mut [WordMatch], originals: &[String]) {
        let searcher = self.reader.searcher();
        let known = |part: &str| self.known_form(&searcher, part);
        for (i, original) in originals.iter().enumerate() {
            if originals[..i].contains(original) {
                // A repeated word adds nothing the first one did not.
                continue;
            }
            for parts in Analysis::bundled().splits(original, &known) {
                if parts.len() > 1 {
                    let mut none = Vec::new();
                    let all: Vec<(Occur, Box<dyn Query>)> = parts
                        .iter()
                        .map(|part| -> (Occur, Box<dyn Query>) {
                            (
                                Occur::Must,
                                Box::new(self.part_alternatives(part, &mut none).into_query()),
                            )
                        })
                        .collect();
                    words[i].exact.query(Box::new(BooleanQuery::new(all)), 1.0);
                }
                // The last part (or the one known part) alone matches the word in a broader
                // sense (`byggavfall` for `elektronikavfall`); its broader concepts are the
                // word's (the last part names the thing).
                if let Some(head) = parts.last() {
                    let head = self.part_alternatives(head, &mut words[i].groups);
                    words[i].broad.extend(&head, 0.5);
                }
            }
        }
    }

    /// Whether `part` (lower case) is a word of some title or text, or a form of a word of the
    /// index in some language (`bussar`: `busser`, by their Norwegian stem).
    fn known_form(&self, searcher: &Searcher, part: &str) -> bool {
        let occurs = |field: Field, word: &str| {
            searcher
                .doc_freq(&Term::from_field_text(field, word))
                .is_ok_and(|n| n > 0)
        };
        let folded = tokens(&self.index, FOLDED, part).concat();
        [self.fields.title, self.fields.text]
            .into_iter()
            .any(|field| occurs(field, &folded))
            || self.fields.stems.iter().any(|(code, field)| {
                tokens(&self.index, &stem_tokenizer(code), part)
                    .iter()
                    .any(|stem| stem.chars().count() >= 4 && occurs(*field, stem))
            })
    }

    /// What one query word matches: itself in each text field (typos allowed by its length
    /// when neither the index nor the analysis knows it, as a prefix when it is the last
    /// word), its stems in every language, and the synonym group it names, is a form of, or
    /// (an unknown word) is a misspelling of.
    fn word_alternatives(
        &self,
        original: &str,
        word: &str,
        in_index: bool,
        last: bool,
    ) -> WordMatch {
        let f = &self.fields;
        let mut alternatives = Alternatives::default();
        // Typos are allowed by the word's length, and only for a word no title or text has
        // and the analysis does not know: a real word is what was meant (its other forms
        // come from the stemmers; `mobiler` is no misspelt `möbler`), and the typo automata
        // are the costliest part of a search.
        let real = in_index || Analysis::bundled().is_known_word(original);
        let distance = if real {
            0
        } else {
            u8::try_from(typo_budget(word.chars().count())).unwrap_or(0)
        };
        // The analysed words are matched exactly: typos and prefixes are the typed texts'.
        alternatives.term(Term::from_field_text(f.analysed, word), 1.0);
        // Purpose, verification and the other extra texts are matched through the stemmed
        // field of their language (which holds them) and the analysed words, not once more as
        // typed: another posting list to walk for every match, for the same clauses.
        for (field, boost) in [(f.title, 3.0), (f.text, 1.0)] {
            let term = Term::from_field_text(field, word);
            alternatives.term(term.clone(), 2.0 * boost);
            if distance > 0 {
                let fuzzy = FuzzyTermQuery::new(term.clone(), distance, true);
                alternatives.query(Box::new(fuzzy), boost);
            }
            if last && word.chars().count() >= 2 {
                let prefix = FuzzyTermQuery::new_prefix(term, 0, true);
                alternatives.query(Box::new(prefix), boost);
            }
        }
        self.add_stems(original, &mut alternatives);
        let groups = self.word_groups(original, word, real);
        for &group in &groups {
            self.add_synonyms(group, word, &mut alternatives);
        }
        WordMatch {
            exact: alternatives,
            broad: Alternatives::default(),
            groups,
        }
    }

    /// A part of a compound: the word itself or its stems, or its synonyms (whose groups are
    /// added to `groups`).
    fn part_alternatives(&self, part: &str, groups: &mut Vec<usize>) -> Alternatives {
        let f = &self.fields;
        let folded = tokens(&self.index, FOLDED, part).concat();
        let mut alternatives = Alternatives::default();
        for field in [f.title, f.text, f.extra, f.analysed] {
            alternatives.term(Term::from_field_text(field, &folded), 1.0);
        }
        self.add_stems(part, &mut alternatives);
        for group in self.word_groups(part, &folded, self.in_index(&folded)) {
            self.add_synonyms(group, &folded, &mut alternatives);
            groups.push(group);
        }
        alternatives
    }

    /// Adds the word's stems in each language's stemmed field.
    fn add_stems(&self, original: &str, into: &mut Alternatives) {
        for (code, field) in &self.fields.stems {
            for stem in tokens(&self.index, &stem_tokenizer(code), original) {
                into.term(Term::from_field_text(*field, &stem), 1.0);
            }
        }
    }

    /// The synonym groups of a single word: the group listing it, else the groups listing a
    /// word it is an inflection of, else (a misspelt word, corrected before it is expanded so
    /// it still reaches the other languages) the groups of the nearest listed words.
    fn word_groups(&self, original: &str, folded: &str, in_index: bool) -> Vec<usize> {
        if let Some(&group) = self.synonyms.by_phrase.get(folded) {
            return vec![group];
        }
        let mut groups: Vec<usize> = Analysis::bundled()
            .listed_forms(original)
            .into_iter()
            .filter_map(|term| {
                let term = tokens(&self.index, FOLDED, term).join(" ");
                self.synonyms.by_phrase.get(&term).copied()
            })
            .collect();
        if groups.is_empty() {
            groups = self.corrected_synonyms(folded, in_index);
        }
        groups.sort_unstable();
        groups.dedup();
        groups
    }

    /// `word`, or the word of a listed phrase it is a misspelling of (within the typo distance
    /// of its length, when `word` is no word of the index): `chlid` → `child`.
    fn phrase_word(&self, word: &str, in_index: bool) -> String {
        if in_index || self.synonyms.phrase_words.contains(word) {
            return word.to_owned();
        }
        nearest_words(word, self.synonyms.phrase_words.iter().map(String::as_str))
            .first()
            .map_or_else(|| word.to_owned(), |w| (*w).to_owned())
    }

    /// Whether the folded `word` is a word of some title or text.
    fn in_index(&self, word: &str) -> bool {
        let searcher = self.reader.searcher();
        [self.fields.title, self.fields.text]
            .into_iter()
            .any(|field| {
                searcher
                    .doc_freq(&Term::from_field_text(field, word))
                    .is_ok_and(|n| n > 0)
            })
    }

    /// The synonym list's single words nearest to `word` within the typo distance of its
    /// length (1 edit from 5 letters, 2 from 9), when `word` itself is neither a listed word
    /// nor a word of the index (a real word is not "corrected" into another).
    fn corrected_synonyms(&self, word: &str, in_index: bool) -> Vec<usize> {
        if in_index {
            return Vec::new();
        }
        let single = self.synonyms.by_phrase.keys().filter(|k| !k.contains(' '));
        nearest_words(word, single.map(String::as_str))
            .into_iter()
            .filter_map(|key| self.synonyms.by_phrase.get(key).copied())
            .collect()
    }

    /// [`Self::add_synonyms`] into a list of their own (shared by the words of a phrase).
    fn synonym_alternatives(&self, group: usize, matched: &str) -> Alternatives {
        let mut alternatives = Alternatives::default();
        self.add_synonyms(group, matched, &mut alternatives);
        alternatives
    }

    /// Adds the other terms of a synonym group and (worth half: a search for `transport` is
    /// also one for buses) the terms of its narrower groups, these in the typed texts and
    /// analysed words only ([`Self::add_related_terms`]).
    fn add_synonyms(&self, group: usize, matched: &str, into: &mut Alternatives) {
        self.add_group_terms(group, matched, into);
        for &narrower in &self.synonyms.narrower[group] {
            self.add_related_terms(narrower, NARROWER_WEIGHT, into);
        }
    }

    /// Adds the terms of the groups broader than `groups` (a clause for all IT equipment
    /// applies to the laptops searched for), none of `groups` themselves, worth
    /// [`BROADER_WEIGHT`].
    fn add_broader(&self, groups: &[usize], into: &mut Alternatives) {
        let mut broader: Vec<usize> = groups
            .iter()
            .flat_map(|&g| self.synonyms.broader[g].iter().copied())
            .filter(|g| !groups.contains(g))
            .collect();
        broader.sort_unstable();
        broader.dedup();
        for group in broader {
            self.add_related_terms(group, BROADER_WEIGHT, into);
        }
    }

    /// Adds the terms of a narrower or broader group, worth `weight`: leaner than a group's
    /// own terms, in the typed texts and the analysed words only, which carry the listed forms
    /// of inflected words, not in every stemmed field (a group of twenty terms would otherwise
    /// add some two hundred term queries to each word, and a concept with five narrower ones a
    /// thousand).
    fn add_related_terms(&self, group: usize, weight: Score, into: &mut Alternatives) {
        let f = &self.fields;
        for term in &self.synonyms.groups[group] {
            let fields: &[Field] = if term.len() == 1 {
                &[f.title, f.text, f.analysed]
            } else {
                &[f.title, f.text]
            };
            add_in_fields(term, fields, weight, into);
        }
    }

    /// Adds the clauses whose CPV codes name one of `groups`, or a concept narrower or broader
    /// than one (a clause coded as portable computers is about the laptops searched for,
    /// whatever its text calls them): a match in a broader sense, worth [`BROADER_BONUS`], so
    /// such a clause ranks below those naming the word and above those not matching it at all.
    fn add_categories(&self, groups: &[usize], into: &mut Alternatives) {
        let s = &self.synonyms;
        let mut related: Vec<usize> = groups
            .iter()
            .flat_map(|&g| {
                std::iter::once(g)
                    .chain(s.narrower[g].iter().copied())
                    .chain(s.broader[g].iter().copied())
            })
            .collect();
        related.sort_unstable();
        related.dedup();
        for g in related {
            let term = Term::from_field_text(self.fields.category, &s.concepts[g]);
            into.presence(term, BROADER_WEIGHT);
        }
    }

    /// Adds the terms of a synonym group except `matched`, in every text field and stemmed
    /// field.
    fn add_group_terms(&self, group: usize, matched: &str, into: &mut Alternatives) {
        let f = &self.fields;
        for term in &self.synonyms.groups[group] {
            if term.join(" ") == matched {
                continue;
            }
            add_in_fields(term, &[f.title, f.text, f.extra, f.analysed], 1.0, into);
            if let [word] = term.as_slice() {
                self.add_stems(word, into);
            }
        }
    }

    fn filter_queries(&self, request: &SearchRequest) -> Result<Vec<Box<dyn Query>>, SearchError> {
        let mut filters: Vec<Box<dyn Query>> = Vec::new();
        for (facet, values) in &request.filter.values {
            if values.is_empty() {
                continue;
            }
            let field = self.fields.facets[facet];
            let alternatives = values
                .iter()
                .map(|v| {
                    should(TermQuery::new(
                        Term::from_field_text(field, v),
                        IndexRecordOption::Basic,
                    ))
                })
                .collect();
            filters.push(Box::new(BooleanQuery::new(alternatives)));
        }
        if let Some(prefix) = &request.filter.cpv_prefix {
            if !(2..=8).contains(&prefix.len()) || !prefix.bytes().all(|b| b.is_ascii_digit()) {
                return Err(SearchError::BadRequest {
                    field: "filter.cpv",
                    message: "must be 2–8 digits".to_owned(),
                });
            }
            filters.push(Box::new(TermQuery::new(
                Term::from_field_text(self.fields.cpv_prefix, prefix),
                IndexRecordOption::Basic,
            )));
        }
        if let Some(StaleAt { stale, now }) = request.filter.stale {
            let at = |v: i64| Term::from_field_i64(self.fields.stale_from, v);
            let range = if stale {
                RangeQuery::new(Bound::Unbounded, Bound::Included(at(now)))
            } else {
                RangeQuery::new(Bound::Excluded(at(now)), Bound::Unbounded)
            };
            filters.push(Box::new(range));
        }
        Ok(filters)
    }

    fn search(&self, request: &SearchRequest) -> Result<SearchResponse, SearchError> {
        let started = Instant::now();
        if request.query.chars().count() > MAX_QUERY_CHARS {
            return Err(SearchError::BadRequest {
                field: "query",
                message: format!("must be at most {MAX_QUERY_CHARS} characters"),
            });
        }
        let running = Running::enter(&self.running);
        let text_query = self.text_query(&request.query);
        let filters = self.filter_queries(request)?;
        let query: Box<dyn Query> = if filters.is_empty() {
            text_query.box_clone()
        } else {
            let mut clauses = vec![(Occur::Must, text_query.box_clone())];
            clauses.extend(filters.into_iter().map(|q| (Occur::Must, q)));
            Box::new(BooleanQuery::new(clauses))
        };
        let searcher = self.reader.searcher();
        // Alone, a search walks the segments on every core; beside others, on its own thread
        // only (splitting each of several searches costs throughput and gains nothing).
        let single = Executor::single_thread();
        let executor = if running.alone() {
            self.index.search_executor()
        } else {
            &single
        };
        let limit = request.limit.max(1);
        let top = TopDocs::with_limit(limit).and_offset(request.offset);
        // One pass over the matches collects the page, the count and (when facets are
        // asked for) the matching documents to count facet values over.
        let want_docs = !request.facets.is_empty();
        let (addresses, total, docs) = match request.effective_sort() {
            SortOrder::Relevance => {
                collect(&searcher, executor, &query, top.order_by_score(), want_docs)?
            }
            SortOrder::Newest => collect(
                &searcher,
                executor,
                &query,
                top.order_by_fast_field::<i64>("published_at", Order::Desc),
                want_docs,
            )?,
            SortOrder::Evidence => collect(
                &searcher,
                executor,
                &query,
                top.order_by_fast_field::<i64>("evidence_score", Order::Desc),
                want_docs,
            )?,
        };
        let hits = self.hits(&searcher, &*text_query, &addresses)?;
        let facets = match docs {
            Some(docs) => self.facet_counts(&searcher, &docs, &request.facets)?,
            None => Vec::new(),
        };
        Ok(SearchResponse {
            hits,
            estimated_total: total as u64,
            facets,
            processing_time_ms: started.elapsed().as_millis() as u64,
        })
    }

    fn hits(
        &self,
        searcher: &Searcher,
        query: &dyn Query,
        addresses: &[DocAddress],
    ) -> Result<Vec<Hit>, SearchError> {
        let f = &self.fields;
        let mut title_snippets =
            SnippetGenerator::create(searcher, query, f.title).map_err(unavailable)?;
        title_snippets.set_max_num_chars(400);
        let mut text_snippets =
            SnippetGenerator::create(searcher, query, f.text).map_err(unavailable)?;
        text_snippets.set_max_num_chars(240);
        let mut hits = Vec::with_capacity(addresses.len());
        for address in addresses {
            let doc: TantivyDocument = searcher.doc(*address).map_err(unavailable)?;
            let Some(id) = doc
                .get_first(f.id)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
            else {
                continue;
            };
            let highlight = |generator: &SnippetGenerator| {
                let mut snippet = generator.snippet_from_doc(&doc);
                snippet.set_snippet_prefix_postfix("<em>", "</em>");
                (!snippet.highlighted().is_empty()).then(|| snippet.to_html())
            };
            hits.push(Hit {
                id,
                title_highlight: highlight(&title_snippets),
                text_highlight: highlight(&text_snippets),
            });
        }
        Ok(hits)
    }

    fn facet_counts(
        &self,
        searcher: &Searcher,
        docs: &[(SegmentOrdinal, Vec<DocId>)],
        facets: &[Facet],
    ) -> Result<Vec<FacetCount>, SearchError> {
        let mut out = Vec::with_capacity(facets.len());
        let mut seen = HashSet::new();
        for facet in facets {
            if !seen.insert(*facet) {
                continue;
            }
            let mut counts: HashMap<String, u64> = HashMap::new();
            for (segment, doc_ids) in docs {
                let reader = searcher.segment_reader(*segment);
                let Some(column) = reader
                    .fast_fields()
                    .str(facet.attribute())
                    .map_err(unavailable)?
                else {
                    continue;
                };
                // Counted by term ordinal, then named once per value present.
                let mut per_ord = vec![0_u64; column.num_terms()];
                let mut count = |ord: u64| {
                    if let Some(count) = usize::try_from(ord).ok().and_then(|o| per_ord.get_mut(o))
                    {
                        *count += 1;
                    }
                };
                let ords = column.ords();
                if ords.get_cardinality().is_multivalue() {
                    for doc in doc_ids {
                        column.term_ords(*doc).for_each(&mut count);
                    }
                } else {
                    // At most one value per clause (country, language, kind …): read in
                    // blocks, without the per-clause lookup of a multi-valued column.
                    let mut values = [None; FACET_BLOCK];
                    for docs in doc_ids.chunks(FACET_BLOCK) {
                        let values = &mut values[..docs.len()];
                        // A segment without the facet leaves the block as it was.
                        values.fill(None);
                        ords.first_vals(docs, values);
                        values.iter().flatten().copied().for_each(&mut count);
                    }
                }
                let mut value = String::new();
                for (ord, count) in per_ord.into_iter().enumerate() {
                    if count == 0 {
                        continue;
                    }
                    value.clear();
                    if column
                        .ord_to_str(ord as u64, &mut value)
                        .map_err(unavailable)?
                    {
                        *counts.entry(value.clone()).or_default() += count;
                    }
                }
            }
            let mut values: Vec<FacetValue> = counts
                .into_iter()
                .map(|(value, count)| FacetValue { value, count })
                .collect();
            values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
            out.push(FacetCount {
                facet: *facet,
                values,
            });
        }
        Ok(out)
    }
}

/// Collects every match per segment, in order, without hashing (what tantivy's `DocSetCollector`
/// does in a set): the facet counts read each segment's columns for its matches.
struct SegmentDocs;

impl Collector for SegmentDocs {
    type Fruit = Vec<(SegmentOrdinal, Vec<DocId>)>;
    type Child = SegmentDocsChild;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        _reader: &SegmentReader,
    ) -> tantivy::Result<SegmentDocsChild> {
        Ok(SegmentDocsChild {
            segment,
            docs: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(
        &self,
        fruits: Vec<(SegmentOrdinal, Vec<DocId>)>,
    ) -> tantivy::Result<Self::Fruit> {
        Ok(fruits)
    }
}

struct SegmentDocsChild {
    segment: SegmentOrdinal,
    docs: Vec<DocId>,
}

impl SegmentCollector for SegmentDocsChild {
    type Fruit = (SegmentOrdinal, Vec<DocId>);

    fn collect(&mut self, doc: DocId, _score: Score) {
        self.docs.push(doc);
    }

    fn harvest(self) -> Self::Fruit {
        (self.segment, self.docs)
    }
}

/// Every match of a search, per segment.
type PerSegment = Vec<(SegmentOrdinal, Vec<DocId>)>;

/// Runs `query` once through `top` and a count (with `want_docs`, every match per segment,
/// whose number is the count): the page's addresses, the total and the matches.
/// Scoring on only for a collector that orders by score (as [`Searcher::search`] decides).
fn scoring<'a>(searcher: &'a Searcher, collector: &impl Collector) -> EnableScoring<'a> {
    if collector.requires_scoring() {
        EnableScoring::enabled_from_searcher(searcher)
    } else {
        EnableScoring::disabled_from_searcher(searcher)
    }
}

/// Collects the page (and the matching documents, or their count) with `executor`.
fn collect<S: 'static, C>(
    searcher: &Searcher,
    executor: &Executor,
    query: &dyn Query,
    top: C,
    want_docs: bool,
) -> Result<(Vec<DocAddress>, usize, Option<PerSegment>), SearchError>
where
    C: Collector<Fruit = Vec<(S, DocAddress)>>,
{
    let page = |top: Vec<(S, DocAddress)>| top.into_iter().map(|(_, a)| a).collect();
    if want_docs {
        let collector = (top, SegmentDocs);
        let (top, docs) = searcher
            .search_with_executor(query, &collector, executor, scoring(searcher, &collector))
            .map_err(unavailable)?;
        let count = docs.iter().map(|(_, d)| d.len()).sum();
        Ok((page(top), count, Some(docs)))
    } else {
        let collector = (top, Count);
        let (top, count) = searcher
            .search_with_executor(query, &collector, executor, scoring(searcher, &collector))
            .map_err(unavailable)?;
        Ok((page(top), count, None))
    }
}

/// Puts the writer's own merging (tantivy's default policy) back after a rebuild paused it
/// ([`Inner::pause_merges`]).
fn resume_merges(writer: &IndexWriter) {
    writer.set_merge_policy(Box::<LogMergePolicy>::default());
}

/// Adds a listed term (its folded words) in each of `fields`: a term query for one word, a
/// phrase for more.
fn add_in_fields(term: &[String], fields: &[Field], weight: Score, into: &mut Alternatives) {
    for &field in fields {
        if let [word] = term {
            into.term(Term::from_field_text(field, word), weight);
        } else {
            let terms = term
                .iter()
                .map(|t| Term::from_field_text(field, t))
                .collect();
            into.query(Box::new(PhraseQuery::new(terms)), weight);
        }
    }
}

fn should(query: impl Query + 'static) -> (Occur, Box<dyn Query>) {
    (Occur::Should, Box::new(query))
}

#[async_trait::async_trait]
impl SearchBackend for TantivyBackend {
    fn name(&self) -> &'static str {
        "tantivy"
    }

    fn is_new(&self) -> bool {
        self.inner.new
    }

    async fn upsert(&self, documents: Vec<CatalogueDocument>) -> Result<(), SearchError> {
        self.blocking(move |inner| {
            inner.write(|writer, inner| {
                for doc in &documents {
                    writer.delete_term(Term::from_field_text(inner.fields.id, &doc.id));
                    writer
                        .add_document(inner.to_document(doc))
                        .map_err(unavailable)?;
                }
                Ok(())
            })
        })
        .await
    }

    async fn delete(&self, ids: Vec<String>) -> Result<(), SearchError> {
        self.blocking(move |inner| {
            inner.write(|writer, inner| {
                for id in &ids {
                    writer.delete_term(Term::from_field_text(inner.fields.id, id));
                }
                Ok(())
            })
        })
        .await
    }

    async fn replace_all(&self, documents: Vec<CatalogueDocument>) -> Result<(), SearchError> {
        self.blocking(move |inner| {
            inner.pause_merges()?;
            let written = inner.write(|writer, inner| {
                // Not `delete_all_documents`: in tantivy 0.27 it turns the operation stamps
                // back to those of the writer's creation, so a delete an earlier upsert queued
                // (stamped later) can still hit a rebuilt clause of the same id. Deleting by
                // query takes the next stamp: it reaches every clause written before it and
                // none written after; the emptied segments go at the commit.
                writer
                    .delete_query(Box::new(AllQuery))
                    .map_err(unavailable)?;
                for doc in &documents {
                    writer
                        .add_document(inner.to_document(doc))
                        .map_err(unavailable)?;
                }
                Ok(())
            });
            // Merges again as usual after the rebuild's own, or after its failure.
            match written {
                Ok(()) => inner.merge_all()?,
                Err(error) => {
                    if let Ok(writer) = inner.writer.lock() {
                        resume_merges(&writer);
                    }
                    return Err(error);
                }
            }
            if let Some((path, fingerprint)) = &inner.marker {
                std::fs::write(path, fingerprint).map_err(unavailable)?;
            }
            Ok(())
        })
        .await
    }

    /// Adds to the writer without committing: the writer's threads index the documents
    /// while the caller reads its next batch, and the segments are flushed and merged once,
    /// at [`commit`](SearchBackend::commit). A failure rolls back everything uncommitted.
    async fn stage(
        &self,
        upserts: Vec<CatalogueDocument>,
        deletes: Vec<String>,
    ) -> Result<(), SearchError> {
        self.blocking(move |inner| {
            let mut writer = inner
                .writer
                .lock()
                .map_err(|_| unavailable("index writer poisoned"))?;
            let staged = upserts.iter().try_for_each(|doc| {
                writer.delete_term(Term::from_field_text(inner.fields.id, &doc.id));
                writer
                    .add_document(inner.to_document(doc))
                    .map(drop)
                    .map_err(unavailable)
            });
            if let Err(error) = staged {
                let _ = writer.rollback();
                return Err(error);
            }
            for id in &deletes {
                writer.delete_term(Term::from_field_text(inner.fields.id, id));
            }
            Ok(())
        })
        .await
    }

    async fn commit(&self) -> Result<(), SearchError> {
        self.blocking(|inner| inner.write(|_, _| Ok(()))).await
    }

    async fn search(&self, request: SearchRequest) -> Result<SearchResponse, SearchError> {
        // Writes are not gated: the indexer runs them one at a time under the writer's lock.
        // The slot moves into the search, so a request given up on still holds it until the
        // search it started has finished.
        let slot = self.gate.enter().await?;
        self.blocking(move |inner| {
            let _slot = slot;
            inner.search(&request)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clause(n: usize) -> CatalogueDocument {
        CatalogueDocument {
            id: format!("c{n}"),
            title: format!("Energy label {n}"),
            text: "Displays shall carry the energy label.".to_owned(),
            language: "EN".to_owned(),
            ..CatalogueDocument::default()
        }
    }

    fn segments(backend: &TantivyBackend) -> usize {
        backend
            .inner
            .index
            .searchable_segment_ids()
            .map_or(0, |ids| ids.len())
    }

    async fn found(backend: &TantivyBackend) -> u64 {
        let request = SearchRequest {
            query: "energy".to_owned(),
            limit: 1,
            ..SearchRequest::default()
        };
        backend
            .search(request)
            .await
            .map_or(0, |response| response.estimated_total)
    }

    /// Facet counts over every kind of column: one value per clause (country), at most one
    /// (kind, absent from some), several (focus), and a segment without the facet at all.
    #[tokio::test]
    async fn facets_are_counted_over_single_optional_and_multiple_values() {
        let backend = TantivyBackend::in_memory().expect("index");
        let with =
            |n: usize, country: &str, kind: Option<&str>, focus: &[&str]| CatalogueDocument {
                country: country.to_owned(),
                kind: kind.map(str::to_owned),
                focus: focus.iter().map(|f| (*f).to_owned()).collect(),
                ..clause(n)
            };
        // 300 clauses in one commit (more than a block of facet values), then a segment
        // whose clauses have no kind and no focus.
        let first: Vec<CatalogueDocument> = (0..300)
            .map(|n| match n % 3 {
                0 => with(
                    n,
                    "SE",
                    Some("AWARD_CRITERION"),
                    &["ENVIRONMENTAL", "SOCIAL"],
                ),
                1 => with(n, "NO", None, &["SOCIAL"]),
                _ => with(n, "SE", Some("TECHNICAL_SPECIFICATION"), &[]),
            })
            .collect();
        backend.upsert(first).await.expect("upsert");
        let second = (300..310).map(|n| with(n, "DK", None, &[])).collect();
        backend.upsert(second).await.expect("upsert");
        let response = backend
            .search(SearchRequest {
                query: "energy".to_owned(),
                limit: 1,
                facets: vec![Facet::Country, Facet::Kind, Facet::Focus],
                ..SearchRequest::default()
            })
            .await
            .expect("search");
        assert_eq!(response.estimated_total, 310);
        let counts = |facet: Facet| -> Vec<(String, u64)> {
            let values = &response
                .facets
                .iter()
                .find(|f| f.facet == facet)
                .expect("facet")
                .values;
            values.iter().map(|v| (v.value.clone(), v.count)).collect()
        };
        let pairs = |list: &[(&str, u64)]| -> Vec<(String, u64)> {
            list.iter().map(|(v, c)| ((*v).to_owned(), *c)).collect()
        };
        assert_eq!(
            counts(Facet::Country),
            pairs(&[("SE", 200), ("NO", 100), ("DK", 10)])
        );
        assert_eq!(
            counts(Facet::Kind),
            pairs(&[("AWARD_CRITERION", 100), ("TECHNICAL_SPECIFICATION", 100)])
        );
        assert_eq!(
            counts(Facet::Focus),
            pairs(&[("SOCIAL", 200), ("ENVIRONMENTAL", 100)])
        );
    }

    #[tokio::test]
    async fn a_rebuilt_index_has_a_segment_per_search_thread() {
        let backend = TantivyBackend::in_memory().expect("index");
        let batches = search_threads() + 1;
        for batch in 0..batches {
            let docs = (batch * 10..batch * 10 + 10).map(clause).collect();
            backend.upsert(docs).await.expect("upsert");
        }
        assert!(
            segments(&backend) > search_threads(),
            "each commit writes a segment or more"
        );
        backend.inner.merge_all().expect("merge");
        assert_eq!(segments(&backend), search_threads());
        assert_eq!(
            found(&backend).await,
            10 * batches as u64,
            "nothing lost in the merge"
        );

        backend
            .replace_all((0..200).map(clause).collect())
            .await
            .expect("rebuild");
        assert!(segments(&backend) <= search_threads());
        assert_eq!(found(&backend).await, 200);
    }

    fn opstamp(backend: &TantivyBackend) -> u64 {
        backend.inner.index.load_metas().expect("metas").opstamp
    }

    /// A rebuild's writes are stamped after every earlier write, also when it writes fewer
    /// clauses than were upserted before: otherwise a delete an earlier upsert queued could
    /// remove a rebuilt clause of the same id (about one rebuild in fifty lost some).
    #[tokio::test]
    async fn a_rebuild_comes_after_earlier_upserts() {
        let backend = TantivyBackend::in_memory().expect("index");
        for round in 0..5 {
            for batch in 0..3 {
                let docs = (batch * 20..batch * 20 + 20).map(clause).collect();
                backend.upsert(docs).await.expect("upsert");
            }
            let before = opstamp(&backend);
            backend
                .replace_all((0..10).map(clause).collect())
                .await
                .expect("rebuild");
            assert!(
                opstamp(&backend) > before,
                "round {round}: stamped {} after {before}",
                opstamp(&backend)
            );
            assert_eq!(found(&backend).await, 10, "round {round}");
        }
    }

    #[test]
    fn a_search_knows_whether_others_run() {
        let count = AtomicUsize::new(0);
        let first = Running::enter(&count);
        assert!(first.alone());
        {
            let second = Running::enter(&count);
            assert!(!second.alone());
        }
        drop(first);
        assert!(Running::enter(&count).alone(), "both finished");
    }
}
