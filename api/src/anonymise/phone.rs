//! Telephone numbers in Swedish, Norwegian, Danish, Finnish and international formats.
//!
//! Candidates are number runs that start like a phone number (`+`/`00` and a country code, or
//! a trunk `0`), or that are grouped the way Norwegian and Danish eight-digit numbers are
//! written (`22 33 44 55`, `915 12 345`, `3312 3456`). Candidates that are really dates, CPV
//! codes, business ids or amounts, or that follow an organisation-number cue, are dropped.

use std::sync::LazyLock;

use regex::Regex;

use super::{FindingKind, Span, after, cue_before};

fn pattern(p: &str) -> Regex {
    Regex::new(p).unwrap_or_else(|e| unreachable!("phone pattern {p}: {e}"))
}

static CANDIDATE: LazyLock<Regex> = LazyLock::new(|| {
    pattern(concat!(
        // International: +46 / 0046, optional (0), then digit groups.
        r"(?:\+|\b00)\d{1,3}(?:[ \-]?\(0\))?(?:[ \-]?\d{1,4}){2,6}\b",
        // National with trunk zero: 070-123 45 67, 08 123 456 78, 040 123 4567.
        r"|\b0\d{1,3}(?:[ \-/]?\d{1,4}){2,5}\b",
        // Eight-digit groupings: 22 33 44 55, 915 12 345, 3312 3456.
        r"|\b\d{2} \d{2} \d{2} \d{2}\b|\b\d{3} \d{2} \d{3}\b|\b\d{4} \d{4}\b",
    ))
});

/// A bare eight-digit number right after a phone cue word.
static CUED: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"(?i)\b(?:tlf|tel|telefon|telefonnr|mobil|mob|puh|puhelin|phone|ring|sms)\.?:?\s*(\d{8})\b",
    )
});

/// Shapes that look like phone numbers but are not.
static NOT_PHONE: LazyLock<Regex> = LazyLock::new(|| {
    pattern(concat!(
        r"^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$", // dates
        r"|^\d{4}-\d{2}(?:-\d{2})?$",         // ISO dates and months
        r"|^\d{6,8}-\d$",                     // CPV codes, Finnish business ids
    ))
});

/// Words before a number that make it an organisation or VAT number, not a phone number.
const ORG_CUES: [&str; 10] = [
    "cvr",
    "org.nr",
    "org nr",
    "orgnr",
    "organisationsnummer",
    "organisasjonsnummer",
    "y-tunnus",
    "moms",
    "vat",
    "se-nr",
];

/// Units and currencies after a number that make it an amount or quantity.
const UNITS: [&str; 14] = [
    "kr", "sek", "nok", "dkk", "eur", "€", "euro", "%", "st", "år", "kwh", "kg", "tkr", "mnok",
];

fn digit_count(s: &str) -> usize {
    s.chars().filter(char::is_ascii_digit).count()
}

fn followed_by_unit(text: &str, end: usize) -> bool {
    let next = after(text, end, 8);
    let word: String = next
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '€' || *c == '%')
        .collect();
    UNITS.contains(&word.as_str())
}

pub(crate) fn find(text: &str) -> Vec<Span> {
    let mut out = Vec::new();
    for m in CANDIDATE.find_iter(text) {
        let s = m.as_str();
        let n = digit_count(s);
        let international = s.starts_with('+') || s.starts_with("00");
        let plausible = if international {
            (8..=15).contains(&n)
        } else if s.starts_with('0') {
            (7..=12).contains(&n)
        } else {
            n == 8
        };
        if !plausible || NOT_PHONE.is_match(s) || followed_by_unit(text, m.end()) {
            continue;
        }
        let context = cue_before(text, m.start());
        if ORG_CUES.iter().any(|cue| context.contains(cue)) {
            continue;
        }
        out.push(Span {
            kind: FindingKind::Phone,
            start: m.start(),
            end: m.end(),
        });
    }
    for c in CUED.captures_iter(text) {
        if let Some(number) = c.get(1) {
            out.push(Span {
                kind: FindingKind::Phone,
                start: number.start(),
                end: number.end(),
            });
        }
    }
    out
}
