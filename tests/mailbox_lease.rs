//! One lease per mailbox, whatever the configuration's spelling: processes configured with
//! two spellings of one mailbox take turns instead of reading it side by side (the ledger
//! keys a message by its source as configured, so they would each take every message in).

mod common;

use common::{Backend, TestDatabase};
use keydesk::app::Services;
use keydesk::config::{Config, IntakeSourceKind};
use keydesk::intake::lease::MailboxLease;

fn process(database_url: &str, source: impl FnOnce(&mut Config)) -> Services {
    let mut config = Config { database_url: database_url.to_owned(), ..Default::default() };
    config.intake.background = false;
    config.mail.background_sender = false;
    config.sla.background_checks = false;
    source(&mut config);
    keydesk::open_services(config).unwrap()
}

fn imap(user: &str, host: &str, mailbox: &str) -> impl FnOnce(&mut Config) {
    let (user, host, mailbox) = (user.to_owned(), host.to_owned(), mailbox.to_owned());
    move |config| {
        config.intake.source = IntakeSourceKind::Imap;
        config.intake.username = user;
        config.intake.host = host;
        config.intake.port = 993;
        config.intake.mailbox = mailbox;
    }
}

fn maildir(dir: std::path::PathBuf) -> impl FnOnce(&mut Config) {
    move |config| {
        config.intake.source = IntakeSourceKind::Maildir;
        config.intake.dir = dir;
    }
}

#[test]
fn two_spellings_of_one_mailbox_share_its_lease_on_both_databases() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let dir = tempfile::tempdir().unwrap();
        let database = TestDatabase::create(backend, dir.path());
        let first = process(&database.url, imap("support@keydesk.test", "mail.example.org", "INBOX"));
        let second = process(&database.url, imap("Support@Keydesk.test", "Mail.Example.ORG.", "inbox"));
        let other = process(&database.url, imap("support@keydesk.test", "mail.example.org", "Locked"));

        let held = MailboxLease::take(&first).unwrap().expect("the first process takes the lease");
        assert!(MailboxLease::take(&second).unwrap().is_none(), "the same mailbox, spelt otherwise, waits");
        let other_held = MailboxLease::take(&other).unwrap();
        assert!(other_held.is_some(), "another mailbox is another lease");

        held.release();
        assert!(MailboxLease::take(&second).unwrap().is_some(), "once released, the other spelling takes it");
    }
}

#[test]
fn a_maildir_reached_through_a_symlink_is_the_same_maildir() {
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::create(Backend::Sqlite, dir.path());
    let intake = dir.path().join("intake");
    common::intake::empty_maildir(&intake);
    let link = dir.path().join("intake-link");
    std::os::unix::fs::symlink(&intake, &link).unwrap();
    let direct = process(&database.url, maildir(intake));
    let linked = process(&database.url, maildir(link));
    let _held = MailboxLease::take(&direct).unwrap().expect("taken");
    assert!(MailboxLease::take(&linked).unwrap().is_none(), "one folder, one lease");
}
