//! CPV (Common Procurement Vocabulary 2008) codes: `NNNNNNNN-D`, eight digits and a check digit.

/// Why a CPV code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CpvError {
    #[error("a CPV code looks like 30213100-6 (eight digits, a dash, a check digit)")]
    Format,
    #[error("the check digit does not match (expected {expected})")]
    CheckDigit { expected: u8 },
}

/// Weights applied to the eight digits; the check digit is the weighted sum modulo 10.
const WEIGHTS: [u32; 8] = [3, 7, 1, 3, 7, 1, 3, 7];

/// The check digit of eight code digits.
pub fn check_digit(digits: &[u8; 8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(*d) * w)
        .sum();
    (sum % 10) as u8
}

/// Checks format and check digit.
pub fn validate(code: &str) -> Result<(), CpvError> {
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
    let mut digits = [0u8; 8];
    for (d, b) in digits.iter_mut().zip(bytes) {
        *d = b - b'0';
    }
    let expected = check_digit(&digits);
    if bytes[9] - b'0' == expected {
        Ok(())
    } else {
        Err(CpvError::CheckDigit { expected })
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
    fn accepts_published_codes() {
        for code in [
            "30213100-6",
            "30213300-8",
            "30231000-7",
            "32250000-0",
            "48820000-2",
            "72000000-5",
            "03221111-7",
            "03222118-3",
        ] {
            assert_eq!(validate(code), Ok(()), "{code}");
        }
    }

    #[test]
    fn rejects_wrong_check_digits_and_formats() {
        assert_eq!(
            validate("30213100-5"),
            Err(CpvError::CheckDigit { expected: 6 })
        );
        for bad in [
            "30213100",
            "3021310-06",
            "30213100-",
            "3021310a-6",
            "30213100-66",
            "",
        ] {
            assert_eq!(validate(bad), Err(CpvError::Format), "{bad}");
        }
    }

    #[test]
    fn prefixes() {
        assert!(is_prefix("302") && is_prefix("30213100"));
        assert!(!is_prefix("3") && !is_prefix("302131001") && !is_prefix("30'"));
    }
}
