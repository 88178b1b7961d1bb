//! Email addresses as identities: one canonical form so that "Jane@Acme.test " and
//! "jane@acme.test" are the same account.

use std::fmt;
use unicode_normalization::UnicodeNormalization;

/// A syntactically plausible email address in canonical form: trimmed, NFKC-normalised
/// and lower-cased. Deliberately lenient beyond that: delivery is the real test.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("enter an email address")]
    Empty,
    #[error("an email address looks like name@example.com")]
    Malformed,
}

impl EmailAddress {
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let canonical: String = input.trim().nfkc().collect::<String>().to_lowercase();
        if canonical.is_empty() {
            return Err(EmailError::Empty);
        }
        let (local, domain) = canonical.rsplit_once('@').ok_or(EmailError::Malformed)?;
        let bad_char = |c: char| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"');
        if local.is_empty()
            || domain.is_empty()
            || local.len() > 64
            || canonical.len() > 254
            || domain.starts_with('.')
            || domain.ends_with('.')
            || canonical.chars().any(bad_char)
        {
            return Err(EmailError::Malformed);
        }
        Ok(EmailAddress(canonical))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_ignores_case_spaces_and_unicode_forms() {
        let cases = [
            ("jane@acme.test", "jane@acme.test"),
            ("  Jane@ACME.test \n", "jane@acme.test"),
            // Fullwidth letters fold to ASCII under NFKC.
            ("ｊａｎｅ@acme.test", "jane@acme.test"),
            // A decomposed é equals the composed one.
            ("re\u{301}mi@acme.test", "r\u{e9}mi@acme.test"),
        ];
        for (input, expected) in cases {
            assert_eq!(EmailAddress::parse(input).unwrap().as_str(), expected, "{input:?}");
        }
    }

    #[test]
    fn rejects_what_cannot_be_an_address() {
        for input in ["", "   ", "jane", "@acme.test", "jane@", "ja ne@acme.test", "jane@acme.test\r\nBcc: x@y", "a@.b"]
        {
            assert!(EmailAddress::parse(input).is_err(), "{input:?} should be rejected");
        }
    }
}
