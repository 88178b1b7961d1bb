//! `keydesk doctor` run as the operator runs it, against the real PostgreSQL, Dovecot and
//! Postfix of the test mail stack (scripts/lib/mailstack.sh): a good setup is all OK, a
//! broken one says FAIL naming the keys to fix, and no line ever holds a password.

mod common;

use common::cli::{Keydesk, Run};
use common::Backend;
use std::os::unix::fs::PermissionsExt;

on_both_backends!(a_good_setup_is_all_ok_and_exits_0);

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests with scripts/test, which starts Postfix and Dovecot")
    })
}

/// Intake from the support mailbox over IMAP, mail out through Postfix.
fn mail_servers(imap_password: &str, smtp_port: &str) -> [(&'static str, String); 3] {
    [
        (
            "ROCKET_INTAKE",
            format!(
                "{{source=\"imap\",host=\"{}\",port={},security=\"none\",username=\"support@keydesk.test\",\
                 password=\"{imap_password}\",mailbox=\"INBOX\"}}",
                env("KEYDESK_IMAP_HOST"),
                env("KEYDESK_IMAP_PORT"),
            ),
        ),
        (
            "ROCKET_MAIL",
            format!("{{transport=\"smtp\",host=\"{}\",port={smtp_port},security=\"none\"}}", env("KEYDESK_SMTP_HOST")),
        ),
        ("ROCKET_PUBLIC_URL", "https://keydesk.test".into()),
    ]
}

fn doctor(keydesk: &Keydesk, settings: &[(&'static str, String)]) -> Run {
    let settings: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    keydesk.run_with(&["doctor"], None, &settings)
}

/// The line about `name`, e.g. `FAIL  intake: …`.
fn line<'a>(run: &'a Run, name: &str) -> &'a str {
    run.stdout
        .lines()
        .find(|l| l.get(6..).is_some_and(|rest| rest.starts_with(&format!("{name}: "))))
        .unwrap_or_else(|| panic!("no line about {name}: {run:?}"))
}

async fn a_good_setup_is_all_ok_and_exits_0(backend: Backend) {
    let keydesk = Keydesk::new(backend);
    keydesk.ok(&["migrate"], None);
    let run = doctor(&keydesk, &mail_servers(&env("KEYDESK_MAIL_PASSWORD"), &env("KEYDESK_SMTP_PORT")));
    assert_eq!(run.code, Some(0), "{run:?}");
    let checks: Vec<&str> = run.stdout.lines().filter(|l| !l.starts_with("keydesk doctor:")).collect();
    assert!(checks.len() >= 7, "{run:?}");
    for check in &checks {
        assert!(check.starts_with("OK "), "every check passes: {check}");
    }
    for name in ["configuration", "database_url", "intake", "mail", "clock", "secret_key", "public_url"] {
        line(&run, name);
    }
    assert!(line(&run, "intake").contains("IDLE offered"), "{run:?}");
    assert!(line(&run, "mail").contains("nothing was sent"), "{run:?}");
    assert!(run.stdout.ends_with(" OK, 0 WARN, 0 FAIL\n"), "{run:?}");
    assert!(!run.stdout.contains(&env("KEYDESK_MAIL_PASSWORD")), "no password is printed: {run:?}");
}

#[test]
fn a_broken_setup_fails_naming_the_keys_and_never_prints_a_password() {
    let keydesk = Keydesk::new(Backend::Sqlite);
    // A database made by hand, readable by everyone, with no schema yet.
    std::fs::write(&keydesk.database.url, "").unwrap();
    std::fs::set_permissions(&keydesk.database.url, std::fs::Permissions::from_mode(0o644)).unwrap();
    // A generated key file someone filled with zeros, readable by everyone.
    let data = keydesk.dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("secret_key"), format!("{}\n", "A".repeat(86) + "==")).unwrap();
    let nothing_listens = common::server::free_port().to_string();
    let wrong_password = "not-the-password-7f3a";
    let mut settings = mail_servers(wrong_password, &nothing_listens).to_vec();
    settings.push(("ROCKET_PUBLIC_URL", "http://desk.example".into()));
    let run = doctor(&keydesk, &settings);

    assert_eq!(run.code, Some(1), "a failed check fails the command: {run:?}");
    let intake = line(&run, "intake");
    assert!(intake.starts_with("FAIL") && intake.contains("intake.password"), "{intake}");
    let mail = line(&run, "mail");
    assert!(mail.starts_with("FAIL") && mail.contains("mail.host") && mail.contains("mail.port"), "{mail}");
    assert!(mail.contains(&format!(":{nothing_listens}")), "the server is named: {mail}");
    let database = line(&run, "database_url");
    assert!(database.starts_with("WARN") && database.contains("keydesk migrate"), "{database}");
    let untouched = std::fs::metadata(&keydesk.database.url).unwrap().len();
    assert_eq!(untouched, 0, "the doctor changes nothing, not even in an empty database");
    let permissions = line(&run, "database_url permissions");
    assert!(permissions.starts_with("WARN") && permissions.contains("chmod 600"), "{permissions}");
    assert!(line(&run, "public_url").starts_with("WARN"), "{run:?}");
    let key = line(&run, "secret_key");
    assert!(key.starts_with("FAIL") && key.contains("all-zero"), "{key}");
    for password in [wrong_password, env("KEYDESK_MAIL_PASSWORD").as_str()] {
        assert!(!run.stdout.contains(password) && !run.stderr.contains(password), "no password is printed: {run:?}");
    }
}

#[test]
fn a_configuration_that_does_not_parse_is_one_fail_line_naming_the_key() {
    let keydesk = Keydesk::new(Backend::Sqlite);
    let run = keydesk.run_with(&["doctor"], None, &[("ROCKET_PUBLIC_URL", "ftp://x")]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(line(&run, "configuration").starts_with("FAIL") && run.stdout.contains("`public_url`"), "{run:?}");
    let run = keydesk.run_with(&["doctor"], None, &[("ROCKET_MAIL", "{password=12345678}")]);
    assert!(line(&run, "configuration").contains("`mail.password`") && !run.stdout.contains("12345678"), "{run:?}");
    assert!(!std::path::Path::new(&keydesk.database.url).exists(), "the doctor creates no database");
}

#[test]
fn a_migration_not_applied_yet_is_named_and_left_unapplied() {
    let keydesk = Keydesk::new(Backend::Sqlite);
    keydesk.ok(&["migrate"], None);
    let newest =
        "DELETE FROM __diesel_schema_migrations WHERE version = (SELECT max(version) FROM __diesel_schema_migrations)";
    let status = std::process::Command::new("sqlite3").arg(&keydesk.database.url).arg(newest).status().unwrap();
    assert!(status.success());
    let run = keydesk.run_with(&["doctor"], None, &[]);
    let database = line(&run, "database_url");
    assert!(database.starts_with("WARN") && database.contains("1 migration(s) not applied yet (2026-"), "{database}");
    let again = keydesk.run_with(&["doctor"], None, &[]);
    assert_eq!(line(&again, "database_url"), database, "the doctor applied nothing");
}
