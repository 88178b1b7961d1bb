//! Every email Keydesk sends, one typed struct each: the values its templates (subject,
//! plain text, HTML, under `templates/`) may use, and nothing else. A template that names a
//! value its struct lacks fails its snapshot test, and a wording change shows up there in
//! review.

use super::EmailKind;
use crate::ids::TicketNumber;
use serde::Serialize;

/// An email's values, and which templates render them.
pub trait Email: Serialize {
    const KIND: EmailKind;
}

macro_rules! email {
    ($name:ident => $kind:ident) => {
        impl Email for $name<'_> {
            const KIND: EmailKind = EmailKind::$kind;
        }
    };
}

/// To the user whose account just locked (the first seed's "Account Locked").
#[derive(Debug, Serialize)]
pub struct AccountLocked<'a> {
    pub full_name: &'a str,
    pub email: &'a str,
    /// "2026-11-24 09:15", UTC.
    pub locked_at: String,
    pub max_failed_attempts: u32,
}
email!(AccountLocked => AccountLocked);

/// To each owner and admin of the locked user's organisation.
#[derive(Debug, Serialize)]
pub struct AccountLockedAdmin<'a> {
    pub full_name: &'a str,
    pub email: &'a str,
    pub locked_at: String,
    pub max_failed_attempts: u32,
    pub organisation: &'a str,
    pub unlock_link: String,
    /// The recipient may unlock (false: an admin under the owner-PIN policy, where only the
    /// owner unlocks — they are told who does instead of getting a link they cannot use).
    pub may_unlock: bool,
    pub owner_name: Option<&'a str>,
}
email!(AccountLockedAdmin => AccountLockedAdmin);

/// To the user, once unlocked (by support, self-serve or a PIN).
#[derive(Debug, Serialize)]
pub struct AccountUnlocked<'a> {
    pub full_name: &'a str,
    pub email: &'a str,
    pub forgot_password_link: String,
}
email!(AccountUnlocked => AccountUnlocked);

/// A password-reset link (also the welcome of a user added in Manage Users).
#[derive(Debug, Serialize)]
pub struct PasswordReset<'a> {
    pub full_name: &'a str,
    pub email: &'a str,
    pub reset_link: String,
    /// "1h", as the configured lifetime reads.
    pub valid_for: String,
}
email!(PasswordReset => PasswordReset);

/// To a user's former address when their sign-in address changed. Whoever can change it
/// can have password-reset links (and, for an owner, unlock PINs) sent to the new one: the
/// old one hears of it, as it is the one an impostor does not hold.
#[derive(Debug, Serialize)]
pub struct SignInAddressChanged<'a> {
    pub full_name: &'a str,
    pub old_email: &'a str,
    pub new_email: &'a str,
    /// Who changed it: "Olive Owner (owner@acme.test)", or "you".
    pub changed_by: &'a str,
    pub organisation: &'a str,
}
email!(SignInAddressChanged => SignInAddressChanged);

/// To the owner who pressed the key under the `owner_pin` policy (the second seed).
#[derive(Debug, Serialize)]
pub struct UnlockPin<'a> {
    /// The employee to unlock.
    pub full_name: &'a str,
    pub pin: &'a str,
}
email!(UnlockPin => UnlockPin);

/// The automatic reply to a new ticket.
#[derive(Debug, Serialize)]
pub struct TicketAcknowledgement<'a> {
    pub number: TicketNumber,
    /// The subject the user wrote.
    pub subject: &'a str,
    pub full_name: Option<&'a str>,
    pub missing_name: bool,
    pub missing_email: bool,
    /// "Monday to Friday, 9:00–17:00 (Europe/London)".
    pub support_hours: String,
    /// When support is closed now: its next opening in words.
    pub next_opening: Option<String>,
}
email!(TicketAcknowledgement => TicketAcknowledgement);

/// An agent's own words to the user.
#[derive(Debug, Serialize)]
pub struct TicketReply<'a> {
    pub number: TicketNumber,
    pub subject: &'a str,
    pub body: &'a str,
    pub agent_name: &'a str,
}
email!(TicketReply => TicketReply);

/// The mailbox challenge, to the account's registered address.
#[derive(Debug, Serialize)]
pub struct MailboxChallenge<'a> {
    pub number: TicketNumber,
    pub full_name: &'a str,
    pub email: &'a str,
    pub confirm_link: String,
    pub valid_for: String,
}
email!(MailboxChallenge => MailboxChallenge);

/// To an organisation's owner (or its admins, when the owner was unlocked): support unlocked
/// one of the people who can manage the others.
#[derive(Debug, Serialize)]
pub struct PrivilegedUnlockNotice<'a> {
    pub full_name: &'a str,
    pub email: &'a str,
    /// "owner" or "admin".
    pub role: &'a str,
    pub organisation: &'a str,
    pub agent_name: &'a str,
    pub ticket: TicketNumber,
    pub activities_link: String,
}
email!(PrivilegedUnlockNotice => PrivilegedUnlocked);

/// A ticket passed 80% of a target (to its assignee, or every agent), or breached it (to
/// the managers). The subject carries `[#N]`.
#[derive(Debug, Serialize)]
pub struct SlaAlert<'a> {
    pub ticket: TicketNumber,
    pub subject: &'a str,
    /// "First response", "Unlock".
    pub target: &'a str,
    pub breached: bool,
    /// "Reply due in 12 min (business time)", "Unlock overdue by 5 min".
    pub words: String,
    /// The target itself, in words ("1 h 00 min").
    pub target_words: String,
    pub next_step: String,
    pub ticket_link: String,
}
email!(SlaAlert => SlaAlert);

/// One line of the digest's open breaches.
#[derive(Debug, Serialize)]
pub struct DigestBreach {
    pub ticket: TicketNumber,
    pub subject: String,
    pub words: String,
}

/// The managers' daily digest: yesterday's figures and the breaches still open.
#[derive(Debug, Serialize)]
pub struct SlaDigest<'a> {
    /// "Monday 23 November 2026".
    pub day: &'a str,
    pub received: u32,
    pub received_out_of_hours: u32,
    pub first_response_met: String,
    pub unlock_met: String,
    pub unlocked: u64,
    pub open_breaches: &'a [DigestBreach],
    pub reports_link: String,
}
email!(SlaDigest => SlaDigest);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::{MailTemplates, RenderedEmail};

    fn rendered<E: Email>(email: &E) -> String {
        let templates = MailTemplates::load().expect("templates");
        let RenderedEmail { subject, text, html } = templates
            .render(email, "support@keydesk.example", "https://keydesk.example")
            .unwrap_or_else(|e| panic!("{:?}: {e}", E::KIND));
        format!("Subject: {subject}\n\n----- text -----\n{text}\n----- html -----\n{html}")
    }

    const NAME: &str = "Jane Doe";
    const EMAIL: &str = "jane@acme.test";

    #[test]
    fn account_locked() {
        let email = AccountLocked {
            full_name: NAME,
            email: EMAIL,
            locked_at: "2026-11-24 09:15".into(),
            max_failed_attempts: 5,
        };
        insta::assert_snapshot!(rendered(&email));
    }

    #[test]
    fn account_locked_admin() {
        insta::assert_snapshot!(rendered(&AccountLockedAdmin {
            full_name: NAME,
            email: EMAIL,
            locked_at: "2026-11-24 09:15".into(),
            max_failed_attempts: 5,
            organisation: "Acme Clinic",
            unlock_link: "https://keydesk.example/org/users/7/unlock".into(),
            may_unlock: true,
            owner_name: Some("Olive Owner"),
        }));
    }

    #[test]
    fn account_locked_admin_under_owner_pin() {
        insta::assert_snapshot!(rendered(&AccountLockedAdmin {
            full_name: NAME,
            email: EMAIL,
            locked_at: "2026-11-24 09:15".into(),
            max_failed_attempts: 5,
            organisation: "Acme Clinic",
            unlock_link: "https://keydesk.example/org/users/7/unlock".into(),
            may_unlock: false,
            owner_name: Some("Olive Owner"),
        }));
    }

    #[test]
    fn sign_in_address_changed() {
        insta::assert_snapshot!(rendered(&SignInAddressChanged {
            full_name: NAME,
            old_email: EMAIL,
            new_email: "jane.doe@acme.test",
            changed_by: "Olive Owner (owner@acme.test)",
            organisation: "Acme Clinic",
        }));
    }

    #[test]
    fn account_unlocked() {
        insta::assert_snapshot!(rendered(&AccountUnlocked {
            full_name: NAME,
            email: EMAIL,
            forgot_password_link: "https://keydesk.example/forgot-password".into(),
        }));
    }

    #[test]
    fn password_reset() {
        insta::assert_snapshot!(rendered(&PasswordReset {
            full_name: NAME,
            email: EMAIL,
            reset_link: "https://keydesk.example/reset-password/TOKEN".into(),
            valid_for: "1h".into(),
        }));
    }

    #[test]
    fn unlock_pin() {
        insta::assert_snapshot!(rendered(&UnlockPin { full_name: NAME, pin: "042917" }));
    }

    #[test]
    fn ticket_acknowledgement_while_open_with_everything_given() {
        insta::assert_snapshot!(rendered(&TicketAcknowledgement {
            number: TicketNumber(42),
            subject: "Locked out",
            full_name: Some(NAME),
            missing_name: false,
            missing_email: false,
            support_hours: "Monday to Friday, 9:00–17:00 (Europe/London)".into(),
            next_opening: None,
        }));
    }

    #[test]
    fn ticket_acknowledgement_while_closed_asking_for_details() {
        insta::assert_snapshot!(rendered(&TicketAcknowledgement {
            number: TicketNumber(43),
            subject: "help <urgent>",
            full_name: None,
            missing_name: true,
            missing_email: true,
            support_hours: "Monday to Friday, 9:00–17:00 (Europe/London)".into(),
            next_opening: Some("Monday 23 November at 09:00 (Europe/London)".into()),
        }));
    }

    #[test]
    fn ticket_reply() {
        insta::assert_snapshot!(rendered(&TicketReply {
            number: TicketNumber(42),
            subject: "Locked out",
            body: "Could you tell us the name of your clinic?\n\nThanks & regards",
            agent_name: "Agnes Agent",
        }));
    }

    #[test]
    fn privileged_unlock_notice() {
        insta::assert_snapshot!(rendered(&PrivilegedUnlockNotice {
            full_name: "Olive Owner",
            email: "owner@acme.test",
            role: "owner",
            organisation: "Acme Clinic",
            agent_name: "Agnes Agent",
            ticket: TicketNumber(42),
            activities_link: "https://keydesk.example/activities".into(),
        }));
    }

    #[test]
    fn mailbox_challenge() {
        insta::assert_snapshot!(rendered(&MailboxChallenge {
            number: TicketNumber(42),
            full_name: NAME,
            email: EMAIL,
            confirm_link: "https://keydesk.example/confirm/TOKEN".into(),
            valid_for: "24 hours".into(),
        }));
    }

    #[test]
    fn sla_alert_due_soon() {
        insta::assert_snapshot!(rendered(&SlaAlert {
            ticket: TicketNumber(42),
            subject: "Locked out",
            target: "First response",
            breached: false,
            words: "Reply due in 12 min (business time)".into(),
            target_words: "1 h 00 min".into(),
            next_step: "Needs verification".into(),
            ticket_link: "https://keydesk.example/tickets/42".into(),
        }));
    }

    #[test]
    fn sla_alert_breached() {
        insta::assert_snapshot!(rendered(&SlaAlert {
            ticket: TicketNumber(42),
            subject: "Locked out",
            target: "Unlock",
            breached: true,
            words: "Unlock overdue by 5 min".into(),
            target_words: "4 h 00 min".into(),
            next_step: "Needs approval".into(),
            ticket_link: "https://keydesk.example/tickets/42".into(),
        }));
    }

    #[test]
    fn sla_digest() {
        let breaches = [DigestBreach {
            ticket: TicketNumber(40),
            subject: "Cannot sign in".into(),
            words: "Reply overdue by 2 h 5 min".into(),
        }];
        insta::assert_snapshot!(rendered(&SlaDigest {
            day: "Monday 23 November 2026",
            received: 12,
            received_out_of_hours: 3,
            first_response_met: "92%".into(),
            unlock_met: "75%".into(),
            unlocked: 8,
            open_breaches: &breaches,
            reports_link: "https://keydesk.example/reports".into(),
        }));
    }
}
