//! Personal names recognised as names, whatever phrase stands around them.
//!
//! Every run of capitalised words on one line (with initials such as "J." and particles such
//! as "van" or "af" inside) is a candidate. Several signals are weighed, as in Presidio-style
//! recognisers, and a candidate scoring [`THRESHOLD`] or more is a name:
//!
//! - **the name lists** ([`lexicon`]): given names and surnames from the national statistics
//!   offices, seen through inflections ("Annas", "Virtasen"); names that are also ordinary
//!   words ("Berg", "Mark") count for less;
//! - **shape**: a given name or an initial followed by further name words ("Anna Lind",
//!   "J. R. Hartley", "Mette Kjærgaard-Holm"), a known name in the middle of a sentence;
//! - **context before**, in the five languages and their inflections: a job title or role
//!   ("miljøkoordinator", "toimitusjohtajana", "head of facilities"), an honorific ("fru",
//!   "Mr"), a signatory or author phrase ("is signed by", "undertecknas av", "allekirjoittaa"),
//!   a contact verb or preposition ("kontakta", "till", "hos");
//! - **context after**: a title after a comma or in parentheses ("Lars Pettersson,
//!   miljöstrateg"), a verb of responsibility ("ansvarar", "vastaa"), a Finnish postposition
//!   ("Virtasen mukaan"), contact details;
//! - **structure**: a line after a closing phrase ("Med vänlig hälsning"), the next name of a
//!   list ("Anna Lind, Erik Berg och Karin Ek").
//!
//! Department and organisation names after role words ("Kontaktperson: Upphandlingsenheten",
//! "Nordby AS", "Oslo kommune") are not names.

use super::{
    FindingKind, Span,
    lexicon::{self, Known, NameClass},
    names::{self, is_inline_space},
};

/// The score at which a candidate is a name.
const THRESHOLD: f32 = 0.7;
/// Most name words in one name; longer capitalised runs are headings or titles.
const MOST_WORDS: usize = 4;

/// Words that stand before a name and say it is one, with any following colon.
const HONORIFICS: [&str; 17] = [
    "mr",
    "mrs",
    "ms",
    "miss",
    "dr",
    "prof",
    "professor",
    "herr",
    "fru",
    "fröken",
    "frk",
    "hr",
    "fr",
    "rouva",
    "herra",
    "neiti",
    "sir",
];

/// Words linking a role to the name: "kontaktperson är", "yhteyshenkilönä toimii".
const COPULAS: [&str; 17] = [
    "är", "var", "blir", "heter", "er", "bliver", "blir", "hedder", "heiter", "is", "was", "are",
    "be", "on", "toimii", "toimivat", "oli",
];

/// Words before a name that make it likelier: prepositions and verbs of contact.
const WEAK_BEFORE: [&str; 30] = [
    "till",
    "til",
    "to",
    "av",
    "af",
    "by",
    "från",
    "fra",
    "from",
    "med",
    "with",
    "hos",
    "ved",
    "kontakta",
    "kontakte",
    "kontakt",
    "contact",
    "call",
    "ring",
    "ringe",
    "mejla",
    "maila",
    "email",
    "fråga",
    "spør",
    "spørg",
    "ask",
    "attn",
    "yhteyttä",
    "cc",
];

/// Words after "av", "af", "by" that make the name after them an author or signatory.
const SIGNATORY: [&str; 56] = [
    "undertecknad",
    "undertecknat",
    "undertecknas",
    "undertecknade",
    "signerad",
    "signerat",
    "signeras",
    "signert",
    "signeres",
    "signeret",
    "signed",
    "countersigned",
    "underskrevet",
    "underskrives",
    "undertegnet",
    "undertegnes",
    "godkänd",
    "godkänt",
    "godkänns",
    "godkjent",
    "godkjennes",
    "godkendt",
    "godkendes",
    "approved",
    "prepared",
    "written",
    "authored",
    "reviewed",
    "checked",
    "verified",
    "upprättad",
    "upprättat",
    "utarbetad",
    "utarbetat",
    "utarbeidet",
    "udarbejdet",
    "skrevet",
    "skriven",
    "skrivet",
    "granskad",
    "granskat",
    "kontrollerad",
    "kontrollert",
    "kontrolleret",
    "attesterad",
    "attestert",
    "besvaras",
    "besvares",
    "answered",
    "ledd",
    "ledet",
    "leds",
    "led",
    "led",
    "represented",
    "representeras",
];

/// Finnish verbs that stand before their subject, a name: "Sopimuksen allekirjoittaa Matti
/// Virtanen", "Lisätietoja antaa …". Matched as stems.
const FINNISH_VERBS: [&str; 14] = [
    "allekirjoit",
    "hyväksy",
    "laati",
    "vahvist",
    "tarkast",
    "esittel",
    "valvoo",
    "vastaa",
    "koordinoi",
    "johtaa",
    "hoitaa",
    "edustaa",
    "antaa",
    "antavat",
];

/// Words right after a name that say a person acts: "Anna Lind ansvarar för …".
const VERBS_AFTER: [&str; 40] = [
    "ansvarar",
    "svarar",
    "besvarar",
    "leder",
    "samordnar",
    "undertecknar",
    "signerar",
    "godkänner",
    "nås",
    "ansvarer",
    "svarer",
    "besvarer",
    "koordinerer",
    "signerer",
    "underskriver",
    "godkjenner",
    "godkender",
    "treffes",
    "træffes",
    "kan",
    "vastaa",
    "vastaavat",
    "johtaa",
    "koordinoi",
    "hoitaa",
    "allekirjoittaa",
    "hyväksyy",
    "toimii",
    "will",
    "leads",
    "coordinates",
    "answers",
    "handles",
    "signs",
    "approves",
    "manages",
    "oversees",
    "can",
    "is",
    "has",
];

/// Finnish postpositions after a name in the genitive: "Virtasen mukaan".
const POSTPOSITIONS: [&str; 6] = [
    "mukaan", "kanssa", "toimesta", "puolesta", "luona", "kautta",
];

/// Words ending a letter before the signature: the line after them is a name.
const CLOSINGS: [&str; 21] = [
    "hälsning",
    "hälsningar",
    "hälsningarna",
    "hilsen",
    "hilsener",
    "helsing",
    "helsingar",
    "regards",
    "sincerely",
    "faithfully",
    "wishes",
    "terveisin",
    "terveiset",
    "mvh",
    "vh",
    "br",
    "tack",
    "takk",
    "tak",
    "kiitos",
    "thanks",
];

/// Words joining the names of a list.
const LIST_WORDS: [&str; 9] = ["och", "og", "and", "ja", "sekä", "samt", "&", "eller", "or"];

/// Stems of job titles in the Scandinavian languages, matched at the end of a word, before a
/// definite or plural ending: "miljøkoordinatoren", "upphandlingsstrategen".
const TITLE_ENDINGS: [&str; 75] = [
    "ansvarig",
    "ansvarlig",
    "ansvarleg",
    "chef",
    "sjef",
    "strateg",
    "samordnare",
    "samordner",
    "koordinator",
    "ledare",
    "leder",
    "leiar",
    "handläggare",
    "behandler",
    "handsamar",
    "konsult",
    "konsulent",
    "specialist",
    "spesialist",
    "controller",
    "ingenjör",
    "ingeniør",
    "direktör",
    "direktør",
    "sekreterare",
    "sekretær",
    "rådgivare",
    "rådgiver",
    "rådgjevar",
    "utredare",
    "utreder",
    "expert",
    "ekspert",
    "analytiker",
    "tekniker",
    "förvaltare",
    "forvalter",
    "upphandlare",
    "inköpare",
    "innkjøper",
    "indkøber",
    "assistent",
    "ombud",
    "representant",
    "ordförande",
    "ledamot",
    "medarbetare",
    "medarbeider",
    "medarbejder",
    "jurist",
    "fuldmægtig",
    "revisor",
    "kontrollant",
    "kontrollør",
    "inspektør",
    "inspektör",
    "planerare",
    "planlegger",
    "planlægger",
    "arkitekt",
    "ekonom",
    "økonom",
    "rektor",
    "formann",
    "formand",
    "kontaktperson",
    "kontaktpersonen",
    "projektör",
    "tilsynsfører",
    "byggeleder",
    "koordinatorn",
    "samordnaren",
    "handläggaren",
    "ansvariga",
    "officer",
];

/// Plural and definite endings after a Scandinavian title stem.
const TITLE_SUFFIXES: [&str; 10] = ["", "en", "n", "na", "ne", "et", "er", "e", "ar", "erne"];

/// English job titles (whole words).
const ENGLISH_TITLES: [&str; 38] = [
    "manager",
    "officer",
    "lead",
    "director",
    "coordinator",
    "head",
    "advisor",
    "adviser",
    "specialist",
    "engineer",
    "consultant",
    "controller",
    "analyst",
    "secretary",
    "assistant",
    "lawyer",
    "counsel",
    "buyer",
    "purchaser",
    "representative",
    "chair",
    "chairperson",
    "administrator",
    "supervisor",
    "planner",
    "inspector",
    "auditor",
    "architect",
    "strategist",
    "ceo",
    "cfo",
    "cto",
    "executive",
    "owner",
    "expert",
    "handler",
    "worker",
    "person",
];

/// Stems of Finnish job titles, matched anywhere in a word: titles are compounds and take case
/// endings ("toimitusjohtajana", "ympäristöasiantuntijamme").
const FINNISH_TITLES: [&str; 27] = [
    "johtaja",
    "päällik",
    "asiantuntij",
    "vastaav",
    "sihteer",
    "koordinaattor",
    "suunnittelij",
    "neuvoj",
    "insinöör",
    "esimie",
    "esihenkilö",
    "lakimie",
    "juristi",
    "tarkastaj",
    "ostaja",
    "käsittelij",
    "yhteyshenkilö",
    "vastuuhenkilö",
    "valvoj",
    "isännöitsij",
    "asiamie",
    "edustaj",
    "puheenjohtaj",
    "kehittäj",
    "konsult",
    "ekonomi",
    "hoitaja",
];

/// Whether a word (lowercase) is a job title or role in one of the five languages.
pub(super) fn is_title(word: &str) -> bool {
    if ENGLISH_TITLES.contains(&word) || names::is_role_word(word) {
        return true;
    }
    if FINNISH_TITLES.iter().any(|stem| word.contains(stem)) {
        return true;
    }
    TITLE_ENDINGS.iter().any(|stem| {
        TITLE_SUFFIXES.iter().any(|suffix| {
            word.strip_suffix(suffix)
                .is_some_and(|w| w.ends_with(stem) && w.len() >= stem.len())
        })
    })
}

/// Stems of words naming departments, units and services: "Upphandlingsenheten",
/// "Innkjøpsseksjonen", "Hankintapalvelut", "Facilities Management".
const DEPARTMENTS: [&str; 48] = [
    "enhet",
    "enhed",
    "avdelning",
    "avdeling",
    "afdeling",
    "förvaltning",
    "forvaltning",
    "kontor",
    "sektion",
    "seksjon",
    "etaten",
    "kansli",
    "sekretariat",
    "direktorat",
    "nämnd",
    "styrelse",
    "verket",
    "byrå",
    "center",
    "centret",
    "centrum",
    "senter",
    "palvelu",
    "keskus",
    "yksikkö",
    "yksikön",
    "osasto",
    "toimisto",
    "tiimi",
    "virasto",
    "laitos",
    "team",
    "gruppen",
    "staben",
    "service",
    "management",
    "facilities",
    "department",
    "division",
    "office",
    "unit",
    "desk",
    "support",
    "procurement",
    "purchasing",
    "operations",
    "finance",
    "secretariat",
];

pub(super) fn is_department(word: &str) -> bool {
    DEPARTMENTS.iter().any(|stem| word.contains(stem))
}

/// A word of the text: its byte range.
#[derive(Debug, Clone, Copy)]
struct Word {
    start: usize,
    end: usize,
}

/// Runs of letters with inner hyphens and apostrophes ("Anna-Karin", "O'Neil").
fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if !c.is_alphabetic() {
            continue;
        }
        let mut end = start + c.len_utf8();
        while let Some(&(i, c)) = chars.peek() {
            if c.is_alphabetic() {
                end = i + c.len_utf8();
                chars.next();
            } else if matches!(c, '-' | '\'' | '’')
                && text[i + c.len_utf8()..]
                    .chars()
                    .next()
                    .is_some_and(char::is_alphabetic)
            {
                chars.next();
            } else {
                break;
            }
        }
        // A word glued to digits ("ISO14001", "TC123") is no word of a name.
        let glued = text[end..].starts_with(|c: char| c.is_ascii_digit())
            || text[..start].ends_with(|c: char| c.is_ascii_digit());
        if !glued {
            out.push(Word { start, end });
        }
    }
    out
}

/// What a word of a candidate is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Part {
    Name(Option<Known>),
    Initial,
    Particle,
}

/// Whether a capitalised word has the shape of a name: an uppercase first letter, then
/// lowercase letters (a second capital only after "Mc", "Mac", "O'" or a hyphen).
fn name_shaped(word: &str) -> bool {
    let mut chars = word.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    if !first.is_uppercase() {
        return false;
    }
    let rest: Vec<char> = chars.collect();
    if rest.is_empty() || !rest.iter().any(|c| c.is_lowercase()) {
        return false;
    }
    let mut previous = first;
    for (i, &c) in rest.iter().enumerate() {
        if c.is_uppercase() {
            let after_prefix = word.starts_with("Mc") && i == 1
                || word.starts_with("Mac") && i == 2
                || matches!(previous, '-' | '\'' | '’');
            if !after_prefix {
                return false;
            }
        }
        previous = c;
    }
    true
}

/// Lowercase words that are never part of a name and end a candidate.
fn breaks_name(lower: &str) -> bool {
    names::is_not_name(lower)
        || HONORIFICS.contains(&lower)
        || matches!(lower, "ring" | "sms" | "call" | "soita")
        || names::is_organisation(lower)
        || is_title(lower)
        || is_department(lower)
}

/// A candidate: name words in a row on one line.
struct Candidate {
    parts: Vec<(Part, usize, usize)>,
}

impl Candidate {
    fn start(&self) -> usize {
        self.parts[0].1
    }
    fn end(&self) -> usize {
        self.parts[self.parts.len() - 1].2
    }
    fn names(&self) -> impl Iterator<Item = Option<Known>> + '_ {
        self.parts.iter().filter_map(|p| match p.0 {
            Part::Name(known) => Some(known),
            _ => None,
        })
    }
}

/// The candidates of a text, in order.
fn candidates(text: &str) -> Vec<Candidate> {
    let words = words(text);
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let mut parts: Vec<(Part, usize, usize)> = Vec::new();
        let mut j = i;
        while j < words.len() {
            let word = words[j];
            let s = &text[word.start..word.end];
            if let Some(&(_, _, previous_end)) = parts.last() {
                let gap = &text[previous_end..word.start];
                if gap.is_empty() || !gap.chars().all(is_inline_space) {
                    break;
                }
            }
            let lower = s.to_lowercase();
            let single = s.chars().count() == 1;
            let part =
                if single && s.starts_with(char::is_uppercase) && text[word.end..].starts_with('.')
                {
                    (Part::Initial, word.start, word.end + 1)
                } else if name_shaped(s) && !breaks_name(&lower) {
                    (Part::Name(lexicon::lookup(s)), word.start, word.end)
                } else if !parts.is_empty() && names::is_particle(&lower) {
                    (Part::Particle, word.start, word.end)
                } else {
                    break;
                };
            parts.push(part);
            j += 1;
        }
        while parts.last().is_some_and(|p| p.0 == Part::Particle) {
            parts.pop();
        }
        // An initial ends a name only after a name word ("Anna B."); alone it may be a
        // sentence's end ("bilaga B.").
        if parts.iter().any(|p| matches!(p.0, Part::Name(_))) {
            out.push(Candidate { parts });
        }
        i = j.max(i + 1);
    }
    out
}

/// The words before `at` on the same line, nearest first, lowercase, each with the
/// punctuation (spaces trimmed) between it and what follows it.
fn words_before(text: &str, at: usize, most: usize) -> Vec<(String, String)> {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let mut out = Vec::new();
    let mut rest = &text[line_start..at];
    while out.len() < most {
        let trimmed = rest.trim_end_matches(|c: char| !c.is_alphanumeric());
        if trimmed.is_empty() {
            break;
        }
        let gap: String = rest[trimmed.len()..]
            .chars()
            .filter(|c| !is_inline_space(*c))
            .collect();
        let start = trimmed
            .char_indices()
            .rev()
            .find(|&(_, c)| !(c.is_alphanumeric() || matches!(c, '-' | '\'' | '’')))
            .map_or(0, |(i, c)| i + c.len_utf8());
        out.push((trimmed[start..].to_lowercase(), gap));
        rest = &trimmed[..start];
    }
    out
}

/// Whether the candidate starts a sentence (or a line, or the text).
fn starts_sentence(text: &str, at: usize) -> bool {
    let before = text[..at].trim_end_matches(is_inline_space);
    before.is_empty()
        || before.ends_with([
            '.', '!', '?', ':', '\n', '"', '“', '”', '•', '*', '–', '—', '(',
        ])
        || before.ends_with("- ")
}

/// Score from what stands before the candidate.
fn before_score(text: &str, at: usize) -> f32 {
    let before = words_before(text, at, 3);
    let Some((first, gap)) = before.first() else {
        return closing_line_score(text, at);
    };
    let first = first.as_str();
    if HONORIFICS.contains(&first) && !gap.contains(['!', '?', ',', ';']) {
        return 0.6;
    }
    // What ended a sentence before says nothing of this one ("… producenten. Brugeren …").
    if gap.contains(['.', '!', '?', ';']) {
        return closing_line_score(text, at);
    }
    let punctuated = &!gap.is_empty();
    if is_title(first) {
        return 0.6;
    }
    if FINNISH_VERBS.iter().any(|stem| first.starts_with(stem)) && !punctuated {
        return 0.6;
    }
    let second = before.get(1).map(|(w, _)| w.as_str());
    if COPULAS.contains(&first) && !punctuated && second.is_some_and(is_title) {
        return 0.6;
    }
    if matches!(first, "av" | "af" | "by") && !punctuated {
        return if second.is_some_and(|w| SIGNATORY.contains(&w)) {
            0.6
        } else {
            0.25
        };
    }
    if SIGNATORY.contains(&first) || matches!(first, "signature" | "underskrift" | "allekirjoitus")
    {
        return 0.6;
    }
    if CLOSINGS.contains(&first) && *punctuated {
        return 0.6;
    }
    if WEAK_BEFORE.contains(&first) && !punctuated {
        return 0.25;
    }
    closing_line_score(text, at)
}

/// A name on the line after a closing phrase: "Med vänlig hälsning\nKarin Ek".
fn closing_line_score(text: &str, at: usize) -> f32 {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    if !text[line_start..at].chars().all(char::is_whitespace) || line_start == 0 {
        return 0.0;
    }
    let previous = text[..line_start - 1]
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let last = previous
        .trim_end_matches(|c: char| !c.is_alphanumeric())
        .rsplit(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or("")
        .to_lowercase();
    if CLOSINGS.contains(&last.as_str()) {
        0.6
    } else {
        0.0
    }
}

/// Score from what follows the candidate.
fn after_score(text: &str, end: usize) -> f32 {
    let rest = &text[end..];
    let spaced = rest.trim_start_matches(is_inline_space);
    let next_word = |s: &str| -> String {
        s.trim_start_matches(|c: char| is_inline_space(c))
            .split(|c: char| !(c.is_alphanumeric() || c == '-'))
            .next()
            .unwrap_or("")
            .to_lowercase()
    };
    if let Some(inner) = spaced
        .strip_prefix(',')
        .or_else(|| spaced.strip_prefix('('))
        .or_else(|| spaced.strip_prefix('–'))
        .or_else(|| spaced.strip_prefix(" - "))
    {
        let inner = inner.trim_start_matches(is_inline_space);
        let word = next_word(inner);
        if is_title(&word) {
            return 0.5;
        }
        // "Anna Lind, 070-123 45 67", "(anna.lind@lund.se)"
        let near: String = inner.chars().take(40).collect();
        let lower = near.to_lowercase();
        if near.contains('@')
            || near.chars().filter(char::is_ascii_digit).count() >= 6
            || [
                "tel", "tfn", "tlf", "puh", "mobil", "phone", "e-post", "e-mail", "email",
            ]
            .iter()
            .any(|cue| lower.starts_with(cue))
        {
            return 0.3;
        }
        // "Anna Lind, miljöstrateg" may also put the title second: "Anna Lind, vår miljöstrateg".
        let second = next_word(&inner[word.len().min(inner.len())..]);
        if is_title(&second) {
            return 0.4;
        }
        return 0.0;
    }
    let word = next_word(spaced);
    if spaced.len() < rest.len() {
        if POSTPOSITIONS.contains(&word.as_str()) {
            return 0.4;
        }
        if VERBS_AFTER.contains(&word.as_str()) {
            return 0.3;
        }
    }
    0.0
}

/// Whether an organisation word follows: "Lindström Oy", "Oslo kommune".
fn organisation_after(text: &str, end: usize) -> bool {
    let next = text[end..]
        .trim_start_matches(is_inline_space)
        .split(|c: char| !c.is_alphabetic())
        .next()
        .unwrap_or("");
    names::is_organisation_after(next)
}

/// Whether the candidate is the next name of a list whose previous name ended at `previous`.
fn continues_list(text: &str, previous: Option<usize>, start: usize) -> bool {
    let Some(previous) = previous else {
        return false;
    };
    if previous > start {
        return false;
    }
    let gap = text[previous..start].trim();
    gap == ","
        || gap == ";"
        || LIST_WORDS
            .iter()
            .any(|w| gap == *w || gap == format!(", {w}"))
}

/// The score of a candidate's own words.
fn word_score(candidate: &Candidate, mid_sentence: bool) -> f32 {
    let mut score = 0.0;
    let mut names = 0;
    for part in &candidate.parts {
        score += match part.0 {
            Part::Name(Some(known)) if known.ambiguous => 0.25,
            Part::Name(Some(_)) => 0.5,
            Part::Name(None) => 0.1,
            Part::Initial => 0.2,
            Part::Particle => 0.0,
        };
        names += usize::from(part.0 != Part::Particle);
    }
    let first_given = match candidate.parts[0].0 {
        Part::Name(Some(known)) => known.class == NameClass::Given,
        Part::Initial => true,
        _ => false,
    };
    if names >= 2 && first_given {
        score += 0.2;
    }
    if names == 1
        && let Some(Some(known)) = candidate.names().next()
        && !known.ambiguous
        && (mid_sentence || known.inflected)
    {
        score += 0.2;
    }
    score
}

/// Drops leading words that are no name before the first given name: a title or
/// organisation in capitals ("Facilities Anna Lind" → "Anna Lind").
fn trim_leading(candidate: &mut Candidate) {
    let given = candidate.parts.iter().position(
        |p| matches!(p.0, Part::Name(Some(k)) if k.class == NameClass::Given && !k.ambiguous),
    );
    if let Some(given) = given
        && given > 0
        && candidate.parts[..given]
            .iter()
            .all(|p| p.0 == Part::Name(None))
    {
        candidate.parts.drain(..given);
    }
}

pub(super) fn find(text: &str, out: &mut Vec<Span>) {
    let mut previous_name: Option<usize> = None;
    for mut candidate in candidates(text) {
        trim_leading(&mut candidate);
        let words = candidate
            .parts
            .iter()
            .filter(|p| p.0 != Part::Particle)
            .count();
        if words > MOST_WORDS {
            continue;
        }
        let (start, end) = (candidate.start(), candidate.end());
        if organisation_after(text, end) {
            continue;
        }
        // "Maj 2025", "Generation 10": a lone word before a number (or before the placeholder
        // that replaced one) is no name.
        let single = words == 1;
        if single
            && text[end..]
                .trim_start_matches(is_inline_space)
                .starts_with(|c: char| c.is_ascii_digit() || c == '[')
        {
            continue;
        }
        let mid_sentence = !starts_sentence(text, start);
        let known = candidate.names().filter(Option::is_some).count();
        let mut score = word_score(&candidate, mid_sentence);
        let context = before_score(text, start) + after_score(text, end);
        score += context;
        if continues_list(text, previous_name, start) {
            score += 0.4;
        }
        // Unknown words alone make a name only with a strong context.
        if known == 0 && context < 0.6 {
            continue;
        }
        if score >= THRESHOLD {
            out.push(Span::new(FindingKind::ContactName, start, end));
            previous_name = Some(end);
        }
    }
}
