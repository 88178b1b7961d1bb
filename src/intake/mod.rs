//! Mail intake: raw messages from a source (Maildir, IMAP) become tickets, exactly once.
//!
//! `take_in` is the one door: in a single transaction it records the message in the
//! intake ledger (unique per source and source key, so a re-delivery or a restart after a
//! crash is a no-op), then quarantines it, ignores it (auto-replies, bounces, our own mail),
//! threads it onto an existing ticket, or opens a new ticket and queues the acknowledgement.
//! The source marks a message done (moves it to cur/, sets \Seen) only after that commit.

pub mod health;
pub mod imap;
pub mod maildir;
mod pipeline;
pub mod worker;

pub use pipeline::{discard_quarantined, reprocess_quarantined, take_in, IntakeOutcome, RawMessage};

use std::fmt;

/// What one pass over a source did, for `keydesk intake once` and the logs.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct IntakeSummary {
    pub fetched: usize,
    pub new_tickets: usize,
    pub threaded: usize,
    pub ignored: usize,
    pub quarantined: usize,
    pub duplicates: usize,
}

impl IntakeSummary {
    pub fn count(&mut self, outcome: &IntakeOutcome) {
        self.fetched += 1;
        match outcome {
            IntakeOutcome::NewTicket(_) => self.new_tickets += 1,
            IntakeOutcome::Threaded(_) => self.threaded += 1,
            IntakeOutcome::Ignored(_) => self.ignored += 1,
            IntakeOutcome::Quarantined(_) => self.quarantined += 1,
            IntakeOutcome::Duplicate => self.duplicates += 1,
        }
    }
}

impl fmt::Display for IntakeSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "fetched {}, new tickets {}, threaded {}, ignored {}, quarantined {}, duplicates {}",
            self.fetched, self.new_tickets, self.threaded, self.ignored, self.quarantined, self.duplicates
        )
    }
}
