//! Finds personal data in free text and replaces it with typed placeholders.
//!
//! Five detectors propose spans independently: e-mail addresses (here), telephone numbers
//! ([`phone`]), Nordic personal identity numbers with valid check digits ([`ids`]), names after
//! role words such as "kontaktperson" ([`names`]) and an organisation's own deny-list
//! ([`deny`]). Overlapping proposals are resolved (longest first, then the more certain kind,
//! then the earliest), so every character belongs to at most one finding. Placeholders already
//! in a text are never found again, which makes [`anonymise`] idempotent.
//!
//! All patterns are compiled once ([`LazyLock`]); the deny-list is matched on word tokens
//! without regexes, so preparing an [`Anonymiser`] is cheap.

mod deny;
mod ids;
mod lexicon;
mod names;
mod persons;
mod phone;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use std::sync::LazyLock;

use entity::Language;
use regex::Regex;
use serde::Serialize;

/// What kind of personal data a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FindingKind {
    Email,
    Phone,
    /// A Nordic personal identity number whose check digits hold (for Danish CPR numbers
    /// written with a dash: whose date is valid).
    PersonalIdentityNumber,
    /// A name after a role word such as "kontaktperson", "saksbehandler" or "case officer".
    ContactName,
    /// A term from the organisation's own deny-list.
    DenyListed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: FindingKind,
    /// Offsets in Unicode scalar values (chars), end exclusive.
    pub start: usize,
    pub end: usize,
    /// The placeholder that replaces it, e.g. "[e-post]".
    pub placeholder: &'static str,
}

/// The placeholder for a kind in a language.
pub fn placeholder(kind: FindingKind, language: Language) -> &'static str {
    use FindingKind::*;
    use Language::*;
    match (kind, language) {
        (Email, Sv | Nb | Nn) => "[e-post]",
        (Email, Da | En) => "[e-mail]",
        (Email, Fi) => "[sähköposti]",
        (Phone, Sv | Nb | Nn | Da) => "[telefonnummer]",
        (Phone, Fi) => "[puhelinnumero]",
        (Phone, En) => "[phone number]",
        (PersonalIdentityNumber, Sv) => "[personnummer]",
        (PersonalIdentityNumber, Nb | Nn) => "[fødselsnummer]",
        (PersonalIdentityNumber, Da) => "[cpr-nummer]",
        (PersonalIdentityNumber, Fi) => "[henkilötunnus]",
        (PersonalIdentityNumber, En) => "[personal id number]",
        (ContactName, Sv | Nn) => "[namn]",
        (ContactName, Nb | Da) => "[navn]",
        (ContactName, Fi) => "[nimi]",
        (ContactName, En) => "[name]",
        (DenyListed, Sv) => "[borttaget]",
        (DenyListed, Nb | Nn | Da) => "[fjernet]",
        (DenyListed, Fi) => "[poistettu]",
        (DenyListed, En) => "[removed]",
    }
}

/// Every placeholder [`placeholder`] can return; text inside them is never a finding.
const PLACEHOLDERS: [&str; 19] = [
    "[e-post]",
    "[e-mail]",
    "[sähköposti]",
    "[telefonnummer]",
    "[puhelinnumero]",
    "[phone number]",
    "[personnummer]",
    "[fødselsnummer]",
    "[cpr-nummer]",
    "[henkilötunnus]",
    "[personal id number]",
    "[namn]",
    "[navn]",
    "[nimi]",
    "[name]",
    "[borttaget]",
    "[fjernet]",
    "[poistettu]",
    "[removed]",
];

/// A proposed finding, in byte offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    kind: FindingKind,
    start: usize,
    end: usize,
    /// Certainty: when two proposals cover the same text, the higher rank wins.
    rank: u8,
}

impl Span {
    fn new(kind: FindingKind, start: usize, end: usize) -> Self {
        let rank = match kind {
            FindingKind::Email => 5,
            FindingKind::PersonalIdentityNumber => 4,
            FindingKind::Phone => 3,
            // The organisation's own list is surer than a recognised name.
            FindingKind::DenyListed => 2,
            FindingKind::ContactName => 1,
        };
        Self {
            kind,
            start,
            end,
            rank,
        }
    }

    /// A proposal that loses to any other proposal for the same text.
    fn weak(mut self) -> Self {
        self.rank = 0;
        self
    }

    fn overlaps(&self, start: usize, end: usize) -> bool {
        self.start < end && start < self.end
    }
}

/// Compiles a built-in pattern; every pattern is exercised by the tests.
///
/// The lazy DFA gets room for the large Unicode, case-insensitive alternations (the role
/// words): with the default cache it is rebuilt over and over on long texts, and searches fall
/// back to the much slower NFA simulation.
fn compile(pattern: &str) -> Regex {
    regex::RegexBuilder::new(pattern)
        .dfa_size_limit(64 << 20)
        .build()
        .unwrap_or_else(|e| panic!("built-in pattern {pattern:?}: {e}"))
}

/// E-mail addresses, also written with `(at)`, `[at]` or ` (at) ` for the `@` and `(dot)` or
/// `[dot]` for dots, as people do to fool harvesters.
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    let local = r"[\p{L}\p{N}_%+\-]+(?:(?:\.|[ ]?[\(\[]dot[\)\]][ ]?)[\p{L}\p{N}_%+\-]+)*";
    let at = r"(?:@|[ ]?[\(\[](?i:at)[\)\]][ ]?)";
    let label = r"[\p{L}\p{N}](?:[\p{L}\p{N}\-]*[\p{L}\p{N}])?";
    let dot = r"(?:\.|[ ]?[\(\[](?i:dot)[\)\]][ ]?)";
    compile(&format!(
        r"{local}{at}{label}(?:{dot}{label})*{dot}\p{{L}}{{2,}}"
    ))
});

/// Addresses around each `@` (or `(at)`), matched in a window around it: a pattern this
/// rich, run over a whole long text, outgrows the regex engine's fast path.
fn emails(text: &str, out: &mut Vec<Span>) {
    let lower = text.to_ascii_lowercase();
    let mut anchors: Vec<usize> = text.match_indices('@').map(|(i, _)| i).collect();
    for marker in ["(at)", "[at]"] {
        anchors.extend(lower.match_indices(marker).map(|(i, _)| i));
    }
    if anchors.is_empty() {
        return;
    }
    anchors.sort_unstable();
    let mut covered = 0;
    for anchor in anchors {
        if anchor < covered {
            continue;
        }
        let (mut from, mut to) = (anchor.saturating_sub(100), (anchor + 160).min(text.len()));
        while !text.is_char_boundary(from) {
            from -= 1;
        }
        while !text.is_char_boundary(to) {
            to += 1;
        }
        if let Some(m) = EMAIL
            .find_iter(&text[from..to])
            .find(|m| from + m.start() <= anchor && anchor < from + m.end())
        {
            out.push(Span::new(
                FindingKind::Email,
                from + m.start(),
                from + m.end(),
            ));
            covered = from + m.end();
        }
    }
}

/// Words between a cue and its number: "org. nr 556036-0793", "CVR no: 29189730".
const CONNECTORS: [&str; 12] = [
    "", "nr", "no", "nro", "nummer", "number", "numero", "id", "kod", "kode", "code", "is",
];

/// Whether the word just before byte `at` (looking past connectors such as "nr") satisfies
/// `is_cue`. Words are lowercased and stripped of surrounding punctuation.
fn cue_before(text: &str, at: usize, is_cue: impl Fn(&str) -> bool) -> bool {
    let mut from = at.saturating_sub(64);
    while !text.is_char_boundary(from) {
        from -= 1;
    }
    for word in text[from..at].split_whitespace().rev().take(4) {
        let word = word
            .trim_matches(|c: char| !c.is_alphanumeric())
            .to_lowercase();
        if is_cue(&word) {
            return true;
        }
        if !CONNECTORS.contains(&word.as_str()) {
            return false;
        }
    }
    false
}

/// The anonymiser prepared with one organisation's deny-list.
#[derive(Debug, Clone, Default)]
pub struct Anonymiser {
    deny: deny::DenyList,
}

impl Anonymiser {
    /// Deny-list terms are trimmed; terms shorter than two characters are ignored. They match
    /// case-insensitively, on whole words, with any run of whitespace between their words.
    pub fn new(deny_list: &[String]) -> Self {
        Self {
            deny: deny::DenyList::new(deny_list),
        }
    }

    /// Finds personal data, sorted by start, non-overlapping.
    pub fn find(&self, text: &str, language: Language) -> Vec<Finding> {
        let mut findings = Vec::new();
        let (mut byte, mut char) = (0, 0);
        for span in self.spans(text) {
            char += text[byte..span.start].chars().count();
            let start = char;
            char += text[span.start..span.end].chars().count();
            byte = span.end;
            findings.push(Finding {
                kind: span.kind,
                start,
                end: char,
                placeholder: placeholder(span.kind, language),
            });
        }
        findings
    }

    /// Replaces every finding with its placeholder.
    pub fn anonymise(&self, text: &str, language: Language) -> String {
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for span in self.spans(text) {
            out.push_str(&text[last..span.start]);
            out.push_str(placeholder(span.kind, language));
            last = span.end;
        }
        out.push_str(&text[last..]);
        out
    }

    fn spans(&self, text: &str) -> Vec<Span> {
        let mut spans = Vec::new();
        emails(text, &mut spans);
        if text.bytes().any(|b| b.is_ascii_digit()) {
            ids::find(text, &mut spans);
            phone::find(text, &mut spans);
        }
        names::find(text, &mut spans);
        persons::find(text, &mut spans);
        self.deny.find(text, &mut spans);
        if text.contains('[') {
            let taken: Vec<(usize, usize)> = PLACEHOLDERS
                .iter()
                .flat_map(|p| text.match_indices(p).map(|(i, p)| (i, i + p.len())))
                .collect();
            spans.retain(|s| !taken.iter().any(|&(start, end)| s.overlaps(start, end)));
        }
        let spans = resolve(spans);
        // A name found once is a name wherever it stands again in the text.
        let names: Vec<(usize, usize)> = spans
            .iter()
            .filter(|s| s.kind == FindingKind::ContactName)
            .map(|s| (s.start, s.end))
            .collect();
        if names.is_empty() {
            return spans;
        }
        let mut more = Vec::new();
        persons::mentions(text, &names, &mut more);
        if more.is_empty() {
            return spans;
        }
        more.extend(spans);
        resolve(more)
    }
}

/// Keeps the longest proposals (then the more certain, then the earliest) that do not overlap
/// one already kept, and returns them sorted by start.
fn resolve(mut spans: Vec<Span>) -> Vec<Span> {
    spans.sort_by(|a, b| {
        (b.end - b.start)
            .cmp(&(a.end - a.start))
            .then(b.rank.cmp(&a.rank))
            .then(a.start.cmp(&b.start))
    });
    let mut kept: Vec<Span> = Vec::with_capacity(spans.len());
    for span in spans {
        // `kept` is sorted by start; only the neighbours can overlap.
        let at = kept.partition_point(|k| k.start < span.start);
        let clashes = kept[at.saturating_sub(1)..]
            .iter()
            .take(2)
            .any(|k| k.overlaps(span.start, span.end));
        if !clashes && span.start < span.end {
            kept.insert(at, span);
        }
    }
    kept
}

/// Finds personal data, sorted by start and non-overlapping. `deny_list` holds an
/// organisation's own names and terms (case-insensitive, whole-word matches).
pub fn find(text: &str, language: Language, deny_list: &[String]) -> Vec<Finding> {
    Anonymiser::new(deny_list).find(text, language)
}

/// Replaces every finding with its placeholder.
pub fn anonymise(text: &str, language: Language, deny_list: &[String]) -> String {
    Anonymiser::new(deny_list).anonymise(text, language)
}
