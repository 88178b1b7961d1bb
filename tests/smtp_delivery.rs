//! The outbox against a real SMTP server (Postfix from scripts/lib/mailstack.sh, delivering
//! into Dovecot's Maildirs): plain, STARTTLS and implicit TLS; and a server that is down
//! delays mail without losing it.

mod common;

use common::{Backend, TestApp};
use keydesk::mail::sender::{deliver_due, Transport};
use keydesk_core::UnlockPolicy;
use std::path::PathBuf;
use std::time::{Duration, Instant};

on_both_backends!(
    lock_emails_reach_the_mailbox_over_plain_smtp,
    lock_emails_reach_the_mailbox_over_starttls,
    lock_emails_reach_the_mailbox_over_implicit_tls,
    a_down_server_delays_mail_and_never_loses_it,
);

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests with scripts/test, which starts Postfix and Dovecot")
    })
}

/// Every message file in a user's Maildir (new/ and cur/).
fn mailbox_files(user: &str) -> Vec<PathBuf> {
    let root = PathBuf::from(env("KEYDESK_MAILDIR_ROOT")).join(user);
    ["new", "cur"]
        .iter()
        .flat_map(|sub| {
            std::fs::read_dir(root.join(sub)).into_iter().flatten().filter_map(Result::ok).map(|e| e.path())
        })
        .collect()
}

/// Waits until a message whose headers carry `message_id` is in the user's mailbox.
fn wait_for_message(user: &str, message_id: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        for path in mailbox_files(user) {
            if let Ok(raw) = std::fs::read_to_string(&path) {
                if raw.contains(message_id) {
                    return raw;
                }
            }
        }
        assert!(Instant::now() < deadline, "{message_id} did not reach {user}'s mailbox");
        std::thread::sleep(Duration::from_millis(200));
    }
}

async fn smtp_app(backend: Backend, port: &str, security: &str) -> TestApp {
    let (host, port, security) = (env("KEYDESK_SMTP_HOST"), port.to_owned(), security.to_owned());
    TestApp::with(backend, move |f| {
        f.merge(("mail.transport", "smtp"))
            .merge(("mail.host", host))
            .merge(("mail.port", port.parse::<u16>().unwrap()))
            .merge(("mail.security", security))
            .merge(("mail.accept_invalid_certs", true))
    })
    .await
}

/// Locks Jane out and returns the Message-ID of the lock email Keydesk queued for her.
async fn lock_jane(app: &TestApp) -> String {
    let org = app.org("Acme", "acme", UnlockPolicy::Admins).await;
    app.user("jane@acme.test", "Jane Doe", "member", Some(&org)).await;
    for _ in 0..5 {
        app.log_in("jane@acme.test", "wrong password").await;
    }
    let outbox = app.services().run(|conn, _| Ok(keydesk::store::outbox::all(conn)?)).await.unwrap();
    outbox.into_iter().find(|m| m.kind.as_str() == "account_locked").expect("lock email queued").message_id
}

async fn delivers_over(backend: Backend, port: &str, security: &str) {
    let app = smtp_app(backend, port, security).await;
    let message_id = lock_jane(&app).await;
    let report = app.deliver_mail().await;
    assert_eq!((report.sent, report.failed), (1, 0));
    let raw = wait_for_message("jane@acme.test", &message_id);
    assert!(raw.contains("Subject: Account Locked"));
    assert!(raw.contains("Auto-Submitted: auto-generated"));
    assert_eq!(app.deliver_mail().await.sent, 0, "sent once, never again");
}

async fn lock_emails_reach_the_mailbox_over_plain_smtp(backend: Backend) {
    delivers_over(backend, &env("KEYDESK_SMTP_PORT"), "none").await;
}

async fn lock_emails_reach_the_mailbox_over_starttls(backend: Backend) {
    delivers_over(backend, &env("KEYDESK_SMTP_PORT"), "starttls").await;
}

async fn lock_emails_reach_the_mailbox_over_implicit_tls(backend: Backend) {
    delivers_over(backend, &env("KEYDESK_SMTPS_PORT"), "tls").await;
}

async fn a_down_server_delays_mail_and_never_loses_it(backend: Backend) {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = smtp_app(backend, &closed_port.to_string(), "none").await;
    let message_id = lock_jane(&app).await;
    let report = app.deliver_mail().await;
    assert_eq!((report.sent, report.failed), (0, 1));
    let row = app.services().run(|conn, _| Ok(keydesk::store::outbox::all(conn)?)).await.unwrap().remove(0);
    assert_eq!(row.attempts, 1);
    assert!(row.sent_at.is_none() && row.last_error.is_some());
    let wait = row.next_attempt_at - row.created_at;
    assert!(wait >= chrono::Duration::seconds(9), "backs off before retrying: {wait}");
    assert_eq!(app.deliver_mail().await, Default::default(), "not retried before its time");

    // The server comes back and the retry is due: the same message goes out, once.
    let now = app.services().stored_now();
    app.services()
        .db
        .run(move |conn| {
            use diesel::prelude::*;
            use keydesk::db::schema::outbox;
            diesel::update(outbox::table).set(outbox::next_attempt_at.eq(now)).execute(conn)?;
            Ok::<_, keydesk::db::DbError>(())
        })
        .await
        .unwrap();
    let mut config = (*app.services().config).clone();
    config.mail.port = env("KEYDESK_SMTP_PORT").parse().unwrap();
    let transport = Transport::from_config(&config).unwrap();
    let report = deliver_due(&app.services().db, &config, app.clock.as_ref(), &transport).await.unwrap();
    assert_eq!((report.sent, report.failed), (1, 0));
    wait_for_message("jane@acme.test", &message_id);
    let row = app.services().run(|conn, _| Ok(keydesk::store::outbox::all(conn)?)).await.unwrap().remove(0);
    assert_eq!(row.attempts, 2);
    assert!(row.sent_at.is_some());
}
