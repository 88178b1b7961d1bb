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
mod opening;
mod pipeline;
mod quarantine;
mod together;
pub mod worker;

pub use pipeline::{take_in, take_in_batch, IntakeOutcome, RawMessage};
pub use quarantine::{discard_quarantined, quarantine_after_failure, reprocess_quarantined};

use std::fmt;

/// The most messages filed in one transaction, and about the most bytes read for one batch.
const BATCH_MESSAGES: usize = 200;
/// The most of an oversized message that is read, from a Maildir or over IMAP: enough for any
/// sane header block (a header block the sender made larger is cut, and quarantined so).
const HEADER_READ_LIMIT: u64 = 256 * 1024;
const BATCH_BYTES: u64 = 16 * 1024 * 1024;

/// Cuts a source's messages into batches, given what reading each costs in bytes: at most
/// `BATCH_MESSAGES` messages and about `BATCH_BYTES` each (never fewer than one message), so
/// a batch's memory stays bounded whatever the senders send. Index ranges into the messages.
pub(crate) fn batch_ranges(costs: impl IntoIterator<Item = u64>) -> Vec<std::ops::Range<usize>> {
    let mut batches = Vec::new();
    let (mut start, mut end, mut bytes) = (0, 0, 0);
    for cost in costs {
        if end > start && (end - start == BATCH_MESSAGES || bytes + cost > BATCH_BYTES) {
            batches.push(start..end);
            (start, bytes) = (end, 0);
        }
        bytes += cost;
        end += 1;
    }
    if end > start {
        batches.push(start..end);
    }
    batches
}

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

#[cfg(test)]
mod tests {
    use super::{batch_ranges, BATCH_BYTES, BATCH_MESSAGES};

    #[test]
    fn batches_are_bounded_by_count_and_by_bytes_and_never_empty() {
        assert_eq!(batch_ranges(vec![1; 450]), vec![0..200, 200..400, 400..450]);
        let half = BATCH_BYTES / 2;
        assert_eq!(batch_ranges([half, half, 1, BATCH_BYTES * 3, 1]), vec![0..2, 2..3, 3..4, 4..5]);
        assert!(batch_ranges(Vec::<u64>::new()).is_empty());
        assert_eq!(batch_ranges(vec![0; BATCH_MESSAGES]).len(), 1);
    }
}
