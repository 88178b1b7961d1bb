//! What Keydesk leaves on disk: everything it creates is private to its user (folders 0700,
//! files 0600), and `keydesk backup` copies a live SQLite database into a file that opens
//! and restores.

mod common;

use common::{lock_by_wrong_logins, Backend, TestApp};
use keydesk::private_files::mode_of;
use keydesk_core::UnlockPolicy;
use std::path::{Path, PathBuf};

fn mode(path: &Path) -> u32 {
    mode_of(path).unwrap().unwrap_or_else(|| panic!("{} should exist", path.display()))
}

#[rocket::async_test]
async fn everything_keydesk_creates_is_private_to_its_user() {
    // The umask most systems run with, which made all of this world-readable before.
    // SAFETY: umask only swaps the process's file-creation mask.
    unsafe { libc::umask(0o022) };
    let app = TestApp::with(Backend::Sqlite, |figment| {
        // The database in a folder of its own that does not exist yet.
        let data_dir: PathBuf = figment.extract_inner::<String>("data_dir").unwrap().into();
        let database = data_dir.parent().unwrap().join("db").join("keydesk.sqlite");
        figment.merge(("database_url", database.display().to_string()))
    })
    .await;
    let root = app.dir.path();
    let org = app.org("Acme Clinic", "acme", UnlockPolicy::Admins).await;
    let jane = app.user("jane@acme.test", "Jane Doe", "member", Some(&org)).await;
    lock_by_wrong_logins(&app, &jane).await;
    let mail = app.mail_to("jane@acme.test").await;
    assert_eq!(mail.len(), 1, "the lock email was delivered");
    app.intake_once().await;

    let expected = [
        (root.join("data"), 0o700),
        (root.join("data/secret_key"), 0o600),
        (root.join("db"), 0o700),
        (root.join("db/keydesk.sqlite"), 0o600),
        (root.join("db/keydesk.sqlite-wal"), 0o600),
        (root.join("db/keydesk.sqlite-shm"), 0o600),
        (root.join("mail"), 0o700),
        (mail[0].path.clone(), 0o600),
        (root.join("intake"), 0o700),
        (root.join("intake/new"), 0o700),
        (root.join("intake/tmp"), 0o700),
    ];
    let found: Vec<(PathBuf, u32)> = expected.iter().map(|(path, _)| (path.clone(), mode(path))).collect();
    let shown = |list: &[(PathBuf, u32)]| -> Vec<String> {
        list.iter().map(|(p, m)| format!("{} {m:o}", p.strip_prefix(root).unwrap().display())).collect()
    };
    assert_eq!(shown(&found), shown(&expected));
}

/// A request to Keydesk's intake, as a locked user writes it.
const LOCKED_OUT_MAIL: &str = "From: Jane Doe <jane@acme.test>\r\nTo: support@keydesk.localhost\r\n\
Subject: Locked out\r\nMessage-ID: <locked-1@acme.test>\r\nDate: Tue, 24 Nov 2026 12:00:00 +0000\r\n\r\n\
My name is Jane Doe, my account jane@acme.test is locked.\r\n";

/// Signs in over HTTP; true when Keydesk answered with the redirect of a successful login.
fn signs_in(base: &str, email: &str) -> bool {
    let agent = ureq::AgentBuilder::new().redirects(0).timeout(std::time::Duration::from_secs(30)).build();
    let page = agent.get(&format!("{base}/login")).call().unwrap().into_string().unwrap();
    let token = common::hidden_csrf_token(&page).unwrap();
    let form = [("csrf_token", token.as_str()), ("email", email), ("password", common::PASSWORD)];
    agent.post(&format!("{base}/login")).send_form(&form).map(|r| r.status() == 303).unwrap_or(false)
}

/// `sqlite3 FILE SQL`, its output; the CLI is installed by scripts/lib/sqlite.sh.
fn sqlite3(file: &Path, sql: &str) -> String {
    let output = std::process::Command::new("sqlite3")
        .arg(file)
        .arg(sql)
        .output()
        .expect("the sqlite3 command line (scripts/test installs it: scripts/lib/sqlite.sh)");
    assert!(output.status.success(), "sqlite3 {sql}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

#[rocket::async_test]
async fn a_backup_taken_while_keydesk_serves_and_writes_restores_into_a_working_desk() {
    use common::cli::Keydesk;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;

    // An organisation, two people and a ticket, made as an operator would.
    let keydesk = Keydesk::new(Backend::Sqlite);
    keydesk.ok(&["org", "create", "--name", "Acme Clinic", "--slug", "acme"], None);
    for email in ["jane@acme.test", "busy@acme.test"] {
        let args = ["user", "create", "--email", email, "--name", "Acme Person", "--role", "member", "--org", "acme"];
        keydesk.ok(&[&args[..], &["--password-stdin"]].concat(), Some(common::PASSWORD));
    }
    let new = keydesk.dir.path().join("var/intake/new");
    std::fs::create_dir_all(&new).unwrap();
    std::fs::write(new.join("1764000000.M1P1.host"), LOCKED_OUT_MAIL).unwrap();
    let intake = keydesk.ok(&["intake", "once"], None);
    assert!(intake.stdout.contains("new tickets 1"), "{intake:?}");

    // Keydesk serving, and someone signing in again and again (sessions and activity rows).
    let server = common::server::start(&keydesk.database.url, keydesk.dir.path(), &[]);
    let (stop, logins) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
    let writer = {
        let (stop, logins, base) = (stop.clone(), logins.clone(), server.base.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                assert!(signs_in(&base, "busy@acme.test"), "the busy user signs in");
                logins.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    let wait_for = |count: usize| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while logins.load(Ordering::SeqCst) < count {
            assert!(std::time::Instant::now() < deadline, "the writer stalled");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    };
    wait_for(3);
    let backup = keydesk.dir.path().join("keydesk-backup.sqlite");
    let run = keydesk.ok(&["backup", "--output", backup.to_str().unwrap()], None);
    let during = logins.load(Ordering::SeqCst);
    wait_for(during + 3);
    stop.store(true, Ordering::SeqCst);
    writer.join().unwrap();
    let total = logins.load(Ordering::SeqCst);
    assert!(run.stdout.contains("Backed up into"), "{run:?}");
    assert_eq!(mode(&backup), 0o600, "the backup is private");
    let leftovers: Vec<_> = std::fs::read_dir(keydesk.dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "copied under a temporary name, nothing of it is left: {leftovers:?}");
    keydesk.refused(&["backup", "--output", backup.to_str().unwrap()], None, "already exists");

    // The file is an ordinary SQLite database, whole, with the data in it.
    assert_eq!(sqlite3(&backup, "PRAGMA integrity_check;").trim(), "ok");
    assert_eq!(sqlite3(&backup, "SELECT count(*) FROM tickets;").trim(), "1");
    let busy_logins: usize = sqlite3(
        &backup,
        "SELECT count(*) FROM events e JOIN users u ON u.id = e.target_user_id \
         WHERE u.email = 'busy@acme.test' AND e.action = 'Login succeeded';",
    )
    .trim()
    .parse()
    .unwrap();
    assert!((3..total).contains(&busy_logins), "a snapshot from the middle of the writing: {busy_logins} of {total}");
    drop(server);

    // Restored as the README says (the file copied over a database path), Keydesk starts on
    // it and Jane signs in.
    let restored_dir = tempfile::tempdir().unwrap();
    let restored = common::TestDatabase::create(Backend::Sqlite, restored_dir.path());
    std::fs::copy(&backup, &restored.url).unwrap();
    let server = common::server::start(&restored.url, restored_dir.path(), &[]);
    assert!(signs_in(&server.base, "jane@acme.test"), "Jane signs in on the restored database");
    drop(server);
    let app = TestApp::open(Backend::Sqlite, restored, restored_dir).await;
    let tickets = app.tickets().await;
    assert_eq!(tickets.len(), 1, "the ticket came back");
    assert_eq!(tickets[0].sender, "jane@acme.test");
}

#[test]
fn backup_refuses_what_it_cannot_copy_and_names_pg_dump_for_postgresql() {
    use common::cli::Keydesk;
    let keydesk = Keydesk::new(Backend::Sqlite);
    let output = keydesk.dir.path().join("backup.sqlite");
    keydesk.refused(&["backup", "--output", output.to_str().unwrap()], None, "no SQLite database at");
    assert!(!output.exists() && !Path::new(&keydesk.database.url).exists(), "nothing was created");

    let postgres = Keydesk::new(Backend::Postgres);
    postgres.refused(&["backup", "--output", output.to_str().unwrap()], None, "pg_dump");
    assert!(!output.exists());
}

/// An earlier version killed while writing the generated secret key left the file empty, and
/// every start after refused the empty key: it is made again (nothing was signed with it).
#[rocket::async_test]
async fn a_secret_key_left_empty_by_a_crash_is_made_again() {
    let app = TestApp::new(Backend::Sqlite).await;
    let data = app.dir.path().join("data");
    let key_file = data.join("secret_key");
    let first = std::fs::read_to_string(&key_file).unwrap();
    assert!(first.trim().len() >= 64, "{first:?}");
    std::fs::write(&key_file, "").unwrap();
    let figment = common::test_figment(&app.database.url, app.dir.path());
    keydesk::build(figment).expect("starts on an empty key file");
    let made = std::fs::read_to_string(&key_file).unwrap();
    assert!(made.trim().len() >= 64 && made != first, "a new key: {made:?}");
    assert_eq!(mode(&key_file), 0o600);
    let partial =
        std::fs::read_dir(&data).unwrap().any(|e| e.unwrap().file_name().to_string_lossy().ends_with(".partial"));
    assert!(!partial, "no temporary file left");
}
