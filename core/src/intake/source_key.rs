//! Which ledger key a message is recorded under. A source's key is meant to name one message
//! for good — IMAP's `UIDVALIDITY:UID` (RFC 3501 2.3.1.1), a Maildir unique name — and the
//! ledger's unique (source, key) makes intake exactly-once. But a server that hands out a UID
//! again under the same UIDVALIDITY (a mailbox rebuilt from a backup, a broken server), or a
//! delivery script that names its files `1`, `2`, ... and starts again, gives a *new* message
//! a key already taken: trusting the key alone would record it as taken in before, and drop
//! it without a trace. So a key counts as taken only by the same message; a different one is
//! recorded under a key derived from its bytes, which a redelivery of it finds again.

/// What the ledger holds under a message's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredUnderKey<'a> {
    pub content_hash: &'a str,
    /// As stored (`message_id::stored`).
    pub message_id: Option<&'a str>,
}

/// A message as intake read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arriving<'a> {
    pub source_key: &'a str,
    /// Hex SHA-256 of the bytes as read.
    pub content_hash: &'a str,
    pub message_id: Option<&'a str>,
}

impl Arriving<'_> {
    /// The key a different message arriving under a taken key is recorded under: the same
    /// bytes always give the same one, so taking it in twice is still noticed.
    pub fn reused_key(&self) -> String {
        let short = self.content_hash.get(..16).unwrap_or(self.content_hash);
        format!("{}#reused-{short}", self.source_key)
    }

    /// The ledger key to record it under, or None when it was taken in before. `under_key`
    /// is what the ledger holds under its own key; `reused_key_taken` whether it holds
    /// [`Arriving::reused_key`].
    ///
    /// The same message is the same bytes — or, when the bytes differ, the same Message-ID:
    /// a message over the size limit is read only up to it, so a limit changed between two
    /// passes reads the same message differently.
    pub fn ledger_key(&self, under_key: Option<StoredUnderKey>, reused_key_taken: bool) -> Option<String> {
        let Some(stored) = under_key else { return Some(self.source_key.to_owned()) };
        let same_bytes = stored.content_hash == self.content_hash;
        let same_id = self.message_id.is_some() && stored.message_id == self.message_id;
        if same_bytes || same_id || reused_key_taken {
            return None;
        }
        Some(self.reused_key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JANES: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const BOBS: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    fn arriving<'a>(hash: &'a str, id: Option<&'a str>) -> Arriving<'a> {
        Arriving { source_key: "7:42", content_hash: hash, message_id: id }
    }

    #[test]
    fn a_free_key_is_used_as_it_is() {
        assert_eq!(arriving(JANES, Some("j@x")).ledger_key(None, false).as_deref(), Some("7:42"));
    }

    #[test]
    fn the_same_message_under_its_key_was_taken_in_before() {
        let stored = StoredUnderKey { content_hash: JANES, message_id: Some("j@x") };
        assert_eq!(arriving(JANES, Some("j@x")).ledger_key(Some(stored), false), None, "same bytes");
        assert_eq!(arriving(BOBS, Some("j@x")).ledger_key(Some(stored), false), None, "read differently, same ID");
        let no_id = StoredUnderKey { content_hash: JANES, message_id: None };
        assert_eq!(arriving(JANES, None).ledger_key(Some(no_id), false), None, "same bytes, no ID");
    }

    #[test]
    fn another_message_under_a_taken_key_gets_a_key_of_its_own_once() {
        let janes = StoredUnderKey { content_hash: JANES, message_id: Some("j@x") };
        let bob = arriving(BOBS, Some("b@x"));
        assert_eq!(bob.ledger_key(Some(janes), false).as_deref(), Some("7:42#reused-bbbbbbbbbbbbbbbb"));
        assert_eq!(bob.ledger_key(Some(janes), true), None, "the second time, it was taken in before");
        let without_ids = StoredUnderKey { content_hash: JANES, message_id: None };
        let bob_without_id = arriving(BOBS, None);
        assert!(
            bob_without_id.ledger_key(Some(without_ids), false).is_some(),
            "two messages without IDs differ by bytes"
        );
    }
}
