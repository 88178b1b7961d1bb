//! The outbox's throughput to a local SMTP server: a backlog of 2,000 emails — an outage's or
//! a Monday morning's — sent by one `deliver_due` with 1, 4 and 8 senders side by side, beside
//! the 200 emails/s floor. Two servers: the test mail stack's Postfix (plain SMTP on loopback;
//! it queues each message to disk and delivers it to Dovecot on the same two cores), and an
//! SMTP server in this process that accepts and discards (mailin-embedded), which shows
//! Keydesk's own side alone.
//! Run with `cargo bench --bench outbox` through the test environment (scripts/lib/
//! mailstack.sh starts Postfix; KEYDESK_SMTP_HOST/PORT name it). SQLite and PostgreSQL.

mod common;

use common::{drop_bench_databases, fresh_postgres_database};
use keydesk::config::{Config, MailTransportKind, SmtpSecurity};
use keydesk::mail::sender::{deliver_due, Transport};
use keydesk::store::outbox::{enqueue, NewOutboxMessage};
use keydesk_core::outgoing::EmailKind;
use std::time::{Duration, Instant};

const BACKLOG: usize = 2_000;
const FLOOR_PER_SECOND: f64 = 200.0;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run through scripts/lib/mailstack.sh"))
}

/// An SMTP server that accepts every message and keeps nothing; its port.
fn null_smtp_server() -> u16 {
    #[derive(Clone)]
    struct Accept;
    impl mailin_embedded::Handler for Accept {}
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut server = mailin_embedded::Server::new(Accept);
    server.with_name("null.test").with_num_threads(16).with_tcp_listener(listener);
    std::thread::spawn(move || drop(server.serve()));
    port
}

fn config(database_url: &str, port: u16, connections: u32) -> Config {
    let mut config = Config { database_url: database_url.to_owned(), ..Default::default() };
    config.mail.transport = MailTransportKind::Smtp;
    config.mail.host = env("KEYDESK_SMTP_HOST");
    config.mail.port = port;
    config.mail.security = SmtpSecurity::None;
    config.mail.connections = connections;
    config.mail.background_sender = false;
    config
}

/// Queues the backlog (one transaction) and sends it all; emails per second.
async fn drain(database_url: &str, port: u16, connections: u32, run: &str) -> f64 {
    let config = config(database_url, port, connections);
    let transport = Transport::from_config(&config).unwrap();
    let services = keydesk::open_services(config.clone()).unwrap();
    let run = run.to_owned();
    services
        .run(move |conn, services| {
            let now = services.stored_now();
            keydesk::db::write_transaction(conn, |conn| {
                for n in 0..BACKLOG {
                    let message_id = format!("<bench-{run}-{n}@keydesk.test>");
                    let message = NewOutboxMessage {
                        kind: EmailKind::AccountUnlocked,
                        // A mailbox the test mail stack delivers to.
                        to_address: "jane@acme.test",
                        subject: "Your account has been unlocked",
                        text_body: "Your account has been unlocked. You can sign in again.",
                        html_body: "<p>Your account has been unlocked. You can sign in again.</p>",
                        message_id: &message_id,
                        in_reply_to: None,
                        auto_submitted: Some("auto-generated"),
                    };
                    enqueue(conn, message, now)?;
                }
                Ok::<_, keydesk::app::AppError>(())
            })
        })
        .await
        .unwrap();
    let started = Instant::now();
    let report = deliver_due(&services.db, &config, services.clock.as_ref(), &transport).await.unwrap();
    let took = started.elapsed();
    assert_eq!((report.sent, report.failed), (BACKLOG, 0), "every email accepted");
    BACKLOG as f64 / took.as_secs_f64()
}

fn print(backend: &str, server: &str, connections: u32, rate: f64) {
    let verdict = if rate >= FLOOR_PER_SECOND { "meets" } else { "BELOW" };
    println!(
        "{backend:<10} {server:<8} {connections} sender(s): {rate:>7.0} emails/s  (floor {FLOOR_PER_SECOND:.0}/s: \
         {verdict})  — {BACKLOG} in {:.2} s",
        BACKLOG as f64 / rate
    );
}

#[rocket::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = dir.path().join("outbox.sqlite").display().to_string();
    println!("Outbox: a backlog of {BACKLOG} emails over plain SMTP on loopback.");
    let postfix: u16 = env("KEYDESK_SMTP_PORT").parse().unwrap();
    let null = null_smtp_server();
    for backend in ["SQLite", "PostgreSQL"] {
        // Made just before it is used: another bench may clear the server's bench databases.
        let url = if backend == "SQLite" { sqlite.clone() } else { fresh_postgres_database() };
        let url = url.as_str();
        for (server, port) in [("Postfix", postfix), ("null", null)] {
            for connections in [1, 4, 8] {
                let run = format!("{}-{server}-{connections}", backend.to_lowercase());
                let rate = drain(url, port, connections, &run).await;
                print(backend, server, connections, rate);
                // Let Postfix hand the previous burst to Dovecot before the next.
                rocket::tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }
    drop_bench_databases();
}
