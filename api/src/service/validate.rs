//! Input checks shared by the services. Each failure names the offending field.

use crate::error::{ServiceError, ServiceResult};

/// Length limits (in characters) for text fields.
pub mod limits {
    pub const TITLE: (usize, usize) = (3, 200);
    pub const CLAUSE_TEXT: (usize, usize) = (1, 20_000);
    pub const LONG_TEXT: usize = 5_000;
    pub const REASON: (usize, usize) = (3, 1_000);
    pub const NAME: (usize, usize) = (2, 200);
    pub const LABEL: usize = 120;
    pub const MAX_LABELS: usize = 20;
    pub const MAX_CPV_CODES: usize = 50;
    pub const MAX_TEMPLATE_CLAUSES: usize = 200;
    pub const MAX_RESULT_CLAUSES: usize = 200;
    pub const LICENCE: usize = 64;
}

/// Rejects control characters other than tab and line breaks (NUL would also break PostgreSQL).
fn check_chars(field: &str, value: &str) -> ServiceResult<()> {
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(ServiceError::bad_input(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// A required text between `min` and `max` characters after trimming.
pub fn text(field: &str, value: &str, (min, max): (usize, usize)) -> ServiceResult<()> {
    check_chars(field, value)?;
    let len = value.trim().chars().count();
    if len < min {
        return Err(ServiceError::bad_input(
            field,
            if min <= 1 {
                "must not be empty".to_owned()
            } else {
                format!("must be at least {min} characters")
            },
        ));
    }
    if len > max {
        return Err(ServiceError::bad_input(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(())
}

/// An optional text of at most `max` characters; an empty string counts as absent.
pub fn optional_text(field: &str, value: Option<&str>, max: usize) -> ServiceResult<()> {
    match value {
        Some(value) if !value.trim().is_empty() => text(field, value, (1, max)),
        _ => Ok(()),
    }
}

/// Trims an optional text, turning blank into `None`.
pub fn normalize(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// A list of CPV codes: at most [`limits::MAX_CPV_CODES`], each valid, no duplicates.
pub fn cpv_codes(field: &str, codes: &[String]) -> ServiceResult<()> {
    if codes.len() > limits::MAX_CPV_CODES {
        return Err(ServiceError::bad_input(
            field,
            format!("at most {} CPV codes", limits::MAX_CPV_CODES),
        ));
    }
    for (i, code) in codes.iter().enumerate() {
        let item = format!("{field}[{i}]");
        super::cpv::validate(code).map_err(|e| ServiceError::bad_input(&item, e.to_string()))?;
        if codes[..i].contains(code) {
            return Err(ServiceError::bad_input(item, "duplicate CPV code"));
        }
    }
    Ok(())
}

/// A percentage between 0 and 100.
pub fn percent(field: &str, value: i32) -> ServiceResult<()> {
    if (0..=100).contains(&value) {
        Ok(())
    } else {
        Err(ServiceError::bad_input(field, "must be between 0 and 100"))
    }
}

/// The version a reference means: `requested`, or the latest when omitted; it must be one of
/// the published versions `1..=published`.
pub fn published_version(
    field: &str,
    requested: Option<i32>,
    published: i32,
) -> ServiceResult<i32> {
    let version = requested.unwrap_or(published);
    if (1..=published).contains(&version) {
        Ok(version)
    } else {
        Err(ServiceError::bad_input(
            field,
            format!("must be a published version (1–{published})"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(result: ServiceResult<()>) -> String {
        match result {
            Err(ServiceError::BadInput { field, .. }) => field,
            other => panic!("expected BadInput, got {other:?}"),
        }
    }

    #[test]
    fn text_limits_count_characters_not_bytes() {
        assert!(text("t", "åäö", (3, 3)).is_ok());
        assert_eq!(field_of(text("input.title", "ab", (3, 10))), "input.title");
        assert_eq!(field_of(text("t", &"x".repeat(11), (3, 10))), "t");
        assert_eq!(field_of(text("t", "   ", (1, 10))), "t");
    }

    #[test]
    fn control_characters_are_rejected_but_newlines_kept() {
        assert!(text("t", "line one\nline two\tend", (1, 100)).is_ok());
        assert_eq!(
            field_of(text("input.text", "nul\0byte", (1, 100))),
            "input.text"
        );
        assert_eq!(field_of(optional_text("p", Some("bell\u{7}"), 100)), "p");
    }

    #[test]
    fn cpv_lists_name_the_bad_item() {
        let codes = vec!["30213100-6".to_owned(), "30213100-5".to_owned()];
        assert_eq!(
            field_of(cpv_codes("input.cpvCodes", &codes)),
            "input.cpvCodes[1]"
        );
        let dup = vec!["30213100-6".to_owned(), "30213100-6".to_owned()];
        assert_eq!(field_of(cpv_codes("c", &dup)), "c[1]");
    }

    #[test]
    fn percent_bounds() {
        assert!(percent("w", 0).is_ok() && percent("w", 100).is_ok());
        assert_eq!(field_of(percent("w", 101)), "w");
        assert_eq!(field_of(percent("w", -1)), "w");
    }
}
