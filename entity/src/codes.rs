//! List-valued columns, stored as a JSON array of strings in a text column.
//!
//! Text (not a JSON or array column type) keeps one representation on SQLite and PostgreSQL and
//! lets a plain `LIKE '%"302%'` find a CPV prefix inside the list on both.

use sea_orm::ActiveEnum;

/// Encodes a list of strings as the JSON text stored in the column.
pub fn encode<S: AsRef<str>>(items: &[S]) -> String {
    let items: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    serde_json::Value::from(items).to_string()
}

/// Decodes a list column; a malformed value (never written by this code) reads as empty.
pub fn decode(raw: &str) -> Vec<String> {
    serde_json::from_str(raw).unwrap_or_default()
}

/// Encodes a list of enum values by their database codes.
pub fn encode_enums<E>(items: &[E]) -> String
where
    E: ActiveEnum<Value = String>,
{
    let codes: Vec<String> = items.iter().map(ActiveEnum::to_value).collect();
    encode(&codes)
}

/// Decodes a list of enum codes, skipping codes this version does not know.
pub fn decode_enums<E>(raw: &str) -> Vec<E>
where
    E: ActiveEnum<Value = String>,
{
    decode(raw)
        .into_iter()
        .filter_map(|code| E::try_from_value(&code).ok())
        .collect()
}

/// The `LIKE` pattern that finds a list holding an item starting with `prefix`.
///
/// Callers pass only validated codes (digits and dashes), so no `LIKE` escaping is needed.
pub fn prefix_pattern(prefix: &str) -> String {
    format!("%\"{prefix}%")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EnvironmentalImpact;

    #[test]
    fn round_trips_strings_and_enums() {
        let raw = encode(&["30213100-6", "30231000-7"]);
        assert_eq!(raw, r#"["30213100-6","30231000-7"]"#);
        assert_eq!(decode(&raw), vec!["30213100-6", "30231000-7"]);

        let impacts = vec![
            EnvironmentalImpact::CircEcon,
            EnvironmentalImpact::ClimMitig,
        ];
        let raw = encode_enums(&impacts);
        assert_eq!(raw, r#"["circ-econ","clim-mitig"]"#);
        assert_eq!(decode_enums::<EnvironmentalImpact>(&raw), impacts);
    }

    #[test]
    fn prefix_pattern_matches_only_item_starts() {
        assert_eq!(prefix_pattern("302"), "%\"302%");
    }
}
