//! Staleness: a clause that cites a label generation no longer current, or that nobody has
//! reviewed for [`REVIEW_INTERVAL_YEARS`] years, is flagged so buyers check it before reuse.

use std::collections::HashMap;

use async_graphql::{Enum, SimpleObject};
use chrono::{Months, NaiveDate};
use entity::{clause_version, codes, label};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QueryOrder};
use serde::Serialize;

/// A clause not reviewed for this long is stale.
pub const REVIEW_INTERVAL_YEARS: u32 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StaleReasonCode {
    /// The clause cites a label generation whose validity has ended.
    ExpiredLabel,
    /// Neither reviewed nor republished for three years.
    NotReviewed,
}

/// Why a clause is stale.
#[derive(Debug, Clone, PartialEq, SimpleObject)]
pub struct StaleReason {
    pub code: StaleReasonCode,
    /// The registry key of the expired label generation (`EXPIRED_LABEL`).
    pub label_key: Option<String>,
    /// The date the reason took effect: the end of the label's validity, or three years after
    /// the last review.
    pub since: NaiveDate,
    /// A readable explanation in English.
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, SimpleObject)]
pub struct Staleness {
    pub stale: bool,
    pub reasons: Vec<StaleReason>,
}

/// The label registry, loaded once per use.
#[derive(Debug, Clone)]
pub struct LabelRegistry {
    labels: Vec<label::Model>,
    /// Each label's scheme name as simplified words (same order as `labels`).
    schemes: Vec<Vec<String>>,
    /// The labels whose scheme name starts with a word, so a text is scanned once whatever
    /// the registry's size.
    by_first_word: HashMap<String, Vec<usize>>,
    /// For each first byte of a scheme's first word, a bit per length (in bytes, 63 standing
    /// for 63 and longer) that such a word has: most words of a text are ruled out by this
    /// before they are hashed.
    first_word_shapes: Box<[u64; 256]>,
}

impl Default for LabelRegistry {
    fn default() -> Self {
        Self::from_labels(Vec::new())
    }
}

/// The bit of [`LabelRegistry::first_word_shapes`] standing for a word's length.
fn length_bit(word: &str) -> u64 {
    1 << word.len().min(63)
}

/// The words of a text: runs of alphanumerics, as written.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// Appends `word` lowercased to `out`.
fn push_lowercase(out: &mut String, word: &str) {
    if word.is_ascii() {
        // The common case, without a char-by-char case mapping.
        let start = out.len();
        out.push_str(word);
        out[start..].make_ascii_lowercase();
    } else {
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
}

/// Lowercased text with runs of non-alphanumerics turned into one space.
fn simplify(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in words(text) {
        if !out.is_empty() {
            out.push(' ');
        }
        push_lowercase(&mut out, word);
    }
    out
}

/// Words that introduce a generation number in the catalogue's languages.
const GENERATION_WORDS: [&str; 6] = [
    "generation",
    "gen",
    "generasjon",
    "generationen",
    "sukupolvi",
    "version",
];

impl LabelRegistry {
    pub async fn load(db: &impl ConnectionTrait) -> Result<Self, DbErr> {
        Ok(Self::from_labels(
            label::Entity::find()
                .order_by_asc(label::Column::Key)
                .all(db)
                .await?,
        ))
    }

    pub fn from_labels(labels: Vec<label::Model>) -> Self {
        let schemes: Vec<Vec<String>> = labels
            .iter()
            .map(|entry| {
                simplify(&entry.scheme)
                    .split(' ')
                    .filter(|w| !w.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .collect();
        let mut by_first_word: HashMap<String, Vec<usize>> = HashMap::new();
        let mut first_word_shapes = Box::new([0_u64; 256]);
        for (i, words) in schemes.iter().enumerate() {
            if let Some(first) = words.first() {
                by_first_word.entry(first.clone()).or_default().push(i);
                first_word_shapes[usize::from(first.as_bytes()[0])] |= length_bit(first);
            }
        }
        Self {
            labels,
            schemes,
            by_first_word,
            first_word_shapes,
        }
    }

    pub fn labels(&self) -> &[label::Model] {
        &self.labels
    }

    /// The registry entries a text cites: a scheme name, followed (for schemes with
    /// generations) by a generation word and number, e.g. "TCO Certified Generation 9".
    pub fn cited_in<'a>(&'a self, text: &str) -> Vec<&'a label::Model> {
        if !self.names_a_scheme(text) {
            return Vec::new();
        }
        self.scan(text)
    }

    /// [`LabelRegistry::cited_in`] without the quick check for a scheme's first word.
    fn scan<'a>(&'a self, text: &str) -> Vec<&'a label::Model> {
        let text = simplify(text);
        let words: Vec<&str> = text.split(' ').collect();
        let mut found: Vec<usize> = Vec::new();
        for (start, word) in words.iter().enumerate() {
            let Some(&first_byte) = word.as_bytes().first() else {
                continue;
            };
            if self.first_word_shapes[usize::from(first_byte)] & length_bit(word) == 0 {
                continue;
            }
            let Some(candidates) = self.by_first_word.get(*word) else {
                continue;
            };
            for &i in candidates {
                let scheme = &self.schemes[i];
                let end = start + scheme.len();
                if end > words.len() || !scheme.iter().zip(&words[start..end]).all(|(s, w)| s == w)
                {
                    continue;
                }
                let cites = match self.labels[i].generation {
                    None => true,
                    Some(generation) => {
                        let mut rest = words[end..].iter().take(2);
                        let cited = match rest.next() {
                            Some(w) if GENERATION_WORDS.contains(w) => rest.next().copied(),
                            other => other.copied(),
                        };
                        cited.and_then(|n| n.parse::<i32>().ok()) == Some(generation)
                    }
                };
                if cites {
                    found.push(i);
                }
            }
        }
        // Registry order, each entry once, whatever order the text cites them in.
        found.sort_unstable();
        found.dedup();
        found.into_iter().map(|i| &self.labels[i]).collect()
    }

    /// Whether a word of `text` is the first word of a scheme's name. Words are checked where
    /// they stand (only those with capitals or non-ASCII letters are lowercased, into one
    /// reused buffer), so the common text, which cites no label, is never copied whole.
    fn names_a_scheme(&self, text: &str) -> bool {
        let mut lowered = String::new();
        for word in words(text) {
            let word = if word
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            {
                word
            } else {
                lowered.clear();
                push_lowercase(&mut lowered, word);
                lowered.as_str()
            };
            let Some(&first_byte) = word.as_bytes().first() else {
                continue;
            };
            if self.first_word_shapes[usize::from(first_byte)] & length_bit(word) != 0
                && self.by_first_word.contains_key(word)
            {
                return true;
            }
        }
        false
    }

    /// The first day the version is stale: the earliest expiry of a label generation it cites,
    /// or its review falling due; `None` when neither ever applies.
    pub fn stale_from(&self, version: &clause_version::Model) -> Option<NaiveDate> {
        self.causes(version, NaiveDate::MAX)
            .into_iter()
            .map(|cause| match cause {
                // Stale from the day after the generation's last valid day.
                Cause::ExpiredLabel { until, .. } => until.succ_opt().unwrap_or(until),
                Cause::NotReviewed { due, .. } => due,
            })
            .min()
    }

    /// Assesses one clause version on `today`.
    pub fn assess(&self, version: &clause_version::Model, today: NaiveDate) -> Staleness {
        let reasons: Vec<StaleReason> = self
            .causes(version, today)
            .into_iter()
            .map(Cause::reason)
            .collect();
        Staleness {
            stale: !reasons.is_empty(),
            reasons,
        }
    }

    /// Why a version is stale on `today`, not yet worded (the indexer only needs the dates).
    fn causes(&self, version: &clause_version::Model, today: NaiveDate) -> Vec<Cause<'_>> {
        let labels: Vec<String> = codes::decode(&version.labels);
        let texts = labels
            .iter()
            .map(String::as_str)
            .chain([version.title.as_str(), version.text.as_str()])
            .chain(version.verification.as_deref());
        let mut causes = Vec::new();
        let mut seen: Vec<&str> = Vec::new();
        for text in texts {
            for entry in self.cited_in(text) {
                if seen.contains(&entry.key.as_str()) {
                    continue;
                }
                seen.push(&entry.key);
                if let Some(until) = entry.valid_until
                    && until < today
                {
                    causes.push(Cause::ExpiredLabel { entry, until });
                }
            }
        }
        let reviewed = version
            .last_reviewed
            .or_else(|| version.published_at.map(|t| t.date_naive()));
        if let Some(reviewed) = reviewed
            && let Some(due) = reviewed.checked_add_months(Months::new(12 * REVIEW_INTERVAL_YEARS))
            && due <= today
        {
            causes.push(Cause::NotReviewed { reviewed, due });
        }
        causes
    }
}

/// A reason a version is stale, before it is worded.
enum Cause<'a> {
    ExpiredLabel {
        entry: &'a label::Model,
        until: NaiveDate,
    },
    NotReviewed {
        reviewed: NaiveDate,
        due: NaiveDate,
    },
}

impl Cause<'_> {
    fn reason(self) -> StaleReason {
        match self {
            Cause::ExpiredLabel { entry, until } => StaleReason {
                code: StaleReasonCode::ExpiredLabel,
                label_key: Some(entry.key.clone()),
                since: until,
                message: format!("cites {}, which was current until {until}", entry.name),
            },
            Cause::NotReviewed { reviewed, due } => StaleReason {
                code: StaleReasonCode::NotReviewed,
                label_key: None,
                since: due,
                message: format!(
                    "last reviewed {reviewed}, more than {REVIEW_INTERVAL_YEARS} years ago"
                ),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> LabelRegistry {
        let entry =
            |key: &str, scheme: &str, generation: Option<i32>, until: Option<&str>| label::Model {
                key: key.into(),
                scheme: scheme.into(),
                name: format!("{scheme} {}", generation.unwrap_or(0)),
                generation,
                valid_from: None,
                valid_until: until.and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
            };
        LabelRegistry::from_labels(vec![
            entry("tco-8", "TCO Certified", Some(8), Some("2021-11-30")),
            entry("tco-9", "TCO Certified", Some(9), Some("2024-11-30")),
            entry("tco-10", "TCO Certified", Some(10), Some("2027-11-30")),
            entry("epeat", "EPEAT", None, None),
        ])
    }

    fn version(labels: &[&str], text: &str, reviewed: Option<&str>) -> clause_version::Model {
        clause_version::Model {
            clause_id: uuid::Uuid::nil(),
            version: 1,
            title: "Datorer".into(),
            purpose: None,
            text: text.into(),
            scoring_rule: None,
            verification: None,
            follow_up: None,
            kind: None,
            ambition_level: None,
            environmental_impacts: "[]".into(),
            social_objectives: "[]".into(),
            origin: None,
            applicability: None,
            cpv_codes: "[]".into(),
            product_group: None,
            labels: codes::encode(labels),
            language: entity::Language::Sv,
            licence: "CC-BY-4.0".into(),
            last_reviewed: reviewed.and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
            published_at: None,
        }
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn recognises_generations_in_varied_wording() {
        let r = registry();
        let keys = |t: &str| {
            r.cited_in(t)
                .iter()
                .map(|l| l.key.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            keys("TCO Certified Generation 9 eller likvärdigt"),
            ["tco-9"]
        );
        assert_eq!(keys("tco certified, gen. 10"), ["tco-10"]);
        assert_eq!(keys("TCO Certified 8"), ["tco-8"]);
        assert_eq!(
            keys("TCO Certified generasjon 10 og EPEAT Gold"),
            ["tco-10", "epeat"]
        );
        assert!(keys("TCO Certified Generation 11").is_empty());
        assert!(keys("ISO 14001").is_empty());
        // Each entry once, in registry order, whatever order and how often the text cites it.
        assert_eq!(
            keys("EPEAT, TCO Certified Generation 9, EPEAT, TCO Certified 9"),
            ["tco-9", "epeat"]
        );
        // A scheme name cut off by the end of the text cites nothing.
        assert!(keys("krav enligt TCO").is_empty());
        assert!(keys("krav enligt TCO Certified").is_empty());
    }

    /// A registry entry without generations or validity dates.
    fn plain_label(key: &str, scheme: &str) -> label::Model {
        label::Model {
            key: key.into(),
            scheme: scheme.into(),
            name: scheme.into(),
            generation: None,
            valid_from: None,
            valid_until: None,
        }
    }

    #[test]
    fn non_ascii_schemes_and_near_misses() {
        let r = LabelRegistry::from_labels(vec![
            plain_label("bra-miljoval", "Bra Miljöval"),
            plain_label("joutsen", "Joutsenmerkki"),
            plain_label("uz", "Österreichisches Umweltzeichen"),
        ]);
        let keys = |t: &str| {
            r.cited_in(t)
                .iter()
                .map(|l| l.key.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(keys("märkt med BRA MILJÖVAL-märket"), ["bra-miljoval"]);
        assert_eq!(keys("JOUTSENMERKKI tai vastaava"), ["joutsen"]);
        // A scheme whose first word starts with a multi-byte letter.
        assert_eq!(keys("enligt ÖSTERREICHISCHES Umweltzeichen"), ["uz"]);
        // Same first letter and length as a scheme's first word, or a prefix of it: no match.
        assert!(keys("bro miljöval").is_empty());
        assert!(keys("bra miljö").is_empty());
        assert!(keys("Joutsenmerkkiä").is_empty());
        assert!(LabelRegistry::default().cited_in("Bra Miljöval").is_empty());
    }

    use proptest::strategy::Strategy as _;

    proptest::proptest! {
        /// The quick check never hides a citation the full scan finds: texts built from
        /// scheme words in any case, generation words, numbers and other words.
        #[test]
        fn the_quick_check_agrees_with_the_full_scan(
            words in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::sample::select(vec![
                        "TCO", "tco", "Certified", "CERTIFIED", "generation", "Generation", "9",
                        "10", "EPEAT", "epeat", "Bra", "MILJÖVAL", "Miljöval", "ÖSTERREICHISCHES",
                        "umweltzeichen", "en", "et", "tc", "Ö", "-", ", ", "İ",
                    ]).prop_map(str::to_owned),
                    "[a-zA-ZåäöÅÄÖ0-9 ,.-]{0,12}",
                ],
                0..12,
            ),
        ) {
            let mut labels = registry().labels;
            labels.push(plain_label("bra-miljoval", "Bra Miljöval"));
            labels.push(plain_label("uz", "Österreichisches Umweltzeichen"));
            let r = LabelRegistry::from_labels(labels);
            let text = words.join(" ");
            let keys = |found: Vec<&label::Model>| {
                found.iter().map(|l| l.key.clone()).collect::<Vec<_>>()
            };
            proptest::prop_assert_eq!(keys(r.cited_in(&text)), keys(r.scan(&text)));
        }
    }

    #[test]
    fn expired_generation_makes_a_clause_stale() {
        let r = registry();
        let today = day("2026-11-22");
        let s = r.assess(
            &version(&["TCO Certified Generation 9"], "x", Some("2026-01-01")),
            today,
        );
        assert!(s.stale);
        assert_eq!(s.reasons.len(), 1);
        assert_eq!(s.reasons[0].code, StaleReasonCode::ExpiredLabel);
        assert_eq!(s.reasons[0].label_key.as_deref(), Some("tco-9"));
        assert_eq!(s.reasons[0].since, day("2024-11-30"));

        let fresh = r.assess(
            &version(&["TCO Certified Generation 10"], "x", Some("2026-01-01")),
            today,
        );
        assert_eq!(fresh, Staleness::default());
        // The same generation cited in the text counts too.
        let in_text = r.assess(
            &version(
                &[],
                "Skärmar ska vara certifierade enligt TCO Certified Generation 8.",
                Some("2026-01-01"),
            ),
            today,
        );
        assert_eq!(in_text.reasons[0].label_key.as_deref(), Some("tco-8"));
    }

    #[test]
    fn unreviewed_for_three_years_is_stale() {
        let r = registry();
        let today = day("2026-11-22");
        let s = r.assess(&version(&[], "x", Some("2023-11-21")), today);
        assert_eq!(s.reasons.len(), 1);
        assert_eq!(s.reasons[0].code, StaleReasonCode::NotReviewed);
        assert_eq!(s.reasons[0].since, day("2026-11-21"));
        assert!(
            !r.assess(&version(&[], "x", Some("2023-11-23")), today)
                .stale
        );
    }

    #[test]
    fn stale_from_is_the_earliest_reason() {
        let r = registry();
        let gen10 = version(&["TCO Certified Generation 10"], "x", Some("2025-06-01"));
        assert_eq!(r.stale_from(&gen10), Some(day("2027-12-01")));
        let reviewed_long_ago = version(&["TCO Certified Generation 10"], "x", Some("2024-01-10"));
        assert_eq!(r.stale_from(&reviewed_long_ago), Some(day("2027-01-10")));
        let never = version(&["EPEAT"], "x", None);
        assert_eq!(r.stale_from(&never), None);
    }
}
