//! A ticket's life as pure functions: which status each action leads to, and which actions
//! a status refuses, with the words the agent reads. The application asks these and stores
//! what they answer; the demo history is folded through the same functions.

use super::{TicketEventKind, TicketStatus};

/// A change of status an action asks for (`from == to` when the status stays).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub from: TicketStatus,
    pub to: TicketStatus,
}

impl Transition {
    fn to(from: TicketStatus, to: TicketStatus) -> Transition {
        Transition { from, to }
    }

    fn stay(at: TicketStatus) -> Transition {
        Transition { from: at, to: at }
    }

    /// Whether the status must be written.
    pub fn changes(self) -> bool {
        self.from != self.to
    }

    /// A resolved ticket opened again (the history records "Reopened").
    pub fn reopens(self) -> bool {
        self.from.is_resolved() && !self.to.is_resolved()
    }
}

/// Why an action does not apply to the ticket as it stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TicketRefusal {
    #[error("the ticket is {} already", .0.label().to_lowercase())]
    AlreadyResolved(TicketStatus),
}

/// An agent takes (or is assigned) the ticket: a new ticket becomes open.
pub fn take(from: TicketStatus) -> Transition {
    opened_by_agent(from)
}

/// An agent replies to the user: a new ticket becomes open; a resolved one stays resolved
/// (a follow-up after the unlock does not reopen it).
pub fn agent_replied(from: TicketStatus) -> Transition {
    opened_by_agent(from)
}

fn opened_by_agent(from: TicketStatus) -> Transition {
    match from {
        TicketStatus::New => Transition::to(from, TicketStatus::Open),
        _ => Transition::stay(from),
    }
}

/// The agent waits for the user's answer; nothing to wait for on a resolved ticket.
pub fn wait_on_user(from: TicketStatus) -> Result<Transition, TicketRefusal> {
    match from {
        resolved if resolved.is_resolved() => Err(TicketRefusal::AlreadyResolved(resolved)),
        _ => Ok(Transition::to(from, TicketStatus::WaitingOnUser)),
    }
}

/// The ticket is done (after an unlock, or without one).
pub fn resolve(from: TicketStatus) -> Result<Transition, TicketRefusal> {
    match from {
        resolved if resolved.is_resolved() => Err(TicketRefusal::AlreadyResolved(resolved)),
        _ => Ok(Transition::to(from, TicketStatus::Resolved)),
    }
}

/// The user wrote again: a wait on them ends, and a resolved ticket reopens.
pub fn user_wrote(from: TicketStatus) -> Transition {
    match from {
        TicketStatus::WaitingOnUser | TicketStatus::Resolved | TicketStatus::Closed => {
            Transition::to(from, TicketStatus::Open)
        }
        TicketStatus::New | TicketStatus::Open => Transition::stay(from),
    }
}

/// The status a history leads to, from a new ticket: each event through its transition.
pub fn status_after(history: impl IntoIterator<Item = TicketEventKind>) -> TicketStatus {
    history.into_iter().fold(TicketStatus::New, |status, kind| match kind {
        TicketEventKind::Assigned => take(status).to,
        TicketEventKind::AgentReplied => agent_replied(status).to,
        TicketEventKind::WaitingOnUser => wait_on_user(status).map_or(status, |t| t.to),
        TicketEventKind::Resolved => resolve(status).map_or(status, |t| t.to),
        TicketEventKind::UserReplied | TicketEventKind::Reopened => user_wrote(status).to,
        TicketEventKind::Received
        | TicketEventKind::Acknowledged
        | TicketEventKind::AcknowledgementWithheld
        | TicketEventKind::Bounced
        | TicketEventKind::AutoReplyReceived
        | TicketEventKind::SpoofSuspected
        | TicketEventKind::Note
        | TicketEventKind::ChallengeSent
        | TicketEventKind::MailboxConfirmed
        | TicketEventKind::CodeFailed
        | TicketEventKind::Verified
        | TicketEventKind::Approved
        | TicketEventKind::Unlocked => status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use TicketEventKind as E;
    use TicketStatus::*;

    #[test]
    fn each_action_from_each_status() {
        // (status, take, reply, wait, resolve, user wrote); None = refused.
        let table = [
            (New, Open, Open, Some(WaitingOnUser), Some(Resolved), New),
            (Open, Open, Open, Some(WaitingOnUser), Some(Resolved), Open),
            (WaitingOnUser, WaitingOnUser, WaitingOnUser, Some(WaitingOnUser), Some(Resolved), Open),
            (Resolved, Resolved, Resolved, None, None, Open),
            (Closed, Closed, Closed, None, None, Open),
        ];
        for (from, taken, replied, waiting, resolved, wrote) in table {
            assert_eq!(take(from).to, taken, "take from {from}");
            assert_eq!(agent_replied(from).to, replied, "reply from {from}");
            assert_eq!(wait_on_user(from).ok().map(|t| t.to), waiting, "wait from {from}");
            assert_eq!(resolve(from).ok().map(|t| t.to), resolved, "resolve from {from}");
            assert_eq!(user_wrote(from).to, wrote, "user wrote from {from}");
            assert_eq!(user_wrote(from).reopens(), from.is_resolved(), "reopens from {from}");
        }
    }

    #[test]
    fn refusals_say_where_the_ticket_stands() {
        assert_eq!(resolve(Closed).unwrap_err().to_string(), "the ticket is closed already");
        assert_eq!(wait_on_user(Resolved).unwrap_err().to_string(), "the ticket is resolved already");
    }

    #[test]
    fn a_history_folds_into_its_status() {
        assert_eq!(status_after([E::Received, E::Acknowledged]), New);
        assert_eq!(status_after([E::Received, E::Acknowledged, E::Assigned]), Open);
        assert_eq!(status_after([E::Received, E::Assigned, E::AgentReplied, E::WaitingOnUser]), WaitingOnUser);
        assert_eq!(status_after([E::Received, E::Assigned, E::WaitingOnUser, E::UserReplied]), Open);
        assert_eq!(status_after([E::Received, E::Assigned, E::Verified, E::Unlocked, E::Resolved]), Resolved);
        assert_eq!(status_after([E::Received, E::Unlocked, E::Resolved, E::UserReplied, E::Reopened]), Open);
        assert_eq!(status_after([E::Received, E::Assigned, E::ChallengeSent, E::MailboxConfirmed]), Open);
    }
}
