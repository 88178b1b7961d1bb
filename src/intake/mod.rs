//! Mail intake: raw messages from a source (Maildir, IMAP) become tickets, exactly once.
//!
//! `take_in` is the one door (`pipeline`): it reads the message first, outside any
//! transaction, then in one short transaction records it in the intake ledger (unique per
//! source and key, and recognised by its bytes under any key) and files it — quarantined,
//! machine mail (never answered; attached to its ticket when it is a bounce or an
//! auto-reply), a thread, or a new ticket with its acknowledgement (`filing`). A source marks
//! a message done (moves it to cur/, sets \Seen) only after that commit; one that fails to
//! file is quarantined on its own (`quarantine`), so it never holds up the next. Sources hand
//! messages over in batches (`take_in_batch`): one transaction, one commit, for up to a few
//! hundred, each in a savepoint of its own.

mod filing;
pub mod health;
pub mod imap;
pub mod lease;
mod machine_mail;
pub mod maildir;
mod pipeline;
mod quarantine;
pub mod worker;

pub use pipeline::{take_in, take_in_batch, IntakeOutcome, RawMessage};
pub use quarantine::{discard_quarantined, quarantine_after_failure, reprocess_quarantined};

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
    /// Entries of the source that are not messages (a directory, a symlink, a bad name):
    /// left where they are and reported on /intake.
    pub skipped: usize,
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
            "fetched {}, new tickets {}, threaded {}, ignored {}, quarantined {}, duplicates {}, skipped {}",
            self.fetched,
            self.new_tickets,
            self.threaded,
            self.ignored,
            self.quarantined,
            self.duplicates,
            self.skipped
        )
    }
}
