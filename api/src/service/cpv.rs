//! CPV (Common Procurement Vocabulary 2008) codes: `NNNNNNNN-D`, eight digits and a check
//! digit, checked against the official list (Commission Regulation (EC) No 213/2008) shipped
//! in `api/data/cpv-2008.tsv` with its names in English, Swedish, Danish and Finnish. The
//! list's check digits are what counts: about 530 official codes do not follow the weighted
//! formula often quoted for them (`09310000-5`, electricity, is one), and many codes that
//! follow it do not exist.

use std::{collections::BTreeSet, sync::LazyLock};

use entity::{Language, clause_version, codes, template_version, tender_result};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QuerySelect};

/// Why a CPV code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CpvError {
    #[error("a CPV code looks like 30213100-6 (eight digits, a dash, a check digit)")]
    Format,
    #[error("the check digit of {digits} is {expected} in the CPV 2008 list ({expected_code})")]
    CheckDigit {
        digits: String,
        expected: char,
        expected_code: &'static str,
    },
    #[error("{0} is not a code of the CPV 2008 list")]
    Unknown(String),
}

/// One code of the list with its names.
#[derive(Debug)]
pub struct Entry {
    /// With its check digit, as the list writes it: `30213100-6`.
    pub code: &'static str,
    pub en: &'static str,
    pub sv: &'static str,
    pub da: &'static str,
    pub fi: &'static str,
}

impl Entry {
    /// The eight digits without the check digit.
    pub fn digits(&self) -> &'static str {
        &self.code[..8]
    }

    /// The name in `language`. The list has no Norwegian names: Bokmål and Nynorsk get the
    /// Danish one, the closest written language that the list has.
    pub fn name(&self, language: Language) -> &'static str {
        match language {
            Language::Sv => self.sv,
            Language::Da | Language::Nb | Language::Nn => self.da,
            Language::Fi => self.fi,
            Language::En => self.en,
        }
    }
}

/// The whole list, ordered by code.
static LIST: LazyLock<Vec<Entry>> = LazyLock::new(|| {
    let mut list: Vec<Entry> = include_str!("../../data/cpv-2008.tsv")
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| {
            let mut columns = line.split('\t');
            let code = columns.next()?;
            (code.len() == 10).then_some(())?;
            Some(Entry {
                code,
                en: columns.next()?,
                sv: columns.next()?,
                da: columns.next()?,
                fi: columns.next()?,
            })
        })
        .collect();
    list.sort_by_key(|e| e.code);
    list
});

/// The list entry with these eight digits (a check digit after them is ignored).
pub fn lookup(code: &str) -> Option<&'static Entry> {
    let digits = code.get(..8)?;
    LIST.binary_search_by(|e| e.digits().cmp(digits))
        .ok()
        .map(|i| &LIST[i])
}

/// Every code starting with `prefix` (digits), in code order.
pub fn with_prefix(prefix: &str) -> impl Iterator<Item = &'static Entry> + use<'_> {
    let start = LIST.partition_point(|e| e.digits() < prefix);
    LIST[start..]
        .iter()
        .take_while(move |e| e.digits().starts_with(prefix))
}

/// Every code whose name in `language` has a word starting with `words`'s last word and
/// contains its other words (case-insensitive), in code order: `bärbar dator` finds
/// `Bärbara datorer`.
pub fn named(words: &str, language: Language) -> impl Iterator<Item = &'static Entry> {
    let words: Vec<String> = words
        .split_whitespace()
        .map(str::to_lowercase)
        .filter(|w| !w.is_empty())
        .collect();
    LIST.iter().filter(move |e| {
        let name = e.name(language).to_lowercase();
        !words.is_empty()
            && words.iter().all(|w| {
                name.split(|c: char| !c.is_alphanumeric())
                    .any(|part| part.starts_with(w.as_str()))
            })
    })
}

/// Number of codes in the list.
pub fn len() -> usize {
    LIST.len()
}

/// Checks the format and that the code, check digit included, is on the list.
pub fn validate(code: &str) -> Result<&'static Entry, CpvError> {
    let bytes = code.as_bytes();
    if bytes.len() != 10
        || bytes[8] != b'-'
        || !bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 8 || b.is_ascii_digit())
    {
        return Err(CpvError::Format);
    }
    let entry = lookup(code).ok_or_else(|| CpvError::Unknown(code.to_owned()))?;
    if entry.code == code {
        Ok(entry)
    } else {
        Err(CpvError::CheckDigit {
            digits: code[..8].to_owned(),
            expected: entry.code.chars().last().unwrap_or('?'),
            expected_code: entry.code,
        })
    }
}

/// Stored codes that are not on the list, distinct and sorted: records written before codes
/// were checked against it (by the check-digit formula instead) or mirrored from an instance
/// that did not check them. They stay readable and searchable as they are; a new version
/// must name a listed code. Reads each distinct code set once.
pub async fn stored_off_list(db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    let mut sets: Vec<String> = clause_version::Entity::find()
        .select_only()
        .column(clause_version::Column::CpvCodes)
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    sets.extend(
        template_version::Entity::find()
            .select_only()
            .column(template_version::Column::CpvCodes)
            .distinct()
            .into_tuple::<String>()
            .all(db)
            .await?,
    );
    let mut off: BTreeSet<String> = sets
        .iter()
        .flat_map(|set| codes::decode(set))
        .filter(|code| validate(code).is_err())
        .collect();
    let singles: Vec<String> = tender_result::Entity::find()
        .select_only()
        .column(tender_result::Column::CpvCode)
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    off.extend(singles.into_iter().filter(|code| validate(code).is_err()));
    Ok(off.into_iter().collect())
}

/// Logs the stored codes that are not on the list (see [`stored_off_list`]), once at start.
pub async fn warn_off_list(db: &impl ConnectionTrait) {
    match stored_off_list(db).await {
        Ok(off) if off.is_empty() => {}
        Ok(off) => tracing::warn!(
            count = off.len(),
            codes = %off.iter().take(20).cloned().collect::<Vec<_>>().join(", "),
            "stored CPV codes are not on the CPV 2008 list; their records stay as they are, new versions must use listed codes"
        ),
        Err(error) => tracing::warn!(%error, "could not check the stored CPV codes"),
    }
}

/// A CPV prefix for filters: 2 to 8 digits (`302` finds every computer-equipment code).
pub fn is_prefix(prefix: &str) -> bool {
    (2..=8).contains(&prefix.len()) && prefix.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_codes_of_the_list() {
        for code in [
            "30213100-6",
            "30213300-8",
            "30231000-7",
            "32250000-0",
            "48820000-2",
            "72000000-5",
            "03221111-7",
            "03222118-3",
            // Official codes whose check digit is not the weighted formula's.
            "09310000-5",
            "03300000-2",
        ] {
            assert_eq!(validate(code).map(|e| e.code), Ok(code), "{code}");
        }
        assert!(len() > 9000);
    }

    #[test]
    fn refuses_wrong_check_digits_unknown_codes_and_formats() {
        let wrong = validate("30213100-5").expect_err("wrong check digit");
        assert_eq!(
            wrong.to_string(),
            "the check digit of 30213100 is 6 in the CPV 2008 list (30213100-6)"
        );
        // Passes the weighted formula, is on no list.
        assert_eq!(
            validate("30213199-6").map(|e| e.code),
            Err(CpvError::Unknown("30213199-6".into()))
        );
        for bad in [
            "30213100",
            "3021310-06",
            "30213100-",
            "3021310a-6",
            "30213100-66",
            "",
        ] {
            assert_eq!(
                validate(bad).map(|e| e.code),
                Err(CpvError::Format),
                "{bad}"
            );
        }
    }

    #[test]
    fn finds_codes_by_prefix_and_by_name() {
        let computers: Vec<&str> = with_prefix("302131").map(|e| e.code).collect();
        assert!(computers.contains(&"30213100-6"), "{computers:?}");
        assert!(computers.iter().all(|c| c.starts_with("302131")));
        let swedish: Vec<&str> = named("bärbar dator", Language::Sv)
            .map(|e| e.code)
            .collect();
        assert!(swedish.contains(&"30213100-6"), "{swedish:?}");
        assert_eq!(
            lookup("30213100").map(|e| e.name(Language::Nb)),
            lookup("30213100").map(|e| e.da)
        );
        assert!(named("", Language::En).next().is_none());
    }

    #[test]
    fn prefixes() {
        assert!(is_prefix("302") && is_prefix("30213100"));
        assert!(!is_prefix("3") && !is_prefix("302131001") && !is_prefix("30'"));
    }
}
