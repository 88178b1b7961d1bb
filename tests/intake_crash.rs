//! Killing Keydesk in the middle of an intake batch and starting it again ends with every
//! message taken in exactly once: no message lost, no ticket twice.

mod common;

use common::{Backend, TestDatabase};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const MESSAGES: usize = 300;

fn keydesk(dir: &Path, database_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_keydesk"));
    command
        .current_dir(dir)
        .env("ROCKET_DATABASE_URL", database_url)
        .env("ROCKET_DATA_DIR", dir.join("data"))
        .env("ROCKET_INTAKE", format!("{{source=\"maildir\",dir=\"{}\"}}", dir.join("intake").display()))
        .env("ROCKET_MAIL", format!("{{transport=\"file\",dir=\"{}\"}}", dir.join("mail").display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    command
}

fn count(dir: &Path) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

fn killed_mid_batch_then_restarted(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::create(backend, dir.path());
    let new = dir.path().join("intake/new");
    std::fs::create_dir_all(&new).unwrap();
    std::fs::create_dir_all(dir.path().join("intake/cur")).unwrap();
    std::fs::create_dir_all(dir.path().join("intake/tmp")).unwrap();
    for n in 0..MESSAGES {
        let raw = format!("From: Person {n} <person{n}@example.test>\r\nTo: support@keydesk.test\r\nSubject: Locked out {n}\r\nMessage-ID: <m{n}@example.test>\r\n\r\nMy name is Person Number{n} and I am locked out.\r\n");
        std::fs::write(new.join(format!("{n:05}.keydesk-test")), raw).unwrap();
    }
    assert!(keydesk(dir.path(), &database.url).arg("migrate").status().unwrap().success());

    let mut first = keydesk(dir.path(), &database.url).args(["intake", "once"]).spawn().unwrap();
    let cur = dir.path().join("intake/cur");
    let deadline = Instant::now() + Duration::from_secs(60);
    while count(&cur) < 10 {
        assert!(Instant::now() < deadline, "intake never started");
        std::thread::sleep(Duration::from_millis(2));
    }
    first.kill().unwrap();
    let status = first.wait().unwrap();
    assert!(!status.success(), "killed before the batch was done");
    let left = count(&new);
    assert!(left > 0 && left < MESSAGES, "the kill came mid-batch ({left} left)");

    let second = keydesk(dir.path(), &database.url).args(["intake", "once"]).output().unwrap();
    assert!(second.status.success());
    assert_eq!(count(&new), 0);
    assert_eq!(count(&cur), MESSAGES);

    let services =
        keydesk::open_services(keydesk::config::Config { database_url: database.url.clone(), ..Default::default() })
            .unwrap();
    let conn = &mut *services.db.pool().get().unwrap();
    let tickets = keydesk::store::tickets::list(conn, None, 10_000).unwrap();
    assert_eq!(tickets.len(), MESSAGES, "every message became exactly one ticket");
    let mut subjects: Vec<&str> = tickets.iter().map(|t| t.subject.as_str()).collect();
    subjects.sort_unstable();
    subjects.dedup();
    assert_eq!(subjects.len(), MESSAGES);
    let acks = keydesk::store::outbox::all(conn)
        .unwrap()
        .into_iter()
        .filter(|m| m.kind.as_str() == "ticket_acknowledgement")
        .count();
    assert_eq!(acks, MESSAGES, "one acknowledgement each");
}

#[test]
fn sqlite_killed_mid_batch_then_restarted_takes_every_message_in_once() {
    killed_mid_batch_then_restarted(Backend::Sqlite);
}

#[test]
fn postgres_killed_mid_batch_then_restarted_takes_every_message_in_once() {
    killed_mid_batch_then_restarted(Backend::Postgres);
}
