//! What a capitalised word is, as far as names go: a given name, a surname, a name that is also
//! an ordinary word, or unknown. The name lists are public name-frequency statistics shipped
//! in `data/` (their sources are named at the top of each file).
//!
//! Lookups see through the inflections names take in running text: the Scandinavian and
//! English genitive ("Annas", "Lindgren's") and the Finnish case endings, with the stem changes
//! they bring ("Virtasen", "Korhoselta", "Pekalle", "Niemen").

use std::{collections::HashSet, sync::LazyLock};

/// What the lists say of a word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NameClass {
    Given,
    Surname,
}

/// A word found in the name lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Known {
    pub class: NameClass,
    /// The name is also an ordinary word ("Berg", "Mark", "Koski"), so it counts for less.
    pub ambiguous: bool,
    /// The word was an inflected form of the name ("Virtasen", "Annas").
    pub inflected: bool,
}

fn list(data: &'static str) -> HashSet<String> {
    data.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_lowercase)
        .collect()
}

static GIVEN: LazyLock<HashSet<String>> =
    LazyLock::new(|| list(include_str!("data/given_names.txt")));
static SURNAMES: LazyLock<HashSet<String>> =
    LazyLock::new(|| list(include_str!("data/surnames.txt")));
static AMBIGUOUS: LazyLock<HashSet<String>> = LazyLock::new(|| {
    let mut words = list(include_str!("data/ambiguous_names.txt"));
    // Names that are also place names, months, labels or words of procurement text.
    words.extend(
        concat!(
            "lund lahti salo moss hamar kemi raahe rauma kotka forssa pori sofia lucia ",
            "ronneby kalmar falun borås bergen molde alta roskilde vejle holstebro solna ",
            "maj juni juli august augusti mars april may june july january december ",
            "green white black brown young king hill wood stone hall page bell rose mark ",
            "will grant bill frank ray dean victoria florence lincoln jordan chase hunter ",
            "per bo eng dal ek berg lind ström sand strand holm fors nord öst väst sten ",
            "koski mäki niemi järvi lahti saari harju salmi mäkelä aho kivi kallio ",
            "nord syd vest øst fjell skog dahl bakke lie moe strand bay nielsen ",
            "ikea volvo scania nokia ericsson lenovo dell apple fairphone kärcher ",
            "svanen engel tco epeat energy star fairtrade",
        )
        .split_whitespace()
        .map(str::to_owned),
    );
    words
});

/// Finnish case endings of `-nen` names, whose stem ends in `-se-`: "Virtasen", "Virtaselle",
/// "Virtasta" (partitive).
const FINNISH_NEN: [&str; 18] = [
    "sellä", "sella", "seltä", "selta", "selle", "sessä", "sessa", "sestä", "sesta", "seksi",
    "sena", "senä", "seen", "sen", "sia", "siä", "sta", "stä",
];

/// Other Finnish case endings, longest first.
const FINNISH: [&str; 19] = [
    "lle", "lta", "ltä", "lla", "llä", "ssa", "ssä", "sta", "stä", "ksi", "na", "nä", "ta", "tä",
    "an", "än", "n", "a", "ä",
];

fn lookup_exact(word: &str) -> Option<(NameClass, bool)> {
    let ambiguous = AMBIGUOUS.contains(word);
    if GIVEN.contains(word) {
        Some((NameClass::Given, ambiguous))
    } else if SURNAMES.contains(word) {
        Some((NameClass::Surname, ambiguous))
    } else {
        None
    }
}

/// Candidate base forms of a Finnish inflected name (lowercase); those in `guessed` came from
/// undoing consonant gradation, a guess too loose to count as the sign of a name ("Mallen").
fn finnish_stems(word: &str, out: &mut Vec<String>, guessed: &mut Vec<String>) {
    for ending in FINNISH_NEN {
        if let Some(stem) = word.strip_suffix(ending)
            && stem.chars().count() >= 3
        {
            out.push(format!("{stem}nen"));
        }
    }
    for ending in FINNISH {
        let Some(stem) = word.strip_suffix(ending) else {
            continue;
        };
        if stem.chars().count() < 3 {
            continue;
        }
        out.push(stem.to_owned());
        // Consonant gradation: "Pekan" ← "Pekka", "Matin" ← "Matti", "Jaakon" ← "Jaakko".
        let chars: Vec<char> = stem.chars().collect();
        if let [.., c, v] = chars[..]
            && matches!(c, 'k' | 'p' | 't')
            && "aeiouyäö".contains(v)
        {
            let mut doubled: String = chars[..chars.len() - 1].iter().collect();
            doubled.push(c);
            doubled.push(v);
            out.push(doubled);
        }
        // Weak grades back to strong: "Aallon" ← "Aalto", "Rannan" ← "Ranta",
        // "Kemppaisen" aside, "Lammen" ← "Lampi".
        for (weak, strong) in [
            ("ll", "lt"),
            ("nn", "nt"),
            ("rr", "rt"),
            ("mm", "mp"),
            ("ng", "nk"),
        ] {
            if let Some(at) = stem.rfind(weak)
                && at + weak.len() + 1 >= stem.len()
            {
                let base = format!("{}{strong}{}", &stem[..at], &stem[at + weak.len()..]);
                if let Some(b) = base.strip_suffix('e') {
                    guessed.push(format!("{b}i"));
                }
                guessed.push(base);
            }
        }
        // "Niemen" ← "Niemi", "Kosken" ← "Koski".
        if let Some(base) = stem.strip_suffix('e') {
            out.push(format!("{base}i"));
        }
        // "Liisaa", "Pekkaa": partitive of a vowel stem.
        if matches!(ending, "a" | "ä") {
            out.push(word.to_owned());
        }
    }
}

/// Whether a word, as written and uninflected, is a given name of the lists.
pub(super) fn lookup_exact_given(word: &str) -> bool {
    GIVEN.contains(&word.to_lowercase())
}

/// Looks a capitalised word up in the name lists, through its inflections.
pub(super) fn lookup(word: &str) -> Option<Known> {
    let lower = word.to_lowercase();
    if let Some((class, ambiguous)) = lookup_exact(&lower) {
        return Some(Known {
            class,
            ambiguous,
            inflected: false,
        });
    }
    // A hyphenated name is a name when a part is one: "Anna-Karin", "Kjærgaard-Holm",
    // "Murphy-Lewis's".
    if lower.contains('-') {
        let base = ["'s", "’s", "'", "’"]
            .iter()
            .find_map(|g| lower.strip_suffix(g))
            .unwrap_or(&lower);
        let parts: Vec<Option<(NameClass, bool)>> = base.split('-').map(lookup_exact).collect();
        if parts.iter().any(Option::is_some) {
            let class = if parts
                .iter()
                .flatten()
                .any(|(c, _)| *c == NameClass::Surname)
            {
                NameClass::Surname
            } else {
                NameClass::Given
            };
            let ambiguous = parts.iter().all(|p| p.is_none_or(|(_, a)| a));
            return Some(Known {
                class,
                ambiguous,
                inflected: base.len() < lower.len(),
            });
        }
    }
    // Each candidate base form, with whether its ending is the sign of a name: a genitive or
    // a Finnish case of two letters or more. A one-letter Finnish ending ("Ainoa", "Pekan")
    // is too often a word's own: it counts as a match, not as that sign.
    let mut stems: Vec<(String, bool)> = Vec::new();
    for genitive in ["'s", "’s", "s", "'", "’"] {
        if let Some(stem) = lower.strip_suffix(genitive)
            && stem.chars().count() >= 2
        {
            stems.push((stem.to_owned(), true));
        }
    }
    if lower.chars().count() >= 5 {
        let (mut finnish, mut guessed) = (Vec::new(), Vec::new());
        finnish_stems(&lower, &mut finnish, &mut guessed);
        let length = lower.chars().count();
        stems.extend(finnish.into_iter().map(|stem| {
            let sign = length > stem.chars().count() + 1;
            (stem, sign)
        }));
        stems.extend(guessed.into_iter().map(|stem| (stem, false)));
    }
    stems.iter().find_map(|(stem, sign)| {
        lookup_exact(stem).map(|(class, ambiguous)| Known {
            class,
            ambiguous,
            inflected: *sign,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_found_through_their_inflections() {
        for (word, class) in [
            ("Anna", NameClass::Given),
            ("Svensson", NameClass::Surname),
            ("Annas", NameClass::Given),
            ("Lindgren's", NameClass::Surname),
            ("Virtasen", NameClass::Surname),
            ("Virtaselle", NameClass::Surname),
            ("Korhoselta", NameClass::Surname),
            ("Virtasta", NameClass::Surname),
            ("Pekalle", NameClass::Given),
            ("Matin", NameClass::Given),
            ("Liisalle", NameClass::Given),
            ("Anna-Karin", NameClass::Given),
        ] {
            let known = lookup(word).unwrap_or_else(|| panic!("{word} not found"));
            assert_eq!(known.class, class, "{word}");
        }
        for word in [
            "Leverantören",
            "Toimittajan",
            "Upphandlingsenheten",
            "Stockholm",
        ] {
            assert_eq!(lookup(word), None, "{word}");
        }
        assert!(lookup("Berg").is_some_and(|k| k.ambiguous));
    }
}
