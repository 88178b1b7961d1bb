//! What Keydesk sends: the kinds of email, and how each is marked so that machines do not
//! answer it.

crate::stored_as_text! {
    /// Which email, named as its templates are (and stored in `outbox.kind`).
    pub enum EmailKind / UnknownEmailKind ("email kind") {
        AccountLocked = "account_locked", "Account locked";
        AccountLockedAdmin = "account_locked_admin", "Account locked (to the organisation)";
        AccountUnlocked = "account_unlocked", "Account unlocked";
        PasswordReset = "password_reset", "Password reset";
        UnlockPin = "unlock_pin", "Unlock PIN";
        TicketAcknowledgement = "ticket_acknowledgement", "Ticket acknowledgement";
        /// An agent's own words to the user: a person wrote it, so no Auto-Submitted.
        TicketReply = "ticket_reply", "Reply from support";
        MailboxChallenge = "mailbox_challenge", "Mailbox challenge";
        /// To an organisation's owner (or admins) when support unlocked its owner or an admin.
        PrivilegedUnlocked = "privileged_unlocked", "Privileged account unlocked by support";
        /// To the agents (80% of a target used) or the managers (breached).
        SlaAlert = "sla_alert", "Service-level alert";
        /// To each manager, once a day when enabled.
        SlaDigest = "sla_digest", "Daily service-level digest";
        /// To a user's former address when their sign-in address changed.
        SignInAddressChanged = "sign_in_address_changed", "Sign-in address changed";
    }
}

impl EmailKind {
    /// Whether its body holds a one-time secret (a reset link, a PIN, a challenge's link): such
    /// a body is kept only until the message has gone (or was given up), so the database and
    /// its backups hold no working secret.
    pub fn carries_a_secret(self) -> bool {
        matches!(self, EmailKind::PasswordReset | EmailKind::UnlockPin | EmailKind::MailboxChallenge)
    }

    /// RFC 3834: every message Keydesk sends on its own carries Auto-Submitted, so that
    /// auto-responders do not answer it and loops cannot start.
    pub fn auto_submitted(self) -> Option<&'static str> {
        match self {
            EmailKind::TicketAcknowledgement => Some("auto-replied"),
            EmailKind::TicketReply => None,
            _ => Some("auto-generated"),
        }
    }
}
