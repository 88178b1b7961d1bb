//! Which mailbox a configuration names, whatever its spelling: the name processes contend for
//! when only one at a time may read a mailbox. Two processes configured with `Mail.Example.org.`
//! and `mail.example.org`, or `inbox` and `INBOX`, read one mailbox and must share one lease;
//! otherwise both take in the same messages side by side.

/// An IMAP mailbox's identity: the host without case or a trailing root dot, the user without
/// case (servers compare login names without it; two spellings of one account must not split
/// the lease, and two accounts that differ only in case, if a server allowed them, would merely
/// take turns), the port, and `INBOX` in any case as `INBOX` (RFC 3501 §5.1: it is
/// case-insensitive; other names are compared as the server spells them). An address and a
/// host name for one server cannot be told apart without DNS: configure one spelling.
pub fn imap_mailbox_identity(user: &str, host: &str, port: u16, mailbox: &str) -> String {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let mailbox = if mailbox.eq_ignore_ascii_case("INBOX") { "INBOX" } else { mailbox };
    format!("imap:{}@{host}:{port}/{mailbox}", user.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::imap_mailbox_identity;

    #[test]
    fn spellings_of_one_mailbox_are_one_identity() {
        let one = imap_mailbox_identity("support@keydesk.test", "mail.example.org", 993, "INBOX");
        assert_eq!(imap_mailbox_identity("Support@Keydesk.test", "Mail.Example.ORG.", 993, "inbox"), one);
        assert_eq!(imap_mailbox_identity("support@keydesk.test", "mail.example.org", 993, "Inbox"), one);
    }

    #[test]
    fn different_mailboxes_stay_apart() {
        let inbox = imap_mailbox_identity("support", "mail.example.org", 993, "INBOX");
        assert_ne!(imap_mailbox_identity("support", "mail.example.org", 143, "INBOX"), inbox, "another port");
        assert_ne!(imap_mailbox_identity("support", "imap.example.org", 993, "INBOX"), inbox, "another host");
        assert_ne!(imap_mailbox_identity("billing", "mail.example.org", 993, "INBOX"), inbox, "another user");
        // Only INBOX is case-insensitive by the standard.
        assert_ne!(
            imap_mailbox_identity("support", "mail.example.org", 993, "Locked"),
            imap_mailbox_identity("support", "mail.example.org", 993, "locked"),
        );
    }
}
