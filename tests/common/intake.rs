//! Mail intake for tests: messages delivered into the Maildir as an MTA does, a pass over
//! it, and what became of them (the ledger, attachments, a ticket's history).
#![allow(dead_code)]

use super::TestApp;
use std::path::{Path, PathBuf};

/// An empty Maildir at `dir` (its new/, cur/ and tmp/), as an MTA would find it.
pub fn empty_maildir(dir: &Path) {
    for folder in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(dir.join(folder)).unwrap();
    }
}

impl TestApp {
    /// Drops a raw message into the intake Maildir's new/, as an MTA would, delivered at the
    /// application's time now (the file's modification time is its arrival). Each delivery
    /// then moves the clock on by a millisecond, so messages dropped one after another
    /// arrive one after another.
    pub fn drop_mail(&self, raw: &str) -> PathBuf {
        self.drop_mail_bytes(raw.replace('\n', "\r\n").as_bytes())
    }

    /// Delivers these exact bytes (no line endings changed).
    pub fn drop_mail_bytes(&self, raw: &[u8]) -> PathBuf {
        let new = self.dir.path().join("intake").join("new");
        std::fs::create_dir_all(&new).unwrap();
        let now = self.now();
        let name = format!(
            "{}.{}.keydesk-test",
            now.timestamp_micros(),
            keydesk_core::PlainToken::generate().expose().get(..8).unwrap()
        );
        let path = new.join(name);
        std::fs::write(&path, raw).unwrap();
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(now.into()).unwrap();
        self.clock.advance(chrono::Duration::milliseconds(1));
        path
    }

    /// One intake pass over the Maildir.
    pub async fn intake_once(&self) -> keydesk::intake::IntakeSummary {
        keydesk::intake::worker::run_once(self.services()).await.expect("intake pass")
    }

    /// The intake ledger's rows with this outcome, newest first.
    pub async fn ledger(
        &self,
        outcome: keydesk_core::intake::LedgerOutcome,
    ) -> Vec<keydesk::store::inbound::LedgerEntry> {
        self.services()
            .run(move |conn, _| Ok(keydesk::store::inbound::with_outcome(conn, outcome, 1000)?))
            .await
            .unwrap()
    }

    /// A ticket's attachments, in thread order.
    pub async fn attachments_of(&self, ticket: keydesk::ids::TicketNumber) -> Vec<keydesk::store::attachments::Listed> {
        self.services().run(move |conn, _| Ok(keydesk::store::attachments::of_ticket(conn, ticket)?)).await.unwrap()
    }

    /// A ticket's history as (label, detail), oldest first.
    pub async fn history_of(&self, ticket: keydesk::ids::TicketNumber) -> Vec<(String, String)> {
        let events = self
            .services()
            .run(move |conn, _| Ok(keydesk::store::ticket_events::of_ticket(conn, ticket)?))
            .await
            .unwrap();
        events.into_iter().map(|e| (e.kind.label().to_owned(), e.detail)).collect()
    }
}
