//! UI text in five languages, one message catalogue per language in `locales/*.txt`:
//! `key = value` lines, `#` comments, `{name}` placeholders. The tests below fail when a key
//! is missing in one language, when placeholders differ, or when a taxonomy value of the
//! schema has no label.

use std::{collections::HashMap, sync::LazyLock};

/// The languages of the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    Sv,
    Nb,
    Da,
    Fi,
    En,
}

type Catalogue = HashMap<&'static str, &'static str>;

static CATALOGUES: LazyLock<[Catalogue; 5]> = LazyLock::new(|| {
    [
        parse(include_str!("locales/sv.txt")),
        parse(include_str!("locales/nb.txt")),
        parse(include_str!("locales/da.txt")),
        parse(include_str!("locales/fi.txt")),
        parse(include_str!("locales/en.txt")),
    ]
});

/// Every enum of the schema with its values, read once from the SDL.
static ENUMS: LazyLock<HashMap<String, Vec<String>>> =
    LazyLock::new(|| enums(&crate::graphql::sdl()));

fn enums(sdl: &str) -> HashMap<String, Vec<String>> {
    let mut enums = HashMap::new();
    let mut rest = sdl;
    while let Some(start) = rest.find("\nenum ") {
        rest = &rest[start + 6..];
        let Some((name, body)) = rest.split_once('{') else {
            break;
        };
        let Some((body, after)) = body.split_once('}') else {
            break;
        };
        let mut values = Vec::new();
        let mut in_description = false;
        for line in body.lines().map(str::trim) {
            if line.starts_with("\"\"\"") {
                in_description = !(in_description || line.len() > 3 && line.ends_with("\"\"\""));
                continue;
            }
            if in_description || line.is_empty() || line.starts_with('"') {
                continue;
            }
            values.push(line.split_whitespace().next().unwrap_or(line).to_owned());
        }
        enums.insert(name.trim().to_owned(), values);
        rest = after;
    }
    enums
}

fn parse(source: &'static str) -> Catalogue {
    source
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once(" = "))
        .map(|(key, value)| (key.trim(), value.trim()))
        .collect()
}

impl Lang {
    pub const ALL: [Self; 5] = [Self::Sv, Self::Nb, Self::Da, Self::Fi, Self::En];

    /// The code used in URLs and `lang` attributes (BCP 47).
    pub fn code(self) -> &'static str {
        match self {
            Self::Sv => "sv",
            Self::Nb => "nb",
            Self::Da => "da",
            Self::Fi => "fi",
            Self::En => "en",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.code() == code)
    }

    /// The API's `Language` value for the same language.
    pub fn api(self) -> &'static str {
        match self {
            Self::Sv => "SV",
            Self::Nb => "NB",
            Self::Da => "DA",
            Self::Fi => "FI",
            Self::En => "EN",
        }
    }

    /// The language's name in itself, for the language switch.
    pub fn endonym(self) -> &'static str {
        match self {
            Self::Sv => "Svenska",
            Self::Nb => "Norsk bokmål",
            Self::Da => "Dansk",
            Self::Fi => "Suomi",
            Self::En => "English",
        }
    }

    /// Picks the interface language from `Accept-Language` (RFC 9110 §12.5.4): the
    /// highest-weighted range this app speaks; Norwegian (`no`, `nn`) is served in bokmål;
    /// English when nothing matches.
    pub fn negotiate(accept_language: Option<&str>) -> Self {
        let Some(header) = accept_language else {
            return Self::En;
        };
        let mut best: Option<(f32, usize, Self)> = None;
        for (position, range) in header.split(',').enumerate().take(32) {
            let mut parts = range.split(';');
            let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let weight = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            let lang = match primary {
                "sv" => Self::Sv,
                "nb" | "no" | "nn" => Self::Nb,
                "da" => Self::Da,
                "fi" => Self::Fi,
                "en" => Self::En,
                _ => continue,
            };
            if weight <= 0.0 {
                continue;
            }
            // Highest weight wins; the earlier range wins a tie.
            if best.is_none_or(|(w, p, _)| weight > w || (weight == w && position < p)) {
                best = Some((weight, position, lang));
            }
        }
        best.map_or(Self::En, |(_, _, lang)| lang)
    }

    fn catalogue(self) -> &'static Catalogue {
        let index = Self::ALL.iter().position(|l| *l == self).unwrap_or(4);
        &CATALOGUES[index]
    }

    /// The text for `key`; English when this catalogue lacks it (the tests see that it never
    /// does), the key itself as a last resort.
    pub fn t(self, key: &str) -> &'static str {
        self.catalogue()
            .get(key)
            .or_else(|| Self::En.catalogue().get(key))
            .copied()
            .unwrap_or_else(|| {
                tracing::warn!(key, "missing UI text");
                "…"
            })
    }

    /// Like [`Lang::t`], with `{name}` placeholders filled in.
    pub fn f(self, key: &str, args: &[(&str, &str)]) -> String {
        let mut text = self.t(key).to_owned();
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    /// `key.one` or `key.other` by the count (all five languages pluralise the same way
    /// for whole numbers), with `{n}` filled in.
    pub fn plural(self, key: &str, n: i64) -> String {
        let form = if n == 1 { "one" } else { "other" };
        self.f(&format!("{key}.{form}"), &[("n", &n.to_string())])
    }

    /// The label of a taxonomy value, e.g. `("ClauseKind", "AWARD_CRITERION")`.
    pub fn label(self, taxonomy: &str, value: &str) -> &'static str {
        let key = format!("enum.{taxonomy}.{value}");
        self.catalogue().get(key.as_str()).copied().unwrap_or("…")
    }

    /// The values of one of the schema's enums, in the schema's order (for form choices).
    pub fn values(taxonomy: &str) -> &'static [String] {
        ENUMS.get(taxonomy).map_or(&[], Vec::as_slice)
    }

    /// Whether `value` is a value of the taxonomy (the label catalogue knows every one).
    pub fn knows(taxonomy: &str, value: &str) -> bool {
        Self::En
            .catalogue()
            .contains_key(format!("enum.{taxonomy}.{value}").as_str())
    }

    /// A decimal number as the language writes it (comma in the Nordic languages).
    pub fn number(self, value: f64, decimals: usize) -> String {
        let text = format!("{value:.decimals$}");
        if self == Self::En {
            text
        } else {
            text.replace('.', ",")
        }
    }

    /// A share (0–1) as a whole percentage, e.g. `86 %` (`86%` in English).
    pub fn percent(self, share: f64) -> String {
        let whole = (share * 100.0).round();
        if self == Self::En {
            format!("{whole:.0}%")
        } else {
            format!("{whole:.0}\u{a0}%")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn placeholders(text: &str) -> BTreeSet<String> {
        text.split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned()))
            .collect()
    }

    #[test]
    fn every_language_has_every_key_with_the_same_placeholders() {
        let english = Lang::En.catalogue();
        assert!(english.len() > 100, "the English catalogue looks truncated");
        for lang in Lang::ALL {
            let catalogue = lang.catalogue();
            let missing: Vec<_> = english
                .keys()
                .filter(|k| !catalogue.contains_key(*k))
                .collect();
            let extra: Vec<_> = catalogue
                .keys()
                .filter(|k| !english.contains_key(*k))
                .collect();
            assert!(missing.is_empty(), "{}: missing {missing:?}", lang.code());
            assert!(extra.is_empty(), "{}: unknown keys {extra:?}", lang.code());
            for (key, value) in catalogue {
                assert!(!value.is_empty(), "{}: {key} is empty", lang.code());
                assert_eq!(
                    placeholders(value),
                    placeholders(english[key]),
                    "{}: {key} has other placeholders than English",
                    lang.code()
                );
            }
        }
    }

    #[test]
    fn every_taxonomy_value_of_the_schema_has_a_label() {
        for taxonomy in [
            "ClauseKind",
            "AmbitionLevel",
            "EnvironmentalImpact",
            "SocialObjective",
            "ProvenLevel",
            "ProductGroup",
            "SizeClass",
            "Country",
            "Language",
            "Focus",
            "StaleReasonCode",
            "ClauseOutcome",
            "CriteriaOrigin",
            "Applicability",
            "ProcedureType",
            "ValueBand",
            "PublicationStatus",
            "FindingKind",
        ] {
            let values = Lang::values(taxonomy);
            assert!(values.len() >= 2, "enum {taxonomy} is not in the schema");
            for value in values {
                assert!(
                    Lang::knows(taxonomy, value),
                    "no label for {taxonomy}.{value}"
                );
            }
        }
        assert_eq!(Lang::values("ValueBand")[0], "UNDER_EUR100K");
    }

    #[test]
    fn accept_language_picks_the_best_supported_language() {
        assert_eq!(Lang::negotiate(None), Lang::En);
        assert_eq!(Lang::negotiate(Some("sv-SE,sv;q=0.9,en;q=0.8")), Lang::Sv);
        assert_eq!(Lang::negotiate(Some("de-DE, nn;q=0.7, en;q=0.5")), Lang::Nb);
        assert_eq!(Lang::negotiate(Some("en;q=0.4, fi;q=0.9")), Lang::Fi);
        assert_eq!(Lang::negotiate(Some("da;q=0, en")), Lang::En);
        assert_eq!(Lang::negotiate(Some("fr, de")), Lang::En);
        assert_eq!(Lang::negotiate(Some("no")), Lang::Nb);
    }

    #[test]
    fn numbers_and_plurals_follow_the_language() {
        assert_eq!(Lang::Sv.percent(0.857), "86\u{a0}%");
        assert_eq!(Lang::En.percent(0.857), "86%");
        assert_eq!(Lang::Fi.number(2.5, 1), "2,5");
        assert_ne!(
            Lang::En.plural("count.tenders", 1),
            Lang::En.plural("count.tenders", 2)
        );
    }
}
