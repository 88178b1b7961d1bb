//! Several Keydesk processes on one PostgreSQL behave as one Keydesk: the lockout counts
//! attempts made through any of them; one process at a time reads the support mailbox, and
//! when it is killed mid-pass another takes over with nothing lost or taken in twice; every
//! email goes out exactly once, however slow the SMTP server, and after it has been down —
//! except one a killed process was delivering as it died, which may go out a second time.
//! Real processes (`keydesk serve`), the real Postfix and Dovecot, and an SMTP server of the
//! test's own (`smtp_sink`) that can be slow or down.

mod common;

use common::mail_stack::{new_support_folder, postfix, rocket_intake, send_request};
use common::outbox::queue_unlock_notices;
use common::server::{self, Server};
use common::smtp_sink::SmtpSink;
use common::{wait_until as eventually, Backend, TestDatabase};
use diesel::prelude::*;
use keydesk::db::schema::{outbox, tickets, worker_leases};
use keydesk::db::{DatabaseUrl, DbConnection, DbPool};
use keydesk_core::outgoing::EmailKind;
use std::collections::HashMap;
use std::time::{Duration, Instant};

fn pool(database: &TestDatabase) -> DbPool {
    keydesk::db::connect(&DatabaseUrl::parse(&database.url), 2).unwrap()
}

/// Each process's database pool: three processes in each of four tests at once stay well
/// under PostgreSQL's 100 connections (the default, ten each, would not).
const POOL: (&str, &str) = ("ROCKET_DATABASE_POOL_SIZE", "3");

/// How many times each Message-ID was received.
fn tally(ids: &[String]) -> HashMap<&str, usize> {
    let mut counts = HashMap::new();
    for id in ids {
        *counts.entry(id.trim_matches(['<', '>'])).or_insert(0) += 1;
    }
    counts
}

#[test]
fn fifty_wrong_attempts_across_three_processes_lock_once() {
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::create(Backend::Postgres, dir.path());
    let (services, members) = common::acme_members(&database.url, &["jane@acme.test"]);
    let jane = &members[0];
    let conn = &mut *services.db.pool().get().unwrap();

    let no_throttle = [("ROCKET_THROTTLE", "{max_failures_per_ip=0}"), POOL];
    let servers: Vec<Server> = (0..3).map(|_| server::start(&database.url, dir.path(), &no_throttle)).collect();
    let attempts: Vec<_> = (0..50)
        .map(|n| {
            let server = &servers[n % servers.len()];
            let (agent, token) = server.visitor();
            (agent, token, format!("{}/login", server.base))
        })
        .collect();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(attempts.len()));
    let threads: Vec<_> = attempts
        .into_iter()
        .map(|(agent, token, url)| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                let form =
                    [("csrf_token", token.as_str()), ("email", "jane@acme.test"), ("password", "wrong password")];
                agent.post(&url).send_form(&form).map(|r| r.status()).unwrap_or_else(|e| panic!("{e}"))
            })
        })
        .collect();
    let statuses: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");

    let filter =
        keydesk::store::events::EventFilter { target_user_id: Some(jane.id), limit: 1000, ..Default::default() };
    let actions: Vec<String> =
        keydesk::store::events::list(conn, &filter).unwrap().into_iter().map(|e| e.action.label().to_owned()).collect();
    let count = |name: &str| actions.iter().filter(|a| *a == name).count();
    assert_eq!(count("Account locked"), 1, "{actions:?}");
    assert_eq!(count("Login failed"), 5, "{actions:?}");
    assert_eq!(count("Login failed (locked)"), 45, "{actions:?}");
    let outbox = keydesk::store::outbox::all(conn).unwrap();
    assert_eq!(outbox.iter().filter(|m| m.kind.as_str() == "account_locked").count(), 1, "one lock email");
}

fn count_tickets(conn: &mut DbConnection) -> i64 {
    tickets::table.count().get_result(conn).unwrap()
}

/// The pid in the lease holder's name ("host:pid:random").
fn lease_holder_pid(conn: &mut DbConnection) -> Option<u32> {
    let holder: String = worker_leases::table.select(worker_leases::holder).first(conn).optional().unwrap()?;
    holder.split(':').nth(1)?.parse().ok()
}

#[test]
fn three_processes_take_in_300_emails_once_and_acknowledge_each_once_when_the_reader_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::create(Backend::Postgres, dir.path());
    let mailbox = new_support_folder("box");
    let sink = SmtpSink::start(Duration::ZERO);
    let intake = rocket_intake(&mailbox, ",poll_seconds=30,background=true");
    let mail = sink.rocket_mail("");
    let settings = [("ROCKET_INTAKE", intake.as_str()), ("ROCKET_MAIL", mail.as_str()), POOL];
    let mut servers: Vec<Server> = (0..3).map(|_| server::start(&database.url, dir.path(), &settings)).collect();

    // Mail keeps arriving while the reader is killed: sent from a thread of its own.
    let sent_at = Instant::now();
    let sending = {
        let mailbox = mailbox.clone();
        std::thread::spawn(move || {
            let smtp = postfix();
            (0..300).for_each(|n| send_request(&smtp, &mailbox, n));
        })
    };

    // Kill the process reading the mailbox part of the way through (SIGKILL: no clean-up,
    // its lease left to expire).
    let pool = pool(&database);
    let conn = &mut *pool.get().unwrap();
    assert!(eventually(Duration::from_secs(60), || count_tickets(conn) >= 30), "intake started");
    let holder = lease_holder_pid(conn).expect("a process holds the mailbox's lease");
    let killed_at = Instant::now();
    let taken_at_kill = count_tickets(conn);
    let victim = servers.iter().position(|s| s.child.id() == holder).expect("the holder is one of ours");
    servers[victim].kill();
    servers.remove(victim);
    // What the killed process was sending when it died: rows claimed before the kill and
    // still neither sent nor released once the others have long finished theirs (the SMTP
    // server answers at once). It may have delivered them already, unrecorded: those go out
    // again, with the same Message-ID, once their claim runs out (at least once; README,
    // "Outgoing mail"). No other email may arrive twice.
    let killed_at_utc = chrono::Utc::now().naive_utc();
    std::thread::sleep(Duration::from_secs(5));
    let stranded: Vec<String> = outbox::table
        .filter(outbox::sent_at.is_null())
        .filter(outbox::claimed_until.lt(killed_at_utc + chrono::Duration::minutes(3)))
        .select(outbox::message_id)
        .load(conn)
        .unwrap();
    assert!(stranded.len() <= 4, "at most one claim per SMTP connection (4): {stranded:?}");

    sending.join().unwrap();
    assert!(
        eventually(Duration::from_secs(90), || count_tickets(conn) == 300),
        "all 300 emails became tickets ({} so far)",
        count_tickets(conn)
    );
    let new_holder = lease_holder_pid(conn).unwrap();
    assert_ne!(new_holder, holder, "another process took the mailbox over");
    assert!(servers.iter().any(|s| s.child.id() == new_holder));
    println!(
        "killed the reader at {taken_at_kill} tickets, {:.1?} after sending began; all 300 in {:.1?}",
        killed_at - sent_at,
        sent_at.elapsed()
    );

    let acknowledgements = || {
        outbox::table
            .filter(outbox::kind.eq(EmailKind::TicketAcknowledgement.as_str()))
            .select(outbox::message_id)
            .load::<String>(&mut *pool.get().unwrap())
            .unwrap()
    };
    // An acknowledgement the killed process had claimed waits for its claim to run out (three
    // minutes: longer than any one send may take), then goes out from another process.
    assert!(
        eventually(Duration::from_secs(240), || sink.message_ids().len() >= 300),
        "300 acknowledgements delivered ({} so far)",
        sink.message_ids().len()
    );
    // Anything sent twice would arrive within a few more seconds.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(count_tickets(conn), 300, "no email was taken in twice");
    let queued = acknowledgements();
    assert_eq!(queued.len(), 300, "one acknowledgement per ticket");
    let received = sink.message_ids();
    let counts = tally(&received);
    for id in &queued {
        let times = counts.get(id.trim_matches(['<', '>'])).copied().unwrap_or(0);
        let at_most = if stranded.contains(id) { 2 } else { 1 };
        assert!((1..=at_most).contains(&times), "{id} delivered {times} times (at most {at_most})");
    }
    println!(
        "{} acknowledgements delivered, {} of them in flight when the process died",
        received.len(),
        stranded.len()
    );
}

fn unsent(conn: &mut DbConnection) -> i64 {
    outbox::table.filter(outbox::sent_at.is_null()).count().get_result(conn).unwrap()
}

fn assert_each_delivered_once(sink: &SmtpSink, queued: &[String]) {
    let received = sink.message_ids();
    let counts = tally(&received);
    for id in queued {
        assert_eq!(counts.get(id.trim_matches(['<', '>'])), Some(&1), "{id} delivered exactly once: {counts:?}");
    }
    assert_eq!(received.len(), queued.len(), "nothing else, nothing twice");
}

#[test]
fn a_slow_smtp_server_gets_every_email_exactly_once_from_three_processes() {
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::create(Backend::Postgres, dir.path());
    // A quarter of a second per message, four connections per process.
    let sink = SmtpSink::start(Duration::from_millis(250));
    let mail = sink.rocket_mail(",connections=4");
    let settings = [("ROCKET_MAIL", mail.as_str()), POOL];
    let servers: Vec<Server> = (0..3).map(|_| server::start(&database.url, dir.path(), &settings)).collect();
    let pool = pool(&database);
    let conn = &mut *pool.get().unwrap();
    let started = Instant::now();
    let queued = queue_unlock_notices(conn, 120, "slow");
    assert!(eventually(Duration::from_secs(60), || unsent(conn) == 0), "all sent ({} left)", unsent(conn));
    // Twelve senders at 4 messages/s each would take 2.5 s; one sender alone, 30 s.
    println!("120 emails through a 250 ms/message server from 3 processes in {:.1?}", started.elapsed());
    std::thread::sleep(Duration::from_secs(2));
    assert_each_delivered_once(&sink, &queued);
    drop(servers);
}

#[test]
fn an_smtp_server_down_for_a_minute_delays_a_burst_of_unlock_emails_and_each_arrives_once() {
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::create(Backend::Postgres, dir.path());
    let sink = SmtpSink::start(Duration::from_millis(20));
    let mail = sink.rocket_mail(",connections=4");
    let settings = [("ROCKET_MAIL", mail.as_str()), POOL];
    let servers: Vec<Server> = (0..3).map(|_| server::start(&database.url, dir.path(), &settings)).collect();
    let pool = pool(&database);
    let conn = &mut *pool.get().unwrap();

    sink.set_down(true);
    let queued = queue_unlock_notices(conn, 100, "outage");
    std::thread::sleep(Duration::from_secs(60));
    assert!(sink.message_ids().is_empty(), "nothing gets through while the server refuses");
    let failed: i64 = outbox::table.filter(outbox::attempts.gt(0)).count().get_result(conn).unwrap();
    assert!(failed > 0, "the senders kept trying");
    assert_eq!(unsent(conn), 100, "nothing was given up on");

    sink.set_down(false);
    // max_backoff is 2 s here: every message is tried again within seconds.
    assert!(eventually(Duration::from_secs(60), || unsent(conn) == 0), "all sent ({} left)", unsent(conn));
    std::thread::sleep(Duration::from_secs(2));
    assert_each_delivered_once(&sink, &queued);
    drop(servers);
}

#[test]
fn web_processes_without_the_worker_leave_the_mail_to_a_keydesk_worker() {
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::create(Backend::Postgres, dir.path());
    let sink = SmtpSink::start(Duration::ZERO);
    let mail = sink.rocket_mail("");
    let web =
        server::start(&database.url, dir.path(), &[("ROCKET_MAIL", mail.as_str()), ("ROCKET_WORKER", "false"), POOL]);
    let pool = pool(&database);
    let conn = &mut *pool.get().unwrap();
    let queued = queue_unlock_notices(conn, 5, "split");
    std::thread::sleep(Duration::from_secs(3));
    assert!(sink.message_ids().is_empty(), "a web process with worker = false sends nothing");
    assert!(ureq::get(&format!("{}/login", web.base)).call().is_ok(), "and serves pages");

    let mut worker = std::process::Command::new(server::binary())
        .arg("worker")
        .current_dir(dir.path())
        .env("ROCKET_DATABASE_URL", &database.url)
        .env("ROCKET_DATA_DIR", dir.path().join("data"))
        .env("ROCKET_MAIL", &mail)
        .env("ROCKET_INTAKE", "{source=\"off\"}")
        .env("ROCKET_LOG_LEVEL", "off")
        .env(POOL.0, POOL.1)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    assert!(eventually(Duration::from_secs(30), || unsent(conn) == 0), "the worker sent the mail");
    assert_each_delivered_once(&sink, &queued);

    // systemd's stop: SIGTERM, and the worker ends.
    let _ = std::process::Command::new("kill").args(["-TERM", &worker.id().to_string()]).status();
    let stopped = eventually(Duration::from_secs(10), || worker.try_wait().unwrap().is_some());
    assert!(stopped, "the worker stops on SIGTERM");
    assert!(worker.wait().unwrap().success());
}
