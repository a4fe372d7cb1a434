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

/// The score (in hundredths) at which a candidate is a name.
const THRESHOLD: i32 = 70;
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
const SIGNATORY: [&str; 63] = [
    "reviderad",
    "reviderat",
    "revideret",
    "revidert",
    "revised",
    "updated",
    "compiled",
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
/// Virtanen", "Lisätietoja antaa …" (active forms only: "hyväksytään" has no subject).
const FINNISH_VERBS: [&str; 36] = [
    "allekirjoittaa",
    "allekirjoitti",
    "allekirjoittavat",
    "allekirjoittanut",
    "hyväksyy",
    "hyväksyi",
    "hyväksynyt",
    "laatii",
    "laati",
    "laatinut",
    "vahvistaa",
    "vahvisti",
    "tarkastaa",
    "tarkasti",
    "esittelee",
    "esitteli",
    "valvoo",
    "valvoi",
    "vastaa",
    "vastasi",
    "koordinoi",
    "johtaa",
    "johti",
    "hoitaa",
    "hoiti",
    "edustaa",
    "antaa",
    "antoi",
    "antavat",
    "kirjoitti",
    "kirjoittanut",
    "päivitti",
    "päivittänyt",
    "muokkasi",
    "muokannut",
    "tarkistanut",
];

/// Words right after a name that say a person acts: "Anna Lind ansvarar för …".
const VERBS_AFTER: [&str; 66] = [
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
    "vastaa",
    "vastaavat",
    "johtaa",
    "koordinoi",
    "hoitaa",
    "allekirjoittaa",
    "hyväksyy",
    "toimii",
    "leads",
    "coordinates",
    "answers",
    "handles",
    "signs",
    "approves",
    "manages",
    "oversees",
    "ehdotti",
    "totesi",
    "päätti",
    "teki",
    "kertoi",
    "sanoi",
    "föreslog",
    "sade",
    "sa",
    "beslutade",
    "foreslo",
    "foreslog",
    "sagde",
    "besluttet",
    "besluttede",
    "proposed",
    "said",
    "decided",
    "noted",
    "suggested",
    "wrote",
    "skrev",
    "kirjoitti",
    "collects",
    "samlar",
    "samler",
    "kerää",
    "presenterar",
    "presenterer",
    "presents",
    "esittelee",
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
const TITLE_ENDINGS: [&str; 79] = [
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
    "referent",
    "protokollförare",
    "protokollfører",
    "sekretær",
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

/// Procurement portals and services named like people ("Hilma" is also a Finnish name).
const NOT_PEOPLE: [&str; 12] = [
    "hilma", "doffin", "mercell", "tendsign", "visma", "opic", "kommers", "ted", "simap", "udbud",
    "ethics", "ajour",
];

/// Lowercase words after a name that make it a place: "H.C. Andersens Boulevard",
/// "Gustav Adolfs torg", "Queen Elizabeth Way".
const STREETS: [&str; 30] = [
    "gata",
    "gatan",
    "väg",
    "vägen",
    "torg",
    "torget",
    "plan",
    "gate",
    "gaten",
    "vei",
    "veien",
    "vej",
    "plass",
    "plads",
    "allé",
    "boulevard",
    "katu",
    "tie",
    "kuja",
    "tori",
    "street",
    "road",
    "way",
    "avenue",
    "square",
    "lane",
    "place",
    "park",
    "bridge",
    "kaari",
];

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
    // "E-Transit", "e-Golf": a model, not a name.
    let lettered = lower.chars().nth(1) == Some('-');
    lettered
        || names::is_not_name(lower)
        || NOT_PEOPLE.iter().any(|p| {
            lower
                .strip_prefix(p)
                .is_some_and(|rest| rest.chars().count() <= 4)
        })
        || HONORIFICS.contains(&lower)
        || matches!(lower, "ring" | "sms" | "call" | "soita")
        || names::is_organisation(lower)
        || is_title(lower)
        || is_department(lower)
}

/// A candidate: name words in a row on one line.
#[derive(Debug)]
struct Candidate {
    parts: Vec<(Part, usize, usize)>,
    /// Written in lowercase ("anna lind"): only name-list words make it.
    lowercase: bool,
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
    fn known(&self) -> usize {
        self.names().filter(Option::is_some).count()
    }
    fn words(&self) -> usize {
        self.parts.iter().filter(|p| p.0 != Part::Particle).count()
    }
}

/// A lowercase initial ("h.") or an uppercase one ("H."), at `word`.
fn initial(text: &str, word: Word, lowercase: bool) -> bool {
    let s = &text[word.start..word.end];
    s.chars().count() == 1
        && s.starts_with(|c: char| {
            if lowercase {
                c.is_lowercase()
            } else {
                c.is_uppercase()
            }
        })
        && text[word.end..].starts_with('.')
}

/// The candidates of a text, in order: runs of capitalised name words, and runs of
/// lowercase words that the name lists know ("anna lind", "jens peter holst").
fn candidates(text: &str) -> Vec<Candidate> {
    let words = words(text);
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let first = &text[words[i].start..words[i].end];
        let lowercase = first.starts_with(char::is_lowercase)
            && !(START_PARTICLES.contains(&first) && particle_before_name(text, &words, i));
        // A lowercase word after an honorific ("fru damgaard", "Dr van dijk").
        let honoured = lowercase && after_honorific(text, words[i].start);
        if lowercase && !honoured && !lowercase_start(text, &words, i) {
            i += 1;
            continue;
        }
        let mut parts: Vec<(Part, usize, usize)> = Vec::new();
        let mut j = i;
        while j < words.len() && parts.len() < 8 {
            let word = words[j];
            let s = &text[word.start..word.end];
            if let Some(&(_, _, previous_end)) = parts.last() {
                let gap = &text[previous_end..word.start];
                if gap.is_empty() || !gap.chars().all(is_inline_space) {
                    break;
                }
            }
            let lower = s.to_lowercase();
            let part = if initial(text, word, lowercase) {
                (Part::Initial, word.start, word.end + 1)
            } else if (START_PARTICLES.contains(&lower.as_str())
                || parts.last().is_some_and(|p| match p.0 {
                    // "af", "av", "de", "la" are words too ("Avropene av Mercedes-Benz"):
                    // inside a name only after a given name or another particle.
                    Part::Name(Some(k)) => k.class == NameClass::Given,
                    Part::Particle => true,
                    _ => !WORD_PARTICLES.contains(&lower.as_str()),
                }))
                && particle_before_name(text, &words, j)
            {
                (Part::Particle, word.start, word.end)
            } else if !parts.is_empty()
                && s.starts_with(char::is_uppercase)
                && names::is_particle(&lower)
                && particle_before_name(text, &words, j)
            {
                // "Zara Van Der Merwe"
                (Part::Particle, word.start, word.end)
            } else if !lowercase && name_shaped(s) && !breaks_name(&lower) {
                (Part::Name(lexicon::lookup(s)), word.start, word.end)
            } else if lowercase
                && honoured
                && names::is_particle(&lower)
                && parts.iter().all(|p| p.0 == Part::Particle)
            {
                // "Dr van dijk"
                (Part::Particle, word.start, word.end)
            } else if lowercase && s.starts_with(char::is_lowercase) && !breaks_name(&lower) {
                match lexicon::lookup(s) {
                    Some(known) => (Part::Name(Some(known)), word.start, word.end),
                    // After an honorific any word is a name: "fru damgaard".
                    None if honoured && !parts.iter().any(|p| matches!(p.0, Part::Name(_))) => {
                        (Part::Name(None), word.start, word.end)
                    }
                    // An unknown surname after a given name ("louise sörensson"); the
                    // score asks more of it.
                    None if parts.len() == 1
                        && matches!(parts[0].0, Part::Name(Some(_)) | Part::Initial) =>
                    {
                        parts.push((Part::Name(None), word.start, word.end));
                        break;
                    }
                    None => break,
                }
            } else {
                break;
            };
            parts.push(part);
            j += 1;
        }
        while parts
            .last()
            .is_some_and(|p| p.0 != Part::Initial && !matches!(p.0, Part::Name(_)))
        {
            parts.pop();
        }
        // An initial ends a name only after a name word ("Anna B."); alone it may be a
        // sentence's end ("bilaga B.").
        if parts.iter().any(|p| matches!(p.0, Part::Name(_))) {
            while parts.last().is_some_and(|p| p.0 == Part::Particle) {
                parts.pop();
            }
            out.push(Candidate { parts, lowercase });
        }
        i = j.max(i + 1);
    }
    out
}

/// Particles that may start a name ("du Plessis", "van der Berg"); not "af" or "av", which
/// are prepositions too ("undertecknas av Karin Berg").
const START_PARTICLES: [&str; 8] = ["van", "von", "du", "di", "de", "der", "ter", "ten"];

/// Particles that are ordinary words as well.
const WORD_PARTICLES: [&str; 9] = ["af", "av", "de", "da", "la", "le", "den", "der", "di"];

/// Whether word `j` is a particle ("van", "af") that more particles and a name word follow
/// ("van der Berg").
fn particle_before_name(text: &str, words: &[Word], j: usize) -> bool {
    let mut k = j;
    while let Some(word) = words.get(k) {
        let s = &text[word.start..word.end];
        if !names::is_particle(&s.to_lowercase())
            || (k > j && name_shaped(s) && !next_is_word(text, words, k))
        {
            return k > j && name_shaped(s);
        }
        let Some(next) = words.get(k + 1) else {
            return false;
        };
        if !text[word.end..next.start].chars().all(is_inline_space) {
            return false;
        }
        k += 1;
    }
    false
}

/// Whether another word follows word `k` on the same line, after spaces only.
fn next_is_word(text: &str, words: &[Word], k: usize) -> bool {
    words
        .get(k + 1)
        .is_some_and(|next| text[words[k].end..next.start].chars().all(is_inline_space))
}

/// Month and weekday names, as the five languages write them in lowercase.
const CALENDAR: [&str; 58] = [
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
    "januar",
    "februar",
    "marts",
    "mai",
    "august",
    "desember",
    "january",
    "february",
    "march",
    "may",
    "june",
    "july",
    "october",
    "tammikuu",
    "helmikuu",
    "maaliskuu",
    "huhtikuu",
    "toukokuu",
    "kesäkuu",
    "heinäkuu",
    "elokuu",
    "syyskuu",
    "lokakuu",
    "marraskuu",
    "joulukuu",
    "måndag",
    "tisdag",
    "onsdag",
    "torsdag",
    "fredag",
    "lördag",
    "söndag",
    "mandag",
    "tirsdag",
    "lørdag",
    "søndag",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "maanantai",
    "tiistai",
    "perjantai",
];

/// Whether an honorific stands right before `at`: "fru ", "Dr. ", "hr. ".
fn after_honorific(text: &str, at: usize) -> bool {
    words_before(text, at, 1)
        .first()
        .is_some_and(|(word, gap)| {
            HONORIFICS.contains(&word.as_str()) && (gap.is_empty() || gap == ".")
        })
}

/// Whether a lowercase name may start at word `i`: a lowercase initial, or a given name as
/// written in the lists (uninflected) followed by another word.
fn lowercase_start(text: &str, words: &[Word], i: usize) -> bool {
    if initial(text, words[i], true) {
        return true;
    }
    let s = &text[words[i].start..words[i].end];
    // Months and weekdays are lowercase words of dates ("1. juni", "3 maj") before they are
    // given names.
    if CALENDAR.contains(&s) {
        return false;
    }
    words.get(i + 1).is_some_and(|next| {
        text[words[i].end..next.start].chars().all(is_inline_space)
            && text[next.start..].starts_with(char::is_lowercase)
    }) && (lexicon::lookup_exact_given(s)
        || (s.contains('-')
            && lexicon::lookup(s).is_some_and(|k| k.class == NameClass::Given && !k.inflected)))
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

/// What the context before a candidate says, in hundredths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Before {
    Nothing,
    /// A preposition or contact verb: likelier a name.
    Weak,
    /// A title, role, honorific, signatory phrase or closing: a person's name follows.
    Strong,
    /// An honorific: "fru Holm", "hr. du Plessis".
    Honorific,
}

impl Before {
    fn score(self) -> i32 {
        match self {
            Self::Nothing => 0,
            Self::Weak => 25,
            Self::Strong | Self::Honorific => 60,
        }
    }
}

fn before(text: &str, at: usize) -> Before {
    let words = words_before(text, at, 3);
    let Some((first, gap)) = words.first() else {
        return closing_line(text, at);
    };
    let first = first.as_str();
    if HONORIFICS.contains(&first) && !gap.contains(['!', '?', ',', ';']) {
        return Before::Honorific;
    }
    // What ended a sentence before says nothing of this one ("… producenten. Brugeren …").
    if gap.contains(['.', '!', '?', ';']) {
        return closing_line(text, at);
    }
    let punctuated = !gap.is_empty();
    if is_title(first) || (!punctuated && FINNISH_VERBS.contains(&first)) {
        return Before::Strong;
    }
    // A title phrase: "Head of Procurement Will Price", "chef för Miljöförvaltningen".
    if !punctuated
        && (is_department(first) || first == "of")
        && words
            .iter()
            .skip(1)
            .take(2)
            .any(|(w, g)| is_title(w) && !g.contains(['.', '!', '?']))
    {
        return Before::Strong;
    }
    let second = words.get(1).map(|(w, _)| w.as_str());
    if COPULAS.contains(&first) && !punctuated && second.is_some_and(is_title) {
        return Before::Strong;
    }
    if matches!(first, "av" | "af" | "by") && !punctuated {
        // "signed off by", "followed up by": the participle before the adverb.
        let second = match second {
            Some("off" | "up" | "out" | "through") => words.get(2).map(|(w, _)| w.as_str()),
            other => other,
        };
        // "undertecknas av", "reviderat av", "revised by": a participle before it.
        let participle = |w: &str| {
            SIGNATORY.contains(&w)
                || ["ad", "at", "as", "et", "es", "ed", "dt", "te"]
                    .iter()
                    .any(|e| w.ends_with(e) && w.len() > 4)
        };
        return if second.is_some_and(participle) {
            Before::Strong
        } else {
            Before::Weak
        };
    }
    if SIGNATORY.contains(&first) || matches!(first, "signature" | "underskrift" | "allekirjoitus")
    {
        return Before::Strong;
    }
    if CLOSINGS.contains(&first) && punctuated {
        return Before::Strong;
    }
    if WEAK_BEFORE.contains(&first) && !punctuated {
        return Before::Weak;
    }
    closing_line(text, at)
}

/// A name on the line after a closing phrase: "Med vänlig hälsning\nKarin Ek".
fn closing_line(text: &str, at: usize) -> Before {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    if !text[line_start..at].chars().all(char::is_whitespace) || line_start == 0 {
        return Before::Nothing;
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
        Before::Strong
    } else {
        Before::Nothing
    }
}

/// The first word of `s` after spaces, lowercase.
fn next_word(s: &str) -> String {
    s.trim_start_matches(is_inline_space)
        .split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .next()
        .unwrap_or("")
        .to_lowercase()
}

/// Score (hundredths) from what follows the candidate.
fn after_score(text: &str, end: usize) -> i32 {
    let rest = &text[end..];
    let spaced = rest.trim_start_matches(is_inline_space);
    if let Some(inner) = spaced
        .strip_prefix(',')
        .or_else(|| spaced.strip_prefix('('))
        .or_else(|| spaced.strip_prefix('–'))
        .or_else(|| spaced.strip_prefix(" - "))
    {
        let inner = inner.trim_start_matches(is_inline_space);
        let word = next_word(inner);
        if is_title(&word) {
            // "Lars Pettersson, miljöstrateg"; a capitalised role after a comma more often
            // starts a new clause ("Nordic Swan Ecolabel, Kontaktperson ska anges").
            return if inner.starts_with(char::is_uppercase) {
                20
            } else {
                50
            };
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
            return 30;
        }
        // The title may come second or third: "Anna Lind, vår miljöstrateg", "managing
        // director", "Länsirannikon kuntayhtymän asiakkuuspäällikkö".
        let clause = inner.split([',', '.', ';', ')', '(']).next().unwrap_or("");
        if clause
            .split(|c: char| !(c.is_alphanumeric() || c == '-'))
            .filter(|w| !w.is_empty())
            .skip(1)
            .take(2)
            .any(|w| is_title(&w.to_lowercase()))
        {
            return 40;
        }
        return 0;
    }
    let word = next_word(spaced);
    if spaced.len() < rest.len() {
        if POSTPOSITIONS.contains(&word.as_str()) {
            return 40;
        }
        if VERBS_AFTER.contains(&word.as_str()) {
            return 30;
        }
    }
    0
}

/// Whether an organisation or street word follows within a few capitalised words:
/// "Lindström Oy", "Pohjolan Siivouspalvelu Oy", "Oslo kommune", "Andersens Boulevard".
fn place_or_organisation_after(text: &str, end: usize) -> bool {
    let mut rest = &text[end..];
    for _ in 0..3 {
        let spaced = rest.trim_start_matches(is_inline_space);
        if spaced.len() == rest.len() && !rest.is_empty() {
            return false;
        }
        let word: &str = spaced
            .split(|c: char| !(c.is_alphabetic() || c == '/'))
            .next()
            .unwrap_or("");
        if word.is_empty() {
            return false;
        }
        let lower = word.to_lowercase();
        if names::is_organisation_after(word) || STREETS.contains(&lower.as_str()) {
            return true;
        }
        if !word.starts_with(char::is_uppercase) {
            return false;
        }
        rest = &spaced[word.len()..];
    }
    false
}

/// The score (hundredths) of a candidate's own words.
fn word_score(text: &str, candidate: &Candidate, mid_sentence: bool) -> i32 {
    let mut score = 0;
    for part in &candidate.parts {
        score += match part.0 {
            Part::Name(Some(known)) if known.ambiguous => 25,
            Part::Name(Some(_)) => 50,
            Part::Name(None) => 10,
            Part::Initial => 20,
            Part::Particle => 0,
        };
    }
    let words = candidate.words();
    let first_given = match candidate.parts[0].0 {
        Part::Name(Some(known)) => known.class == NameClass::Given,
        Part::Initial => true,
        _ => false,
    };
    if words >= 2 && first_given {
        score += 20;
    }
    // "Priya Richards": an unknown word before a known surname.
    let last = candidate.names().last().flatten();
    if words >= 2
        && !first_given
        && last.is_some_and(|k| k.class == NameClass::Surname && !k.ambiguous)
    {
        score += 10;
    }
    if words == 1
        && let Some(Some(known)) = candidate.names().next()
        && !known.ambiguous
    {
        score += if known.inflected {
            20
        } else if mid_sentence {
            15
        } else {
            0
        };
    }
    if words >= 2 && name_shape(text, candidate) {
        score += 30;
    }
    // Finnish inflects only the last word of a name: a given name and an unknown word in a
    // case ("Veli Kuusella", "Suvi Aallolle").
    if words >= 2
        && first_given
        && candidate.parts.last().is_some_and(|&(part, s, e)| {
            part == Part::Name(None) && FINNISH_CASES.iter().any(|c| text[s..e].ends_with(c))
        })
    {
        score += 15;
    }
    score
}

/// Finnish case endings of two letters or more, as names in running text take them.
const FINNISH_CASES: [&str; 14] = [
    "lla", "llä", "lle", "lta", "ltä", "ssa", "ssä", "sta", "stä", "ksi", "sen", "nsa", "nsä",
    "ineen",
];

/// Shapes only names have: a particle between name words ("Zara Van Der Merwe"), a surname
/// prefix with a second capital ("D'Souza", "McDonald", "MacLeod").
fn name_shape(text: &str, candidate: &Candidate) -> bool {
    let particle_inside = candidate.parts.len() > 2
        && candidate.parts[1..candidate.parts.len() - 1]
            .iter()
            .any(|p| p.0 == Part::Particle);
    particle_inside
        || candidate
            .parts
            .iter()
            .any(|&(part, s, e)| part == Part::Name(None) && prefixed_surname(&text[s..e]))
}

/// A surname with a prefix and a second capital: "D'Souza", "O'Brien", "McDonald", "MacLeod".
fn prefixed_surname(word: &str) -> bool {
    let rest = ["O'", "O’", "D'", "D’", "Mc", "Mac"]
        .iter()
        .find_map(|p| word.strip_prefix(p));
    rest.is_some_and(|r| {
        r.starts_with(char::is_uppercase) && r.chars().skip(1).any(char::is_lowercase)
    })
}

/// Drops leading words that are no name before a given name that more name words follow: a
/// title or organisation in capitals ("Facilities Anna Lind" → "Anna Lind"), not an unknown
/// given name ("Siobhan Taylor").
fn trim_leading(candidate: &mut Candidate) {
    let given = candidate.parts.iter().position(
        |p| matches!(p.0, Part::Name(Some(k)) if k.class == NameClass::Given && !k.ambiguous),
    );
    if let Some(given) = given
        && given > 0
        && given + 1 < candidate.parts.len()
        && candidate.parts[..given]
            .iter()
            .all(|p| p.0 == Part::Name(None))
    {
        candidate.parts.drain(..given);
    }
}

/// Whether a product, model or unit name follows: a word in capitals, letters mixed with
/// digits, or a short number ("Kia Niro EV", "Numatic TTB 1840", "Volvo XC40").
fn model_after(text: &str, end: usize) -> bool {
    let rest = &text[end..];
    let spaced = rest.trim_start_matches(is_inline_space);
    if spaced.len() == rest.len() {
        return false;
    }
    let word: &str = spaced
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ')'))
        .next()
        .unwrap_or("")
        .trim_end_matches('.');
    let letters = word.chars().filter(|c| c.is_alphabetic()).count();
    let digits = word.chars().filter(char::is_ascii_digit).count();
    // "eSprinter", "iPhone"; "E-Transit", "e-Golf".
    let camel = word.starts_with(char::is_lowercase) && word.chars().any(char::is_uppercase);
    let lettered = word.chars().nth(1) == Some('-');
    camel
        || lettered
        || (letters >= 2
            && word
                .chars()
                .filter(|c| c.is_alphabetic())
                .all(char::is_uppercase))
        || (letters > 0 && digits > 0)
        || (letters == 0 && (1..=4).contains(&digits) && digits == word.len())
}

/// The score of a candidate, in hundredths, or `None` when it is no name whatever the score.
fn score(text: &str, candidate: &Candidate, listed: bool) -> Option<i32> {
    let words = candidate.words();
    let (start, end) = (candidate.start(), candidate.end());
    if words > MOST_WORDS || place_or_organisation_after(text, end) {
        return None;
    }
    let known = candidate.known();
    let after = text[end..].trim_start_matches(is_inline_space);
    // "Maj 2025", "Generation 10": a lone word before a number (or before the placeholder
    // that replaced one) is no name.
    if words == 1 && after.starts_with(|c: char| c.is_ascii_digit() || c == '[') {
        return None;
    }
    let before = before(text, start);
    if known <= 1 && before != Before::Strong && model_after(text, end) {
        return None;
    }
    // "Queen Elizabeth Way", "Kungsgatan": a street.
    if candidate.parts.iter().any(|&(part, s, e)| {
        part == Part::Name(None) && STREETS.contains(&text[s..e].to_lowercase().as_str())
    }) {
        return None;
    }
    // "Commercial Lead", "Teknik og Miljø", "Corporate Procurement": part of a title or a
    // department's name.
    let next = next_word(after);
    if known == 0 && (is_title(&next) || is_department(&next)) {
        return None;
    }
    let after_score = after_score(text, end);
    // "i Fredrikstad", "in Milton Keynes": a place, most likely.
    let place = words_before(text, start, 1)
        .first()
        .is_some_and(|(w, gap)| gap.is_empty() && matches!(w.as_str(), "i" | "in" | "på"));
    let context = before.score() + after_score - if place { 20 } else { 0 };
    // Unknown words make a name only as a full name with a person's context before or after
    // it ("handläggare Ahmed Yusuf", "G. Fagerlund, utredare"), with a shape only names have
    // ("Will D'Souza", "Zara Van Der Merwe", an initial and a name word with some context), in
    // a list of names, or after an honorific ("hr. du Plessis").
    let initialled = candidate.parts[0].0 == Part::Initial && context >= 25;
    let full = words >= 2
        && (before == Before::Strong
            || after_score >= 40
            || name_shape(text, candidate)
            || initialled
            || listed);
    // A lone unknown word right after a title, with the sentence going on: "sopimus-
    // asiantuntija Kuusi vahvisti".
    let titled = words == 1
        && before == Before::Strong
        && after.starts_with(|c: char| c.is_alphabetic() && c.is_lowercase())
        && !LIST_WORDS.contains(&next.as_str());
    if known == 0 && !(before == Before::Honorific || full || titled) {
        return None;
    }
    let mid_sentence = !starts_sentence(text, start);
    let mut score = word_score(text, candidate, mid_sentence) + context;
    if listed {
        score += 40;
    }
    if candidate.lowercase {
        // Written in lowercase, only the lists speak: a given name and a surname they know
        // ("anna lind"), and, if either is also a word, a context that says person.
        let first_given = matches!(candidate.parts[0].0, Part::Name(Some(k)) if k.class == NameClass::Given)
            || candidate.parts[0].0 == Part::Initial;
        let plain = candidate.names().flatten().filter(|k| !k.ambiguous).count();
        let unknown = candidate.names().any(|k| k.is_none());
        let first_plain = matches!(candidate.parts[0].0, Part::Name(Some(k)) if !k.ambiguous)
            || candidate.parts[0].0 == Part::Initial;
        // A given name and a surname the lists know, neither of them a word: "jesper olsen"
        // (not "arvo nordby", where "arvo" is the Finnish for value).
        let surname_last = first_plain
            && candidate
                .names()
                .last()
                .flatten()
                .is_some_and(|k| k.class == NameClass::Surname && !k.ambiguous);
        let ok = before == Before::Honorific
            || (words >= 2
                && first_given
                && (plain >= 1
                    || context >= 40
                    || (listed && candidate.parts[0].0 == Part::Initial))
                && (!unknown || ((listed || context >= 60) && first_plain))
                && (plain == candidate.names().count() || context >= 25 || listed || surname_last));
        return ok.then_some(score.max(THRESHOLD));
    }
    Some(score)
}

/// Whether two names stand in one list: only a comma, semicolon or "och", "and", … between.
fn list_gap(gap: &str) -> bool {
    let gap = gap.trim();
    gap == ","
        || gap == ";"
        || LIST_WORDS
            .iter()
            .any(|w| gap == *w || gap == format!(", {w}"))
}

/// Scores every candidate: a first pass on what each has, then passes that count the lists
/// the accepted names stand in, both ways ("a. wennerström, Ulla Berg och Per Ek").
fn decide(text: &str) -> Vec<(Candidate, Option<i32>)> {
    let mut scored: Vec<(Candidate, Option<i32>)> = candidates(text)
        .into_iter()
        .map(|mut c| {
            trim_leading(&mut c);
            (c, None)
        })
        .collect();
    let mut accepted = vec![false; scored.len()];
    for round in 0..3 {
        let mut changed = false;
        for i in 0..scored.len() {
            if accepted[i] {
                continue;
            }
            let (start, end) = (scored[i].0.start(), scored[i].0.end());
            let neighbour = |j: usize| accepted[j];
            let listed =
                (i > 0 && neighbour(i - 1) && list_gap(&text[scored[i - 1].0.end()..start]))
                    || (i + 1 < scored.len()
                        && neighbour(i + 1)
                        && list_gap(&text[end..scored[i + 1].0.start()]));
            if round > 0 && !listed {
                continue;
            }
            let score = score(text, &scored[i].0, listed);
            if score.is_some_and(|s| s >= THRESHOLD) {
                accepted[i] = true;
                changed = true;
            }
            scored[i].1 = score;
        }
        if !changed {
            break;
        }
    }
    scored
}

pub(super) fn find(text: &str, out: &mut Vec<Span>) {
    for (candidate, score) in decide(text) {
        if score.is_some_and(|s| s >= THRESHOLD) {
            out.push(Span::new(
                FindingKind::ContactName,
                candidate.start(),
                candidate.end(),
            ));
        }
    }
}

/// Endings a name takes in running text after its base form: genitives and Finnish cases.
const ENDINGS: [&str; 27] = [
    "", "s", "'s", "’s", "'", "’", "n", "en", "in", "a", "ä", "na", "nä", "lla", "llä", "lle",
    "lta", "ltä", "ssa", "ssä", "sta", "stä", "ksi", "an", "än", "ta", "tä",
];

/// Whether `word` (lowercase) is `part` (lowercase) or an inflection of it: "Lindqvists",
/// "Salon", "Virtasen", "Kuusella".
fn inflects(word: &str, part: &str) -> bool {
    let vowel = |c: char| "aeiouyäö".contains(c);
    let after = |stem: &str| {
        word.strip_prefix(stem).is_some_and(|rest| {
            ENDINGS.contains(&rest)
                || rest
                    .strip_prefix(['e', 'i'])
                    .is_some_and(|rest| ENDINGS.contains(&rest))
        })
    };
    // The whole name with an ending: a linking vowel only after a consonant ("Holmille"), and
    // no bare "-en", which is the Scandinavian definite ending of a place ("Nordbyen" is no
    // form of the name Nordby).
    let whole = word.strip_prefix(part).is_some_and(|rest| {
        (ENDINGS.contains(&rest) && rest != "en")
            || (!part.ends_with(vowel)
                && rest
                    .strip_prefix(['e', 'i'])
                    .is_some_and(|rest| ENDINGS.contains(&rest)))
    });
    if whole {
        return true;
    }
    if let Some(stem) = part.strip_suffix("nen") {
        return word
            .strip_prefix(stem)
            .and_then(|rest| rest.strip_prefix('s'))
            .is_some_and(|rest| {
                ENDINGS.contains(&rest)
                    || rest
                        .strip_prefix(['e', 'i'])
                        .is_some_and(|rest| ENDINGS.contains(&rest))
            });
    }
    // A final vowel gives way to the case ending: "Kuusi" → "Kuusella", "Salo" → "Salon".
    part.chars().count() >= 4
        && part.ends_with(|c: char| "aeiouyäö".contains(c))
        && after(&part[..part.len() - part.chars().last().map_or(0, char::len_utf8)])
}

/// Further mentions of names already found: a surname or given name standing alone later
/// ("… Sanna Salo. Salon mukaan …", "Murphy-Lewis's review"), with a particle before it.
/// `names` are sorted by start.
pub(super) fn mentions(text: &str, names: &[(usize, usize)], out: &mut Vec<Span>) {
    // Name parts by their first three letters, each with whether it was written in lowercase.
    let mut parts: std::collections::HashMap<String, Vec<(String, bool)>> =
        std::collections::HashMap::new();
    for &(start, end) in names {
        for word in words(&text[start..end]) {
            let s = &text[start + word.start..start + word.end];
            let lower = s.to_lowercase();
            if lower.chars().count() >= 3 && !names::is_particle(&lower) {
                let key: String = lower.chars().take(3).collect();
                parts
                    .entry(key)
                    .or_default()
                    .push((lower, s.starts_with(char::is_lowercase)));
            }
        }
    }
    if parts.is_empty() {
        return;
    }
    let mut next_name = 0;
    for word in words(text) {
        // Names and words are both in order: skip the words inside a name already found.
        while next_name < names.len() && names[next_name].1 <= word.start {
            next_name += 1;
        }
        if names
            .get(next_name)
            .is_some_and(|&(s, e)| word.start < e && s < word.end)
        {
            continue;
        }
        let s = &text[word.start..word.end];
        let capital = s.starts_with(char::is_uppercase);
        let lower = s.to_lowercase();
        let key: String = lower.chars().take(3).collect();
        let Some(candidates) = parts.get(&key) else {
            continue;
        };
        let hit = candidates
            .iter()
            .any(|(part, was_lower)| (capital || *was_lower) && inflects(&lower, part));
        if !hit || (!capital && breaks_name(&lower)) {
            continue;
        }
        // Take a particle before it along: "af Heurlinilla".
        let mut start = word.start;
        let before = text[..start].trim_end_matches(is_inline_space);
        if before.len() < start
            && let Some(particle) = before.rsplit(|c: char| !c.is_alphabetic()).next()
            && names::is_particle(particle)
        {
            start = before.len() - particle.len();
        }
        out.push(Span::new(FindingKind::ContactName, start, word.end));
    }
}

/// How each candidate of a text scores, for tuning and for tests.
#[cfg(test)]
pub(super) fn explain(text: &str) -> Vec<(String, Option<i32>)> {
    decide(text)
        .into_iter()
        .map(|(c, score)| (text[c.start()..c.end()].to_owned(), score))
        .collect()
}
