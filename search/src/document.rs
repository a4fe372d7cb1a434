//! The flattened search document of a published clause or template version.

use serde::{Deserialize, Serialize};

/// Everything search filters, facets, ranks and highlights on (templates leave the clause-only
/// fields empty). Enum-valued fields hold the
/// GraphQL names (`TECHNICAL_SPECIFICATION`, `SE`, `CIRC_ECON`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueDocument {
    pub id: String,
    pub version: i32,
    pub organization_id: String,
    pub organization_name: String,
    pub country: String,
    pub size_class: String,
    pub title: String,
    pub text: String,
    pub purpose: Option<String>,
    pub scoring_rule: Option<String>,
    pub verification: Option<String>,
    pub follow_up: Option<String>,
    pub kind: Option<String>,
    pub ambition_level: Option<String>,
    pub environmental_impacts: Vec<String>,
    pub social_objectives: Vec<String>,
    pub focus: Vec<String>,
    pub origin: Option<String>,
    pub applicability: Option<String>,
    pub cpv_codes: Vec<String>,
    /// Every 2–8 digit prefix of the CPV codes, so `302` filters by equality.
    pub cpv_prefixes: Vec<String>,
    pub product_group: Option<String>,
    pub labels: Vec<String>,
    pub language: String,
    /// Unix seconds of publication.
    pub published_at: i64,
    /// Proven level code (`UNTESTED`, `USED`, `PROVEN`, `WIDELY_PROVEN`).
    pub proven_level: String,
    /// Orders records by how well proven they are; higher is better.
    pub evidence_score: i64,
    /// Unix seconds from which the clause is stale (a cited label generation expires or its
    /// review falls due); [`NEVER_STALE`] when neither applies (and for templates).
    pub stale_from: i64,
}

impl Default for CatalogueDocument {
    fn default() -> Self {
        Self {
            id: String::new(),
            version: 0,
            organization_id: String::new(),
            organization_name: String::new(),
            country: String::new(),
            size_class: String::new(),
            title: String::new(),
            text: String::new(),
            purpose: None,
            scoring_rule: None,
            verification: None,
            follow_up: None,
            kind: None,
            ambition_level: None,
            environmental_impacts: Vec::new(),
            social_objectives: Vec::new(),
            focus: Vec::new(),
            origin: None,
            applicability: None,
            cpv_codes: Vec::new(),
            cpv_prefixes: Vec::new(),
            product_group: None,
            labels: Vec::new(),
            language: String::new(),
            published_at: 0,
            proven_level: String::new(),
            evidence_score: 0,
            stale_from: NEVER_STALE,
        }
    }
}

/// `stale_from` of a record that never turns stale.
pub const NEVER_STALE: i64 = i64::MAX;

/// The 2–8 digit prefixes of a list of CPV codes (`30213100-6` gives `30`, `302`, … `30213100`).
pub fn cpv_prefixes(codes: &[String]) -> Vec<String> {
    let mut prefixes: Vec<String> = codes
        .iter()
        .flat_map(|code| {
            let digits: String = code.chars().take_while(char::is_ascii_digit).collect();
            (2..=digits.len().min(8))
                .map(move |n| digits[..n].to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    prefixes.sort();
    prefixes.dedup();
    prefixes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_cover_every_level() {
        let prefixes = cpv_prefixes(&["30213100-6".to_owned(), "30231000-7".to_owned()]);
        for p in ["30", "302", "3021", "30213100", "3023", "30231000"] {
            assert!(prefixes.contains(&p.to_owned()), "{p}");
        }
        assert!(!prefixes.iter().any(|p| p.contains('-') || p.len() < 2));
    }
}
