//! IMAP intake against the real Dovecot when the mailbox does what real ones do: its
//! UIDVALIDITY changes (the folder is recreated or restored and every message comes back
//! under new UIDs) — nothing is taken in twice; and a message over the size limit — only
//! its headers are fetched (RFC822.SIZE first), it is quarantined with them, and it stays
//! on the server for someone to fetch once the limit is raised; and a message the server
//! cannot read — the rest are taken in, it stays unseen on the server and is named on
//! /intake, and it is taken in once the server can read it again.

mod common;

use common::mail_stack::{env, imap_as};
use common::{Backend, TestApp};
use keydesk_core::intake::LedgerOutcome;

on_both_backends!(
    a_uidvalidity_change_takes_nothing_in_twice,
    an_oversized_message_is_never_downloaded_whole,
    a_message_the_server_cannot_read_holds_up_nothing_behind_it,
);

fn support_session() -> imap::Session<imap::Connection> {
    imap_as("support@keydesk.test")
}

async fn imap_app(backend: Backend, mailbox: &str, max_bytes: usize) -> TestApp {
    let mailbox = mailbox.to_owned();
    TestApp::with(backend, move |f| {
        f.merge(("intake.source", "imap"))
            .merge(("intake.host", env("KEYDESK_IMAP_HOST")))
            .merge(("intake.port", env("KEYDESK_IMAP_PORT").parse::<u16>().unwrap()))
            .merge(("intake.security", "none"))
            .merge(("intake.username", "support@keydesk.test"))
            .merge(("intake.password", env("KEYDESK_MAIL_PASSWORD")))
            .merge(("intake.mailbox", mailbox))
            .merge(("intake.max_message_bytes", max_bytes))
            .merge(("intake.background", false))
    })
    .await
}

fn append(session: &mut imap::Session<imap::Connection>, mailbox: &str, raw: &str) {
    session.append(mailbox, raw.replace('\n', "\r\n").as_bytes()).finish().unwrap();
}

const MESSAGES: [&str; 3] = [
    "From: Jane Doe <jane@acme.test>\nSubject: Locked\nMessage-ID: <uv1@acme.test>\n\nName: Jane Doe\nI am locked out.\n",
    "From: Sam <sam@elsewhere.test>\nSubject: no message id here\n\nplease help\n",
    "From: Shop <noreply@shop.test>\nSubject: Your order\nMessage-ID: <uv3@shop.test>\n\nThanks!\n",
];

async fn a_uidvalidity_change_takes_nothing_in_twice(backend: Backend) {
    let mailbox = common::mail_stack::new_support_folder("boundary");
    let mut session = support_session();
    let before = session.select(&mailbox).unwrap().uid_validity;
    for raw in MESSAGES {
        append(&mut session, &mailbox, raw);
    }
    let app = imap_app(backend, &mailbox, 10 * 1024 * 1024).await;
    let first = app.intake_once().await;
    assert_eq!((first.fetched, first.new_tickets, first.ignored), (3, 2, 1), "{first}");
    let acknowledgements = app.mail().await.len();

    // The folder is recreated and the same messages restored: new UIDVALIDITY, new UIDs.
    // (A fresh session: Dovecot ends one whose selected folder is deleted under it.)
    let mut session = support_session();
    session.delete(&mailbox).unwrap();
    session.create(&mailbox).unwrap();
    let after = session.select(&mailbox).unwrap().uid_validity;
    assert_ne!(before, after, "Dovecot gave the recreated folder a new UIDVALIDITY");
    for raw in MESSAGES {
        append(&mut session, &mailbox, raw);
    }
    let again = app.intake_once().await;
    assert_eq!((again.fetched, again.duplicates, again.new_tickets), (3, 3, 0), "{again}");
    assert_eq!(app.tickets().await.len(), 2);
    assert_eq!(app.mail().await.len(), acknowledgements, "nobody is answered twice");
    session.select(&mailbox).unwrap();
    assert!(session.uid_search("UNSEEN").unwrap().is_empty(), "each marked done");
}

async fn an_oversized_message_is_never_downloaded_whole(backend: Backend) {
    let mailbox = common::mail_stack::new_support_folder("boundary");
    let mut session = support_session();
    let big = format!(
        "From: Big <big@sender.test>\nSubject: Huge\nMessage-ID: <huge@sender.test>\n\n{}\n",
        "z".repeat(60_000)
    );
    append(&mut session, &mailbox, &big);
    append(&mut session, &mailbox, MESSAGES[0]);
    // A header block the sender made larger than any sane one: only its first 256 KiB are fetched.
    let padded = format!(
        "From: Pad <pad@sender.test>\nSubject: Padded\nMessage-ID: <pad@sender.test>\n{}\nno body\n",
        "X-Pad: 0123456789012345678901234567890123456789012345678901234567890123456789\n".repeat(9_000)
    );
    append(&mut session, &mailbox, &padded);
    let app = imap_app(backend, &mailbox, 8_192).await;
    let summary = app.intake_once().await;
    assert_eq!((summary.quarantined, summary.new_tickets), (2, 1), "{summary}");

    let mut quarantined = app.ledger(LedgerOutcome::Quarantined).await;
    let pad = quarantined.iter().find(|e| e.subject == "Padded").expect("the padded message").id;
    let (raw, _) =
        app.services().run(move |conn, _| Ok(keydesk::store::inbound::raw(conn, pad)?)).await.unwrap().unwrap();
    assert!(raw.len() <= 256 * 1024, "a header block is read up to 256 KiB: {} bytes", raw.len());
    let entry = quarantined.remove(quarantined.iter().position(|e| e.subject == "Huge").unwrap());
    assert!(!entry.raw_complete && entry.size_bytes > 60_000, "{entry:?}");
    assert_eq!((entry.from_header.as_str(), entry.subject.as_str()), ("Big <big@sender.test>", "Huge"));
    let id = entry.id;
    let (raw, _) =
        app.services().run(move |conn, _| Ok(keydesk::store::inbound::raw(conn, id)?)).await.unwrap().unwrap();
    assert!(raw.len() < 200, "only the headers were fetched: {} bytes", raw.len());
    // Still on the server, whole.
    session.select(&mailbox).unwrap();
    let all = session.uid_search("ALL").unwrap();
    assert_eq!(all.len(), 3, "nothing was deleted");
}

/// Dovecot, asked for a message whose file it cannot read, closes the connection ("BYE
/// FETCH failed: Internal error occurred"), and the batch's one FETCH failed at every pass:
/// nothing in the mailbox was ever taken in again.
async fn a_message_the_server_cannot_read_holds_up_nothing_behind_it(backend: Backend) {
    use std::os::unix::fs::PermissionsExt;
    let mailbox = common::mail_stack::new_support_folder("unreadable");
    let mut session = support_session();
    append(&mut session, &mailbox, MESSAGES[0]);
    append(
        &mut session,
        &mailbox,
        "From: Joe <joe@elsewhere.test>\nSubject: Locked\nMessage-ID: <unreadable@elsewhere.test>\n\nI am locked out.\n",
    );
    append(
        &mut session,
        &mailbox,
        "From: Ann <ann@elsewhere.test>\nSubject: Locked\nMessage-ID: <behind@elsewhere.test>\n\nMe too.\n",
    );
    // Its file in Dovecot's Maildir, made unreadable to Dovecot (as a disk error would).
    let folder =
        std::path::Path::new(&env("KEYDESK_MAILDIR_ROOT")).join("support@keydesk.test").join(format!(".{mailbox}"));
    // Dovecot moves it from new/ to cur/ on its own: looked up again each time.
    let file = || {
        ["new", "cur"]
            .iter()
            .flat_map(|sub| std::fs::read_dir(folder.join(sub)).into_iter().flatten())
            .map(|entry| entry.unwrap().path())
            .find(|path| std::fs::read(path).is_ok_and(|bytes| bytes.windows(10).any(|w| w == b"unreadable")))
            .expect("the message's file")
    };
    let mode = std::fs::metadata(file()).unwrap().permissions().mode();
    std::fs::set_permissions(file(), std::fs::Permissions::from_mode(0o000)).unwrap();

    let app = imap_app(backend, &mailbox, 1024 * 1024).await;
    let summary = app.intake_once().await;
    assert_eq!((summary.fetched, summary.new_tickets, summary.skipped), (2, 2, 1), "{summary}");
    let health = app.services().run(|conn, _| Ok(keydesk::store::inbound::health(conn)?)).await.unwrap();
    let skipped = &health.iter().find(|h| h.source.starts_with("imap")).expect("the IMAP source's health").skipped;
    assert!(skipped.starts_with("UID 2: the server closed the connection on it"), "{skipped}");

    // Readable again: the next pass takes it in, and nothing is named any more.
    std::fs::set_permissions(file(), std::fs::Permissions::from_mode(mode)).unwrap();
    let summary = app.intake_once().await;
    assert_eq!((summary.fetched, summary.new_tickets, summary.skipped), (1, 1, 0), "{summary}");
    assert_eq!(app.tickets().await.len(), 3);
    session.select(&mailbox).unwrap();
    assert!(session.uid_search("UNSEEN").unwrap().is_empty(), "each marked done once taken in");
}
