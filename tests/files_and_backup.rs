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
