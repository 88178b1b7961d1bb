//! A Message-ID as Keydesk stores and looks it up. The header has no length limit, and a
//! sender can write one of thousands of characters; PostgreSQL cannot index a value over
//! about 2,700 bytes, so storing it would fail every pass that takes the message in, and
//! intake would stall behind it for good. An overlong ID is kept as a digest of itself
//! instead: the same ID always gives the same digest, so duplicates are still recognised and
//! a reply that quotes it still finds its thread.

use sha2::{Digest, Sha256};

/// Longer than any real Message-ID (RFC 5322 sets no limit; mail software writes well under
/// 100 characters), far below what an index can hold.
pub const MAX_STORED_LEN: usize = 250;

/// `id` as stored: without angle brackets, NUL characters or surrounding spaces, and in
/// digest form when over [`MAX_STORED_LEN`] bytes; None when nothing is left.
pub fn stored(id: &str) -> Option<String> {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>').trim().replace('\0', "");
    if id.is_empty() {
        return None;
    }
    if id.len() <= MAX_STORED_LEN {
        return Some(id);
    }
    // A domain no real ID can carry (`.invalid`, RFC 2606), so a digest never meets one.
    Some(format!("sha256.{}@overlong-message-id.invalid", hex::encode(Sha256::digest(id.as_bytes()))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_ids_are_kept_as_written_without_brackets() {
        assert_eq!(stored(" <abc.123@acme.test> ").as_deref(), Some("abc.123@acme.test"));
        assert_eq!(stored("<a\0b@acme.test>").as_deref(), Some("ab@acme.test"));
        assert_eq!(stored("<>"), None);
        let longest = "a".repeat(MAX_STORED_LEN);
        assert_eq!(stored(&longest).as_deref(), Some(longest.as_str()));
    }

    #[test]
    fn an_overlong_id_becomes_a_short_digest_which_is_the_same_each_time() {
        let long = format!("<{}@x.test>", "q7".repeat(4000));
        let digest = stored(&long).unwrap();
        assert!(digest.len() < 120, "{digest}");
        assert!(digest.ends_with("@overlong-message-id.invalid"));
        assert_eq!(stored(&long[1..long.len() - 1]).as_deref(), Some(digest.as_str()), "brackets or none, one digest");
        assert_ne!(stored(&format!("<{}@y.test>", "q7".repeat(4000))).unwrap(), digest);
    }
}
