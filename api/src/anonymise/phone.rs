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
const PHONE_CUES: [&str; 22] = [
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
];

/// Words that announce some other number (organisation, VAT, account, reference, standard).
const OTHER_CUES: [&str; 56] = [
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
];

/// Stems of longer words that announce some other number.
const OTHER_STEMS: [&str; 9] = [
    "organisa",
    "diarie",
    "referen",
    "faktura",
    "artikel",
    "registrering",
    "momsreg",
    "kontonummer",
    "tuotenumero",
];

/// Units and currencies after a number that make it an amount or quantity.
const UNITS: [&str; 32] = [
    "kr", "sek", "nok", "dkk", "eur", "euro", "euros", "euroa", "€", "%", "st", "stk", "pcs",
    "kpl", "år", "years", "kwh", "kg", "tkr", "mnok", "msek", "mdkk", "meur", "ton", "tonnes",
    "mm", "cm", "km", "m2", "m3", "kw", "db",
];

fn is_other_cue(word: &str) -> bool {
    OTHER_CUES.contains(&word) || OTHER_STEMS.iter().any(|stem| word.starts_with(stem))
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

pub(super) fn find(text: &str, out: &mut Vec<Span>) {
    for m in CANDIDATE.find_iter(text) {
        let s = m.as_str();
        if s.starts_with(char::is_alphabetic) {
            // A cue word and eight digits.
            let number = m.end() - 8;
            out.push(Span::new(FindingKind::Phone, number, m.end()));
            continue;
        }
        let digits = s.bytes().filter(u8::is_ascii_digit).count();
        let formatted = s.bytes().any(|b| !b.is_ascii_digit());
        let plausible = if s.starts_with('+') || s.starts_with("00") {
            let glued = text[..m.start()]
                .chars()
                .next_back()
                .is_some_and(char::is_alphanumeric);
            !glued && (8..=15).contains(&digits)
        } else if s.starts_with(['0', '(']) {
            if formatted {
                (7..=12).contains(&digits)
            } else {
                (9..=10).contains(&digits)
            }
        } else {
            !s.split(|c: char| !c.is_ascii_digit()).all(is_year)
        };
        if !plausible
            || NOT_PHONE.is_match(s)
            || inside_longer_number(text, m.start(), m.end())
            || followed_by_unit(text, m.end())
        {
            continue;
        }
        let phone_cue = |w: &str| PHONE_CUES.iter().any(|cue| w.starts_with(cue));
        if !cue_before(text, m.start(), phone_cue) && cue_before(text, m.start(), is_other_cue) {
            continue;
        }
        out.push(Span::new(FindingKind::Phone, m.start(), m.end()));
    }
}
