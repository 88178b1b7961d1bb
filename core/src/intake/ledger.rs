//! What became of each message in the intake ledger.

crate::stored_as_text! {
    /// A ledger row's outcome. Every message taken in ends as exactly one of these; nothing
    /// is deleted, so a discarded or re-processed message keeps its raw bytes and its story.
    pub enum LedgerOutcome / UnknownLedgerOutcome ("intake outcome") {
        /// It opened a new ticket.
        Ticket = "ticket", "New ticket";
        /// It joined an existing ticket's thread.
        Threaded = "threaded", "Added to a ticket";
        /// A machine sent it (auto-reply, bounce, our own mail): no ticket, no reply.
        Ignored = "ignored", "Ignored";
        /// It could not be taken in; kept raw for staff to re-process or discard.
        Quarantined = "quarantined", "Quarantined";
        /// Taken in before.
        Duplicate = "duplicate", "Duplicate";
        /// Quarantined, then discarded by staff (the raw bytes stay).
        Discarded = "discarded", "Discarded";
        /// Quarantined, then taken in again under a new key (this row keeps the original).
        Reprocessed = "reprocessed", "Re-processed";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_read_back_from_their_stored_names() {
        for outcome in LedgerOutcome::ALL {
            assert_eq!(outcome.as_str().parse::<LedgerOutcome>(), Ok(outcome));
        }
        assert_eq!(LedgerOutcome::Ticket.as_str(), "ticket");
    }
}
