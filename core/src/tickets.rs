//! What can happen to a ticket: the kinds of its history rows. The history is the source of
//! truth for the queue's ages and for every report figure, so each kind is named once here.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketEventKind {
    /// A new ticket opened from an email.
    Received,
    /// The automatic acknowledgement was queued.
    Acknowledged,
    /// At intake: the From header is the registered address, but our receiving server
    /// reported that its authentication failed.
    SpoofSuspected,
    UserReplied,
    /// The user wrote again after the ticket was resolved.
    Reopened,
    Assigned,
    Note,
    AgentReplied,
    WaitingOnUser,
    ChallengeSent,
    MailboxConfirmed,
    Verified,
    Unlocked,
    Resolved,
}

impl TicketEventKind {
    pub const ALL: [TicketEventKind; 14] = [
        TicketEventKind::Received,
        TicketEventKind::Acknowledged,
        TicketEventKind::SpoofSuspected,
        TicketEventKind::UserReplied,
        TicketEventKind::Reopened,
        TicketEventKind::Assigned,
        TicketEventKind::Note,
        TicketEventKind::AgentReplied,
        TicketEventKind::WaitingOnUser,
        TicketEventKind::ChallengeSent,
        TicketEventKind::MailboxConfirmed,
        TicketEventKind::Verified,
        TicketEventKind::Unlocked,
        TicketEventKind::Resolved,
    ];

    /// As stored in `ticket_events.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            TicketEventKind::Received => "received",
            TicketEventKind::Acknowledged => "acknowledged",
            TicketEventKind::SpoofSuspected => "spoof_suspected",
            TicketEventKind::UserReplied => "user_replied",
            TicketEventKind::Reopened => "reopened",
            TicketEventKind::Assigned => "assigned",
            TicketEventKind::Note => "note",
            TicketEventKind::AgentReplied => "agent_replied",
            TicketEventKind::WaitingOnUser => "waiting_on_user",
            TicketEventKind::ChallengeSent => "challenge_sent",
            TicketEventKind::MailboxConfirmed => "mailbox_confirmed",
            TicketEventKind::Verified => "verified",
            TicketEventKind::Unlocked => "unlocked",
            TicketEventKind::Resolved => "resolved",
        }
    }

    /// How the ticket page's history names it.
    pub fn label(self) -> &'static str {
        match self {
            TicketEventKind::Received => "Received",
            TicketEventKind::Acknowledged => "Acknowledged",
            TicketEventKind::SpoofSuspected => "Spoof suspected",
            TicketEventKind::UserReplied => "The user replied",
            TicketEventKind::Reopened => "Reopened",
            TicketEventKind::Assigned => "Assigned",
            TicketEventKind::Note => "Internal note",
            TicketEventKind::AgentReplied => "Replied to the user",
            TicketEventKind::WaitingOnUser => "Waiting on the user",
            TicketEventKind::ChallengeSent => "Mailbox challenge sent",
            TicketEventKind::MailboxConfirmed => "Mailbox confirmed",
            TicketEventKind::Verified => "Verified",
            TicketEventKind::Unlocked => "Account unlocked",
            TicketEventKind::Resolved => "Resolved",
        }
    }

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
}

impl fmt::Display for TicketEventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown ticket event kind {0:?}")]
pub struct UnknownTicketEventKind(pub String);

impl FromStr for TicketEventKind {
    type Err = UnknownTicketEventKind;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        TicketEventKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .ok_or_else(|| UnknownTicketEventKind(text.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_stored_name() {
        for kind in TicketEventKind::ALL {
            assert_eq!(kind.as_str().parse::<TicketEventKind>(), Ok(kind));
        }
        assert!("unlock".parse::<TicketEventKind>().is_err());
    }
}
