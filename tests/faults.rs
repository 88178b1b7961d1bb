//! Keydesk's processes ride out their servers' restarts: PostgreSQL restarted mid-run (every
//! connection cut) or down while an email is on its way out, and Dovecot restarted while a
//! process IDLEs on the support mailbox. No mail is lost, none is taken in or sent twice, and
//! the processes recover without being restarted. PostgreSQL crashing under logins forgets
//! no lock and leaves no account bricked.
//! (A UIDVALIDITY change is `imap_boundary.rs`'s, a killed reader `several_processes.rs`'s.)
//!
//! These restart the servers every other test uses, so they are ignored in the main run;
//! `scripts/test` runs them alone, one at a time, after everything else.

mod common;

use common::mail_stack::{new_support_folder, postfix, rocket_intake, send_request};
use common::outbox::queue_unlock_notices;
use common::server::{self, Server};
use common::smtp_sink::SmtpSink;
use common::{wait_until as eventually, Backend, TestDatabase};
use diesel::prelude::*;
use keydesk::db::schema::{outbox, tickets};
use keydesk::db::{DatabaseUrl, DbConnection};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Runs one of `scripts/lib`'s functions (restart_postgres, restart_dovecot).
fn script(library: &str, function: &str) {
    let status = Command::new("bash")
        .arg("-c")
        .arg(format!(". scripts/lib/{library}; {function}"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .unwrap();
    assert!(status.success(), "{function} failed");
}

/// A count read on a fresh connection (a restart cuts the old ones); None while the
/// database does not answer.
fn count(url: &str, what: impl Fn(&mut DbConnection) -> QueryResult<i64>) -> Option<i64> {
    let pool = keydesk::db::connect(&DatabaseUrl::parse(url), 1).ok()?;
    let mut conn = pool.get().ok()?;
    what(&mut conn).ok()
}

fn tickets_in(url: &str) -> Option<i64> {
    count(url, |c| tickets::table.count().get_result(c))
}

fn unsent_in(url: &str) -> Option<i64> {
    count(url, |c| outbox::table.filter(outbox::sent_at.is_null()).count().get_result(c))
}

fn drop_requests(new: &Path, from: usize, to: usize) {
    for n in from..to {
        let raw = format!(
            "From: Person {n} <person{n}@acme.test>\r\nTo: support@keydesk.test\r\nSubject: Locked out {n}\r\n\
             Message-ID: <fault-{n}@acme.test>\r\n\r\nMy name is Person {n}, my account person{n}@acme.test is locked.\r\n"
        );
        let tmp = new.parent().unwrap().join("tmp").join(format!("{n:05}.fault"));
        std::fs::write(&tmp, raw).unwrap();
        std::fs::rename(&tmp, new.join(format!("{n:05}.fault"))).unwrap();
    }
}

fn healthy(server: &Server) -> bool {
    ureq::get(&format!("{}/healthz", server.base))
        .call()
        .ok()
        .and_then(|r| r.into_string().ok())
        .is_some_and(|body| body.contains("\"database\":\"ok\""))
}

#[test]
#[ignore = "restarts the shared PostgreSQL: scripts/test runs it alone, after the rest"]
fn postgresql_restarted_mid_run_loses_no_mail_and_the_processes_recover_by_themselves() {
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::create(Backend::Postgres, dir.path());
    let intake = dir.path().join("intake");
    common::intake::empty_maildir(&intake);
    let settings = [
        ("ROCKET_INTAKE", format!("{{source=\"maildir\",dir=\"{}\",poll_seconds=1}}", intake.display())),
        (
            "ROCKET_MAIL",
            format!(
                "{{transport=\"file\",dir=\"{}\",poll_interval=\"1s\",max_backoff=\"2s\"}}",
                dir.path().join("mail").display()
            ),
        ),
    ];
    let settings: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let servers: Vec<Server> = (0..2).map(|_| server::start(&database.url, dir.path(), &settings)).collect();

    drop_requests(&intake.join("new"), 0, 100);
    assert!(eventually(Duration::from_secs(60), || tickets_in(&database.url).unwrap_or(0) >= 20), "intake began");
    script("postgres.sh", "restart_postgres");
    drop_requests(&intake.join("new"), 100, 200);

    assert!(
        eventually(Duration::from_secs(120), || tickets_in(&database.url) == Some(200)),
        "every email became a ticket after the restart ({:?})",
        tickets_in(&database.url)
    );
    assert!(
        eventually(Duration::from_secs(120), || unsent_in(&database.url) == Some(0)),
        "every acknowledgement went out ({:?} left)",
        unsent_in(&database.url)
    );
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(tickets_in(&database.url), Some(200), "none twice");
    let acknowledgements = count(&database.url, |c| outbox::table.count().get_result(c)).unwrap();
    assert_eq!(acknowledgements, 200, "one acknowledgement each");
    let written = std::fs::read_dir(dir.path().join("mail"))
        .unwrap()
        .filter(|e| e.as_ref().is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".eml")));
    assert_eq!(written.count(), 200, "each written once");
    assert_eq!(std::fs::read_dir(intake.join("new")).unwrap().count(), 0, "nothing left behind");
    for server in &servers {
        assert!(eventually(Duration::from_secs(30), || healthy(server)), "{} recovered without a restart", server.base);
        let login = ureq::get(&format!("{}/login", server.base)).call().unwrap();
        assert_eq!(login.status(), 200);
    }
}

/// Whether the one outbox row is claimed by a sender (its send under way).
fn claimed_in(url: &str) -> bool {
    count(url, |c| outbox::table.filter(outbox::claimed_until.is_not_null()).count().get_result(c)) == Some(1)
}

#[test]
#[ignore = "stops the shared PostgreSQL: scripts/test runs it alone, after the rest"]
fn postgresql_down_while_an_email_is_in_flight_records_it_sent_once_back_and_sends_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::create(Backend::Postgres, dir.path());
    // Four seconds over each message: time to take the database away mid-send.
    let sink = SmtpSink::start(Duration::from_secs(4));
    let mail = sink.rocket_mail(",connections=1");
    let server = server::start(&database.url, dir.path(), &[("ROCKET_MAIL", mail.as_str())]);
    let queued = {
        let pool = keydesk::db::connect(&DatabaseUrl::parse(&database.url), 1).unwrap();
        queue_unlock_notices(&mut pool.get().unwrap(), 1, "in-flight")
    };
    assert!(eventually(Duration::from_secs(30), || claimed_in(&database.url)), "the sender claimed it");
    script("postgres.sh", "stop_postgres");
    // The server accepts the message while the database is down, so its delivery cannot be
    // recorded yet; the database stays away a few seconds longer.
    assert!(eventually(Duration::from_secs(30), || !sink.message_ids().is_empty()), "delivered");
    std::thread::sleep(Duration::from_secs(3));
    script("postgres.sh", "start_postgres");
    let back = Instant::now();
    // Well inside the 3-minute claim: the sender kept the delivery and recorded it, rather than
    // leaving the message to be sent again when its claim ran out.
    assert!(
        eventually(Duration::from_secs(30), || unsent_in(&database.url) == Some(0)),
        "recorded as sent once the database was back ({:?} unsent)",
        unsent_in(&database.url)
    );
    println!("delivery recorded {:.1?} after the database came back", back.elapsed());
    std::thread::sleep(Duration::from_secs(3));
    let received = sink.message_ids();
    assert_eq!(received, vec![queued[0].trim_matches(['<', '>']).to_owned()], "sent exactly once");
    assert!(eventually(Duration::from_secs(30), || healthy(&server)), "recovered without a restart");
}

#[test]
#[ignore = "restarts the shared Dovecot: scripts/test runs it alone, after the rest"]
fn dovecot_restarted_while_a_process_idles_takes_every_email_in_once() {
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::create(Backend::Postgres, dir.path());
    let mailbox = new_support_folder("box");
    let intake = rocket_intake(&mailbox, ",poll_seconds=2");
    let server = server::start(&database.url, dir.path(), &[("ROCKET_INTAKE", intake.as_str())]);
    let smtp = postfix();
    let send = |from: usize, to: usize| (from..to).for_each(|n| send_request(&smtp, &mailbox, n));
    send(0, 50);
    assert!(eventually(Duration::from_secs(60), || tickets_in(&database.url).unwrap_or(0) >= 10), "intake began");
    script("mailstack.sh", "restart_dovecot");
    send(50, 100);
    assert!(
        eventually(Duration::from_secs(120), || tickets_in(&database.url) == Some(100)),
        "every email became a ticket after Dovecot's restart ({:?})",
        tickets_in(&database.url)
    );
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(tickets_in(&database.url), Some(100), "none twice");
    assert!(healthy(&server));
}

/// PostgreSQL crashing (an immediate stop: no checkpoint, and the commits not yet flushed are
/// lost) while logins run. A login's count and outcome commit without waiting for the disk,
/// so the crash may forget the last of them, but never a lock: an account is never left at
/// the limit without a lock, never locked without its "Account locked" entry, and a session
/// never outlives its "Login succeeded" entry. Afterwards every account not locked signs in.
#[test]
#[ignore = "crashes the shared PostgreSQL: scripts/test runs it alone, after the rest"]
fn postgresql_crashing_under_logins_forgets_no_lock_and_bricks_no_account() {
    use keydesk::db::schema::{events, sessions, users};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::create(Backend::Postgres, dir.path());
    let emails: Vec<String> = (0..12).map(|n| format!("person{n}@acme.test")).collect();
    let (services, _) = common::acme_members(&database.url, &emails.iter().map(String::as_str).collect::<Vec<_>>());
    let settings = [("ROCKET_THROTTLE", "{max_failures_per_ip=0}"), ("ROCKET_DATABASE_POOL_SIZE", "4")];
    let server = server::start(&database.url, dir.path(), &settings);

    // Half the people type a wrong password over and over (each locks at the fifth), half
    // the right one; each as its own visitor, until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let typists: Vec<_> = emails
        .iter()
        .enumerate()
        .map(|(n, email)| {
            let (stop, email, base) = (stop.clone(), email.clone(), server.base.clone());
            let password = if n % 2 == 0 { "a wrong password" } else { common::PASSWORD };
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(10)).build();
                    let Ok(page) = agent.get(&format!("{base}/login")).call() else { continue };
                    let Some(token) = page.into_string().ok().and_then(|p| common::hidden_csrf_token(&p)) else {
                        continue;
                    };
                    let form = [("csrf_token", token.as_str()), ("email", email.as_str()), ("password", password)];
                    let _ = agent.post(&format!("{base}/login")).send_form(&form);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    script("postgres.sh", "crash_postgres");
    std::thread::sleep(Duration::from_millis(1500));
    stop.store(true, Ordering::Relaxed);
    typists.into_iter().for_each(|typist| typist.join().unwrap());

    let pool = keydesk::db::connect(&DatabaseUrl::parse(&database.url), 1).unwrap();
    let conn = &mut *pool.get().unwrap();
    let accounts: Vec<(i64, String, i32, Option<chrono::NaiveDateTime>)> =
        users::table.select((users::id, users::email, users::failed_attempts, users::locked_at)).load(conn).unwrap();
    let entries = |conn: &mut DbConnection, user: i64, action: &str| -> i64 {
        events::table
            .filter(events::target_user_id.eq(user))
            .filter(events::action.eq(action))
            .count()
            .get_result(conn)
            .unwrap()
    };
    let max = i32::try_from(services.config.lockout_policy().max_failed_attempts).unwrap();
    let mut signed_in = 0;
    for (id, email, failed, locked_at) in accounts {
        assert!(failed < max || locked_at.is_some(), "{email}: {failed} failures and no lock");
        if locked_at.is_some() {
            assert_eq!(entries(conn, id, "Account locked"), 1, "{email}: locked, with its entry once");
        }
        let sessions: i64 = sessions::table.filter(sessions::user_id.eq(id)).count().get_result(conn).unwrap();
        assert!(sessions <= entries(conn, id, "Login succeeded"), "{email}: a session without its entry");
        signed_in += sessions;
        if locked_at.is_none() {
            // Not bricked: the right password still signs in.
            let before = entries(conn, id, "Login succeeded");
            assert!(eventually(Duration::from_secs(30), || healthy(&server)), "the server recovered");
            let (agent, token) = server.visitor();
            let form = [("csrf_token", token.as_str()), ("email", email.as_str()), ("password", common::PASSWORD)];
            agent.post(&format!("{}/login", server.base)).send_form(&form).unwrap();
            assert_eq!(entries(conn, id, "Login succeeded"), before + 1, "{email} signs in after the crash");
        }
    }
    assert!(signed_in > 0, "logins ran before and after the crash");
}
