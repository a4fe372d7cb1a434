//! Finds personal data in free text and replaces it with typed placeholders.
//!
//! Detectors run independently and propose spans; overlapping proposals are resolved
//! (earliest first, then longest), so each character belongs to at most one finding.
//! Identity numbers are only taken when their check digits hold, and number-like text that is
//! not personal (CPV codes, standards, organisation numbers, dates, amounts) is guarded
//! against explicitly; [`tests`] holds both sides.

mod ids;
mod names;
mod phone;
#[cfg(test)]
mod tests;

use std::sync::LazyLock;

use entity::Language;
use regex::{Regex, RegexBuilder};
use serde::Serialize;

/// What kind of personal data a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FindingKind {
    Email,
    Phone,
    /// A Nordic personal identity number with a valid check digit (or date, for CPR).
    PersonalIdentityNumber,
    /// A name after a role word such as "kontaktperson" or "case officer".
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

/// A proposed finding in byte offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub kind: FindingKind,
    pub start: usize,
    pub end: usize,
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)[\p{L}\p{N}._%+\-]+@[\p{L}\p{N}\-]+(?:\.[\p{L}\p{N}\-]+)*\.\p{L}{2,}")
        .unwrap_or_else(|e| unreachable!("email pattern: {e}"))
});

/// The anonymiser prepared with one organisation's deny-list.
#[derive(Debug, Clone, Default)]
pub struct Anonymiser {
    deny: Option<Regex>,
}

impl Anonymiser {
    /// Terms shorter than two characters are ignored; matching is case-insensitive and on
    /// whole words.
    pub fn new(deny_list: &[String]) -> Self {
        let terms: Vec<String> = deny_list
            .iter()
            .map(|t| t.trim())
            .filter(|t| t.chars().count() >= 2)
            .map(|t| {
                t.split_whitespace()
                    .map(regex::escape)
                    .collect::<Vec<_>>()
                    .join(r"\s+")
            })
            .collect();
        let deny = (!terms.is_empty())
            .then(|| {
                RegexBuilder::new(&format!(r"\b(?:{})\b", terms.join("|")))
                    .case_insensitive(true)
                    .size_limit(1 << 24)
                    .build()
                    .ok()
            })
            .flatten();
        Self { deny }
    }

    fn spans(&self, text: &str) -> Vec<Span> {
        let mut spans: Vec<Span> = EMAIL
            .find_iter(text)
            .map(|m| Span {
                kind: FindingKind::Email,
                start: m.start(),
                end: m.end(),
            })
            .collect();
        spans.extend(ids::find(text));
        spans.extend(phone::find(text));
        spans.extend(names::find(text));
        if let Some(deny) = &self.deny {
            spans.extend(deny.find_iter(text).map(|m| Span {
                kind: FindingKind::DenyListed,
                start: m.start(),
                end: m.end(),
            }));
        }
        resolve(spans)
    }

    /// Finds personal data, sorted by position, non-overlapping.
    pub fn find(&self, text: &str, language: Language) -> Vec<Finding> {
        let spans = self.spans(text);
        let mut findings = Vec::with_capacity(spans.len());
        let mut chars = 0;
        let mut byte = 0;
        let mut to_char = |target: usize| {
            chars += text[byte..target].chars().count();
            byte = target;
            chars
        };
        for span in spans {
            let start = to_char(span.start);
            let end = to_char(span.end);
            findings.push(Finding {
                kind: span.kind,
                start,
                end,
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
}

/// Earliest first; at the same start the longest; later spans that overlap are dropped.
fn resolve(mut spans: Vec<Span>) -> Vec<Span> {
    spans.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for span in spans {
        if out.last().is_none_or(|last| span.start >= last.end) {
            out.push(span);
        }
    }
    out
}

/// Finds personal data. `deny_list` holds an organisation's own names and terms.
pub fn find(text: &str, language: Language, deny_list: &[String]) -> Vec<Finding> {
    Anonymiser::new(deny_list).find(text, language)
}

/// Replaces every finding with its placeholder.
pub fn anonymise(text: &str, language: Language, deny_list: &[String]) -> String {
    Anonymiser::new(deny_list).anonymise(text, language)
}

/// The text just before byte `at`, lowercased, at most `n` chars: context for cue words.
pub(crate) fn before(text: &str, at: usize, n: usize) -> String {
    let head = &text[..at];
    let start = head
        .char_indices()
        .rev()
        .nth(n.saturating_sub(1))
        .map_or(0, |(i, _)| i);
    head[start..].to_lowercase()
}

/// The words right before byte `at` (lowercased, back to the previous digit): a cue such as
/// "CVR" or "CPR-nr." only counts when nothing numeric sits between it and the number.
pub(crate) fn cue_before(text: &str, at: usize) -> String {
    let context = before(text, at, 24);
    context
        .rsplit(|c: char| c.is_ascii_digit())
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The text just after byte `at`, lowercased, at most `n` chars.
pub(crate) fn after(text: &str, at: usize, n: usize) -> String {
    text[at..]
        .chars()
        .take(n)
        .collect::<String>()
        .to_lowercase()
}
