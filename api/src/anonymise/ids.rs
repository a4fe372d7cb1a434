//! Nordic personal identity numbers, taken only when their check digits hold, so that other
//! numbers of the same shape (organisation numbers, CPV codes, article numbers) survive.
//!
//! - Swedish personnummer and samordningsnummer (day + 60): `YYMMDD-NNNC`, `YYMMDD+NNNC`,
//!   `YYYYMMDD-NNNC`, `YYYYMMDDNNNC`, `YYMMDDNNNC` (or a space for the dash); Luhn over
//!   `YYMMDDNNNC`.
//! - Norwegian fødselsnummer and D-nummer (day + 40): `DDMMYYIIIKK`, optionally with a space
//!   after the date; both mod-11 control digits.
//! - Danish CPR: `DDMMYY-SSSS` with a valid date (numbers since 2007 need not satisfy mod 11);
//!   written with a space or without separator, only when mod 11 holds or a CPR cue precedes.
//! - Finnish henkilötunnus: `DDMMYYCZZZQ` with a valid date for the century sign `C`, individual
//!   number 002–899 and the mod-31 check character.

use std::sync::LazyLock;

use chrono::NaiveDate;
use regex::Regex;

use super::{FindingKind, Span, compile, cue_before};

/// Every shape at once (one pass over the text); [`find`] tells them apart.
static CANDIDATE: LazyLock<Regex> = LazyLock::new(|| {
    compile(concat!(
        r"(?-u:\b)(?:(?:19|20)[0-9]{6}[-+ ]?[0-9]{4}", // SE with century
        r"|[0-9]{6}[-+ ]?[0-9]{4,5}",                  // SE, DK (10), NO (11)
        r"|[0-9]{6}[-+A-FU-Y][0-9]{3}[0-9A-FHJ-NPR-Y])(?-u:\b)", // FI
    ))
});

/// The Finnish check characters, indexed by `DDMMYYZZZ mod 31`.
pub(super) const FINNISH_CHECK: &[u8; 31] = b"0123456789ABCDEFHJKLMNPRSTUVWXY";

const NORWEGIAN_K1: [u32; 9] = [3, 7, 6, 1, 8, 9, 4, 5, 2];
const NORWEGIAN_K2: [u32; 10] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
const DANISH_WEIGHTS: [u32; 10] = [4, 3, 2, 7, 6, 5, 4, 3, 2, 1];

fn digits(s: &str) -> Vec<u32> {
    s.chars().filter_map(|c| c.to_digit(10)).collect()
}

/// Two digits as a number.
fn pair(d: &[u32], at: usize) -> u32 {
    d[at] * 10 + d[at + 1]
}

fn is_date(year: u32, month: u32, day: u32) -> bool {
    i32::try_from(year).is_ok_and(|y| NaiveDate::from_ymd_opt(y, month, day).is_some())
}

/// A two-digit year in either of the last two centuries.
fn is_recent_date(yy: u32, month: u32, day: u32) -> bool {
    is_date(1900 + yy, month, day) || is_date(2000 + yy, month, day)
}

pub(super) fn luhn_valid(d: &[u32]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            if i % 2 == 1 {
                (x * 2) / 10 + (x * 2) % 10
            } else {
                x
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// `(CC)YYMMDD` + `NNNC`, with samordningsnummer days (61–91) allowed.
fn swedish_valid(century: Option<&str>, birth: &str, serial: &str) -> bool {
    let d: Vec<u32> = digits(birth).into_iter().chain(digits(serial)).collect();
    let (yy, month, mut day) = (pair(&d, 0), pair(&d, 2), pair(&d, 4));
    if day > 60 {
        day -= 60;
    }
    let date = match century.and_then(|c| c.parse::<u32>().ok()) {
        Some(cc) => is_date(cc * 100 + yy, month, day),
        None => is_recent_date(yy, month, day),
    };
    date && luhn_valid(&d)
}

/// A mod-11 control digit over `d` with `weights`; `None` when it would be 10.
pub(super) fn mod11_control(d: &[u32], weights: &[u32]) -> Option<u32> {
    let sum: u32 = weights.iter().zip(d).map(|(w, x)| w * x).sum();
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        k => Some(k),
    }
}

/// The two control digits of a Norwegian number from its first nine digits.
pub(super) fn norwegian_controls(nine: &[u32]) -> Option<(u32, u32)> {
    let k1 = mod11_control(nine, &NORWEGIAN_K1)?;
    let mut ten = nine.to_vec();
    ten.push(k1);
    Some((k1, mod11_control(&ten, &NORWEGIAN_K2)?))
}

fn norwegian_valid(d: &[u32]) -> bool {
    if d.len() != 11 {
        return false;
    }
    let mut day = pair(d, 0);
    if day > 40 {
        day -= 40; // D-nummer
    }
    is_recent_date(pair(d, 4), pair(d, 2), day)
        && norwegian_controls(&d[..9]) == Some((d[9], d[10]))
}

fn danish_date(d: &[u32]) -> bool {
    is_recent_date(pair(d, 4), pair(d, 2), pair(d, 0))
}

pub(super) fn danish_mod11(d: &[u32]) -> bool {
    DANISH_WEIGHTS
        .iter()
        .zip(d)
        .map(|(w, x)| w * x)
        .sum::<u32>()
        .is_multiple_of(11)
}

/// Words that make a ten-digit number a CPR number.
fn cpr_cue(word: &str) -> bool {
    word.starts_with("cpr") || word.starts_with("personn") || word == "person-nr"
}

pub(super) fn finnish_check(birth_and_serial: u64) -> char {
    char::from(FINNISH_CHECK[(birth_and_serial % 31) as usize])
}

fn finnish_valid(birth: &str, sign: &str, serial: &str, check: &str) -> bool {
    let d = digits(birth);
    let century = match sign {
        "+" => 1800,
        "-" | "Y" | "X" | "W" | "V" | "U" => 1900,
        _ => 2000,
    };
    let individual: u32 = serial.parse().unwrap_or(0);
    let number: u64 = format!("{birth}{serial}").parse().unwrap_or(0);
    (2..=899).contains(&individual)
        && is_date(century + pair(&d, 4), pair(&d, 2), pair(&d, 0))
        && check.starts_with(finnish_check(number))
}

/// Whether a dashed CPR-shaped number is a notice number and its year (`130234-2025`): its
/// last four digits are a recent year and a notice or announcement word stands near it.
fn notice_number(text: &str, start: usize, last4: &str) -> bool {
    let year: u32 = last4.parse().unwrap_or(0);
    if !(1990..=2039).contains(&year) {
        return false;
    }
    let mut from = start.saturating_sub(60);
    while !text.is_char_boundary(from) {
        from -= 1;
    }
    let before = text[from..start].to_lowercase();
    [
        "ilmoitu",
        "notice",
        "bekendtgørelse",
        "kunngjøring",
        "annons",
        "ted",
        "euvl",
        "oj s",
        "doffin",
        "hilma",
        "udbud",
        "tender",
        "eforms",
        "tarjouspyyn",
        "hankinta",
    ]
    .iter()
    .any(|cue| before.contains(cue))
}

/// How certain a shape-and-check-digit match is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Certainty {
    None,
    /// Danish mod 11 alone: a phone number of the same digits wins.
    Weak,
    Strong,
}

fn certainty(text: &str, start: usize, candidate: &str) -> Certainty {
    let d = digits(candidate);
    let separator: String = candidate.chars().filter(|c| !c.is_ascii_digit()).collect();
    let strong = |valid: bool| {
        if valid {
            Certainty::Strong
        } else {
            Certainty::None
        }
    };
    match (d.len(), separator.as_str()) {
        (12, "" | "-" | "+" | " ") => {
            let all: String = candidate.chars().filter(char::is_ascii_digit).collect();
            strong(swedish_valid(Some(&all[..2]), &all[2..8], &all[8..]))
        }
        (11, "" | " ") => strong(norwegian_valid(&d)),
        (10, "" | "-" | "+" | " ") => {
            let all: String = candidate.chars().filter(char::is_ascii_digit).collect();
            let finnish = separator == "-" || separator == "+";
            if swedish_valid(None, &all[..6], &all[6..])
                || (finnish && finnish_valid(&all[..6], &separator, &all[6..9], &all[9..]))
            {
                Certainty::Strong
            } else if !danish_date(&d) || separator == "+" {
                Certainty::None
            } else if separator == "-" && notice_number(text, start, &all[6..]) {
                // "130234-2025": a notice number and its year, not a CPR number.
                Certainty::None
            } else if separator == "-" || cue_before(text, start, cpr_cue) {
                Certainty::Strong
            } else if danish_mod11(&d) {
                Certainty::Weak
            } else {
                Certainty::None
            }
        }
        // Finnish, with a letter for check character or century sign.
        _ if candidate.len() == 11 => {
            let (birth, rest) = candidate.split_at(6);
            let (sign, rest) = rest.split_at(1);
            let (serial, check) = rest.split_at(3);
            strong(finnish_valid(birth, sign, serial, check))
        }
        _ => Certainty::None,
    }
}

pub(super) fn find(text: &str, out: &mut Vec<Span>) {
    for m in CANDIDATE.find_iter(text) {
        let span = Span::new(FindingKind::PersonalIdentityNumber, m.start(), m.end());
        match certainty(text, m.start(), m.as_str()) {
            Certainty::Strong => out.push(span),
            Certainty::Weak => out.push(span.weak()),
            Certainty::None => {}
        }
    }
}
