//! Nordic personal identity numbers, taken only when their check digits (or, for Danish CPR
//! numbers, their date) hold.

use std::sync::LazyLock;

use chrono::NaiveDate;
use regex::Regex;

use super::{FindingKind, Span, cue_before};

fn pattern(p: &str) -> Regex {
    Regex::new(p).unwrap_or_else(|e| unreachable!("id pattern {p}: {e}"))
}

/// Swedish personnummer / samordningsnummer: (CC)YYMMDD[-+]NNNC.
static SWEDISH: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"\b(?:(?:19|20)(\d{6})|(\d{6}))([-+]?)(\d{4})\b"));
/// Norwegian fødselsnummer / D-nummer: DDMMYY IIIKK.
static NORWEGIAN: LazyLock<Regex> = LazyLock::new(|| pattern(r"\b(\d{6}) ?(\d{5})\b"));
/// Danish CPR: DDMMYY-SSSS.
static DANISH: LazyLock<Regex> = LazyLock::new(|| pattern(r"\b(\d{6})(-?)(\d{4})\b"));
/// Finnish henkilötunnus: DDMMYY, century sign, ZZZ, check character.
static FINNISH: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"\b(\d{6})([-+ABCDEFYXWVU])(\d{3})([0-9A-Y])\b"));

fn digits(s: &str) -> Vec<u32> {
    s.chars().filter_map(|c| c.to_digit(10)).collect()
}

pub(crate) fn luhn(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = if i % 2 == 1 { d * 2 } else { *d };
            if d > 9 { d - 9 } else { d }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn date(year: i32, month: u32, day: u32) -> bool {
    NaiveDate::from_ymd_opt(year, month, day).is_some()
}

/// YYMMDD with day possibly +60 (samordningsnummer); any century.
fn swedish_date(d: &[u32]) -> bool {
    let month = d[2] * 10 + d[3];
    let mut day = d[4] * 10 + d[5];
    if day > 60 {
        day -= 60;
    }
    let year = (d[0] * 10 + d[1]) as i32;
    date(2000 + year, month, day) || date(1900 + year, month, day)
}

/// DDMMYY with day possibly +40 (Norwegian D-nummer) when `d_number`.
fn ddmmyy(d: &[u32], d_number: bool) -> bool {
    let mut day = d[0] * 10 + d[1];
    if d_number && day > 40 {
        day -= 40;
    }
    let month = d[2] * 10 + d[3];
    let year = (d[4] * 10 + d[5]) as i32;
    date(2000 + year, month, day) || date(1900 + year, month, day)
}

pub(crate) fn norwegian_valid(d: &[u32]) -> bool {
    if d.len() != 11 || !ddmmyy(d, true) {
        return false;
    }
    let control = |weights: &[u32]| {
        let sum: u32 = weights.iter().zip(d).map(|(w, x)| w * x).sum();
        match 11 - sum % 11 {
            11 => Some(0),
            10 => None,
            k => Some(k),
        }
    };
    control(&[3, 7, 6, 1, 8, 9, 4, 5, 2]) == Some(d[9])
        && control(&[5, 4, 3, 2, 7, 6, 5, 4, 3, 2]) == Some(d[10])
}

pub(crate) fn danish_mod11(d: &[u32]) -> bool {
    let weights = [4, 3, 2, 7, 6, 5, 4, 3, 2, 1];
    d.len() == 10 && weights.iter().zip(d).map(|(w, x)| w * x).sum::<u32>() % 11 == 0
}

pub(crate) const FINNISH_CHECK: &[u8; 31] = b"0123456789ABCDEFHJKLMNPRSTUVWXY";

fn finnish_valid(birth: &str, serial: &str, check: char) -> bool {
    let d = digits(birth);
    let Ok(n) = serial.parse::<u32>() else {
        return false;
    };
    if !(2..=999).contains(&n) || !ddmmyy(&d, false) {
        return false;
    }
    let Ok(number) = format!("{birth}{serial}").parse::<u64>() else {
        return false;
    };
    FINNISH_CHECK[(number % 31) as usize] as char == check
}

/// Cue words that make a bare ten-digit number a CPR number.
const CPR_CUES: [&str; 4] = ["cpr", "personnummer", "person nr", "personnr"];

pub(crate) fn find(text: &str) -> Vec<Span> {
    let mut out = Vec::new();
    let mut push = |start: usize, end: usize| {
        out.push(Span {
            kind: FindingKind::PersonalIdentityNumber,
            start,
            end,
        });
    };
    for c in SWEDISH.captures_iter(text) {
        let whole = c.get(0).map_or(0..0, |m| m.range());
        let birth = c.get(1).or(c.get(2)).map_or("", |m| m.as_str());
        let tail = c.get(4).map_or("", |m| m.as_str());
        let d: Vec<u32> = digits(birth).into_iter().chain(digits(tail)).collect();
        if d.len() == 10 && swedish_date(&d) && luhn(&d) {
            push(whole.start, whole.end);
        }
    }
    for c in NORWEGIAN.captures_iter(text) {
        let whole = c.get(0).map_or(0..0, |m| m.range());
        if norwegian_valid(&digits(&text[whole.clone()])) {
            push(whole.start, whole.end);
        }
    }
    for c in DANISH.captures_iter(text) {
        let whole = c.get(0).map_or(0..0, |m| m.range());
        let d = digits(&text[whole.clone()]);
        let dashed = c.get(2).is_some_and(|m| !m.is_empty());
        let cued = CPR_CUES
            .iter()
            .any(|cue| cue_before(text, whole.start).contains(cue));
        if ddmmyy(&d, false) && (dashed || cued || danish_mod11(&d)) {
            push(whole.start, whole.end);
        }
    }
    for c in FINNISH.captures_iter(text) {
        let whole = c.get(0).map_or(0..0, |m| m.range());
        let check = c.get(4).and_then(|m| m.as_str().chars().next());
        if let (Some(birth), Some(serial), Some(check)) = (c.get(1), c.get(3), check)
            && finnish_valid(birth.as_str(), serial.as_str(), check)
        {
            push(whole.start, whole.end);
        }
    }
    out
}
