//! The curated Nordic synonym list (`data/synonyms.json`) and per-language stop words.

use std::{
    collections::{BTreeMap, HashMap},
    sync::OnceLock,
};

use serde::Deserialize;

use crate::document::cpv_prefixes;

const SYNONYMS_JSON: &str = include_str!("../data/synonyms.json");
/// The concepts CPV codes name (`data/cpv-concepts.json`); part of the analysis fingerprint.
pub(crate) const CPV_CONCEPTS_JSON: &str = include_str!("../data/cpv-concepts.json");

#[derive(Debug, Deserialize)]
pub struct SynonymGroup {
    /// English name of the concept, for people reading the file.
    pub concept: String,
    /// Words and short phrases meaning the same thing across the Nordic languages and English.
    pub terms: Vec<String>,
    /// Concepts of narrower meaning (`bus` under `transport`): a search for this concept also
    /// finds theirs, ranked after its own.
    #[serde(default)]
    pub narrower: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Synonyms {
    pub version: u32,
    pub groups: Vec<SynonymGroup>,
    #[serde(default)]
    pub stop_words: HashMap<String, Vec<String>>,
}

impl Synonyms {
    /// The list shipped with this build.
    pub fn bundled() -> Result<Self, serde_json::Error> {
        serde_json::from_str(SYNONYMS_JSON)
    }

    /// For each group (by position), the positions of its narrower groups.
    pub fn narrower(&self) -> Vec<Vec<usize>> {
        let by_concept: HashMap<&str, usize> = self
            .groups
            .iter()
            .enumerate()
            .map(|(i, g)| (g.concept.as_str(), i))
            .collect();
        self.groups
            .iter()
            .map(|g| {
                g.narrower
                    .iter()
                    .filter_map(|name| by_concept.get(name.as_str()).copied())
                    .collect()
            })
            .collect()
    }

    /// For each group (by position), the positions of the groups that name it narrower and of
    /// those that name them narrower (`laptop` → `computers` → `it equipment`), sorted.
    pub fn broader(&self) -> Vec<Vec<usize>> {
        let mut parents = vec![Vec::new(); self.groups.len()];
        for (group, narrower) in self.narrower().into_iter().enumerate() {
            for child in narrower {
                parents[child].push(group);
            }
        }
        parents
            .iter()
            .enumerate()
            .map(|(group, direct)| {
                let mut all: Vec<usize> = direct
                    .iter()
                    .flat_map(|&p| std::iter::once(p).chain(parents[p].iter().copied()))
                    .filter(|&p| p != group)
                    .collect();
                all.sort_unstable();
                all.dedup();
                all
            })
            .collect()
    }
}

/// The synonym-list concepts that CPV code prefixes name (`30231` → `display`): what a clause
/// is about by its CPV codes, whatever words its text uses. Documents carry their codes'
/// concepts, so a search for displays also finds the display clause whose text speaks only of
/// "the equipment" (ranked below clauses naming them).
#[derive(Debug, Deserialize)]
pub struct CpvConcepts {
    prefixes: BTreeMap<String, Vec<String>>,
}

impl CpvConcepts {
    /// The table shipped with this build.
    pub fn bundled() -> &'static CpvConcepts {
        static TABLE: OnceLock<CpvConcepts> = OnceLock::new();
        TABLE.get_or_init(|| {
            serde_json::from_str(CPV_CONCEPTS_JSON).expect("the bundled CPV concept table parses")
        })
    }

    /// The concepts (synonym-group names) of `codes`, each once: those of each code's longest
    /// listed prefix (`30213100-6`, portable computers: laptop; `30200000-1`, computer
    /// equipment: IT equipment), so a display clause is no match for servers through the
    /// IT equipment both are (the synonym list's hierarchy relates the concepts).
    pub fn concepts(&self, codes: &[String]) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for code in codes {
            // A code's prefixes, shortest first (each is a prefix of the next).
            let longest = cpv_prefixes(std::slice::from_ref(code))
                .into_iter()
                .rev()
                .find_map(|prefix| self.prefixes.get(&prefix));
            for concept in longest.into_iter().flatten() {
                if !out.contains(&concept.as_str()) {
                    out.push(concept);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpv_codes_name_listed_concepts() {
        let synonyms = Synonyms::bundled().unwrap_or_else(|e| panic!("synonyms.json: {e}"));
        let table = CpvConcepts::bundled();
        for (prefix, concepts) in &table.prefixes {
            assert!(
                (2..=8).contains(&prefix.len()) && prefix.chars().all(|c| c.is_ascii_digit()),
                "{prefix} is no CPV prefix"
            );
            // Written without trailing zeros, so the codes below it share the prefix.
            assert!(
                prefix.len() == 2 || !prefix.ends_with('0'),
                "{prefix} ends in a zero"
            );
            for concept in concepts {
                assert!(
                    synonyms.groups.iter().any(|g| &g.concept == concept),
                    "{prefix}: {concept} is not a concept of the synonym list"
                );
            }
        }
        let codes = |list: &[&str]| list.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>();
        // A code's longest listed prefix counts, not the shorter ones.
        assert_eq!(table.concepts(&codes(&["30213100-6"])), vec!["laptop"]);
        assert_eq!(
            table.concepts(&codes(&["30200000-1"])),
            vec!["it equipment"]
        );
        assert_eq!(table.concepts(&codes(&["30213000-5"])), vec!["computers"]);
        // A code below a listed one names its concepts (laser-printer toner is toner).
        assert_eq!(table.concepts(&codes(&["30125110-5"])), vec!["toner"]);
        // Each concept once, however many codes name it; unknown codes name nothing.
        let two = table.concepts(&codes(&["30213100-6", "30213110-9", "50312000-5"]));
        assert_eq!(two, vec!["laptop", "repair", "it equipment"]);
        assert!(table.concepts(&codes(&["99999999-9", "bogus"])).is_empty());
    }

    #[test]
    fn bundled_list_is_well_formed() {
        let synonyms = Synonyms::bundled().unwrap_or_else(|e| panic!("synonyms.json: {e}"));
        assert!(
            synonyms.groups.len() >= 60,
            "only {} groups",
            synonyms.groups.len()
        );
        let mut seen = std::collections::HashSet::new();
        for group in &synonyms.groups {
            assert!(
                group.terms.len() >= 2,
                "{} has too few terms",
                group.concept
            );
            for term in &group.terms {
                assert_eq!(term, &term.to_lowercase(), "{term} is not lower case");
                assert!(seen.insert(term.clone()), "{term} appears in two groups");
            }
        }
        let concepts: std::collections::HashSet<&str> =
            synonyms.groups.iter().map(|g| g.concept.as_str()).collect();
        for group in &synonyms.groups {
            for narrower in &group.narrower {
                assert!(
                    concepts.contains(narrower.as_str()) && narrower != &group.concept,
                    "{}: narrower concept {narrower} is not another group",
                    group.concept
                );
            }
        }
    }

    #[test]
    fn broader_concepts_reach_two_levels_up() {
        let synonyms = Synonyms::bundled().unwrap_or_else(|e| panic!("synonyms.json: {e}"));
        let position = |concept: &str| {
            synonyms
                .groups
                .iter()
                .position(|g| g.concept == concept)
                .unwrap_or_else(|| panic!("no group {concept}"))
        };
        let broader = synonyms.broader();
        let of_laptop = &broader[position("laptop")];
        assert!(of_laptop.contains(&position("computers")));
        assert!(of_laptop.contains(&position("it equipment")));
        assert!(broader[position("it equipment")].is_empty());
        // Every broader group names the group narrower, directly or through another.
        let narrower = synonyms.narrower();
        for (group, above) in broader.iter().enumerate() {
            for &b in above {
                assert!(
                    narrower[b].contains(&group)
                        || narrower[b].iter().any(|&n| narrower[n].contains(&group)),
                    "{} is not above {}",
                    synonyms.groups[b].concept,
                    synonyms.groups[group].concept
                );
            }
        }
    }
}
