//! Where a ticket stands, and which way each message of its thread went.

crate::stored_as_text! {
    /// A ticket's status. New until someone works it; resolved and closed are the ends
    /// (a resolved ticket reopens when the user writes again).
    pub enum TicketStatus / UnknownTicketStatus ("ticket status") {
        New = "new", "New";
        Open = "open", "Open";
        WaitingOnUser = "waiting_on_user", "Waiting on user";
        Resolved = "resolved", "Resolved";
        Closed = "closed", "Closed";
    }
}

impl TicketStatus {
    /// What still needs someone: the queue's default view.
    pub const UNRESOLVED: [TicketStatus; 3] = [TicketStatus::New, TicketStatus::Open, TicketStatus::WaitingOnUser];
    /// The ends of a ticket's life.
    pub const RESOLVED: [TicketStatus; 2] = [TicketStatus::Resolved, TicketStatus::Closed];

    pub fn is_resolved(self) -> bool {
        TicketStatus::RESOLVED.contains(&self)
    }
}

crate::stored_as_text! {
    /// Which way a message of a ticket's thread went.
    pub enum MessageDirection / UnknownMessageDirection ("message direction") {
        /// From the user (or whoever wrote in) to support.
        In = "in", "From the user";
        /// From support to the user.
        Out = "out", "From support";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_back_from_their_stored_names_and_split_into_open_and_resolved() {
        for status in TicketStatus::ALL {
            assert_eq!(status.as_str().parse::<TicketStatus>(), Ok(status));
            assert_eq!(status.is_resolved(), !TicketStatus::UNRESOLVED.contains(&status), "{status}");
        }
        assert_eq!(TicketStatus::WaitingOnUser.label(), "Waiting on user");
        assert!("Resolved".parse::<TicketStatus>().is_err());
        assert_eq!(MessageDirection::try_from("in".to_owned()), Ok(MessageDirection::In));
    }
}
