//! Whether a person's new ticket gets the automatic acknowledgement. Answering a forged
//! sender is backscatter: the acknowledgement lands on whoever's address the spammer put in
//! From. So when the receiving server Keydesk trusts says the sender failed authentication,
//! or marked the message as spam, the ticket is still opened but nobody is answered.

use super::ParsedMessage;
use crate::verification::{sender_authenticated, Authentication, NotAuthenticated};
use crate::EmailAddress;

/// Why no acknowledgement should go out, if there is a reason.
pub fn acknowledgement_withheld(parsed: &ParsedMessage, trusted_authserv_id: &str) -> Option<String> {
    if let Some(flag) = &parsed.marked_spam {
        return Some(format!("the receiving server marked it as spam ({flag})"));
    }
    let from = parsed.from.as_ref()?;
    let domain = EmailAddress::parse(&from.address).ok()?.domain().to_owned();
    let verdict = sender_authenticated(&parsed.authentication_results, trusted_authserv_id, &domain);
    let forged = match &verdict {
        Authentication::Failed(NotAuthenticated::DmarcFailed { .. } | NotAuthenticated::DmarcForOtherDomain { .. }) => {
            true
        }
        Authentication::Failed(NotAuthenticated::NothingAligned { findings, .. }) => !findings.is_empty(),
        // Passed, or nothing to judge by: plenty of honest mail arrives without results.
        _ => false,
    };
    forged.then(|| format!("the sender may be forged: {verdict}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::{parse_message, IntakeRules};

    fn withheld(headers: &str) -> Option<String> {
        let raw = format!("From: Jane <jane@acme.test>\n{headers}Subject: locked\n\nHelp");
        let parsed = parse_message(raw.as_bytes(), &IntakeRules::default()).unwrap();
        acknowledgement_withheld(&parsed, "mx.keydesk.test")
    }

    #[test]
    fn forged_or_spam_mail_is_not_answered() {
        assert_eq!(withheld(""), None, "no results: answered");
        assert_eq!(withheld("Authentication-Results: mx.keydesk.test; dmarc=pass header.from=acme.test\n"), None);
        let forged = withheld("Authentication-Results: mx.keydesk.test; dmarc=fail header.from=acme.test\n");
        assert!(forged.unwrap().contains("dmarc=fail"));
        let unaligned = withheld("Authentication-Results: mx.keydesk.test; spf=fail smtp.mailfrom=acme.test\n");
        assert!(unaligned.is_some());
        let other_server = withheld("Authentication-Results: evil.test; dmarc=fail header.from=acme.test\n");
        assert_eq!(other_server, None, "only the trusted server's word counts");
        assert!(withheld("X-Spam-Flag: YES\n").unwrap().contains("spam"));
    }
}
