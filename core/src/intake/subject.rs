//! The ticket tag Keydesk puts in the subjects it sends ("[#123] Your account is unlocked"),
//! read back from replies so a reply joins its ticket even when the client drops
//! In-Reply-To.

/// The ticket number from the first "[#123]" tag in `subject`. Whitespace inside the
/// brackets is tolerated because some clients re-wrap subjects; anything else inside them
/// (letters, signs, a number too large for an id, zero) means it is not our tag.
pub fn subject_tag(subject: &str) -> Option<i64> {
    let mut rest = subject;
    while let Some(open) = rest.find("[#") {
        let after = &rest[open + 2..];
        if let Some(close) = after.find(']') {
            let inside = after[..close].trim();
            if !inside.is_empty() && inside.bytes().all(|b| b.is_ascii_digit()) {
                if let Ok(number) = inside.parse::<i64>() {
                    if number > 0 {
                        return Some(number);
                    }
                }
            }
        }
        rest = after;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_first_well_formed_tag() {
        let cases = [
            ("[#42] Your account is unlocked", Some(42)),
            ("Re: [#42] Your account is unlocked", Some(42)),
            ("RE: FW: Re: [#7] Locked out", Some(7)),
            ("Locked out [#1234]", Some(1234)),
            ("[# 42 ] spaced by a client", Some(42)),
            ("[#007] leading zeros", Some(7)),
            ("[#abc] not a number, then [#9]", Some(9)),
            ("[#12][#13] two tags: the first wins", Some(12)),
            ("[#0] zero is never a ticket", None),
            ("[#-5] no signs", None),
            ("[#99999999999999999999] too large", None),
            ("[#42 never closed", None),
            ("#42 without brackets", None),
            ("[42] without the hash", None),
            ("", None),
        ];
        for (subject, expected) in cases {
            assert_eq!(subject_tag(subject), expected, "{subject:?}");
        }
    }
}
