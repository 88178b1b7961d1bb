//! What can happen to a ticket: the kinds of its history rows. The history is the source of
//! truth for the queue's ages and for every report figure, so each kind is named once here.

crate::stored_as_text! {
    pub enum TicketEventKind / UnknownTicketEventKind ("ticket event kind") {
        /// A new ticket opened from an email.
        Received = "received", "Received";
        /// The automatic acknowledgement was queued.
        Acknowledged = "acknowledged", "Acknowledged";
        /// No acknowledgement went out (the sender's flood brake, or mail our server found forged).
        AcknowledgementWithheld = "acknowledgement_withheld", "Acknowledgement not sent";
        /// A bounce of mail Keydesk sent for this ticket: the user may not have been told.
        Bounced = "bounced", "Notification bounced";
        /// An out-of-office or other automatic reply to mail Keydesk sent for this ticket.
        AutoReplyReceived = "auto_reply_received", "Auto-reply received";
        /// At intake: the From header is the registered address, but our receiving server
        /// reported that its authentication failed.
        SpoofSuspected = "spoof_suspected", "Spoof suspected";
        UserReplied = "user_replied", "The user replied";
        /// The user wrote again after the ticket was resolved.
        Reopened = "reopened", "Reopened";
        Assigned = "assigned", "Assigned";
        Note = "note", "Internal note";
        AgentReplied = "agent_replied", "Replied to the user";
        WaitingOnUser = "waiting_on_user", "Waiting on the user";
        ChallengeSent = "challenge_sent", "Mailbox challenge sent";
        MailboxConfirmed = "mailbox_confirmed", "Mailbox confirmed";
        /// On the challenge page, a wrong code from the user's authenticator app.
        CodeFailed = "code_failed", "Authenticator code failed";
        Verified = "verified", "Verified";
        /// A manager approved the unlock (privileged accounts, repeated unlocks).
        Approved = "approved", "Unlock approved";
        Unlocked = "unlocked", "Account unlocked";
        Resolved = "resolved", "Resolved";
    }
}

impl TicketEventKind {
    /// The first human answer to the user: a reply, a verification or the unlock itself
    /// (the automatic acknowledgement is not one).
    pub fn is_first_response(self) -> bool {
        matches!(self, TicketEventKind::AgentReplied | TicketEventKind::Verified | TicketEventKind::Unlocked)
    }

    /// Something an agent did to move the ticket on (a note or taking it is not handling it).
    pub fn is_handling(self) -> bool {
        matches!(
            self,
            TicketEventKind::AgentReplied
                | TicketEventKind::WaitingOnUser
                | TicketEventKind::ChallengeSent
                | TicketEventKind::Verified
                | TicketEventKind::Unlocked
                | TicketEventKind::Resolved
        )
    }

    /// The user acted, which ends a wait on them.
    pub fn is_from_user(self) -> bool {
        matches!(self, TicketEventKind::UserReplied | TicketEventKind::MailboxConfirmed | TicketEventKind::Reopened)
    }

    /// Seen only by staff, never sent to the user.
    pub fn is_internal(self) -> bool {
        self == TicketEventKind::Note
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_stored_name() {
        for kind in TicketEventKind::ALL {
            assert_eq!(kind.as_str().parse::<TicketEventKind>(), Ok(kind));
            assert_eq!(TicketEventKind::try_from(kind.as_str().to_owned()), Ok(kind));
        }
        assert!("unlock".parse::<TicketEventKind>().is_err());
        assert_eq!(TicketEventKind::ALL.len(), 19);
    }
}
