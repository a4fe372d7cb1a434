//! CPV code names (the CPV 2008 list in `api/data/cpv-2008.tsv`, with English, Swedish,
//! Danish and Finnish names; the EU publishes no Norwegian column).

use super::Lang;
use crate::service::cpv;

/// How a code is shown: its name in the page's language where the list has one, and always
/// in English and Swedish (`Bärbara datorer / Portable computers`).
pub fn label(lang: Lang, code: &str) -> Option<String> {
    let names = cpv::lookup(code)?;
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
    }
}
