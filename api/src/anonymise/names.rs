//! Names of contact persons, found after role words in the six catalogue languages
//! ("kontaktperson Anna Svensson", "saksbehandler: Kari Nordmann", "yhteyshenkilönä toimii
//! Liisa Virtanen", "contact person is John Smith"). Only the name is replaced.

use std::sync::LazyLock;

use regex::Regex;

use super::{FindingKind, Span};

/// Role words; Finnish ones take any case ending.
const ROLE_WORDS: &str = concat!(
    // sv
    r"kontaktperson(?:en|er)?|handläggare[n]?|projektledare[n]?|upphandlare[n]?|inköpare[n]?",
    r"|beställare[n]?|samordnare[n]?|upphandlingsansvarig|ansvarig handläggare",
    // nb, nn
    r"|saksbehandler(?:en)?|sakshandsamar(?:en)?|innkjøper(?:en)?|innkjøpar(?:en)?",
    r"|prosjektleder(?:en)?|prosjektleiar(?:en)?|kontaktpunkt",
    // da
    r"|sagsbehandler(?:en)?|indkøber(?:en)?|projektleder(?:en)?|indkøbskonsulent(?:en)?",
    // fi
    r"|yhteyshenkilö\p{L}*|hankinta-asiantuntija\p{L}*|hankintapäällik\p{L}*",
    r"|projektipäällik\p{L}*|käsittelijä\p{L}*|hankkija\p{L}*",
    // en
    r"|contact person|contact|case officer|case handler|procurement officer|project manager",
    r"|responsible officer|buyer",
);

/// A role word, an optional link ("är", "er", "is", "toimii", ":"), and a capitalised name of
/// one to three words (with initials, hyphens and apostrophes).
static ROLE_AND_NAME: LazyLock<Regex> = LazyLock::new(|| {
    let name_word = r"\p{Lu}(?:\p{Ll}+|['’]\p{Lu}\p{Ll}+)(?:-\p{Lu}\p{Ll}+)?";
    let pattern = format!(
        r"(?i:\b(?:{ROLE_WORDS}))\b[ \t]*(?:[:–—,-][ \t]*)?(?:(?i:är|er|var|is|was|on|toimii|oli)[ \t]+)?(?-i:({name_word}(?:[ \t]+(?:\p{{Lu}}\.[ \t]*)?{name_word}){{0,2}}))"
    );
    Regex::new(&pattern).unwrap_or_else(|e| unreachable!("name pattern: {e}"))
});

/// Capitalised words that follow role words without being names.
const NOT_NAMES: [&str; 40] = [
    "The",
    "A",
    "An",
    "Our",
    "Your",
    "This",
    "Each",
    "Every",
    "Supplier",
    "Details",
    "Information",
    "En",
    "Ett",
    "Den",
    "Det",
    "Denna",
    "Leverantören",
    "Leverantör",
    "Köparen",
    "Beställaren",
    "Myndigheten",
    "Kommunen",
    "Leverandøren",
    "Leverandør",
    "Oppdragsgiver",
    "Oppdragsgjevar",
    "Kunden",
    "Kommunen",
    "Ordregiver",
    "Ordregiveren",
    "Toimittaja",
    "Tilaaja",
    "Hankintayksikkö",
    "Se",
    "See",
    "Kontakt",
    "Contact",
    "Email",
    "Phone",
    "Tel",
];

pub(crate) fn find(text: &str) -> Vec<Span> {
    ROLE_AND_NAME
        .captures_iter(text)
        .filter_map(|c| c.get(1))
        .filter_map(|name| {
            let words: Vec<&str> = name.as_str().split_whitespace().collect();
            let first = *words.first()?;
            if NOT_NAMES.contains(&first) {
                return None;
            }
            // Drop trailing words that are not names ("Anna Svensson Leverantören").
            let keep = words
                .iter()
                .position(|w| NOT_NAMES.contains(w))
                .unwrap_or(words.len());
            let last = words[keep - 1];
            let end = name.as_str().rfind(last).map(|i| i + last.len())?;
            Some(Span {
                kind: FindingKind::ContactName,
                start: name.start(),
                end: name.start() + end,
            })
        })
        .collect()
}
