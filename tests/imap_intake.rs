//! Mail intake end to end against the real servers: a locked user's email goes over SMTP
//! (Postfix) into the support mailbox (Dovecot), Keydesk takes it in over IMAP — plain,
//! STARTTLS, TLS; by polling and by IDLE — and its acknowledgement travels back through
//! the same SMTP server into the user's mailbox, where it is read over IMAP.
//! Each test uses mailboxes of its own through plus-addressing (support+box@…).

mod common;

use common::mail_stack::{env, imap_as};
use common::{Backend, TestApp};
use keydesk_core::UnlockPolicy;
use lettre::{Message, SmtpTransport, Transport};
use std::time::{Duration, Instant};

on_both_backends!(
    an_email_over_smtp_becomes_a_ticket_over_plain_imap_and_the_acknowledgement_comes_back,
    intake_works_over_imap_with_starttls,
    intake_works_over_imaps,
    with_idle_new_mail_becomes_a_ticket_within_seconds,
    the_full_loop_over_the_real_mail_servers,
);

fn send_over_smtp(from: &str, to: &str, subject: &str, body: &str) {
    let message = Message::builder()
        .from(from.parse().unwrap())
        .to(to.parse().unwrap())
        .subject(subject)
        .body(body.to_owned())
        .unwrap();
    let smtp = SmtpTransport::builder_dangerous(env("KEYDESK_SMTP_HOST"))
        .port(env("KEYDESK_SMTP_PORT").parse().unwrap())
        .build();
    smtp.send(&message).expect("Postfix accepts the message");
}

async fn imap_app(backend: Backend, mailbox: &str, port: &str, security: &str, background: bool) -> TestApp {
    let (mailbox, port, security) = (mailbox.to_owned(), port.to_owned(), security.to_owned());
    let app = TestApp::with(backend, move |f| {
        f.merge(("intake.source", "imap"))
            .merge(("intake.host", env("KEYDESK_IMAP_HOST")))
            .merge(("intake.port", port.parse::<u16>().unwrap()))
            .merge(("intake.security", security))
            .merge(("intake.accept_invalid_certs", true))
            .merge(("intake.username", "support@keydesk.test"))
            .merge(("intake.password", env("KEYDESK_MAIL_PASSWORD")))
            .merge(("intake.mailbox", mailbox))
            .merge(("intake.poll_seconds", 600))
            .merge(("intake.background", background))
            .merge(("mail.transport", "smtp"))
            .merge(("mail.host", env("KEYDESK_SMTP_HOST")))
            .merge(("mail.port", env("KEYDESK_SMTP_PORT").parse::<u16>().unwrap()))
            .merge(("mail.security", "none"))
    })
    .await;
    let org = app.org("Acme Clinic", "acme", UnlockPolicy::Admins).await;
    app.user("jane@acme.test", "Jane Doe", "member", Some(&org)).await;
    app
}

/// Waits for `check` to hold, up to `limit`.
async fn eventually<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        rocket::tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

/// Sends Jane's request into `mailbox` and takes it in by polling.
async fn round_trip(backend: Backend, port: &str, security: &str) {
    let mailbox = common::mail_stack::new_support_folder("box");
    let app = imap_app(backend, &mailbox, port, security, false).await;
    let jane = format!("Jane Doe <jane+{mailbox}@acme.test>");
    send_over_smtp(
        &jane,
        &format!("support+{mailbox}@keydesk.test"),
        "My account is locked",
        "Full name: Jane Doe\nRegistered email: jane@acme.test\nIssue: locked out after too many tries",
    );

    let arrived = eventually(Duration::from_secs(20), || async {
        app.intake_once().await;
        !app.tickets().await.is_empty()
    })
    .await;
    assert!(arrived, "the email became a ticket");
    let ticket = app.tickets().await.remove(0);
    assert_eq!(ticket.registered_email.as_deref(), Some("jane@acme.test"));
    assert_eq!(ticket.full_name.as_deref(), Some("Jane Doe"));
    assert!(ticket.account_user_id.is_some());

    // Marked \Seen only after the commit: nothing left unseen, and another pass takes nothing.
    let mut support = imap_as("support@keydesk.test");
    support.select(&mailbox).unwrap();
    assert!(support.uid_search("UNSEEN").unwrap().is_empty());
    let again = app.intake_once().await;
    assert_eq!(again.fetched, 0);
    assert_eq!(app.tickets().await.len(), 1);

    // The acknowledgement goes out through Postfix and lands in Jane's mailbox.
    assert_eq!(app.deliver_mail().await.sent, 1);
    let tag = format!("[#{}]", ticket.id);
    let acknowledged = eventually(Duration::from_secs(20), || {
        let mailbox = mailbox.clone();
        let tag = tag.clone();
        async move {
            let mut jane = imap_as("jane@acme.test");
            if jane.select(&mailbox).is_err() {
                return false;
            }
            let found = jane.uid_search(format!("SUBJECT \"{tag}\"")).unwrap_or_default();
            !found.is_empty()
        }
    })
    .await;
    assert!(acknowledged, "Jane received the acknowledgement {tag} over IMAP");
}

async fn an_email_over_smtp_becomes_a_ticket_over_plain_imap_and_the_acknowledgement_comes_back(backend: Backend) {
    round_trip(backend, &env("KEYDESK_IMAP_PORT"), "none").await;
}

async fn intake_works_over_imap_with_starttls(backend: Backend) {
    round_trip(backend, &env("KEYDESK_IMAP_PORT"), "starttls").await;
}

async fn intake_works_over_imaps(backend: Backend) {
    round_trip(backend, &env("KEYDESK_IMAPS_PORT"), "tls").await;
}

async fn with_idle_new_mail_becomes_a_ticket_within_seconds(backend: Backend) {
    let mailbox = common::mail_stack::new_support_folder("box");
    // Polling every ten minutes: only IDLE can bring the mail in quickly.
    let app = imap_app(backend, &mailbox, &env("KEYDESK_IMAP_PORT"), "none", false).await;
    let services = app.services().clone();
    std::thread::spawn(move || keydesk::intake::worker::hold_and_serve(services));
    // Let the worker connect, find the empty mailbox and start to IDLE.
    let idling = eventually(Duration::from_secs(10), || async {
        let services = app.services().clone();
        services
            .run(|conn, _| Ok(keydesk::store::inbound::health(conn)?))
            .await
            .unwrap()
            .iter()
            .any(|h| h.last_success_at.is_some())
    })
    .await;
    assert!(idling, "the worker made its first pass");
    send_over_smtp(
        &format!("Jane Doe <jane+{mailbox}@acme.test>"),
        &format!("support+{mailbox}@keydesk.test"),
        "Locked",
        "My name is Jane Doe, my account jane@acme.test is locked.",
    );
    // From the moment Dovecot holds it: IDLE wakes the worker at once. (Without IDLE the
    // worker would look again only at its next lease renewal, up to 5 s later.)
    let mut watcher = imap_as("support@keydesk.test");
    let delivered = eventually(Duration::from_secs(15), || {
        let present = watcher.select(&mailbox).map(|m| m.exists > 0).unwrap_or(false);
        async move { present }
    })
    .await;
    assert!(delivered, "Postfix delivered the message to Dovecot");
    let in_mailbox_at = Instant::now();
    let arrived = eventually(Duration::from_secs(15), || async { !app.tickets().await.is_empty() }).await;
    assert!(arrived, "a ticket within seconds, not after the 10-minute poll");
    let took = in_mailbox_at.elapsed();
    assert!(took < Duration::from_secs(2), "new mail became a ticket {took:?} after it reached the mailbox");
}

/// The newest message in `user`'s `mailbox` whose subject contains `needle`, read over IMAP.
fn try_read_over_imap(user: &str, mailbox: &str, needle: &str) -> Option<String> {
    let mut session = imap_as(user);
    session.select(mailbox).ok()?;
    let uid = session.uid_search(format!("SUBJECT \"{needle}\"")).ok()?.into_iter().max()?;
    let fetches = session.uid_fetch(uid.to_string(), "BODY.PEEK[]").ok()?;
    let raw = fetches.iter().next()?.body()?.to_vec();
    let parsed = mail_parser::MessageParser::default().parse(&raw)?;
    parsed.body_text(0).map(|t| t.into_owned())
}

async fn read_over_imap(user: &str, mailbox: &str, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(text) = try_read_over_imap(user, mailbox, needle) {
            return text;
        }
        assert!(Instant::now() < deadline, "{needle:?} never reached {user}'s {mailbox} folder");
        rocket::tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn the_full_loop_over_the_real_mail_servers(backend: Backend) {
    let mailbox = common::mail_stack::new_support_folder("box");
    let app = imap_app(backend, &mailbox, &env("KEYDESK_IMAP_PORT"), "none", false).await;
    // Jane's registered address is plus-addressed, so all her mail lands in this test's folder.
    let jane = format!("jane+{mailbox}@acme.test");
    let org =
        app.services().run(|conn, _| Ok(keydesk::store::orgs::find_by_slug(conn, "acme")?.unwrap())).await.unwrap();
    app.user(&jane, "Jane Roe", "member", Some(&org)).await;
    app.user("agent@support.test", "Agnes Agent", "agent", None).await;

    // 1. Jane locks herself out, and is told so by email.
    for _ in 0..5 {
        app.log_in(&jane, "wrong password").await;
    }
    app.deliver_mail().await;
    let lock_notice = read_over_imap("jane@acme.test", &mailbox, "Account Locked").await;
    assert!(lock_notice.contains("Please contact your administrator"));

    // 2. She emails support over SMTP; intake takes it in over IMAP.
    send_over_smtp(
        &format!("Jane Roe <{jane}>"),
        &format!("support+{mailbox}@keydesk.test"),
        "Locked out",
        &format!("Full name: Jane Roe\nRegistered email: {jane}\nIssue: I am locked out"),
    );
    let arrived = eventually(Duration::from_secs(20), || async {
        app.intake_once().await;
        !app.tickets().await.is_empty()
    })
    .await;
    assert!(arrived);
    let number = app.tickets().await[0].id;

    // 3. The agent challenges the registered mailbox; Jane follows the link.
    let token = app.try_api_token("agent@support.test").await.unwrap();
    let auth = rocket::http::Header::new("Authorization", format!("Bearer {}", token.expose()));
    let challenged =
        app.client.post(format!("/api/v1/tickets/{number}/challenge")).header(auth.clone()).dispatch().await;
    assert_eq!(challenged.status(), rocket::http::Status::Ok);
    app.deliver_mail().await;
    let challenge = read_over_imap("jane@acme.test", &mailbox, "Please confirm it is you").await;
    let link = common::confirm_path_in(&challenge);
    // A few minutes after her lock, she follows the link.
    app.clock.advance(chrono::Duration::minutes(3));
    assert!(app.post_form(&link, &[]).await.into_string().await.unwrap().contains("your mailbox is confirmed"));

    // 4. The agent verifies and unlocks; Jane's mailbox receives the notification.
    let verify = app
        .client
        .post(format!("/api/v1/tickets/{number}/verify"))
        .header(auth.clone())
        .header(rocket::http::ContentType::JSON)
        .body(r#"{"method": "mailbox_confirmed", "note": "followed the link"}"#)
        .dispatch()
        .await;
    assert_eq!(verify.status(), rocket::http::Status::Ok);
    let unlock = app.client.post(format!("/api/v1/tickets/{number}/unlock")).header(auth).dispatch().await;
    assert_eq!(unlock.status(), rocket::http::Status::Ok);
    app.deliver_mail().await;
    let notice = read_over_imap("jane@acme.test", &mailbox, "Your account has been unlocked").await;
    assert!(notice.contains("Forgot Password"));
    assert_eq!(app.log_in(&jane, common::PASSWORD).await.status(), rocket::http::Status::SeeOther, "Jane is back in");
}
