//! The CPV 2008 code list in GraphQL, for forms and front ends: a code's names, and codes by
//! digits or by words of their names.

use async_graphql::{Object, Result};
use entity::Language;

use crate::{
    error::{GqlResult, ServiceError},
    service::cpv::{self, Entry},
};

/// Longest `prefix` read.
const MAX_PREFIX: usize = 100;
const DEFAULT_FIRST: i32 = 20;
const MAX_FIRST: i32 = 100;

/// A code of the CPV 2008 list (Commission Regulation (EC) No 213/2008) with its names.
pub struct CpvCode(&'static Entry);

#[Object]
impl CpvCode {
    /// With its check digit as the list writes it, e.g. `30213100-6`.
    async fn code(&self) -> &'static str {
        self.0.code
    }

    /// The name in `language`. The list has no Norwegian names: Bokmål and Nynorsk get the
    /// Danish name.
    async fn name(
        &self,
        #[graphql(default_with = "Language::En")] language: Language,
    ) -> &'static str {
        self.0.name(language)
    }

    /// English name.
    async fn en(&self) -> &'static str {
        self.0.en
    }

    /// Swedish name.
    async fn sv(&self) -> &'static str {
        self.0.sv
    }

    /// Danish name.
    async fn da(&self) -> &'static str {
        self.0.da
    }

    /// Finnish name.
    async fn fi(&self) -> &'static str {
        self.0.fi
    }
}

#[derive(Default)]
pub struct CpvQuery;

#[Object]
impl CpvQuery {
    /// A code of the CPV 2008 list by its eight digits, with or without the check digit
    /// (`30213100-6` or `30213100`); `null` when the list has no such code. Clauses, templates
    /// and tender results accept exactly the codes of this list, check digit included.
    async fn cpv(&self, code: String) -> Option<CpvCode> {
        let code = code.trim();
        (code.len() == 8 || code.len() == 10)
            .then(|| cpv::lookup(code))
            .flatten()
            .filter(|entry| code.len() == 8 || entry.code == code)
            .map(CpvCode)
    }

    /// Codes of the CPV 2008 list for a form's suggestions, in code order: `prefix` of 2–8
    /// digits gives the codes starting with them (`3021` computers); words give the codes
    /// whose name in `language` (English unless given) has words starting with each of
    /// them (`bärbar dator` in Swedish). At most `first` (default 20, at most 100).
    async fn cpv_codes(
        &self,
        prefix: String,
        language: Option<Language>,
        first: Option<i32>,
    ) -> Result<Vec<CpvCode>> {
        let first = first.unwrap_or(DEFAULT_FIRST);
        if !(1..=MAX_FIRST).contains(&first) {
            return Err(ServiceError::bad_input(
                "first",
                format!("must be 1–{MAX_FIRST}"),
            ))
            .gql();
        }
        let prefix = prefix.trim();
        if prefix.is_empty() || prefix.chars().count() > MAX_PREFIX {
            return Err(ServiceError::bad_input(
                "prefix",
                format!("give 2–8 digits or 1–{MAX_PREFIX} characters of a name"),
            ))
            .gql();
        }
        let take = first as usize;
        if prefix.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
            let digits: String = prefix
                .chars()
                .filter(char::is_ascii_digit)
                .take(8)
                .collect();
            if !cpv::is_prefix(&digits) {
                return Err(ServiceError::bad_input(
                    "prefix",
                    "give 2–8 digits of a code",
                ))
                .gql();
            }
            return Ok(cpv::with_prefix(&digits).take(take).map(CpvCode).collect());
        }
        let language = language.unwrap_or(Language::En);
        Ok(cpv::named(prefix, language)
            .take(take)
            .map(CpvCode)
            .collect())
    }
}
