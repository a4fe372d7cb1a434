//! Telephone numbers in Swedish, Norwegian, Danish, Finnish and international formats.
//!
//! Candidates are digit runs that start like a phone number (`+` or `00` and a country code, or
//! a trunk `0` and an area code), or that are grouped the way Norwegian and Danish eight-digit
//! numbers are written (`22 33 44 55`, `915 12 345`, `3312 3456`). A bare eight-digit number
//! is a phone number only right after a phone cue word (`tlf. 22334455`). Candidates that are
//! really CPV codes, business ids, dates, years, amounts or part of a longer number, or that
//! follow a cue such as "CVR", "org.nr" or "Y-tunnus", are dropped.

use std::sync::LazyLock;

use regex::Regex;

use super::{FindingKind, Span, compile, cue_before};

/// Separators inside phone numbers: a space, or a hyphen or dash with optional spaces.
const SEP: &str = r"(?:[ \u{a0}\u{202f}]?[\-–][ \u{a0}\u{202f}]?|[ \u{a0}\u{202f}])";
/// Separators inside eight-digit groupings: spaces only.
const SPACE: &str = r"[ \u{a0}\u{202f}]";

static CANDIDATE: LazyLock<Regex> = LazyLock::new(|| {
    let pattern = [
        // tlf. 22334455: unformatted eight digits only after a phone cue word
        r"(?i:(?-u:\b)(?:telefonnummer|telefonnr|telefon|tlf|tel|tfn|mobilnummer|mobilnr|mobil",
        r"|mobile|mob|puhelinnumero|puhelin|puh|gsm|phone|ring|sms|fax)",
        r"(?:\.|:|[ \t]*nr\.?|[ \t]*no\.?)*[ \t\u{a0}]*(?:(?:til|till|to|på|on)[ \t]+)?)",
        r"[0-9]{8}(?-u:\b)",
        // +46 70 123 45 67, +46 (0)8 123 456 78, 0046 8 123 45 67, +1 202 555 0143
        r"|(?:(?:\+|(?-u:\b)00)[1-9][0-9]{0,2}(?:SEP?\(0\))?(?:SEP?[0-9]{1,4}){2,6})(?-u:\b)",
        // 070-123 45 67, 08 123 456 78, 0701234567, 040 123 4567, (08) 123 456 78
        r"|(?:(?:(?-u:\b)0[1-9][0-9]{0,3}|\(0[1-9][0-9]{0,3}\))(?:SEP?[0-9]{1,4}){1,5})(?-u:\b)",
        // 22 33 44 55, 915 12 345, 3312 3456
        r"|(?:(?-u:\b)(?:[0-9]{2}SPACE[0-9]{2}SPACE[0-9]{2}SPACE[0-9]{2}",
        r"|[0-9]{3}SPACE[0-9]{2}SPACE[0-9]{3}|[0-9]{4}SPACE[0-9]{4}))(?-u:\b)",
        // 41234567, 33123456: Norwegian and Danish numbers never start with 0 or 1
        r"|(?-u:\b)[2-9][0-9]{7}(?-u:\b)",
    ]
    .concat()
    .replace("SEP", SEP)
    .replace("SPACE", SPACE);
    compile(&pattern)
});

/// Shapes of other numbers among the candidates: CPV codes and business ids, dates.
static NOT_PHONE: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"^(?:[0-9]{6,8}-[0-9]|[0-9]{1,2}-[0-9]{1,2}-[0-9]{2,4}|[0-9]{4}-[0-9]{2}(?:-[0-9]{2})?)$",
    )
});

/// Words that announce a phone number.
const PHONE_CUES: [&str; 40] = [
    "tel",
    "tlf",
    "tfn",
    "telefon",
    "telefonnr",
    "telefonnummer",
    "mobil",
    "mobilnr",
    "mob",
    "mobile",
    "puh",
    "puhelin",
    "puhelinnumero",
    "gsm",
    "phone",
    "telephone",
    "ring",
    "sms",
    "fax",
    "vxl",
    "växel",
    "sentralbord",
    "direkt",
    "vagt",
    "vakt",
    "päivystys",
    "jour",
    "kontakt",
    "nød",
    "nöd",
    "hotline",
    "helpdesk",
    "support",
    "kundeservice",
    "kundservice",
    "asiakaspalvelu",
    "reception",
    "omstilling",
    "vaihde",
    "call",
];

/// Words that announce some other number (organisation, VAT, account, reference, standard).
const OTHER_CUES: [&str; 77] = [
    "cvr",
    "cvr-nr",
    "cvrnr",
    "org",
    "orgnr",
    "org.nr",
    "org.-nr",
    "orgnummer",
    "org.nummer",
    "foretaksnummer",
    "foretaksnr",
    "företagsnummer",
    "y-tunnus",
    "ly-tunnus",
    "moms",
    "momsnr",
    "momsnummer",
    "vat",
    "vat-nr",
    "se-nr",
    "p-nr",
    "p-nummer",
    "cpv",
    "iso",
    "iec",
    "ilo",
    "bankgiro",
    "bg",
    "plusgiro",
    "pg",
    "konto",
    "kontonr",
    "kontonummer",
    "iban",
    "bic",
    "ean",
    "gln",
    "gtin",
    "dnr",
    "saksnr",
    "saksnummer",
    "sagsnr",
    "sagsnummer",
    "journalnr",
    "asianumero",
    "dnro",
    "ref",
    "order",
    "ordernr",
    "ordernummer",
    "invoice",
    "art.nr",
    "artnr",
    "varenr",
    "varenummer",
    "business",
    "ted",
    "oj",
    "model",
    "modell",
    "malli",
    "postnr",
    "box",
    "pb",
    "postboks",
    "postbox",
    "lisenssi",
    "nr.",
    "id-nummer",
    "account",
    "acct",
    "sort",
    "tilinumero",
    "tili",
    "kontonr.",
    "reg.nr",
    "regnr",
];

/// Stems of longer words that announce some other number: organisation, reference, notice
/// and e-invoicing numbers, postal codes (and [`LICENCE_STEMS`]).
const OTHER_STEMS: [&str; 30] = [
    "organisa",
    "diarie",
    "referen",
    "faktura",
    "artikel",
    "registrering",
    "momsreg",
    "kontonummer",
    "tuotenumero",
    "ovt",
    "e-invoic",
    "einvoic",
    "verkkolasku",
    "e-lasku",
    "peppol",
    "notice",
    "kunngj",
    "annons",
    "ilmoitu",
    "doffin",
    "hilma",
    "udbud",
    "eforms",
    "avtalsnummer",
    "kontraktsnummer",
    "sopimusnumero",
    "serienummer",
    "serial",
    "postnummer",
    "postinumero",
];

/// Units and currencies after a number that make it an amount or quantity.
const UNITS: [&str; 32] = [
    "kr", "sek", "nok", "dkk", "eur", "euro", "euros", "euroa", "€", "%", "st", "stk", "pcs",
    "kpl", "år", "years", "kwh", "kg", "tkr", "mnok", "msek", "mdkk", "meur", "ton", "tonnes",
    "mm", "cm", "km", "m2", "m3", "kw", "db",
];

/// Whether a word (lowercase) announces a number that is no phone number: "org.nr", "CVR",
/// "CPV-kod", and any compound of "nummer", "numero" or "number" that is not a phone cue
/// ("ordrenummer", "asiakasnumero").
fn is_other_cue(word: &str) -> bool {
    let is_cue = |w: &str| {
        OTHER_CUES.contains(&w)
            || OTHER_STEMS
                .iter()
                .chain(&LICENCE_STEMS)
                .any(|stem| w.starts_with(stem))
    };
    is_cue(word)
        || word
            .split(['-', '.', '/'])
            .any(|part| !part.is_empty() && is_cue(part))
        || [
            "nummer", "nummeret", "numero", "numeron", "number", "numret", "numret",
        ]
        .iter()
        .any(|n| {
            word.strip_suffix(n)
                .is_some_and(|head| head.chars().count() >= 3)
        })
}

fn followed_by_unit(text: &str, end: usize) -> bool {
    let word: String = text[end..]
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || matches!(c, '€' | '%'))
        .take(8)
        .collect::<String>()
        .to_lowercase();
    UNITS.contains(&word.as_str())
}

/// Whether the grouping continues a longer run of digit groups on either side
/// (`1 22 33 44 55`, IBANs, amounts).
fn inside_longer_number(text: &str, start: usize, end: usize) -> bool {
    let mut before = text[..start].chars().rev();
    let mut after = text[end..].chars();
    let digit_behind = before.next().is_some_and(|c| c.is_whitespace())
        && before.next().is_some_and(|c| c.is_ascii_digit());
    let digit_ahead = after.next().is_some_and(|c| c.is_whitespace())
        && after.next().is_some_and(|c| c.is_ascii_digit());
    digit_behind || digit_ahead
}

fn is_year(group: &str) -> bool {
    group.len() == 4 && (group.starts_with("19") || group.starts_with("20"))
}

/// The cue nearest before byte `at` within a few words, looking no further back than the
/// previous number (whose cue it would be) or the start of the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cue {
    Phone,
    Other,
}

fn nearest_cue(text: &str, at: usize) -> Option<Cue> {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let mut from = at.saturating_sub(80).max(line_start);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    // A placeholder is one word the walk goes past, whatever it replaced: the walk over
    // anonymised text must reach no less far than over the text it came from.
    let mut window = String::with_capacity(at - from);
    let mut inside = false;
    for c in text[from..at].chars() {
        match c {
            '[' => {
                inside = true;
                window.push('\u{1}');
            }
            ']' => inside = false,
            _ if !inside => window.push(c),
            _ => {}
        }
    }
    let words: Vec<&str> = window.split_whitespace().rev().take(8).collect();
    let mut crossed_number = false;
    for (i, word) in words.iter().enumerate() {
        if word.starts_with('\u{1}') {
            continue;
        }
        // A list of licence numbers shares its cue: "licences 314 908 and 3796 1436"; a
        // sentence's end ends it, and so does a code with a check digit after a dash.
        if word.bytes().any(|b| b.is_ascii_digit()) {
            if word.ends_with(['.', '!', '?', ';']) || word.contains('-') {
                return None;
            }
            crossed_number = true;
            continue;
        }
        let trimmed = word.trim_matches(|c: char| !c.is_alphanumeric());
        let lower = trimmed.to_lowercase();
        if PHONE_CUES.iter().any(|cue| lower.starts_with(cue)) {
            return Some(Cue::Phone);
        }
        if is_other_cue(&lower) {
            // Across other numbers only a licence's cue reaches: "CVR 29 18 97 30 og
            // 3312 3456" may well be a phone number.
            let licence = LICENCE_STEMS.iter().any(|stem| lower.contains(stem));
            return (!crossed_number || licence).then_some(Cue::Other);
        }
        let number_before = words
            .get(i + 1)
            .is_some_and(|w| w.bytes().any(|b| b.is_ascii_digit()));
        let conjunction = [
            "och", "og", "and", "ja", "sekä", "samt", "eller", "or", "tai",
        ]
        .contains(&lower.as_str());
        // A capitalised word that is no cue starts something else, a conjunction another item
        // (unless it joins numbers), and so do most words after a few.
        if trimmed.starts_with(char::is_uppercase) || (conjunction && !number_before) || i >= 4 {
            return None;
        }
    }
    None
}

/// Stems of the words for ecolabel licences and certificates, whose numbers come in lists.
const LICENCE_STEMS: [&str; 8] = [
    "licen",
    "lisen",
    "sertifi",
    "certifi",
    "svane",
    "joutsenmerk",
    "ecolabel",
    "tco",
];

/// A Finnish e-invoicing (OVT) address: `0037` and a business id whose check digit holds.
fn is_ovt(digits: &str) -> bool {
    let Some(id) = digits.strip_prefix("0037") else {
        return false;
    };
    if !(8..=13).contains(&id.len()) {
        return false;
    }
    let d: Vec<u32> = id.bytes().take(8).map(|b| u32::from(b - b'0')).collect();
    let sum: u32 = d[..7]
        .iter()
        .zip([7, 9, 10, 5, 8, 4, 2])
        .map(|(a, b)| a * b)
        .sum();
    match sum % 11 {
        0 => d[7] == 0,
        1 => false,
        r => d[7] == 11 - r,
    }
}

/// Whether the number is part of an identifier written around it: a TED notice
/// (`2025/S 045-123456`), a Peppol id (`0216:003712345678`), a UUID or code glued to it with a
/// hyphen or slash.
fn inside_identifier(text: &str, start: usize, end: usize) -> bool {
    let mut ahead = text[end..].chars();
    if matches!(ahead.next(), Some('-' | '/' | ':' | '#'))
        && ahead.next().is_some_and(char::is_alphanumeric)
    {
        return true;
    }
    let before = &text[..start];
    let mut back = before.chars().rev();
    let glued = matches!(back.next(), Some('-' | '/' | ':' | '.' | '#'))
        && back.next().is_some_and(char::is_alphanumeric);
    let ted = {
        let t = before.trim_end().to_ascii_uppercase();
        t.ends_with("/S") || t.ends_with("/ S") || t.ends_with(" S") && t.contains("OJ")
    };
    glued || ted
}

/// Two groups of four digits, the shape Nordic Swan licence numbers share with Danish phones.
fn four_by_four(s: &str) -> bool {
    let groups: Vec<&str> = s.split(|c: char| !c.is_ascii_digit()).collect();
    groups.len() == 2 && groups.iter().all(|g| g.len() == 4)
}

/// An eight-digit date such as `20250331`.
fn is_date(digits: &str) -> bool {
    let n = |r: std::ops::Range<usize>| digits[r].parse::<u32>().unwrap_or(0);
    digits.len() == 8
        && (digits.starts_with("19") || digits.starts_with("20"))
        && (1..=12).contains(&n(4..6))
        && (1..=31).contains(&n(6..8))
}

pub(super) fn find(text: &str, out: &mut Vec<Span>) {
    for m in CANDIDATE.find_iter(text) {
        let s = m.as_str();
        if s.starts_with(char::is_alphabetic) {
            // A cue word and eight digits.
            let number = m.end() - 8;
            out.push(Span::new(FindingKind::Phone, number, m.end()));
            continue;
        }
        let digits: String = s.chars().filter(char::is_ascii_digit).collect();
        let formatted = s.bytes().any(|b| !b.is_ascii_digit());
        let bare = !formatted && digits.len() == 8 && !s.starts_with('0');
        let plausible = if s.starts_with('+') || s.starts_with("00") {
            let glued = text[..m.start()]
                .chars()
                .next_back()
                .is_some_and(char::is_alphanumeric);
            !glued && (8..=15).contains(&digits.len()) && !is_ovt(&digits)
        } else if s.starts_with(['0', '(']) {
            if formatted {
                (7..=12).contains(&digits.len())
            } else {
                (9..=10).contains(&digits.len())
            }
        } else if bare {
            // CPV codes without their check digit end in zeros: "30213100", "09310000".
            !is_date(&digits) && !digits.ends_with("000")
        } else {
            !s.split(|c: char| !c.is_ascii_digit()).all(is_year)
        };
        if !plausible
            || NOT_PHONE.is_match(s)
            || inside_longer_number(text, m.start(), m.end())
            || inside_identifier(text, m.start(), m.end())
            || followed_by_unit(text, m.end())
        {
            continue;
        }
        let phone_cue = |w: &str| PHONE_CUES.iter().any(|cue| w.starts_with(cue));
        if !cue_before(text, m.start(), phone_cue)
            && (cue_before(text, m.start(), is_other_cue)
                || ((bare || four_by_four(s)) && nearest_cue(text, m.start()) == Some(Cue::Other)))
        {
            continue;
        }
        out.push(Span::new(FindingKind::Phone, m.start(), m.end()));
    }
}
