//! Intake's throughput over IMAP: 3,000 locked users' emails of about 1.5 KB each, from 3,000
//! different senders (each a new ticket with its acknowledgement queued: the heaviest path),
//! appended to a fresh Dovecot mailbox, then taken in by one `intake once` pass. Beside the
//! floors (2,000 msg/s on SQLite, 1,000 on PostgreSQL) and a bare IMAP client fetching the
//! same mailbox in the same run; then every statement one more such message costs, filed on
//! its own (on PostgreSQL each is a round trip). Run with `cargo bench --bench intake_throughput` through the
//! test environment (scripts/lib/mailstack.sh starts Dovecot; KEYDESK_IMAP_* name it).

mod common;

use common::{drop_bench_databases, fresh_postgres_database, statements};
use keydesk::app::Services;
use keydesk::config::{Config, IntakeSourceKind, Secret, SmtpSecurity};
use keydesk::intake::{take_in_batch, RawMessage};
use std::time::Instant;

const MESSAGES: usize = 3_000;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run through scripts/lib/mailstack.sh"))
}

fn imap_session() -> imap::Session<imap::Connection> {
    imap::ClientBuilder::new(env("KEYDESK_IMAP_HOST"), env("KEYDESK_IMAP_PORT").parse().unwrap())
        .mode(imap::ConnectionMode::Plaintext)
        .connect()
        .unwrap()
        .login("support@keydesk.test", env("KEYDESK_MAIL_PASSWORD"))
        .map_err(|(e, _)| e)
        .unwrap()
}

/// A plain request of about 1.5 KB, as a locked user writes it.
fn message(n: usize) -> Vec<u8> {
    let filler = "I have tried my password several times this morning and now the sign-in page says my \
                  account is locked. I need it for today's clinic list, so I would be grateful for a quick unlock. ";
    format!(
        "From: Person {n} <person{n}@acme.test>\r\nTo: support@keydesk.test\r\nSubject: Account locked ({n})\r\n\
         Date: Sat, 05 Dec 2026 09:00:00 +0000\r\nMessage-ID: <request-{n}@acme.test>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nHello support,\r\n\r\nFull name: Person {n}\r\n\
         Registered email: person{n}@acme.test\r\nIssue: {filler}{filler}{filler}{filler}{filler}{filler}\r\n\r\n\
         Thank you,\r\nPerson {n}\r\n"
    )
    .into_bytes()
}

/// A new mailbox holding the messages.
fn filled_mailbox() -> String {
    let mailbox = format!("bench{}", &keydesk_core::PlainToken::generate().expose()[..10]);
    let mut session = imap_session();
    session.create(&mailbox).unwrap();
    for n in 0..MESSAGES {
        session.append(&mailbox, &message(n)).finish().unwrap();
    }
    let _ = session.logout();
    mailbox
}

/// The bare client: every message's body, in one FETCH; messages per second.
fn bare_fetch(mailbox: &str) -> f64 {
    let mut session = imap_session();
    session.examine(mailbox).unwrap();
    let started = Instant::now();
    let fetched = session.fetch("1:*", "BODY.PEEK[]").unwrap();
    let took = started.elapsed();
    assert_eq!(fetched.len(), MESSAGES);
    MESSAGES as f64 / took.as_secs_f64()
}

fn config(database_url: &str, mailbox: &str) -> Config {
    let mut config = Config { database_url: database_url.to_owned(), ..Default::default() };
    config.intake.source = IntakeSourceKind::Imap;
    config.intake.host = env("KEYDESK_IMAP_HOST");
    config.intake.port = env("KEYDESK_IMAP_PORT").parse().unwrap();
    config.intake.security = SmtpSecurity::None;
    config.intake.username = "support@keydesk.test".into();
    config.intake.password = Some(Secret(env("KEYDESK_MAIL_PASSWORD")));
    config.intake.mailbox = mailbox.to_owned();
    config.intake.background = false;
    config.mail.background_sender = false;
    config.sla.background_checks = false;
    config
}

async fn intake(database_url: &str, mailbox: &str) -> f64 {
    let services = keydesk::open_services(config(database_url, mailbox)).unwrap();
    let started = Instant::now();
    let summary = keydesk::intake::worker::run_once(&services).await.unwrap();
    let took = started.elapsed();
    assert_eq!(summary.new_tickets, MESSAGES, "{summary}");
    trace_one_more(&services).await;
    MESSAGES as f64 / took.as_secs_f64()
}

/// Every statement one more new ticket costs, filed in a batch of its own (so the batch's
/// BEGIN and COMMIT are in it too).
async fn trace_one_more(services: &Services) {
    let arrived = chrono::Utc::now().naive_utc();
    let raw = RawMessage::whole("bench:trace".into(), "one-more".into(), arrived, message(MESSAGES));
    statements::start();
    let started = Instant::now();
    services.run(move |conn, services| take_in_batch(conn, services, &[raw])).await.unwrap();
    statements::print("one more message", &statements::stop(), started.elapsed());
}

#[rocket::main]
async fn main() {
    statements::install();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = dir.path().join("intake.sqlite").display().to_string();
    println!("Intake over IMAP: {MESSAGES} emails of ~1.5 KB, each a new ticket with its acknowledgement.");
    for (backend, floor) in [("SQLite", 2_000.0), ("PostgreSQL", 1_000.0)] {
        let mailbox = filled_mailbox();
        // Made just before it is used: another bench may clear the server's bench databases.
        let url = if backend == "SQLite" { sqlite.clone() } else { fresh_postgres_database() };
        let url = url.as_str();
        let bare = bare_fetch(&mailbox);
        let rate = intake(url, &mailbox).await;
        let verdict = if rate >= floor { "meets" } else { "BELOW" };
        println!(
            "{backend:<10} {rate:>7.0} msg/s  (floor {floor:.0}: {verdict})  — {:.2} s for {MESSAGES}; \
             a bare IMAP fetch of the same mailbox: {bare:.0} msg/s",
            MESSAGES as f64 / rate
        );
    }
    drop_bench_databases();
}
