//! The email a locked-out user (or their admin) sends: who it is from, what it says, the
//! fields intake would find in it and where, and the raw message as our receiving server
//! would have stamped it. The fields are worked out from the wording chosen here, not by
//! running the parser over a million messages; a unit test holds the two together.

use super::roster::{Person, Roster};
use chrono::{DateTime, Utc};
use keydesk_core::intake::FieldSource;
use rand::seq::SliceRandom;
use rand::Rng;

/// The authserv-id the demo's messages carry, as a receiving server would stamp it. Setting
/// `verification.trusted_authserv_id` to it makes the ticket page's checks pass for them.
pub const DEMO_AUTHSERV_ID: &str = "mx.helpdesk.example";
pub const SUPPORT_ADDRESS: &str = "support@helpdesk.example";

/// Private mailboxes people write from when they cannot reach their work mail.
const PERSONAL_DOMAINS: [&str; 3] = ["mailbox.example", "post.example", "inbox.example"];

const SUBJECTS: [&str; 8] = [
    "Locked out",
    "Can't log in",
    "Account locked",
    "Locked out of my account",
    "Help - account locked",
    "Password not working",
    "Urgent: locked out",
    "Login problem",
];

/// What went wrong, as one might put it on an "Issue:" line.
const ISSUES: [&str; 5] = [
    "Locked out after too many password attempts",
    "Account locked, cannot log in to the booking system",
    "Typed my old password a few times and now it says my account is locked",
    "Locked out since this morning",
    "My account got locked after the password change",
];

/// The same, in a sentence after "My name is … and".
const ISSUES_IN_PROSE: [&str; 4] = [
    "I locked myself out after trying my old password",
    "my account says it is locked",
    "I cannot log in since this morning",
    "I am locked out after the password change",
];

/// How the request reached us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SenderKind {
    /// From the registered address, authenticated by our receiving server.
    Registered,
    /// The registered address in From, but authentication failed: perhaps not them at all.
    Spoofed,
    /// From a private address, naming the registered one.
    Personal,
    /// An admin or owner of the same organisation, on the user's behalf.
    OnBehalf { requester: usize },
}

/// One inbound request, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestMessage {
    pub sender: String,
    pub sender_name: String,
    pub subject: String,
    pub body: String,
    pub full_name: Option<(String, FieldSource)>,
    pub registered_email: Option<(String, FieldSource)>,
    pub description: Option<(String, FieldSource)>,
    /// Whether our receiving server authenticated the From domain.
    pub authenticated: bool,
}

impl RequestMessage {
    pub fn compose(rng: &mut impl Rng, roster: &Roster, account: &Person, kind: SenderKind) -> RequestMessage {
        let subject = (*SUBJECTS.choose(rng).expect("subjects")).to_owned();
        match kind {
            SenderKind::OnBehalf { requester } => {
                let writer = &roster.people[requester];
                let issue = "Locked out; our owner is away this week";
                let body = format!(
                    "Hello,\n\nI'm writing for a colleague who is locked out.\n\nFull name: {}\nRegistered email: {}\nIssue: {issue}\n\nKind regards,\n{}\n",
                    account.full_name, account.email, writer.first_name
                );
                let subject = format!("Please unlock {}", account.full_name);
                let sender = (writer.email.clone(), writer.full_name.clone());
                labelled(sender, subject, body, account, issue, true)
            }
            SenderKind::Personal => {
                let domain = PERSONAL_DOMAINS.choose(rng).expect("domains");
                let local = account.full_name.to_lowercase().replace(' ', "");
                let sender = (format!("{local}{}@{domain}", rng.gen_range(1..100)), account.full_name.clone());
                if rng.gen_bool(0.5) {
                    labelled_request(rng, sender, subject, account, true)
                } else {
                    prose_request(rng, sender, subject, account, true)
                }
            }
            SenderKind::Registered | SenderKind::Spoofed => {
                let sender = (account.email.clone(), account.full_name.clone());
                let authenticated = kind == SenderKind::Registered;
                match rng.gen_range(0..10) {
                    0..=4 => labelled_request(rng, sender, subject, account, authenticated),
                    5..=7 => prose_request(rng, sender, subject, account, authenticated),
                    _ => terse_request(rng, sender, subject, account, authenticated),
                }
            }
        }
    }

    /// The Authentication-Results our receiving server stamps on it.
    pub fn authentication_results(&self) -> String {
        let domain = self.sender.rsplit('@').next().unwrap_or_default();
        if self.authenticated {
            format!("{DEMO_AUTHSERV_ID}; dkim=pass header.d={domain}; spf=pass smtp.mailfrom={domain}; dmarc=pass header.from={domain}")
        } else {
            format!("{DEMO_AUTHSERV_ID}; dkim=none; spf=fail smtp.mailfrom=bulk-sender.example; dmarc=fail header.from={domain}")
        }
    }

    /// The message as received: our server's Authentication-Results on top, CRLF lines.
    pub fn raw(&self, message_id: &str, at: DateTime<Utc>) -> String {
        let headers = format!(
            "Return-Path: <{sender}>\nAuthentication-Results: {results}\nFrom: {name} <{sender}>\nTo: Support <{SUPPORT_ADDRESS}>\nSubject: {subject}\nDate: {date}\nMessage-ID: <{message_id}>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n",
            results = self.authentication_results(),
            sender = self.sender,
            name = self.sender_name,
            subject = self.subject,
            date = at.to_rfc2822(),
        );
        format!("{headers}\n{}", self.body).replace('\n', "\r\n")
    }
}

/// "Full name: …", "Registered email: …", "Issue: …".
fn labelled_request(
    rng: &mut impl Rng,
    sender: (String, String),
    subject: String,
    account: &Person,
    authenticated: bool,
) -> RequestMessage {
    let issue = *ISSUES.choose(rng).expect("issues");
    let body = format!(
        "Hello,\n\nFull name: {}\nRegistered email: {}\nIssue: {issue}\n\nThanks,\n{}\n",
        account.full_name, account.email, account.first_name
    );
    labelled(sender, subject, body, account, issue, authenticated)
}

fn labelled(
    sender: (String, String),
    subject: String,
    body: String,
    account: &Person,
    issue: &str,
    authenticated: bool,
) -> RequestMessage {
    RequestMessage {
        sender: sender.0,
        sender_name: sender.1,
        subject,
        body,
        full_name: Some((account.full_name.clone(), FieldSource::BodyLabel)),
        registered_email: Some((account.email.clone(), FieldSource::BodyLabel)),
        description: Some((issue.to_owned(), FieldSource::BodyLabel)),
        authenticated,
    }
}

/// "My name is … and …. My account is …."
fn prose_request(
    rng: &mut impl Rng,
    sender: (String, String),
    subject: String,
    account: &Person,
    authenticated: bool,
) -> RequestMessage {
    let issue = ISSUES_IN_PROSE.choose(rng).expect("issues");
    let said = format!(
        "My name is {} and {issue}. My account is {}.\n\nCould you unlock it please?",
        account.full_name, account.email
    );
    RequestMessage {
        sender: sender.0,
        sender_name: sender.1,
        subject,
        body: format!("Hi,\n\n{said}\n\nThank you,\n{}\n", account.first_name),
        full_name: Some((account.full_name.clone(), FieldSource::Prose)),
        registered_email: Some((account.email.clone(), FieldSource::Prose)),
        description: Some((said, FieldSource::Prose)),
        authenticated,
    }
}

/// A line or two and nothing else: the name and address come from the From header.
fn terse_request(
    rng: &mut impl Rng,
    sender: (String, String),
    subject: String,
    account: &Person,
    authenticated: bool,
) -> RequestMessage {
    let said = format!("{}. Can you help?", ISSUES.choose(rng).expect("issues"));
    RequestMessage {
        body: format!("{said}\n\nThanks,\n{}\n", account.first_name),
        full_name: Some((sender.1.clone(), FieldSource::Header)),
        registered_email: Some((sender.0.clone(), FieldSource::Header)),
        description: Some((said, FieldSource::Prose)),
        sender: sender.0,
        sender_name: sender.1,
        subject,
        authenticated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keydesk_core::intake::parse_message;
    use keydesk_core::verification::spoof_suspected;
    use keydesk_core::EmailAddress;
    use rand::SeedableRng;

    fn field(extracted: &Option<keydesk_core::intake::Extracted>) -> Option<(String, FieldSource)> {
        extracted.as_ref().map(|e| (e.value.clone(), e.source))
    }

    /// The fields the demo stores are the ones intake would have found in the same message.
    #[test]
    fn intake_finds_the_fields_the_demo_stores() {
        let roster = Roster::for_tickets(300);
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let own = [EmailAddress::parse(SUPPORT_ADDRESS).unwrap()];
        let kinds = [
            SenderKind::Registered,
            SenderKind::Spoofed,
            SenderKind::Personal,
            SenderKind::OnBehalf { requester: roster.owner_of(0) },
        ];
        for round in 0..400 {
            let account = &roster.people[round % roster.people.len()];
            let message = RequestMessage::compose(&mut rng, &roster, account, kinds[round % kinds.len()]);
            let raw = message.raw("demo-1@helpdesk.example", "2026-11-23T09:00:00Z".parse().unwrap());
            let rules = keydesk_core::intake::IntakeRules { own_addresses: own.to_vec(), ..Default::default() };
            let parsed = parse_message(raw.as_bytes(), &rules).unwrap();
            assert_eq!(parsed.subject, message.subject);
            assert_eq!(parsed.from.as_ref().map(|f| f.address.as_str()), Some(message.sender.as_str()));
            assert_eq!(field(&parsed.fields.full_name), message.full_name, "{}", message.body);
            assert_eq!(field(&parsed.fields.registered_email), message.registered_email, "{}", message.body);
            assert_eq!(field(&parsed.fields.description), message.description, "{}", message.body);
            assert!(parsed.automated.is_none());
            assert_eq!(parsed.authentication_results, [message.authentication_results()]);
            // Intake suspects a spoof exactly when the demo says the From was not authenticated.
            let sender = EmailAddress::parse(&message.sender).unwrap();
            let verdict = spoof_suspected(
                Some(&sender),
                EmailAddress::parse(&account.email).ok().as_ref(),
                &parsed.authentication_results,
                DEMO_AUTHSERV_ID,
            );
            assert_eq!(verdict.is_some(), !message.authenticated, "{}", message.authentication_results());
        }
    }
}
