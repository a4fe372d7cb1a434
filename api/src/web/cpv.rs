//! CPV code names (the CPV 2008 list in `api/data/cpv-2008.tsv`, with English, Swedish,
//! Danish and Finnish names; the EU publishes no Norwegian column).

use std::{collections::HashMap, sync::LazyLock};

use super::Lang;

pub struct Names {
    pub en: &'static str,
    pub sv: &'static str,
    pub da: &'static str,
    pub fi: &'static str,
}

static LIST: LazyLock<HashMap<&'static str, Names>> = LazyLock::new(|| {
    include_str!("../../data/cpv-2008.tsv")
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let mut columns = line.split('\t');
            let code = columns.next()?;
            let names = Names {
                en: columns.next()?,
                sv: columns.next()?,
                da: columns.next()?,
                fi: columns.next()?,
            };
            Some((code, names))
        })
        .collect()
});

/// The names of a code, by its eight digits (the check digit after them is not needed).
pub fn names(code: &str) -> Option<&'static Names> {
    let digits = code.get(..8)?;
    LIST.get(code).or_else(|| {
        LIST.iter()
            .find(|(known, _)| known.starts_with(digits))
            .map(|(_, names)| names)
    })
}

/// How a code is shown: its name in the page's language where the list has one, and always
/// in English and Swedish (`Bärbara datorer / Portable computers`).
pub fn label(lang: Lang, code: &str) -> Option<String> {
    let names = names(code)?;
    let mut shown: Vec<&str> = Vec::new();
    match lang {
        Lang::Da => shown.push(names.da),
        Lang::Fi => shown.push(names.fi),
        _ => {}
    }
    for name in [names.sv, names.en] {
        if !shown.contains(&name) {
            shown.push(name);
        }
    }
    if lang == Lang::En {
        shown.reverse();
    }
    Some(shown.join(" / "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_named_in_english_and_swedish_at_least() {
        assert_eq!(
            label(Lang::Sv, "30213100-6").as_deref(),
            Some("Bärbara datorer / Portable computers")
        );
        assert_eq!(
            label(Lang::En, "30213100-6").as_deref(),
            Some("Portable computers / Bärbara datorer")
        );
        assert!(
            label(Lang::Fi, "30213100-6")
                .expect("a known code")
                .starts_with("Kannettavat tietokoneet")
        );
        assert!(label(Lang::Sv, "99999999-9").is_none());
        assert!(LIST.len() > 9000);
    }
}
