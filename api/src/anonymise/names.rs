//! Names of contact persons, found after role words in the six catalogue languages (role words
//! match case-insensitively whatever the text's language, since texts mix languages):
//! "Kontaktperson: Anna Svensson", "saksbehandler Kari Nordmann", "yhteyshenkilönä toimii
//! Liisa Virtanen", "contact person is John Smith", "Frågor besvaras av Anna Lind". Only the
//! name is replaced.
//!
//! After the role word may come a colon or dash, a link word ("är", "er", "is", "on",
//! "toimii"), or up to four lowercase words followed by one of those ("kontaktperson för
//! avtalet är …"). A name is one to three capitalised words (hyphenated, with apostrophes,
//! particles such as "van" and initials such as "J."), on one line, not crossing punctuation.
//! Capitalised words that are not names ("Leverantören", "The", "Telefon") end or reject it.

use std::{collections::HashSet, sync::LazyLock};

use super::{FindingKind, Span, compile, persons};

/// Role words: people's roles (followed by a name directly), contact headings ("contact",
/// "kontakt": followed by a colon, a link word or a name of two words) and inquiry phrases
/// ("frågor … till", "lisätietoja antaa": followed by a link word). Finnish stems take any
/// case ending.
const ROLES: &[&str] = &[
    // sv
    r"kontaktperson(?:erna|er|en)?",
    r"(?:ansvarig )?handläggare(?:n|na)?",
    r"(?:upphandlings)?handläggare(?:n|na)?",
    r"upphandlare(?:n|na)?",
    r"upphandlingsansvarig(?:a)?",
    r"upphandlings(?:konsult|chef|specialist|strateg)(?:en)?",
    r"inköpare(?:n|na)?",
    r"inköps(?:chef|ansvarig)(?:en)?",
    r"projektledare(?:n|na)?",
    r"(?:avtals|kontrakts|kategori|hållbarhets|miljö)ansvarig(?:a)?",
    r"(?:avtals|kontrakts)förvaltare(?:n)?",
    r"(?:hållbarhets|miljö)strateg(?:en)?",
    r"samordnare(?:n)?",
    r"ombud(?:et)?",
    r"upplysningar",
    r"frågor",
    // nb, nn
    r"saksbehandl[ae]r(?:en|e)?",
    r"sakshandsamar(?:en|ar)?",
    r"kontaktperson(?:ane|ar|en|er)?",
    r"innkjøp[ae]r(?:en|ar|e)?",
    r"innkjøps(?:rådgiver|rådgjevar|sjef|ansvarlig|ansvarleg)(?:en)?",
    r"anskaffelsesansvarlig",
    r"prosjektle(?:der|iar)(?:en)?",
    r"kontraktsansvarl[ie]g",
    r"fagansvarl[ie]g",
    r"spørsmål",
    r"henvendelser",
    // da
    r"sagsbehandler(?:en|e|ne)?",
    r"indkøber(?:en|e|ne)?",
    r"indkøbs(?:konsulent|chef)(?:en)?",
    r"udbuds(?:konsulent|ansvarlig|jurist)(?:en)?",
    r"projektleder(?:en)?",
    r"kontrakts?ansvarlig",
    r"kategoriansvarlig",
    r"spørgsmål",
    // fi
    r"yhteyshenkilö\p{L}*",
    r"hankinta-?asiantuntija\p{L}*",
    r"hankintapäällik\p{L}*",
    r"hankinta(?:johtaja|sihteeri|vastaava|asiamies)\p{L}*",
    r"projektipäällik\p{L}*",
    r"projektinjohtaja\p{L}*",
    r"käsittelijä\p{L}*",
    r"(?:asiakas|sopimus)vastaava\p{L}*",
    r"vastuuhenkilö\p{L}*",
    r"yhteystiedot",
    r"lisätietoja",
    // en
    r"contact persons?",
    r"point of contact",
    r"contact",
    r"kontakt",
    r"buyer",
    r"case (?:officer|handler|worker)",
    r"caseworker",
    r"procurement (?:officer|manager|specialist|advis[eo]r|lead|consultant)",
    r"purchasing (?:officer|manager)",
    r"purchaser",
    r"project (?:manager|leader)",
    r"(?:contract|category|account) manager",
    r"responsible person",
    r"questions",
    r"enquiries",
    r"inquiries",
];

/// Role words that must be followed by a colon, a link word or a name of two words.
const HEADINGS: [&str; 4] = ["contact", "kontakt", "yhteystiedot", "buyer"];
/// Role words that must be followed by a link word ("till", "av", "antaa", …) and a name of
/// two words.
const INQUIRIES: [&str; 9] = [
    "frågor",
    "upplysningar",
    "spørsmål",
    "henvendelser",
    "spørgsmål",
    "lisätietoja",
    "questions",
    "enquiries",
    "inquiries",
];

static ROLE: LazyLock<regex::Regex> =
    LazyLock::new(|| compile(&format!("(?i)(?:{})", ROLES.join("|"))));

/// Words that link a role to a name: "kontaktperson är", "contact person is".
const COPULAS: [&str; 14] = [
    "är", "var", "blir", "heter", "er", "bliver", "hedder", "heiter", "is", "was", "be", "on",
    "toimii", "ovat",
];
/// Words that link an inquiry to a name: "frågor ställs till", "lisätietoja antaa".
const DIRECTIONS: [&str; 12] = [
    "till", "til", "to", "av", "af", "by", "hos", "från", "fra", "from", "antaa", "antavat",
];
/// Lowercase particles inside names: "Ludwig van Beethoven".
const PARTICLES: [&str; 12] = [
    "van", "von", "de", "der", "den", "af", "av", "da", "di", "du", "la", "le",
];
/// Words joining two names: "Anna Lind och Erik Berg".
const CONJUNCTIONS: [&str; 8] = ["och", "og", "and", "ja", "sekä", "samt", "&", "eller"];
/// Titles before a name, not part of it.
const HONORIFICS: [&str; 10] = [
    "mr", "mrs", "ms", "miss", "dr", "prof", "herr", "fru", "hr", "fr",
];

/// Capitalised words that are not names: a name ends before them, and one starting with them
/// is no name. Lowercase.
static NOT_NAMES: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    concat!(
        // en
        "the a an our your their his her its this that these those each every any all some no ",
        "one supplier suppliers contractor tenderer tenderers bidder buyer customer client ",
        "authority municipality details information info form section below above see please ",
        "if for in on at by to from with and or name title role position phone telephone tel ",
        "mobile email address website fax responsibilities duties requirements team office ",
        "department unit service support helpdesk reception manager officer person contact ",
        "tbd tba none not yes note ",
        // sv
        "en ett den det de denna detta dessa vår vårt våra er ert era din sin varje alla ",
        "leverantören leverantör leverantörer leverantörens leverantörerna anbudsgivaren ",
        "anbudsgivare köparen beställaren beställare upphandlande myndigheten myndighet ",
        "kommunen regionen namn förnamn efternamn titel befattning roll telefon epost mobil ",
        "adress ska kan får bör enligt för med och eller kontakta kontakt kundtjänst växel ",
        "se ange anges uppgift uppgifter saknas ",
        // nb, nn, da
        "ei et denne dette disse vårt våre vores hver alle leverandøren leverandør ",
        "leverandørens leverandørene tilbyder tilbyderen tilbudsgiver tilbydaren oppdragsgiver ",
        "oppdragsgiveren oppdragsgjevar ordregiver ordregiveren ordregivende kunden kommune ",
        "navn fornavn etternavn efternavn tittel stilling rolle tlf adresse skal må jf ",
        "ifølge kontakte kundeservice sentralbord oppgis oplyses ",
        // fi
        "toimittaja toimittajan tarjoaja tarjoajan tilaaja tilaajan hankintayksikkö ",
        "hankintayksikön nimi etunimi sukunimi nimike puhelin sähköposti osoite katso ks ota ",
        "jokainen kaikki tämä se ne asiakaspalvelu kirjaamo ilmoitetaan ",
        // weekdays
        "monday tuesday wednesday thursday friday saturday sunday måndag tisdag onsdag torsdag ",
        "fredag lördag söndag mandag tirsdag lørdag søndag maanantai tiistai keskiviikko ",
        "torstai perjantai lauantai sunnuntai ",
        // role words, so that "Kontaktperson: Upphandlare Anna Lind" finds "Anna Lind"
        "kontaktperson kontaktpersonen handläggare handläggaren upphandlare upphandlaren ",
        "projektledare inköpare saksbehandler sakshandsamar innkjøper prosjektleder ",
        "sagsbehandler indkøber projektleder yhteyshenkilö hankinta-asiantuntija ",
        "projektipäällikkö hankintapäällikkö",
    )
    .split_whitespace()
    .collect()
});

/// Lowercase words after a capitalised word that make it an organisation: "Oslo kommune".
const ORGANISATION_NOUNS: [&str; 20] = [
    "kommun",
    "kommuns",
    "kommune",
    "kommunes",
    "region",
    "regionen",
    "stad",
    "stads",
    "landsting",
    "fylkeskommune",
    "kaupunki",
    "kaupungin",
    "kunta",
    "kunnan",
    "universitet",
    "university",
    "sjukhus",
    "sykehus",
    "sygehus",
    "hospital",
];

/// Words that make a capitalised sequence an organisation, not a person. Lowercase.
static ORGANISATIONS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    concat!(
        "ab aktiebolag as asa aps oy oyj ky ltd limited inc gmbh plc llc kommun kommune ",
        "kommuner region stad staden landsting fylkeskommune kaupunki kunta universitet ",
        "university högskola sjukhus sykehus sygehus hospital group gruppen",
    )
    .split_whitespace()
    .collect()
});

pub(super) fn is_inline_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{a0}' | '\u{202f}')
}

/// Whether a lowercase word is a person's role ("kontaktperson", "saksbehandler", …), not a
/// heading or an inquiry word ("contact", "frågor").
pub(super) fn is_role_word(word: &str) -> bool {
    static WHOLE: LazyLock<regex::Regex> =
        LazyLock::new(|| compile(&format!("^(?:{})$", ROLES.join("|"))));
    !HEADINGS.contains(&word) && !INQUIRIES.contains(&word) && WHOLE.is_match(word)
}

/// Whether a lowercase capitalised word is never a name ("Leverantören", "Telefon", "The").
pub(super) fn is_not_name(word: &str) -> bool {
    NOT_NAMES.contains(word)
}

/// Whether a lowercase word is a particle inside names ("van", "af").
pub(super) fn is_particle(word: &str) -> bool {
    PARTICLES.contains(&word)
}

/// Whether a lowercase word names a kind of organisation ("ab", "kommune", "region").
pub(super) fn is_organisation(word: &str) -> bool {
    ORGANISATIONS.contains(word)
}

/// Whether the word after a capitalised run makes it an organisation ("Oslo kommune",
/// "Nordby AS").
pub(super) fn is_organisation_after(next: &str) -> bool {
    let lower = next.to_lowercase();
    ORGANISATION_NOUNS.contains(&lower.as_str())
        || (next.starts_with(char::is_uppercase) && ORGANISATIONS.contains(lower.as_str()))
}

/// A cursor over the text after a role word.
struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.at..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    /// Skips spaces and tabs; returns whether there were any.
    fn spaces(&mut self) -> bool {
        let skipped = self.rest().len() - self.rest().trim_start_matches(is_inline_space).len();
        self.at += skipped;
        skipped > 0
    }

    /// A run of letters (with inner hyphens), without moving.
    fn word(&self) -> &'a str {
        let rest = self.rest();
        let len = rest
            .char_indices()
            .find(|&(i, c)| !(c.is_alphabetic() || (c == '-' && i > 0)))
            .map_or(rest.len(), |(i, _)| i);
        rest[..len].trim_end_matches('-')
    }

    /// A colon (possibly ending the line) or a spaced dash.
    fn separator(&mut self) -> bool {
        let start = self.at;
        match self.peek() {
            Some(':') => {
                self.at += 1;
                self.spaces();
                if let Some(rest) = self
                    .rest()
                    .strip_prefix("\r\n")
                    .or(self.rest().strip_prefix('\n'))
                {
                    self.at = self.text.len() - rest.len();
                    self.spaces();
                }
                true
            }
            Some(c @ ('-' | '–' | '—')) => {
                self.at += c.len_utf8();
                if self.spaces() || c != '-' {
                    self.spaces();
                    true
                } else {
                    self.at = start;
                    false
                }
            }
            _ => false,
        }
    }
}

/// What a name is made of.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Word,
    Initial,
    Particle,
}

/// A capitalised name word at the start of `s`: its length in bytes.
fn name_word(s: &str) -> Option<usize> {
    let mut chars = s.char_indices().peekable();
    let (_, first) = chars.next()?;
    if !first.is_uppercase() {
        return None;
    }
    let mut end = first.len_utf8();
    let mut lowercase = 0;
    let mut second = true;
    while let Some(&(i, c)) = chars.peek() {
        let next = s[i + c.len_utf8()..].chars().next();
        let ok = if c.is_alphabetic() {
            !(second && c.is_uppercase())
        } else if matches!(c, '\'' | '’') {
            next.is_some_and(char::is_alphabetic)
        } else if c == '-' {
            next.is_some_and(char::is_uppercase)
        } else {
            false
        };
        if !ok {
            break;
        }
        lowercase += usize::from(c.is_lowercase());
        second = false;
        end = i + c.len_utf8();
        chars.next();
    }
    let glued = s[end..].chars().next().is_some_and(char::is_alphanumeric);
    (lowercase > 0 && !glued).then_some(end)
}

/// A name (or several joined by "och", "and", …) at the cursor; `min_words` is the fewest
/// words the first one needs.
fn names_at(cursor: &mut Cursor<'_>, min_words: usize, out: &mut Vec<Span>) {
    let mut min_words = min_words;
    loop {
        let word = cursor.word();
        let period = cursor.rest()[word.len()..].starts_with('.');
        if HONORIFICS.contains(&word.to_lowercase().as_str()) {
            cursor.at += word.len() + usize::from(period);
            cursor.spaces();
        }
        let Some((start, end)) = name_at(cursor, min_words) else {
            return;
        };
        out.push(Span::new(FindingKind::ContactName, start, end));
        cursor.at = end;
        let back = cursor.at;
        cursor.spaces();
        let joint = cursor.word();
        let joint = if joint.is_empty() && cursor.peek() == Some('&') {
            "&"
        } else {
            joint
        };
        if !CONJUNCTIONS.contains(&joint) {
            cursor.at = back;
            return;
        }
        cursor.at += joint.len();
        if !cursor.spaces() {
            return;
        }
        min_words = 2;
    }
}

/// One name at the cursor, as a byte range.
fn name_at(cursor: &Cursor<'_>, min_words: usize) -> Option<(usize, usize)> {
    let mut parts: Vec<(Part, usize, usize)> = Vec::new();
    let mut at = cursor.at;
    let mut words = 0;
    while words < 3 && parts.len() < 7 {
        let rest = &cursor.text[at..];
        let mut chars = rest.chars();
        let (first, second) = (chars.next(), chars.next());
        let particle = letters(rest);
        let part = if let Some(len) = name_word(rest) {
            let lower = rest[..len].to_lowercase();
            if NOT_NAMES.contains(lower.as_str()) {
                break;
            }
            // "Kontaktperson: Upphandlingsenheten", "contact: Facilities Management".
            if ORGANISATIONS.contains(lower.as_str()) || persons::is_department(&lower) {
                return None;
            }
            words += 1;
            (Part::Word, at, at + len)
        } else if first.is_some_and(char::is_uppercase) && second == Some('.') {
            let len = first.map_or(0, char::len_utf8) + 1;
            (Part::Initial, at, at + len)
        } else if words > 0 && PARTICLES.contains(&particle) {
            (Part::Particle, at, at + particle.len())
        } else {
            break;
        };
        parts.push(part);
        at = part.2;
        let spaced = cursor.text[at..].trim_start_matches(is_inline_space);
        let gap = cursor.text.len() - at - spaced.len();
        if gap == 0 && part.0 != Part::Initial {
            break;
        }
        at += gap;
    }
    while parts.last().is_some_and(|p| p.0 == Part::Particle) {
        parts.pop();
    }
    // A name ends with a word, or with initials after one ("Anna B.").
    let last_word = parts.iter().rposition(|p| p.0 == Part::Word)?;
    let first_word = parts.iter().position(|p| p.0 == Part::Word)?;
    if first_word > 0 && parts[..first_word].iter().any(|p| p.0 != Part::Initial) {
        return None;
    }
    let keep = if parts[last_word + 1..].iter().all(|p| p.0 == Part::Initial) {
        parts.len()
    } else {
        last_word + 1
    };
    let words = parts[..keep].iter().filter(|p| p.0 == Part::Word).count();
    let end = parts[keep - 1].2;
    // "Oslo kommune", "Helsingin kaupunki", "Nordby AS": an organisation after all.
    if is_organisation_after(letters(
        cursor.text[end..].trim_start_matches(is_inline_space),
    )) {
        return None;
    }
    (words >= min_words).then_some((parts[0].1, end))
}

/// The run of letters at the start of `s`.
fn letters(s: &str) -> &str {
    let len = s
        .char_indices()
        .find(|&(_, c)| !c.is_alphabetic())
        .map_or(s.len(), |(i, _)| i);
    &s[..len]
}

/// What must follow a role word before the name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Link {
    /// A name may follow at once: "handläggare Erik Öberg".
    Optional,
    /// A colon, dash or copula, or else a name of two words: "Contact: Jane Doe".
    Heading,
    /// A link word: "frågor ställs till Anna Lind".
    Required,
}

/// The bytes up to a colon that ends a short heading at the start of `rest`, starting in
/// lowercase ("Kontaktperson i Danmark: …", "contact person at Lund University: …").
fn heading_colon(rest: &str) -> Option<usize> {
    let end = rest.find(|c: char| !(c.is_alphanumeric() || " \t-.()/".contains(c)))?;
    let words: Vec<&str> = rest[..end].split_whitespace().collect();
    let plain = words
        .first()
        .is_some_and(|w| w.starts_with(char::is_lowercase))
        && !words.iter().any(|w| COPULAS.contains(w));
    (plain && rest[end..].starts_with(':') && end <= 60 && words.len() <= 5).then_some(end)
}

/// A lowercase job title between a link and a name ("er rådgiver Per Hansen",
/// "är upphandlingschef Eva Ek"): its length with the spaces after it.
fn title(cursor: &Cursor<'_>) -> Option<usize> {
    let word = cursor.word();
    if !word.starts_with(char::is_lowercase) || !persons::is_title(word) {
        return None;
    }
    let after = &cursor.rest()[word.len()..];
    let name = after.trim_start_matches(is_inline_space);
    (name.len() < after.len() && name.starts_with(char::is_uppercase))
        .then(|| cursor.rest().len() - name.len())
}

/// Moves past what links the role to the name; returns whether something did, or `None` when
/// what follows the role is no link to a name.
fn link(cursor: &mut Cursor<'_>, link: Link) -> Option<bool> {
    cursor.spaces();
    if let Some(colon) = heading_colon(cursor.rest()) {
        cursor.at += colon;
    }
    let mut fillers = 0;
    loop {
        if cursor.separator() {
            cursor.at += title(cursor).unwrap_or(0);
            return Some(true);
        }
        let word = cursor.word();
        if word.is_empty() || !word.starts_with(char::is_lowercase) {
            return (fillers == 0).then_some(false);
        }
        let start = cursor.at;
        cursor.at += word.len();
        if !cursor.spaces() {
            if cursor.peek() == Some(':') {
                continue;
            }
            cursor.at = start;
            return None;
        }
        let linking =
            COPULAS.contains(&word) || (link == Link::Required && DIRECTIONS.contains(&word));
        if linking && cursor.peek().is_some_and(char::is_uppercase) {
            return Some(true);
        }
        if linking && let Some(title) = title(cursor) {
            cursor.at += title;
            return Some(true);
        }
        fillers += 1;
        if fillers > 4 {
            return None;
        }
    }
}

pub(super) fn find(text: &str, out: &mut Vec<Span>) {
    for role in ROLE.find_iter(text) {
        let before = text[..role.start()].chars().next_back();
        let after = text[role.end()..].chars().next();
        if before.is_some_and(char::is_alphanumeric) || after.is_some_and(char::is_alphanumeric) {
            continue;
        }
        let word = role.as_str().to_lowercase();
        let kind = if HEADINGS.contains(&word.as_str()) {
            Link::Heading
        } else if INQUIRIES.contains(&word.as_str()) {
            Link::Required
        } else {
            Link::Optional
        };
        let mut cursor = Cursor {
            text,
            at: role.end(),
        };
        let Some(linked) = link(&mut cursor, kind) else {
            continue;
        };
        let min_words = match (kind, linked) {
            (Link::Required, false) => continue,
            (Link::Required, true) | (Link::Heading, false) => 2,
            _ => 1,
        };
        names_at(&mut cursor, min_words, out);
    }
}
