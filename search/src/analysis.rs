//! Language analysis shared by both backends: compound splitting and concept words.
//!
//! Meilisearch has no stemming or decompounding for the Nordic languages, and the embedded
//! index's stemmers leave compounds whole, so a clause about `vinterdäck` was never found by
//! `däck`, and `pakkausjäte` found nothing. This module splits a compound into known words
//! (`vinter` + `däck`, `pakkaus` + `jäte`, `elbil` + `leasing` across the linking `s`) and
//! names the synonym-list terms a word is an inflection of (`renkaita` → `renkaat`). Each
//! document carries what it finds as an extra searchable field ([`Analysis::document_words`]),
//! so both backends match the parts and the listed forms with their own matching, synonyms
//! and typo tolerance. Queries are analysed too: the embedded index splits their compounds
//! ([`Analysis::splits`]) and reads kind and level words ([`Analysis::facet_mentions`]); the
//! Meilisearch adapter sends the query as [`Analysis::meili_query`] rewrites it.
//!
//! Known words are the demo catalogue's vocabulary per language (`data/lexicon.json`, written
//! by `scripts/lexicon.py`) and the synonym list's terms, compared by their snowball stems.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, OnceLock},
};

use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer,
};

use serde::Deserialize;

use crate::{CatalogueDocument, Facet, synonyms::Synonyms};

const LEXICON_JSON: &str = include_str!("../data/lexicon.json");
const FACET_WORDS_JSON: &str = include_str!("../data/facet-words.json");
/// Longest facet phrase, in words.
const MAX_FACET_WORDS: usize = 3;
/// Bumped when the analysis itself changes, so indexes built with the old one are rebuilt.
const ANALYSIS_REVISION: u32 = 6;
/// Shortest part of a compound, in characters.
const MIN_PART: usize = 3;
/// Shortest last part taken alone, when the rest of the word is no known word.
const MIN_HEAD: usize = 4;
/// Shortest word that is tried as a compound.
const MIN_COMPOUND: usize = 7;
/// Words remembered per language; the vocabulary of a catalogue is far smaller.
const CACHE_WORDS: usize = 200_000;

/// The clause languages analysed, with their snowball stemmer and the letters that may join
/// the parts of a compound (`arbetsmiljö`, `barnehagemat`, `ympäristönsuojelu`).
const LANGUAGES: [(&str, Language, &[&str]); 5] = [
    ("SV", Language::Swedish, &["s"]),
    ("NB", Language::Norwegian, &["s", "e"]),
    ("DA", Language::Danish, &["s", "e"]),
    ("FI", Language::Finnish, &["n"]),
    ("EN", Language::English, &[]),
];

struct LanguageAnalysis {
    code: &'static str,
    stemmer: TextAnalyzer,
    links: &'static [&'static str],
    /// Stems of the words known in this language.
    known: HashSet<String>,
    /// The lexicon's words as written, which tell the language of a query.
    vocabulary: HashSet<String>,
    stop: HashSet<String>,
    /// The stop words of every language of at most [`MIN_PART`] letters, none of which is a
    /// part of a compound (`der` is no Swedish word, but `hjemmesidder` is still no
    /// `hjemmesid` + `der`).
    stop_anywhere: Arc<HashSet<String>>,
    /// Stem of a single-word synonym term → the term (lower case, as listed).
    terms: HashMap<String, String>,
    /// Compound splits already worked out (`None`: not a compound).
    splits: Mutex<HashMap<String, Option<Vec<String>>>>,
}

/// Finds one known part of a word ([`LanguageAnalysis::head`], [`LanguageAnalysis::first_part`]).
type OnePart = fn(&LanguageAnalysis, &str, &dyn Fn(&str) -> bool) -> Option<String>;

/// The shared analysis; [`Analysis::bundled`] is built once per process.
pub struct Analysis {
    languages: Vec<LanguageAnalysis>,
    words: TextAnalyzer,
    /// Lower-case words of a facet phrase (joined by spaces) → the facet value it names.
    facet_words: HashMap<String, (Facet, String)>,
    /// Every word of the synonym list's terms, which a misspelt query word is corrected to.
    listed_words: Vec<String>,
    /// The synonym list's terms of two or three words, as their lower-case words joined by
    /// spaces (for [`Analysis::query_units`]).
    listed_phrases: HashSet<String>,
    /// Each stop word of a listed term with the word before it and, apart, with the word after
    /// it (`("cost", "of")`, `("of", "ownership")` of `total cost of ownership`): a stop word
    /// typed so is part of the term, not left out of a Meilisearch query.
    stop_pairs: HashSet<(String, String)>,
    /// The single-word terms and the stems their inflected forms are built on ([`stems`]),
    /// each with its term, sorted by stem (for [`Analysis::ending_form`]).
    stems: Vec<(String, String)>,
    fingerprint: u64,
}

/// `data/facet-words.json`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FacetWords {
    kind: HashMap<String, Vec<String>>,
    ambition_level: HashMap<String, Vec<String>>,
}

/// Query words naming a clause kind or ambition level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacetMention {
    /// Index of the first query word and how many words the phrase takes.
    pub start: usize,
    pub len: usize,
    pub facet: Facet,
    /// The facet value (`AWARD_CRITERION`, `SPEARHEAD`).
    pub value: String,
}

fn analyzer(language: Option<Language>) -> TextAnalyzer {
    let builder = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser);
    match language {
        Some(language) => builder.filter(Stemmer::new(language)).build(),
        None => builder.build(),
    }
}

/// The edit distance between `a` and `b` if it is at most `max`: insertions, deletions,
/// substitutions and swaps of two neighbouring letters (`chlid`: `child`) count one each, as
/// in the fuzzy terms the index matches typos with.
pub(crate) fn edit_distance_within(a: &[char], b: &str, max: usize) -> Option<usize> {
    let b: Vec<char> = b.chars().collect();
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        current[0] = i + 1;
        let mut row_min = current[0];
        for (j, cb) in b.iter().enumerate() {
            let mut distance = (previous[j] + usize::from(ca != cb))
                .min(previous[j + 1] + 1)
                .min(current[j] + 1);
            if i > 0 && j > 0 && *ca == b[j - 1] && a[i - 1] == *cb {
                distance = distance.min(before[j - 1] + 1);
            }
            current[j + 1] = distance;
            row_min = row_min.min(distance);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    let distance = previous[b.len()];
    (distance <= max).then_some(distance)
}

/// How many typos a word of `length` letters may have: none under five letters, one from
/// five, two from nine (Meilisearch's defaults, which both backends follow).
pub(crate) fn typo_budget(length: usize) -> usize {
    match length {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

/// The `candidates` nearest to `word` within its [`typo_budget`] (all those at the least
/// distance found), sorted; none for a word too short for typos.
pub(crate) fn nearest_words<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Vec<&'a str> {
    let length = word.chars().count();
    let max = typo_budget(length);
    if max == 0 {
        return Vec::new();
    }
    let chars: Vec<char> = word.chars().collect();
    let mut best = max;
    let mut nearest = Vec::new();
    for candidate in candidates {
        if candidate.chars().count().abs_diff(length) > max {
            continue;
        }
        let Some(distance) = edit_distance_within(&chars, candidate, best) else {
            continue;
        };
        if distance < best || nearest.is_empty() {
            best = distance;
            nearest.clear();
        }
        nearest.push(candidate);
    }
    // The same whatever order the candidates came in.
    nearest.sort_unstable();
    nearest.dedup();
    nearest
}

/// FNV-1a: a hash that stays the same across builds and toolchains (it is stored on disk).
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The tokens `analyzer` makes of `text`.
pub(crate) fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while let Some(token) = stream.next() {
        out.push(token.text.clone());
    }
    out
}

impl LanguageAnalysis {
    fn stem(&self, word: &str) -> String {
        tokens(&mut self.stemmer.clone(), word).concat()
    }

    fn is_known(&self, part: &str, extra: &dyn Fn(&str) -> bool) -> bool {
        part.chars().count() >= MIN_PART
            && !self.stop.contains(part)
            && !self.stop_anywhere.contains(part)
            && (self.known.contains(&self.stem(part)) || extra(part))
    }

    /// `word` as known parts, the longest possible last part first (`elbilsleasing` →
    /// `elbil`, `leasing`); `depth` more splits are tried on the first part.
    fn split(&self, word: &str, depth: usize, extra: &dyn Fn(&str) -> bool) -> Option<Vec<String>> {
        let chars: Vec<char> = word.chars().collect();
        if chars.len() < 2 * MIN_PART {
            return None;
        }
        for at in MIN_PART..=chars.len() - MIN_PART {
            let head: String = chars[at..].iter().collect();
            if !self.is_known(&head, extra) {
                continue;
            }
            let first: String = chars[..at].iter().collect();
            let mut candidates = vec![first.clone()];
            for link in self.links {
                if let Some(stripped) = first.strip_suffix(link) {
                    candidates.push(stripped.to_owned());
                }
            }
            for candidate in candidates {
                if self.is_known(&candidate, extra) {
                    return Some(vec![candidate, head]);
                }
                if depth > 0
                    && let Some(mut parts) = self.split(&candidate, depth - 1, extra)
                {
                    parts.push(head);
                    return Some(parts);
                }
            }
        }
        None
    }

    /// The longest known last part of `word` when the rest is no known word (`varetransport`
    /// → `transport`): in compounds of these languages the last part names what the thing is.
    /// Two-letter first parts (`el` in `elbussar`) are allowed before a last part of five
    /// letters or more.
    fn head(&self, word: &str, extra: &dyn Fn(&str) -> bool) -> Option<String> {
        let chars: Vec<char> = word.chars().collect();
        (2..=chars.len().saturating_sub(MIN_HEAD))
            .filter(|at| *at >= MIN_PART || chars.len() - at > MIN_HEAD)
            .map(|at| chars[at..].iter().collect::<String>())
            .find(|head| self.is_known(head, extra))
    }

    /// The longest known first part of `word` (`asbestikartoitus` → `asbesti`, when the
    /// Finnish `kartoitus` is known in none of its forms).
    fn first_part(&self, word: &str, extra: &dyn Fn(&str) -> bool) -> Option<String> {
        let chars: Vec<char> = word.chars().collect();
        (MIN_HEAD..=chars.len().saturating_sub(MIN_PART))
            .rev()
            .map(|at| chars[..at].iter().collect::<String>())
            .find(|first| self.is_known(first, extra))
    }

    /// The split of a document word, remembered.
    fn cached_split(&self, word: &str) -> Option<Vec<String>> {
        if word.chars().count() < MIN_COMPOUND {
            return None;
        }
        if let Ok(cache) = self.splits.lock()
            && let Some(known) = cache.get(word)
        {
            return known.clone();
        }
        // English writes its compounds apart: the known end of an English word is a suffix
        // more often than a word (`retired` is no `tired`, `measures` no `sures`), so an
        // English word is split only into known words.
        let split = self.split(word, 1, &|_| false).or_else(|| {
            (self.code != "EN")
                .then(|| self.head(word, &|_| false))
                .flatten()
                .map(|head| vec![head])
        });
        if let Ok(mut cache) = self.splits.lock() {
            if cache.len() >= CACHE_WORDS {
                cache.clear();
            }
            cache.insert(word.to_owned(), split.clone());
        }
        split
    }

    /// The synonym-list term `word` is a form of, if it is not that term itself.
    fn listed_form(&self, word: &str) -> Option<&str> {
        self.terms
            .get(&self.stem(word))
            .map(String::as_str)
            .filter(|term| *term != word)
    }
}

impl Analysis {
    /// The analysis of this build (lexicon and synonym list bundled), built once.
    pub fn bundled() -> &'static Analysis {
        static ANALYSIS: OnceLock<Analysis> = OnceLock::new();
        ANALYSIS.get_or_init(|| {
            let synonyms = Synonyms::bundled().expect("the bundled synonym list parses");
            let lexicon: HashMap<String, Vec<String>> =
                serde_json::from_str(LEXICON_JSON).expect("the bundled lexicon parses");
            Analysis::new(&synonyms, &lexicon)
        })
    }

    fn new(synonyms: &Synonyms, lexicon: &HashMap<String, Vec<String>>) -> Self {
        let single_terms: Vec<&String> = synonyms
            .groups
            .iter()
            .flat_map(|g| &g.terms)
            .filter(|t| !t.contains(' '))
            .collect();
        // Only the short ones: `have` (Danish for garden) or `under` may well end a compound.
        let stop_anywhere: Arc<HashSet<String>> = Arc::new(
            synonyms
                .stop_words
                .values()
                .flatten()
                .filter(|w| w.chars().count() <= MIN_PART)
                .cloned()
                .collect(),
        );
        let languages = LANGUAGES
            .iter()
            .map(|&(code, language, links)| {
                let lower = code.to_lowercase();
                let mut analysis = LanguageAnalysis {
                    code,
                    stemmer: analyzer(Some(language)),
                    links,
                    known: HashSet::new(),
                    stop: synonyms
                        .stop_words
                        .get(&lower)
                        .into_iter()
                        .flatten()
                        .cloned()
                        .collect(),
                    stop_anywhere: Arc::clone(&stop_anywhere),
                    terms: HashMap::new(),
                    vocabulary: lexicon.get(&lower).into_iter().flatten().cloned().collect(),
                    splits: Mutex::default(),
                };
                let mut known = HashSet::new();
                for word in lexicon.get(&lower).into_iter().flatten() {
                    known.insert(analysis.stem(word));
                }
                for term in &single_terms {
                    let stem = analysis.stem(term);
                    // Stems of two letters or fewer match too much to stand for a term.
                    if stem.chars().count() >= MIN_PART {
                        known.insert(stem.clone());
                        analysis
                            .terms
                            .entry(stem)
                            .or_insert_with(|| (*term).clone());
                    }
                }
                analysis.known = known;
                analysis
            })
            .collect();
        let mut stop_words: Vec<_> = synonyms.stop_words.iter().collect();
        stop_words.sort();
        let terms = serde_json::to_string(&(
            synonyms.groups.iter().map(|g| &g.terms).collect::<Vec<_>>(),
            stop_words,
        ))
        .unwrap_or_default();
        let lexicon_text =
            serde_json::to_string(&lexicon.iter().collect::<std::collections::BTreeMap<_, _>>())
                .unwrap_or_default();
        let fingerprint = fnv1a(
            [
                ANALYSIS_REVISION.to_le_bytes().as_slice(),
                lexicon_text.as_bytes(),
                terms.as_bytes(),
                crate::synonyms::CPV_CONCEPTS_JSON.as_bytes(),
            ]
            .concat()
            .as_slice(),
        );
        let words = analyzer(None);
        let facet_words: FacetWords =
            serde_json::from_str(FACET_WORDS_JSON).expect("the bundled facet words parse");
        let mut by_phrase = HashMap::new();
        for (facet, values) in [
            (Facet::Kind, facet_words.kind),
            (Facet::AmbitionLevel, facet_words.ambition_level),
        ] {
            for (value, phrases) in values {
                for phrase in phrases {
                    by_phrase.insert(
                        tokens(&mut words.clone(), &phrase).join(" "),
                        (facet, value.clone()),
                    );
                }
            }
        }
        let mut listed_words: Vec<String> = synonyms
            .groups
            .iter()
            .flat_map(|g| &g.terms)
            .flat_map(|t| tokens(&mut words.clone(), t))
            .collect();
        listed_words.sort_unstable();
        listed_words.dedup();
        let listed_phrases: HashSet<String> = synonyms
            .groups
            .iter()
            .flat_map(|g| &g.terms)
            .map(|t| tokens(&mut words.clone(), t))
            .filter(|t| (2..=3).contains(&t.len()))
            .map(|t| t.join(" "))
            .collect();
        let all_stop: HashSet<&String> = synonyms.stop_words.values().flatten().collect();
        let mut stop_pairs: HashSet<(String, String)> = HashSet::new();
        for term in synonyms.groups.iter().flat_map(|g| &g.terms) {
            let words = tokens(&mut words.clone(), term);
            for (j, word) in words.iter().enumerate() {
                if !all_stop.contains(word) {
                    continue;
                }
                if j > 0 {
                    stop_pairs.insert((words[j - 1].clone(), word.clone()));
                }
                if let Some(next) = words.get(j + 1) {
                    stop_pairs.insert((word.clone(), next.clone()));
                }
            }
        }
        let mut stems: Vec<(String, String)> = single_terms
            .iter()
            .flat_map(|term| {
                inflection_stems(term)
                    .into_iter()
                    .map(|s| (s, (*term).clone()))
            })
            .collect();
        // For a stem that is also a term, that term (`batteribytte` is not `batteribyte`).
        stems.sort_unstable_by(|a, b| (&a.0, a.0 != a.1, &a.1).cmp(&(&b.0, b.0 != b.1, &b.1)));
        stems.dedup_by(|a, b| a.0 == b.0);
        Self {
            languages,
            words,
            facet_words: by_phrase,
            listed_words,
            listed_phrases,
            stop_pairs,
            stems,
            fingerprint,
        }
    }

    /// Changes with the analysis revision, the lexicon, the synonym terms and the stop words,
    /// all of which change how documents are analysed: indexes built under another
    /// fingerprint are rebuilt (the embedded index adds its schema).
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    fn language(&self, code: &str) -> Option<&LanguageAnalysis> {
        let code = if code == "NN" { "NB" } else { code };
        self.languages.iter().find(|l| l.code == code)
    }

    /// The words a document in `language` is also found by, space separated: the parts of its
    /// compounds and the synonym-list terms its words (and parts) are inflections of. Empty
    /// for a language without analysis.
    pub fn document_words(&self, language: &str, texts: &[&str]) -> String {
        let Some(analysis) = self.language(language) else {
            return String::new();
        };
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        let mut add = |word: &str, out: &mut Vec<String>| {
            if seen.insert(word.to_owned()) {
                out.push(word.to_owned());
            }
        };
        let mut done = HashSet::new();
        // A Finnish word's ending may follow a term as written, another language's only one
        // of its derived stems ([`Analysis::derived_ending_form`]).
        let ending = |word: &str| {
            if analysis.code == "FI" {
                self.ending_form(word)
            } else {
                self.derived_ending_form(word)
            }
        };
        for text in texts {
            for word in tokens(&mut self.words.clone(), text) {
                if !done.insert(word.clone()) {
                    continue;
                }
                if let Some(term) = analysis.listed_form(&word).or_else(|| ending(&word)) {
                    add(term, &mut out);
                }
                for part in analysis.cached_split(&word).into_iter().flatten() {
                    let term = analysis.listed_form(&part).map(str::to_owned);
                    add(&part, &mut out);
                    if let Some(term) = term {
                        add(&term, &mut out);
                    }
                }
            }
        }
        out.join(" ")
    }

    /// Every distinct way the query word `word` (lower case, language unknown) splits into
    /// parts, trying each language, or else its known last parts alone, or else (a word known
    /// in no language) its known first parts alone (one-part splits);
    /// `known` names further known words (the index's own vocabulary, on the embedded index).
    pub fn splits(&self, word: &str, known: &dyn Fn(&str) -> bool) -> Vec<Vec<String>> {
        let mut out: Vec<Vec<String>> = Vec::new();
        if word.chars().count() < MIN_COMPOUND {
            return out;
        }
        for analysis in &self.languages {
            if let Some(parts) = analysis.split(word, 1, known)
                && !out.contains(&parts)
            {
                out.push(parts);
            }
        }
        // No split into known words: the known last part alone (`sommardäck` → `däck`), or
        // else the known first part.
        let parts: [OnePart; 2] = [LanguageAnalysis::head, LanguageAnalysis::first_part];
        // A known word is not cut down to one part (`leverantör` is no `lever`, `mobiler` no
        // `biler`).
        let whole_known = self.languages.iter().any(|l| l.is_known(word, known));
        for part in parts {
            if !out.is_empty() || whole_known {
                break;
            }
            for analysis in &self.languages {
                if let Some(found) = part(analysis, word, known)
                    && !out.iter().any(|parts| parts[0] == found)
                {
                    out.push(vec![found]);
                }
            }
        }
        out
    }

    /// The phrases of `words` (lower case query words) that name a clause kind or ambition
    /// level, longest first, not overlapping (`tildelingskriterier transport` names
    /// `AWARD_CRITERION` by its first word).
    pub fn facet_mentions(&self, words: &[String]) -> Vec<FacetMention> {
        let mut out = Vec::new();
        let mut start = 0;
        while start < words.len() {
            let longest = (1..=MAX_FACET_WORDS.min(words.len() - start))
                .rev()
                .find_map(|len| {
                    let phrase = words[start..start + len].join(" ");
                    self.facet_words
                        .get(&phrase)
                        .map(|(facet, value)| FacetMention {
                            start,
                            len,
                            facet: *facet,
                            value: value.clone(),
                        })
                });
            match longest {
                Some(mention) => {
                    start += mention.len;
                    out.push(mention);
                }
                None => start += 1,
            }
        }
        out
    }

    /// The query as it is sent to Meilisearch, which matches words as typed (with typo
    /// tolerance and the synonym list) but knows neither these languages' compounds nor that
    /// a misspelt word should be translated too. Each word known in no language is replaced by
    /// the synonym-list term it is another ending or a misspelling of (`chlid labour` → `child
    /// labour`, so the synonyms apply), or by its known parts, last part first (`sommardäck`
    /// → `däck sommar`), so that Meilisearch's `last` matching strategy, which drops words
    /// from the end when too few documents match them all, keeps the part that names the
    /// thing. Documents carry the same parts ([`Analysis::document_words`]). Words naming a
    /// clause kind or level are left out; words the synonym list knows go first. A query with
    /// a quoted phrase is sent as typed.
    pub fn meili_query(&self, text: &str) -> String {
        if text.contains('"') {
            return text.to_owned();
        }
        let none = |_: &str| false;
        let typed = tokens(&mut self.words.clone(), text);
        // Words naming a clause kind or level are no text to match: they are left out (the
        // adapter ranks the clauses of that kind first, see `named_facets`).
        let mentions = self.facet_mentions(&typed);
        let named = |i: usize| {
            mentions
                .iter()
                .any(|m| (m.start..m.start + m.len).contains(&i))
        };
        let topic: Vec<&String> = typed
            .iter()
            .enumerate()
            .filter(|(i, _)| !named(*i))
            .map(|(_, w)| w)
            .collect();
        if topic.is_empty() {
            // Only a kind or level: every clause, those of it first (see `named_facets`).
            return String::new();
        }
        // Stop words are left out, as the embedded index leaves them optional: Meilisearch
        // counts every word a clause has, and `av` or `of` then ranks the clauses of the
        // languages that have the word above those in the others. Not one of a listed term
        // typed with its neighbour (`total cost of ownership`, `codes of conduct`, also
        // misspelt: `guarantees of orign`), one typed in capitals (`IT`), the last word (maybe
        // the start of a longer word still being typed), nor the words of a query of stop
        // words only.
        let acronyms: HashSet<String> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().count() >= 2 && w.chars().all(char::is_uppercase))
            .map(str::to_lowercase)
            .collect();
        // A neighbour as typed, as the listed term it is a form of, or as corrected.
        let forms = |word: &str| -> Vec<String> {
            let mut forms = vec![word.to_owned()];
            if self
                .listed_words
                .binary_search_by(|w| w.as_str().cmp(word))
                .is_err()
            {
                let known = self.languages.iter().any(|l| l.is_known(word, &none));
                let other = if known {
                    self.own_listed_form(word)
                } else {
                    self.nearest_listed_word(word)
                };
                forms.extend(other.map(str::to_owned));
            }
            forms
        };
        let last = topic.len() - 1;
        let only_stop = topic.iter().all(|w| self.is_stop_word(w));
        let keep = |i: usize| {
            let word = topic[i];
            only_stop
                || !self.is_stop_word(word)
                || i == last
                || acronyms.contains(word.as_str())
                || (i > 0
                    && forms(topic[i - 1])
                        .into_iter()
                        .any(|before| self.stop_pairs.contains(&(before, word.clone()))))
                || forms(topic[i + 1])
                    .into_iter()
                    .any(|after| self.stop_pairs.contains(&(word.clone(), after)))
        };
        let content: Vec<&String> = (0..topic.len())
            .filter(|&i| keep(i))
            .map(|i| topic[i])
            .collect();
        let topic = content;
        let mut out: Vec<String> = Vec::new();
        // Where the last word's own output begins: it stays last (below).
        let mut last_from = None;
        for (i, word) in topic.iter().enumerate() {
            let word = (*word).clone();
            let known = self.listed_words.binary_search(&word).is_ok()
                || self.languages.iter().any(|l| l.is_known(&word, &none));
            if i + 1 == topic.len() && !known {
                last_from = Some(out.len());
            }
            let listed = self.listed_words.binary_search(&word).is_ok();
            if known
                && !listed
                && let Some(term) = self.own_listed_form(&word)
            {
                // Another form of a listed term (`näyttöjen` of `näyttö`, Swedish
                // `certifierade` of `certifiering`, by its stem or else its ending, as the
                // documents' words are read): the term, which the documents carry for each of
                // its forms and the synonyms take further.
                out.push(term.to_owned());
            } else if known || word.chars().any(|c| c.is_ascii_digit()) {
                out.push(word);
            } else if let Some(listed) = self
                .ending_form(&word)
                .or_else(|| self.nearest_listed_word(&word))
            {
                out.push(listed.to_owned());
            } else if let Some(parts) = self.splits(&word, &none).into_iter().next() {
                if parts.len() == 1 {
                    out.extend(parts);
                    out.push(word);
                } else {
                    out.extend(parts.into_iter().rev());
                }
            } else {
                out.push(word);
            }
        }
        // Words the concept groups translate go first: when too few documents match every
        // word, Meilisearch drops words from the end, so a word it cannot take into the other
        // languages is dropped before them (`removable battery lifetime` → `battery
        // lifetime removable`). A last word known in no language stays last: it may be a
        // word still being typed, which Meilisearch matches as a prefix only there.
        let sorted = last_from.unwrap_or(out.len());
        out[..sorted].sort_by_key(|word| {
            self.listed_words.binary_search(word).is_err() && self.listed_forms(word).is_empty()
        });
        out.join(" ")
    }

    /// `query` (as [`Analysis::meili_query`] writes it) with each word that splits into known
    /// words in its place by its last part (`engångsförpackning` → `förpackning`): in these
    /// languages a compound's last part names what the thing is, and the documents carry their
    /// compounds' parts, so the clauses having the last parts hold those having the compounds.
    /// `None` when no word splits so, or the query has a quoted phrase.
    pub fn compound_heads(&self, query: &str) -> Option<String> {
        if query.contains('"') {
            return None;
        }
        let none = |_: &str| false;
        let mut changed = false;
        let words: Vec<String> = query
            .split_whitespace()
            .map(|word| {
                let split = self.splits(word, &none).into_iter().find(|p| p.len() > 1);
                match split.and_then(|parts| parts.last().cloned()) {
                    Some(head) => {
                        changed = true;
                        head
                    }
                    None => word.to_owned(),
                }
            })
            .collect();
        changed.then(|| words.join(" "))
    }

    /// The clause kinds and ambition levels the words of `text` name (`tildelingskriterier`,
    /// `spjutspets`), as `(facet, value)`: the clauses that have them rank first. None for a
    /// quoted phrase, which is matched as typed.
    pub fn named_facets(&self, text: &str) -> Vec<(Facet, String)> {
        if text.contains('"') {
            return Vec::new();
        }
        let typed = tokens(&mut self.words.clone(), text);
        self.facet_mentions(&typed)
            .into_iter()
            .map(|m| (m.facet, m.value))
            .collect()
    }

    /// The listed term `word` is another form of, by the stemmer of a language whose lexicon
    /// has the word as written, or else has its stem, or else by its ending
    /// ([`Analysis::query_ending_form`]): the English `table` is no form of the
    /// Norwegian-stemmed `tablet`.
    fn own_listed_form(&self, word: &str) -> Option<&str> {
        self.word_languages(word)
            .into_iter()
            .find_map(|language| language.listed_form(word))
            .or_else(|| self.query_ending_form(word))
    }

    /// The languages whose lexicon has `word` as written, or else its stem.
    fn word_languages(&self, word: &str) -> Vec<&LanguageAnalysis> {
        let none = |_: &str| false;
        let written: Vec<&LanguageAnalysis> = self
            .languages
            .iter()
            .filter(|l| l.vocabulary.contains(word))
            .collect();
        if !written.is_empty() {
            return written;
        }
        self.languages
            .iter()
            .filter(|l| l.is_known(word, &none))
            .collect()
    }

    /// The words of `query` (lower case, space separated, as [`Analysis::meili_query`] writes
    /// it) grouped into what a search matches as one: a listed phrase of two or three words
    /// (`child labour`, which its synonyms take into the other languages) or else a word.
    pub fn query_units(&self, query: &str) -> Vec<String> {
        let words: Vec<&str> = query.split_whitespace().collect();
        let mut units = Vec::new();
        let mut start = 0;
        while start < words.len() {
            let len = [3, 2]
                .into_iter()
                .find(|&n| {
                    start + n <= words.len()
                        && self
                            .listed_phrases
                            .contains(&words[start..start + n].join(" "))
                })
                .unwrap_or(1);
            units.push(words[start..start + len].join(" "));
            start += len;
        }
        units
    }

    /// The synonym-list word nearest to `word` within its [`typo_budget`], the first in order
    /// among equally near ones.
    fn nearest_listed_word(&self, word: &str) -> Option<&str> {
        nearest_words(word, self.listed_words.iter().map(String::as_str))
            .first()
            .copied()
    }

    /// The language code (`SV`, `NB`, `DA`, `FI`, `EN`) more of the query's words belong to
    /// than to any other, by the lexicon's words and the stop words; none on a tie.
    pub fn query_language(&self, words: &[String]) -> Option<&'static str> {
        let mut scores: Vec<(usize, &'static str)> = self
            .languages
            .iter()
            .map(|l| {
                let score = words
                    .iter()
                    .filter(|w| l.vocabulary.contains(*w) || l.stop.contains(*w))
                    .count();
                (score, l.code)
            })
            .collect();
        scores.sort_unstable_by_key(|&(score, _)| std::cmp::Reverse(score));
        match scores.as_slice() {
            [(best, code), (second, _), ..] if *best > 0 && best > second => Some(code),
            _ => None,
        }
    }

    /// Whether `word` (lower case) is, as written, a word of the synonym list or of the
    /// lexicon of some language: a real word, not a misspelling. (By stems, `matsvin` would
    /// be known: the Danish stemmer makes `matsvinn` that.)
    pub fn is_known_word(&self, word: &str) -> bool {
        self.listed_words
            .binary_search_by(|w| w.as_str().cmp(word))
            .is_ok()
            || self.languages.iter().any(|l| l.vocabulary.contains(word))
    }

    /// Every word [`is_known_word`](Self::is_known_word) knows, of five letters or more (the
    /// shorter ones get no typos anyway), sorted: what Meilisearch is told not to take for a
    /// misspelling of another word (`mobiler`, phones, is no `möbler`).
    pub fn known_words(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .listed_words
            .iter()
            .chain(self.languages.iter().flat_map(|l| &l.vocabulary))
            .filter(|w| w.chars().count() >= 5 && w.chars().all(char::is_alphabetic))
            .cloned()
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether `word` (lower case) is a stop word of any of the languages.
    pub fn is_stop_word(&self, word: &str) -> bool {
        self.languages.iter().any(|l| l.stop.contains(word))
    }

    /// The synonym-list terms the query word `word` (lower case, language unknown) is an
    /// inflection of, in any language.
    pub fn listed_forms(&self, word: &str) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for analysis in &self.languages {
            if let Some(term) = analysis.listed_form(word)
                && !out.contains(&term)
            {
                out.push(term);
            }
        }
        if out.is_empty() {
            out.extend(self.query_ending_form(word));
        }
        out
    }

    /// The single-word term of the synonym list that `word` is, with an ending the stemmers do
    /// not remove: the whole term or one of its [`inflection_stems`], then at most
    /// [`MAX_ENDING`] letters (Finnish `näyttöjen` → `näyttö`, `tulostimien` → `tulostin`,
    /// `kannettavien` → `kannettava`). The term of the longest such stem; none for words under
    /// six letters or stems under five.
    pub fn ending_form(&self, word: &str) -> Option<&str> {
        self.ending_form_from(word, true)
    }

    /// [`Analysis::ending_form`] for a word of a language other than Finnish: through one of
    /// a term's [`inflection_stems`] only, not the term itself, whose ending is then as likely
    /// another word's (`certifierade` is a form of `certifiering`, by its stem `certifier`;
    /// Norwegian `servering`, serving food, is no `server`, nor Swedish `fraktion` `frakt`).
    fn derived_ending_form(&self, word: &str) -> Option<&str> {
        self.ending_form_from(word, false)
    }

    /// [`Analysis::ending_form`] of a query word, whose language is not known: as for Finnish
    /// unless only other languages know the word ([`Analysis::word_languages`]), then
    /// [`Analysis::derived_ending_form`].
    fn query_ending_form(&self, word: &str) -> Option<&str> {
        let languages = self.word_languages(word);
        if languages.is_empty() || languages.iter().any(|l| l.code == "FI") {
            self.ending_form(word)
        } else {
            self.derived_ending_form(word)
        }
    }

    /// [`Analysis::ending_form`], through the term itself as a stem too when `bare`.
    fn ending_form_from(&self, word: &str, bare: bool) -> Option<&str> {
        let length = word.chars().count();
        // A single-word term is its own form (`renoverad`, refurbished, is no `renovering`).
        let is_term = self
            .stems
            .binary_search_by(|(stem, _)| stem.as_str().cmp(word))
            .is_ok_and(|i| self.stems[i].1 == word);
        if length < 6 || is_term {
            return None;
        }
        let prefix: String = word.chars().take(5).collect();
        let start = self
            .stems
            .partition_point(|(stem, _)| stem.as_str() < prefix.as_str());
        self.stems[start..]
            .iter()
            .take_while(|(stem, _)| stem.starts_with(&prefix))
            .filter_map(|(stem, term)| {
                let common = word
                    .chars()
                    .zip(stem.chars())
                    .take_while(|(a, b)| a == b)
                    .count();
                let stem_length = stem.chars().count();
                (term != word
                    && (bare || stem != term)
                    && common == stem_length
                    && length - common <= MAX_ENDING)
                    .then_some((common, term.as_str()))
            })
            .max()
            .map(|(_, term)| term)
    }
}

/// Most letters after a term's stem that [`Analysis::ending_form`] takes as an ending
/// (Finnish `-issa`, `-iden`); a longer rest is more often another word of a compound.
const MAX_ENDING: usize = 4;

/// Shortest stem [`inflection_stems`] gives.
const MIN_STEM: usize = 5;

/// The stems a single-word term's inflected forms are built on: the term itself, and the
/// regular stem changes of Finnish inflection, which snowball leaves to be matched as
/// different words (after Karlsson, *Finnish: An Essential Grammar*, and the Kotus
/// inflection types):
/// - the plural `i` replacing a final `a`/`ä` (`kannettava` → `kannettavi-en`) or joining
///   an `e`-stem;
/// - `-nen` words' `s`-stem (`kaksipuolinen` → `kaksipuolis-ta`);
/// - `-in` words' `m`-stem (`tulostin` → `tulostim-ien`, `puhelin` → `puhelim-et`);
/// - `-us`/`-ys` words' `ks`-stem (`kierrätys` → `kierrätyks-en`);
/// - `-e` words' long stem, the consonant before the `e` doubled in the strong grade
///   (`kone` → `konee-t`, `laite` → `laitte-iden`);
/// - `-ton`/`-tön` words' `ttom`-stem (`päästötön` → `päästöttöm-iä`);
/// - the weak grade of a double stop before the final vowel (`tabletti` → `tableti-n`,
///   `näyttö` → `näytö-t`) and of `nk`, `mp`, `nt`, `lt`, `rt` (`kaupunki` → `kaupungi-ssa`).
///
/// And one Nordic pattern: an `-ering` noun's verb stem, which its participles and passive
/// forms share (`certificering` → `certificer-et`, `certifiering` → `certifier-ad`,
/// `sertifisering` → `sertifiser-te`), where the stemmers cut the noun and the participle to
/// different stems.
///
/// Terms of the other languages mostly fall outside these patterns, and a stem must match
/// the word letter for letter. Terms under [`MIN_STEM`] letters, terms already in a
/// partitive form and derived stems under [`MIN_DERIVED_STEM`] letters get none.
pub(crate) fn inflection_stems(term: &str) -> Vec<String> {
    let chars: Vec<char> = term.chars().collect();
    let mut out = vec![term.to_owned()];
    let n = chars.len();
    if n < MIN_STEM || !chars.iter().all(|c| c.is_alphabetic()) {
        return out;
    }
    let head = |k: usize| chars[..n - k].iter().collect::<String>();
    let vowel = |c: char| "aeiouyäö".contains(c);
    let last = chars[n - 1];
    // A term that is itself a partitive (`sähköä`, `jätettä`, `uusiutuvaa`) is no base form to
    // build on.
    if (vowel(last) && vowel(chars[n - 2])) || term.ends_with("tta") || term.ends_with("ttä") {
        return out;
    }
    if term.ends_with("ering") {
        out.push(head(3));
    }
    // Vowel groups: two-syllable `-a` words take `o` or keep the `a` in the plural (`palkka`,
    // `palkkoja`), longer ones the `i` (`kannettava`, `kannettavia`).
    let syllables = chars
        .iter()
        .zip(std::iter::once(&' ').chain(chars.iter()))
        .filter(|(c, before)| vowel(**c) && !vowel(**before))
        .count();
    if matches!(last, 'a' | 'ä') && syllables >= 3 {
        out.push(format!("{}i", head(1)));
    }
    // `-inen`, not any `-nen`: Nordic definite forms end so too (`betonen`, `fordonen`).
    if term.ends_with("inen") {
        out.push(format!("{}s", head(3)));
    } else if term.ends_with("in") && !vowel(chars[n - 3]) {
        out.push(format!("{}m", head(1)));
    } else if term.ends_with("us") || term.ends_with("ys") {
        out.push(format!("{}ks", head(1)));
    } else if term.ends_with("ton") || term.ends_with("tön") {
        let vowel = if last == 'n' && chars[n - 2] == 'ö' {
            'ö'
        } else {
            'o'
        };
        out.push(format!("{}tt{vowel}m", head(3)));
    } else if last == 'e' && n >= 2 && !vowel(chars[n - 2]) {
        out.push(format!("{term}e"));
        if matches!(chars[n - 2], 'k' | 'p' | 't') && vowel(chars[n - 3]) {
            let c = chars[n - 2];
            out.push(format!("{}{c}{c}e", head(2)));
        }
    }
    if vowel(last) && n >= 3 {
        let (a, b) = (chars[n - 3], chars[n - 2]);
        let weak = match (a, b) {
            ('k', 'k') | ('p', 'p') | ('t', 't') => Some(a.to_string()),
            ('n', 'k') => Some("ng".into()),
            ('m', 'p') => Some("mm".into()),
            ('n', 't') => Some("nn".into()),
            ('l', 't') => Some("ll".into()),
            ('r', 't') => Some("rr".into()),
            _ => None,
        };
        if let Some(weak) = weak {
            let stem: String = chars[..n - 3].iter().collect();
            out.push(format!("{stem}{weak}{last}"));
            if matches!(last, 'a' | 'ä') {
                out.push(format!("{stem}{weak}i"));
            }
        }
    }
    out.retain(|stem| stem == term || stem.chars().count() >= MIN_DERIVED_STEM);
    out.sort_unstable();
    out.dedup();
    out
}

/// Shortest stem [`inflection_stems`] derives (a shorter one matches too many other words:
/// `palki` would find `palkitsee`).
const MIN_DERIVED_STEM: usize = 6;

/// [`Analysis::document_words`] of a catalogue document's title alone (Meilisearch ranks them
/// as the title, see `meili::SEARCHABLE`).
pub fn title_words(doc: &CatalogueDocument) -> String {
    Analysis::bundled().document_words(&doc.language, &[doc.title.as_str()])
}

/// [`Analysis::document_words`] of a catalogue document's texts, in its language: the extra
/// field both backends index (`analysed`).
pub fn analysed_words(doc: &CatalogueDocument) -> String {
    let texts: Vec<&str> = [
        Some(doc.title.as_str()),
        Some(doc.text.as_str()),
        doc.purpose.as_deref(),
        doc.scoring_rule.as_deref(),
        doc.verification.as_deref(),
        doc.follow_up.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect();
    Analysis::bundled().document_words(&doc.language, &texts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finnish_terms_have_their_inflection_stems() {
        let stems = |term: &str| inflection_stems(term);
        assert!(stems("kannettava").contains(&"kannettavi".to_owned()));
        assert!(stems("kaksipuolinen").contains(&"kaksipuolis".to_owned()));
        assert!(stems("tulostin").contains(&"tulostim".to_owned()));
        assert!(stems("kierrätys").contains(&"kierrätyks".to_owned()));
        assert!(stems("monitoimilaite").contains(&"monitoimilaitte".to_owned()));
        assert!(stems("päästötön").contains(&"päästöttöm".to_owned()));
        assert!(stems("tabletti").contains(&"tableti".to_owned()));
        assert!(stems("kaupunki").contains(&"kaupungi".to_owned()));
        // Nordic `-ering` nouns share their verb's stem; short ones (`levering`) get none.
        assert!(stems("certificering").contains(&"certificer".to_owned()));
        assert!(stems("sertifisering").contains(&"sertifiser".to_owned()));
        assert_eq!(stems("levering"), vec!["levering".to_owned()]);
        // The term itself is always a stem; short and odd words get nothing more.
        assert_eq!(stems("däck"), vec!["däck".to_owned()]);
        assert_eq!(stems("co2-udledning"), vec!["co2-udledning".to_owned()]);
        assert_eq!(stems("leverantör"), vec!["leverantör".to_owned()]);
        // Partitives, two-syllable `-a` words and Nordic definite forms are no base forms.
        assert_eq!(stems("sähköä"), vec!["sähköä".to_owned()]);
        assert_eq!(stems("jätettä"), vec!["jätettä".to_owned()]);
        assert!(!stems("palkka").contains(&"palki".to_owned()));
        assert_eq!(stems("betonen"), vec!["betonen".to_owned()]);
    }

    #[test]
    fn compounds_split_into_known_words() {
        let analysis = Analysis::bundled();
        let none = |_: &str| false;
        let splits = |word: &str| analysis.splits(word, &none);
        assert!(splits("tonerpatroner").contains(&vec!["toner".into(), "patroner".into()]));
        assert!(splits("kierrätyspaperi").contains(&vec!["kierrätys".into(), "paperi".into()]));
        // A word the extra vocabulary knows counts as a part.
        let known = |w: &str| w == "sommar";
        assert!(
            analysis
                .splits("sommardäck", &known)
                .iter()
                .any(|parts| parts.first().is_some_and(|p| p == "sommar"))
        );
        // Short and plain words are left whole.
        assert!(
            splits("leverantör").is_empty(),
            "{:?}",
            splits("leverantör")
        );
        assert!(splits("däck").is_empty());
    }

    #[test]
    fn documents_carry_parts_and_listed_forms() {
        let analysis = Analysis::bundled();
        let words = analysis.document_words("SV", &["Tonerkassetter ska kunna återvinnas"]);
        let words: Vec<&str> = words.split(' ').collect();
        assert!(words.contains(&"kassetter"), "{words:?}");
        assert!(words.contains(&"toner"), "{words:?}");
        assert_eq!(analysis.document_words("XX", &["tonerpatroner"]), "");
    }

    #[test]
    fn facet_words_are_found_in_queries() {
        let analysis = Analysis::bundled();
        let words = |text: &str| -> Vec<String> { text.split(' ').map(str::to_owned).collect() };
        let mentions = analysis.facet_mentions(&words("tildelingskriterier transport"));
        assert_eq!(
            mentions,
            vec![FacetMention {
                start: 0,
                len: 1,
                facet: Facet::Kind,
                value: "AWARD_CRITERION".into()
            }]
        );
        let mentions =
            analysis.facet_mentions(&words("selection criterion environmental management"));
        assert_eq!((mentions[0].start, mentions[0].len), (0, 2));
        let mentions = analysis.facet_mentions(&words("spjutspets transporter"));
        assert_eq!(mentions[0].value, "SPEARHEAD");
        assert!(analysis.facet_mentions(&words("elbilar krav")).is_empty());
    }

    #[test]
    fn other_endings_of_listed_terms_are_recognised() {
        let analysis = Analysis::bundled();
        assert_eq!(analysis.ending_form("näyttöjen"), Some("näyttö"));
        // The term itself, short words and unrelated words are no other ending.
        assert_eq!(analysis.ending_form("näyttö"), None);
        assert_eq!(analysis.ending_form("näyt"), None);
        assert_eq!(analysis.ending_form("leverantör"), None);
        // Finnish stem changes: the plural `i`, the `m`-stem of `-in` words.
        assert_eq!(analysis.ending_form("tulostimien"), Some("tulostin"));
        assert_eq!(analysis.ending_form("kannettavien"), Some("kannettava"));
        let words = analysis.document_words("FI", &["Näyttöjen energiankulutus"]);
        assert!(words.split(' ').any(|w| w == "näyttö"), "{words}");
        // A Nordic participle is a form of its `-ering` noun; a listed word is only itself.
        assert_eq!(analysis.ending_form("certificeret"), Some("certificering"));
        assert_eq!(analysis.ending_form("sertifiserte"), Some("sertifisering"));
        assert_eq!(analysis.ending_form("renoverad"), None);
        let words = analysis.document_words("DA", &["Enhederne skal være certificeret"]);
        assert!(words.split(' ').any(|w| w == "certificering"), "{words}");
    }

    #[test]
    fn listed_phrases_are_one_unit_of_a_query() {
        let analysis = Analysis::bundled();
        assert_eq!(
            analysis.query_units("child labour dekk"),
            vec!["child labour".to_owned(), "dekk".to_owned()]
        );
        assert_eq!(
            analysis.query_units("labour child"),
            vec!["labour".to_owned(), "child".to_owned()]
        );
        assert!(analysis.query_units("").is_empty());
    }

    #[test]
    fn a_word_is_sent_as_a_listed_term_only_by_its_own_language() {
        let analysis = Analysis::bundled();
        // A Finnish inflection of a Finnish term becomes the term ...
        assert_eq!(analysis.own_listed_form("näyttöjen"), Some("näyttö"));
        // ... but an English word is not taken for a Norwegian form of another.
        assert_ne!(analysis.own_listed_form("table"), Some("tablet"));
        assert_ne!(analysis.own_listed_form("made"), Some("mad"));
    }

    #[test]
    fn english_words_are_not_cut_down_to_their_ends() {
        let analysis = Analysis::bundled();
        let words = |language: &str, text: &str| -> Vec<String> {
            analysis
                .document_words(language, &[text])
                .split_whitespace()
                .map(str::to_owned)
                .collect()
        };
        // A known end of an English word is no part of it (tyres are not retired equipment).
        let english = words("EN", "retired equipment, measures taken");
        for junk in ["tired", "tire", "sures"] {
            assert!(!english.contains(&junk.to_owned()), "{english:?}");
        }
        // Two known words still are (`workwear`), and so is a Nordic compound's known last
        // part when its first part is no known word.
        assert!(words("EN", "workwear").contains(&"wear".to_owned()));
        assert!(words("SV", "returemballage").contains(&"emballage".to_owned()));
    }

    #[test]
    fn compounds_give_way_to_their_last_parts() {
        let analysis = Analysis::bundled();
        // The listed form of the word, then its last part.
        let query = analysis.meili_query("engångsförpackning");
        assert_eq!(query, "engångsförpackningar");
        assert_eq!(
            analysis.compound_heads(&query).as_deref(),
            Some("förpackningar")
        );
        assert_eq!(
            analysis.compound_heads("elbilsleasing vinter").as_deref(),
            Some("leasing vinter")
        );
        // No word splits, or a quoted phrase: nothing to go on with.
        assert_eq!(analysis.compound_heads("toner retur"), None);
        assert_eq!(analysis.compound_heads("\"engångsförpackning\""), None);
    }

    #[test]
    fn meilisearch_queries_are_corrected_and_split() {
        let analysis = Analysis::bundled();
        // A misspelt word becomes the listed word, so Meilisearch's synonyms apply.
        assert_eq!(analysis.meili_query("chlid labour"), "child labour");
        // Another form of a listed word becomes the listed word (its ending is no stemmer's).
        assert_eq!(
            analysis.meili_query("TCO-certifierade datorer"),
            "tco certifiering datorer"
        );
        // Not through the bare term, though, for a word of another language than Finnish:
        // the rest is then as likely another word's (a waste `fraktion` is no `frakt`).
        assert_eq!(analysis.meili_query("fraktion"), "fraktion");
        assert_eq!(analysis.meili_query("mobilteam"), "mobilteam");
        assert_eq!(
            analysis.document_words("SV", &["fraktion"]),
            String::new(),
            "a Swedish document's fraktion carries no frakt"
        );
        assert_eq!(analysis.document_words("FI", &["näyttöjen"]), "näyttö");
        // Known words, numbers and quoted phrases stay as typed.
        assert_eq!(analysis.meili_query("Toner retur"), "toner retur");
        assert_eq!(analysis.meili_query("iso 14001"), "iso 14001");
        assert_eq!(analysis.meili_query("\"chlid\""), "\"chlid\"");
        // Kind words are left out (the clauses of the kind rank first instead, see
        // `named_facets`), and the translatable words go first.
        assert_eq!(analysis.meili_query("tildelingskriterium energi"), "energi");
        assert_eq!(analysis.meili_query("tildelingskriterium"), "");
        assert_eq!(
            analysis.named_facets("Tildelingskriterium energi"),
            vec![(Facet::Kind, "AWARD_CRITERION".to_owned())]
        );
        assert!(analysis.named_facets("\"tildelingskriterium\"").is_empty());
        assert_eq!(
            analysis.meili_query("removable battery lifetime"),
            "battery lifetime removable"
        );
        assert!(
            analysis
                .meili_query("removable battery")
                .starts_with("battery")
        );
        // An unknown last word stays last (a prefix being typed).
        assert!(
            analysis
                .meili_query("battery kontorsmö")
                .ends_with(" kontorsmö")
        );
        // Stop words are left out, except in a listed phrase or a query of nothing else.
        let erasure = analysis.meili_query("sikker sletting av data");
        assert!(!erasure.split(' ').any(|w| w == "av"), "{erasure}");
        assert_eq!(erasure.split(' ').count(), 3, "{erasure}");
        let association = analysis.meili_query("freedom of association");
        assert!(association.split(' ').any(|w| w == "of"), "{association}");
        // In a listed term of four words.
        let ownership = analysis.meili_query("total cost of ownership reporting");
        assert!(ownership.split(' ').any(|w| w == "of"), "{ownership}");
        // The last word is kept: it may be the start of a word still being typed.
        assert!(
            analysis
                .meili_query("elektronik av")
                .split(' ')
                .any(|w| w == "av")
        );
        assert_eq!(analysis.meili_query("of the"), "of the");
        assert!(
            analysis
                .meili_query("guarantees of orign")
                .split(' ')
                .any(|w| w == "of")
        );
        assert!(
            analysis
                .meili_query("IT asset reporting")
                .split(' ')
                .any(|w| w == "it")
        );
        // An unknown compound: its known parts, the last part first.
        let split = analysis.meili_query("tonerkassettretur");
        let words: Vec<&str> = split.split(' ').collect();
        assert!(words.contains(&"retur") && words.len() == 2, "{split}");
        assert!(words.iter().any(|w| w.starts_with("toner")), "{split}");
    }

    #[test]
    fn the_query_language_is_told_by_its_words() {
        let analysis = Analysis::bundled();
        let words = |text: &str| -> Vec<String> { text.split(' ').map(str::to_owned).collect() };
        assert_eq!(
            analysis.query_language(&words("leverantören ska")),
            Some("SV")
        );
        assert_eq!(
            analysis.query_language(&words("toimittajan on")),
            Some("FI")
        );
        assert_eq!(analysis.query_language(&words("xyzzy")), None);
    }

    #[test]
    fn the_fingerprint_follows_the_synonyms_and_the_lexicon() {
        let lexicon: HashMap<String, Vec<String>> =
            serde_json::from_str(LEXICON_JSON).expect("lexicon");
        let bundled = || Synonyms::bundled().expect("synonyms");
        let fingerprint = Analysis::new(&bundled(), &lexicon).fingerprint();
        assert_eq!(fingerprint, Analysis::bundled().fingerprint());
        let mut synonyms = bundled();
        synonyms.groups[0].terms.push("zzz".into());
        assert_ne!(
            Analysis::new(&synonyms, &lexicon).fingerprint(),
            fingerprint
        );
        let mut synonyms = bundled();
        synonyms
            .stop_words
            .entry("sv".into())
            .or_default()
            .push("zzz".into());
        assert_ne!(
            Analysis::new(&synonyms, &lexicon).fingerprint(),
            fingerprint
        );
        let mut other = lexicon.clone();
        other.entry("sv".into()).or_default().push("zzz".into());
        assert_ne!(Analysis::new(&bundled(), &other).fingerprint(), fingerprint);
    }

    #[test]
    fn nearest_words_are_all_the_closest_in_order() {
        let candidates = ["toner", "tonar", "tuner", "barnarbete"];
        // The closest only; all those equally close, in order.
        assert_eq!(nearest_words("tonerr", candidates), ["toner"]);
        assert_eq!(nearest_words("tonxr", candidates), ["tonar", "toner"]);
        assert_eq!(nearest_words("barnarbte", candidates), ["barnarbete"]);
        // Under five letters no typo is allowed.
        assert!(nearest_words("tonr", candidates).is_empty());
        assert_eq!(typo_budget(4), 0);
        assert_eq!(typo_budget(5), 1);
        assert_eq!(typo_budget(9), 2);
    }

    #[test]
    fn edit_distances_are_bounded() {
        let word: Vec<char> = "barnarbte".chars().collect();
        assert_eq!(edit_distance_within(&word, "barnarbete", 2), Some(1));
        assert_eq!(edit_distance_within(&word, "barnarbete", 0), None);
        let word: Vec<char> = "tonr".chars().collect();
        assert_eq!(edit_distance_within(&word, "toner", 1), Some(1));
        assert_eq!(edit_distance_within(&word, "blekk", 2), None);
        assert_eq!(edit_distance_within(&[], "", 0), Some(0));
        // A swap of neighbouring letters is one edit.
        let word: Vec<char> = "chlid".chars().collect();
        assert_eq!(edit_distance_within(&word, "child", 1), Some(1));
        let word: Vec<char> = "abcd".chars().collect();
        assert_eq!(edit_distance_within(&word, "badc", 2), Some(2));
    }
}
