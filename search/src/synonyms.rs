//! The curated Nordic synonym list (`data/synonyms.json`) and per-language stop words.

use std::collections::HashMap;

use serde::Deserialize;

const SYNONYMS_JSON: &str = include_str!("../data/synonyms.json");

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

#[cfg(test)]
mod tests {
    use super::*;

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
